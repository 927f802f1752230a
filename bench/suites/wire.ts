import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { parseIpv4 } from '../../src/base/address.js';
import { PacketBuffer } from '../../src/base/packet-buffer.js';
import { HmacKey, hmacWindow, WindowTracker } from '../../src/crypto/hmac.js';
import { AesCbcMetadataCipher } from '../../src/crypto/metadata-cipher.js';
import { signPacket, verifyAndStripSignature } from '../../src/crypto/packet-signature.js';
import { buildPacketBuffer } from '../../src/wire/builder.js';
import { checksum } from '../../src/wire/checksum.js';
import { decodeMetadata, hasCookie, type Metadata } from '../../src/wire/metadata/block.js';
import { insertMetadata, removeMetadata } from '../../src/wire/metadata/insert.js';
import { checkRequiredTlvs } from '../../src/wire/metadata/required.js';
import { TlvType } from '../../src/wire/metadata/tlv.js';
import { IpPacket } from '../../src/wire/packet.js';
import { IPPROTO_TCP } from '../../src/wire/protocol.js';
import { TCP_SYN } from '../../src/wire/tcp.js';
import { Translation } from '../../src/wire/translation.js';
import { type Figures, nsPerOp } from '../harness.js';
import type { Suite } from '../run.js';

const ip = (s: string) => parseIpv4(s) ?? 0;
const EAST = ip('203.0.113.1');
const WEST = ip('203.0.113.89');

/** 1024 distinct IPv4+TCP packets (different clients and ports), as on a busy LAN. */
function lanPackets(n: number, payload: number, flags = 0x10): PacketBuffer[] {
  const out: PacketBuffer[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      buildPacketBuffer({
        src: `10.0.${(i >> 8) & 255}.${i & 255}`,
        dst: '172.15.11.23',
        l4: {
          protocol: 'tcp',
          srcPort: 1024 + i,
          dstPort: 22,
          seq: i * 7919,
          flags,
          options: flags === TCP_SYN ? Uint8Array.of(2, 4, 5, 0xb4) : undefined,
        },
        payload: new Uint8Array(payload),
      }),
    );
  }
  return out;
}

function parseFigures(): Figures {
  const pkts = lanPackets(1024, 0);
  const p = new IpPacket();
  const parse = nsPerOp(
    (i) => {
      const pb = pkts[i & 1023];
      if (p.parse(pb.data, pb.start, pb.length)) return 0;
      return p.ip4.src + p.ip4.dst + p.srcPort + p.dstPort + p.protocol;
    },
    { iterations: 2_000_000 },
  );
  // Baseline: the same fields through a DataView made per packet, the obvious way in JS.
  const naive = nsPerOp(
    (i) => {
      const pb = pkts[i & 1023];
      const dv = new DataView(pb.data.buffer, pb.data.byteOffset + pb.start, pb.length);
      const ihl = (dv.getUint8(0) & 15) * 4;
      return dv.getUint32(12) + dv.getUint32(16) + dv.getUint16(ihl) + dv.getUint16(ihl + 2) + dv.getUint8(9);
    },
    { iterations: 2_000_000 },
  );
  return {
    'wire.parse-ipv4-tcp-5tuple': {
      value: parse,
      unit: 'ns/op',
      goal: 50,
      goalKind: 'max',
      baseline: { name: 'DataView per packet, no checks', value: naive },
    },
  };
}

function rewriteFigures(): Figures {
  const pkts = lanPackets(1024, 64);
  const parsed = pkts.map((pb) => {
    const p = new IpPacket();
    p.parse(pb.data, pb.start, pb.length);
    return p;
  });
  // Per packet a forward plan (to the waypoints) and its reverse, applied alternately so every
  // apply starts from the state the plan expects (R-4.6.4-g).
  const fwd = parsed.map((p, i) =>
    Translation.ipv4(
      IPPROTO_TCP,
      { src: p.ip4.src, dst: p.ip4.dst, srcPort: p.srcPort, dstPort: p.dstPort },
      { src: EAST, dst: WEST, srcPort: 16384 + 2 * i, dstPort: 16385 + 2 * i },
    ),
  );
  const rev = parsed.map((p, i) =>
    Translation.ipv4(
      IPPROTO_TCP,
      { src: EAST, dst: WEST, srcPort: 16384 + 2 * i, dstPort: 16385 + 2 * i },
      { src: p.ip4.src, dst: p.ip4.dst, srcPort: p.srcPort, dstPort: p.dstPort },
    ),
  );
  const rewrite = nsPerOp(
    (i) => {
      const k = i & 1023;
      const p = parsed[k];
      ((i >> 10) & 1 ? rev : fwd)[k].apply(p);
      return p.b[p.start + 10];
    },
    { iterations: 2_048_000 },
  );
  // Baseline: write the fields, then recompute both checksums from scratch.
  const full = nsPerOp(
    (i) => {
      const k = i & 1023;
      const p = parsed[k];
      const t = ((i >> 10) & 1 ? rev : fwd)[k];
      const b = p.b;
      const o = p.start;
      p.ip4.src = t.src4;
      p.ip4.dst = t.dst4;
      p.tcp.srcPort = t.srcPort;
      p.tcp.dstPort = t.dstPort;
      b[o + 10] = 0;
      b[o + 11] = 0;
      const c = checksum(b, o, 20);
      b[o + 10] = c >> 8;
      b[o + 11] = c;
      p.updateL4Checksum();
      return b[o + 10];
    },
    { iterations: 2_048_000 },
  );
  return {
    'wire.rewrite-addresses-ports': {
      value: rewrite,
      unit: 'ns/op',
      goal: 100,
      goalKind: 'max',
      baseline: { name: 'full checksum recompute', value: full },
    },
  };
}

const CIPHER_KEY = new Uint8Array(32).fill(0x3c);
const HMAC_KEY = new Uint8Array(32).fill(0x5a);

function forwardMetadata(p: IpPacket, uuid: Uint8Array): Metadata {
  return {
    tlvs: [
      { type: TlvType.SecurityIdentifier, securityId: 1 },
      {
        type: TlvType.ForwardContextV4,
        source: p.ip4.src,
        destination: p.ip4.dst,
        sourcePort: p.srcPort,
        destinationPort: p.dstPort,
        protocol: p.protocol,
      },
      { type: TlvType.TenantName, name: 'engineering' },
      { type: TlvType.ServiceName, name: 'github' },
      { type: TlvType.SessionUuid, uuid },
      { type: TlvType.SourceRouterName, name: 'East Router' },
      { type: TlvType.SecurityPolicy, name: 'NONE' },
      { type: TlvType.PeerPathwayId, name: '203.0.113.1' },
    ],
  };
}

function metadataFigures(): Figures {
  const syns = lanPackets(256, 0, TCP_SYN);
  const originals = syns.map((pb) => pb.copy());
  const cipher = new AesCbcMetadataCipher(CIPHER_KEY);
  const key = new HmacKey('sha256-128', HMAC_KEY);
  const window = hmacWindow(Date.now());
  const uuid = randomBytes(16);
  const pb = new PacketBuffer(new Uint8Array(2048), 512, 512);
  const p = new IpPacket();
  const signed: Uint8Array[] = [];

  // Ingress first packet, the codec part of 3.7.1.7-3.7.1.10: TLVs, encrypt, insert, translate, sign.
  const build = (i: number, keep: boolean): number => {
    const o = originals[i & 255];
    pb.start = 512;
    pb.end = 512 + o.length;
    pb.data.set(o, 512);
    p.parse(pb.data, pb.start, pb.length);
    const md = forwardMetadata(p, uuid);
    insertMetadata(pb, p, md, cipher);
    const t = Translation.ipv4(
      IPPROTO_TCP,
      { src: p.ip4.src, dst: p.ip4.dst, srcPort: p.srcPort, dstPort: p.dstPort },
      { src: EAST, dst: WEST, srcPort: 16384 + 2 * (i & 255), dstPort: 16385 + 2 * (i & 255) },
    );
    t.apply(p);
    signPacket(pb, p, key, window);
    if (keep) signed.push(pb.copy());
    return pb.length;
  };
  for (let i = 0; i < 256; i++) build(i, true);
  const buildNs = nsPerOp((i) => build(i, false), { iterations: 100_000, rounds: 5 });

  // Peer first packet, the codec part of 3.7.2.2-3.7.2.3: cookie, HMAC, decrypt, TLV checks, strip.
  const rpb = new PacketBuffer(new Uint8Array(2048), 512, 512);
  const rp = new IpPacket();
  const tracker = new WindowTracker();
  const receive = (i: number): number => {
    const s = signed[i & 255];
    rpb.start = 512;
    rpb.end = 512 + s.length;
    rpb.data.set(s, 512);
    if (rp.parse(rpb.data, rpb.start, rpb.length)) return -1;
    if (!hasCookie(rp.b, rp.payloadOffset, rp.end)) return -1;
    if (verifyAndStripSignature(rpb, rp, key, window, tracker)) return -1;
    const md = decodeMetadata(rp.b, rp.payloadOffset, rp.end, cipher);
    if (typeof md === 'number' || checkRequiredTlvs(md, 'forward')) return -1;
    removeMetadata(rpb, rp, md.blockLength);
    return md.tlvs.length;
  };
  if (receive(0) !== 8) throw new Error('bench receive path is broken');
  const receiveNs = nsPerOp(receive, { iterations: 100_000, rounds: 5 });

  // Baselines: the same crypto the way node:crypto invites, a new object per packet.
  const payload = new Uint8Array(144);
  const naiveBuild = nsPerOp(
    () => {
      const iv = randomBytes(16);
      const c = createCipheriv('aes-256-cbc', CIPHER_KEY, iv);
      c.setAutoPadding(false);
      const e = Buffer.concat([c.update(payload), c.final()]);
      return createHmac('sha256', HMAC_KEY).update(e).update(payload).digest()[0];
    },
    { iterations: 50_000, rounds: 5 },
  );
  const naiveReceive = nsPerOp(
    () => {
      const h = createHmac('sha256', HMAC_KEY).update(payload).update(payload).digest()[0];
      const d = createDecipheriv('aes-256-cbc', CIPHER_KEY, payload.subarray(0, 16));
      d.setAutoPadding(false);
      return h + Buffer.concat([d.update(payload.subarray(0, 128)), d.final()]).length;
    },
    { iterations: 50_000, rounds: 5 },
  );
  return {
    'metadata.build-encrypt-sign': {
      value: buildNs,
      unit: 'ns/op',
      goal: 5000,
      goalKind: 'max',
      baseline: { name: 'crypto only, new node:crypto objects per packet', value: naiveBuild },
    },
    'metadata.verify-decrypt-parse-strip': {
      value: receiveNs,
      unit: 'ns/op',
      goal: 5000,
      goalKind: 'max',
      baseline: { name: 'crypto only, new node:crypto objects per packet', value: naiveReceive },
    },
  };
}

export const wireSuite: Suite = {
  name: 'wire',
  title: 'Packet codecs and SVR metadata (issue 2), one core',
  run: () => ({ ...parseFigures(), ...rewriteFigures(), ...metadataFigures() }),
};
