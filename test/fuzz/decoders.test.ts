import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DROP_REASONS, DropReason } from '../../src/base/drop-reason.js';
import { PacketBuffer } from '../../src/base/packet-buffer.js';
import { SeededRandom } from '../../src/base/random.js';
import { HmacKey } from '../../src/crypto/hmac.js';
import { AesCbcMetadataCipher } from '../../src/crypto/metadata-cipher.js';
import {
  checkPacketSignature,
  signPacket,
  verifyAndStripSignature,
} from '../../src/crypto/packet-signature.js';
import { draftForwardMetadata, draftReverseMetadata } from '../../src/fixtures/draft-example.js';
import { inspectPacket } from '../../src/inspect/packet.js';
import { buildPacketBuffer, type PacketSpec } from '../../src/wire/builder.js';
import { ICMP4_DEST_UNREACHABLE, ICMP4_ECHO_REQUEST, ICMP6_ECHO_REQUEST } from '../../src/wire/icmp.js';
import { decodeMetadata, encodeMetadataBlock, METADATA_COOKIE } from '../../src/wire/metadata/block.js';
import { insertMetadata, removeMetadata } from '../../src/wire/metadata/insert.js';
import { metadataFromJson } from '../../src/wire/metadata/json.js';
import { checkRequiredTlvs } from '../../src/wire/metadata/required.js';
import { IpPacket } from '../../src/wire/packet.js';
import { TCP_SYN } from '../../src/wire/tcp.js';
import { tcpToUdp, udpToTcp } from '../../src/wire/tcp-udp-transform.js';

/**
 * 100 000 random and mutated packets through every decoder: no exception may escape, every
 * refusal must carry a known reason, and whatever is accepted must stay inside its buffer (a
 * read past a Uint8Array yields undefined in JavaScript, not an error, so bounds are checked
 * explicitly). Seeded: a failure reproduces.
 */

const ITERATIONS = 100_000;
const rnd = new SeededRandom(0x5e_c0de);
const int = (n: number) => rnd.u32() % n;
const cipher = new AesCbcMetadataCipher(new Uint8Array(32).fill(0x11), new SeededRandom(9));
const key = new HmacKey('sha256-128', new Uint8Array(16).fill(0x22));

function isKnownReason(r: number): boolean {
  return Number.isInteger(r) && r > 0 && r < DROP_REASONS.length;
}

/** Valid packets of every kind the decoders know, as seeds for mutation. */
function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const specs: PacketSpec[] = [
    {
      src: '10.0.1.1',
      dst: '172.15.11.23',
      l4: {
        protocol: 'tcp',
        srcPort: 6969,
        dstPort: 22,
        flags: TCP_SYN,
        options: Uint8Array.of(2, 4, 5, 0xb4),
      },
    },
    {
      src: '10.0.1.1',
      dst: '172.15.11.23',
      l4: { protocol: 'udp', srcPort: 5000, dstPort: 514 },
      payload: new Uint8Array(40).fill(3),
    },
    {
      src: '2001:db8::1',
      dst: '2001:db8::2',
      l4: { protocol: 'tcp', srcPort: 1, dstPort: 2 },
      payload: new Uint8Array(10),
    },
    { src: '2001:db8::1', dst: '2001:db8::2', l4: { protocol: 'udp', srcPort: 1, dstPort: 2 } },
    {
      src: '192.0.2.1',
      dst: '192.0.2.2',
      l4: { protocol: 'icmp', type: ICMP4_ECHO_REQUEST, identifier: 1, sequence: 2 },
      payload: new Uint8Array(16),
    },
    {
      src: '2001:db8::1',
      dst: '2001:db8::2',
      l4: { protocol: 'icmp', type: ICMP6_ECHO_REQUEST, identifier: 1 },
    },
    {
      src: '192.0.2.1',
      dst: '192.0.2.2',
      moreFragments: true,
      l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
      payload: new Uint8Array(24),
    },
    {
      src: '192.0.2.1',
      dst: '192.0.2.2',
      fragmentOffset: 4,
      l4: { protocol: 17 },
      payload: new Uint8Array(24),
    },
  ];
  for (const s of specs) out.push(buildPacketBuffer(s, 0, 0).copy());
  // An ICMP error quoting a TCP packet.
  out.push(
    buildPacketBuffer(
      {
        src: '192.0.2.254',
        dst: '10.0.1.1',
        l4: { protocol: 'icmp', type: ICMP4_DEST_UNREACHABLE, code: 1 },
        payload: out[0].subarray(0, 28),
      },
      0,
      0,
    ).copy(),
  );
  // Packets with metadata, clear and encrypted, signed and not.
  for (const md of [draftForwardMetadata(), draftReverseMetadata(), { tlvs: [] }]) {
    for (const enc of [false, true]) {
      for (const v6 of [false, true]) {
        const pb = buildPacketBuffer({
          src: v6 ? '2001:db8::1' : '203.0.113.1',
          dst: v6 ? '2001:db8::2' : '203.0.113.89',
          l4: { protocol: enc ? 'tcp' : 'udp', srcPort: 8000, dstPort: 8001 },
          payload: new Uint8Array(8),
        });
        const p = new IpPacket();
        p.parse(pb.data, pb.start, pb.length);
        insertMetadata(pb, p, md, enc ? cipher : undefined);
        out.push(pb.copy());
        signPacket(pb, p, key, 42);
        out.push(pb.copy());
      }
    }
  }
  return out;
}

function mutate(src: Uint8Array): Uint8Array {
  const kind = int(10);
  let b = src.slice();
  switch (kind) {
    case 0: // random bytes
      b = new Uint8Array(int(120));
      rnd.fill(b);
      break;
    case 1: // truncate
      b = b.subarray(0, int(b.length + 1));
      break;
    case 2: // extend with garbage
      {
        const e = new Uint8Array(b.length + 1 + int(64));
        e.set(b);
        rnd.fill(e, b.length);
        b = e;
      }
      break;
    case 3: // a length or offset field set to something random (IP, L4 and metadata lengths)
      for (const at of [2, 3, 4, 5, 0, 9, 6, 24, 25, 32, 44, 45, 46, 47, 48, 49, 50, 51])
        if (at < b.length && int(3) === 0) b[at] = rnd.u32() & 0xff;
      break;
    case 4: // the metadata cookie dropped somewhere
      if (b.length >= 8) b.set(METADATA_COOKIE, int(b.length - 7));
      break;
    default: {
      // flip a few bytes
      const n = 1 + int(6);
      for (let i = 0; i < n && b.length > 0; i++) b[int(b.length)] ^= 1 + int(255);
    }
  }
  return b;
}

function checkParsedBounds(p: IpPacket, len: number): void {
  assert.ok(p.start <= p.l4Offset && p.l4Offset <= p.payloadOffset, 'l4 before payload');
  assert.ok(
    p.payloadOffset <= p.end && p.payloadEnd <= p.end && p.end <= len,
    `offsets inside the buffer: ${p.payloadOffset} ${p.payloadEnd} ${p.end} ${len}`,
  );
  assert.ok(p.l4Offset + p.l4HeaderLength <= p.end, 'L4 header inside the packet');
}

test('fuzz: 100 000 random and mutated packets through every decoder', () => {
  const base = seeds();
  const pkt = new IpPacket();
  const counts = new Map<string, number>();
  const note = (r: DropReason) => {
    assert.ok(isKnownReason(r), `unknown reason ${r}`);
    const c = DROP_REASONS[r].code;
    counts.set(c, (counts.get(c) ?? 0) + 1);
  };
  let accepted = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const input = mutate(base[int(base.length)]);
    try {
      // IP and transport, strict and lenient
      for (const lenient of [false, true]) {
        const r = pkt.parse(input, 0, input.length, lenient);
        if (r) {
          note(r);
          continue;
        }
        accepted++;
        checkParsedBounds(pkt, input.length);
        if (!lenient) {
          pkt.l4ChecksumValid();
          if (pkt.version === 4) pkt.ip4.checksumValid();
        }
      }
      if (pkt.parse(input, 0, input.length) !== DropReason.None) continue;

      // Metadata, clear and encrypted, on a copy (decryption works in place)
      for (const c of [undefined, cipher]) {
        const copy = input.slice();
        const md = decodeMetadata(copy, pkt.payloadOffset, pkt.end, c);
        if (typeof md === 'number') {
          if (md !== DropReason.MetadataNotPresent) note(md);
        } else {
          assert.ok(pkt.payloadOffset + md.blockLength <= pkt.end, 'block inside the packet');
          for (const kind of ['forward', 'reverse', 'icmp'] as const) {
            const rr = checkRequiredTlvs(md, kind);
            if (rr) note(rr);
          }
          // Strip it from a buffer copy: must succeed and leave a parsable packet.
          const pb = PacketBuffer.from(input);
          const q = new IpPacket();
          if (q.parse(pb.data, pb.start, pb.length) === DropReason.None && !c) {
            const rm = removeMetadata(pb, q, md.blockLength);
            if (rm) note(rm);
            else checkParsedBounds(q, pb.data.length);
          }
        }
      }

      // HMAC: check, then verify-and-strip on a copy
      const sig = checkPacketSignature(pkt, key, 42);
      if (sig.reason) note(sig.reason);
      const pb = PacketBuffer.from(input);
      const q = new IpPacket();
      if (q.parse(pb.data, pb.start, pb.length) === DropReason.None) {
        const v = verifyAndStripSignature(pb, q, key, 42);
        if (v) note(v);
        else checkParsedBounds(q, pb.data.length);
      }

      // TCP <-> UDP on a copy
      const t = PacketBuffer.from(input);
      const tp = new IpPacket();
      if (tp.parse(t.data, t.start, t.length) === DropReason.None) {
        const r1 = tp.isUdp ? udpToTcp(tp) : tcpToUdp(tp);
        if (r1) note(r1);
      }

      // The whole inspector, on a share of the inputs (it builds JSON, so it is slower)
      if (i % 5 === 0) {
        const j = inspectPacket(input, { cipher, hmac: { key, window: 42 } });
        if (j.error)
          assert.ok(
            DROP_REASONS.some((d) => d.code === j.error?.reason),
            `inspector reason ${j.error.reason}`,
          );
      }
    } catch (e) {
      throw new Error(
        `iteration ${i}: input ${Buffer.from(input).toString('hex')} threw: ${e instanceof Error ? e.stack : String(e)}`,
      );
    }
  }
  // The mutations must actually reach deep checks, not just bounce off the IP header.
  assert.ok(accepted > ITERATIONS / 4, `accepted ${accepted}`);
  for (const code of [
    'ipv4-truncated',
    'metadata-bad-header-length',
    'metadata-tlv-truncated',
    'hmac-mismatch',
    'metadata-bad-padding',
  ])
    assert.ok(
      (counts.get(code) ?? 0) > 0,
      `never saw ${code}: ${JSON.stringify(Object.fromEntries(counts))}`,
    );
});

test('fuzz: random JSON never crashes the metadata JSON reader', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (j) => {
      const r = metadataFromJson(j);
      return typeof r === 'string' || Array.isArray(r.tlvs);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          type: fc.integer({ min: 0, max: 60 }),
          value: fc.dictionary(
            fc.constantFrom('name', 'address', 'securityId', 'source', 'seconds', 'uuid', 'reason'),
            fc.jsonValue(),
          ),
        }),
        { maxLength: 6 },
      ),
      (tlvs) => {
        const r = metadataFromJson({ tlvs });
        if (typeof r === 'string') return r.length > 0;
        // Whatever the reader accepts must encode.
        encodeMetadataBlock(r);
        return true;
      },
    ),
    { numRuns: 3000 },
  );
});
