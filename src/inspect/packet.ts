import { ipv4ToString, ipv6ToString } from '../base/address.js';
import { toHex } from '../base/bytes.js';
import { DropReason, dropReasonInfo } from '../base/drop-reason.js';
import { PacketBuffer } from '../base/packet-buffer.js';
import type { HmacKey, WindowTracker } from '../crypto/hmac.js';
import { checkPacketSignature } from '../crypto/packet-signature.js';
import { icmpTypeName } from '../wire/icmp.js';
import { decodeMetadata, findTlv, hasCookie, type MetadataBlockCipher } from '../wire/metadata/block.js';
import { type MetadataJson, metadataToJson } from '../wire/metadata/json.js';
import { checkRequiredTlvs, inferMetadataPurpose } from '../wire/metadata/required.js';
import { TlvType } from '../wire/metadata/tlv.js';
import { IpPacket } from '../wire/packet.js';
import { protocolName } from '../wire/protocol.js';
import { shrinkTail } from '../wire/resize.js';
import { tcpFlagNames } from '../wire/tcp.js';
import { carriedTcpPayload, udpToTcp } from '../wire/tcp-udp-transform.js';

/**
 * Decode one whole packet for people and tools: IP, transport, HMAC signature, SVR metadata and
 * payload, each with its checks. This is what `svr packet decode` prints; the JSON shape is
 * documented in README.md. It never throws on bad bytes: problems land in `error`.
 */

export interface InspectOptions {
  /** Metadata cipher: payload TLVs are taken as encrypted when given (R-4.6.2.2-a). */
  readonly cipher?: MetadataBlockCipher;
  /** Provisioned HMAC: the packet is taken to end with a signature. */
  readonly hmac?: {
    readonly key: HmacKey;
    /** Time window to verify in (tries +1 and -1 too); undefined for a plain HMAC. */
    readonly window: number | undefined;
    readonly tracker?: WindowTracker;
  };
}

export interface ErrorJson {
  reason: string;
  section: string;
  text: string;
  hint?: string;
}

export interface IpJson {
  version: 4 | 6;
  source: string;
  destination: string;
  protocol: number;
  protocolName: string;
  ttl: number;
  length: number;
  headerLength: number;
  identification?: number;
  dontFragment?: boolean;
  moreFragments: boolean;
  fragmentOffset: number;
  checksumValid?: boolean;
  flowLabel?: number;
  trafficClass?: number;
}

export interface L4Json {
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'other';
  sourcePort?: number;
  destinationPort?: number;
  seq?: number;
  ack?: number;
  flags?: string[];
  window?: number;
  headerLength?: number;
  length?: number;
  type?: number;
  code?: number;
  typeName?: string;
  identifier?: number;
  sequence?: number;
  quoted?: {
    source: string;
    destination: string;
    protocol: number;
    sourcePort?: number;
    destinationPort?: number;
  };
  checksum?: number;
  checksumValid?: boolean;
}

export interface SignatureJson {
  method: string;
  hex: string;
  valid: boolean;
  timeBased: boolean;
  window: number | null;
  windowOffset: number | null;
}

export interface PacketJson {
  index: number;
  timestamp: string | null;
  length: number;
  vlan?: number;
  ip: IpJson | null;
  l4: L4Json | null;
  signature: SignatureJson | null;
  metadata: MetadataJson | null;
  /** Set when TLV 12 says this UDP packet is a transformed TCP one (4.2.7): the TCP header restored. */
  restoredTcp: L4Json | null;
  payload: { offset: number; length: number; hex: string } | null;
  error: ErrorJson | null;
}

export function errorJson(r: DropReason, hint?: string): ErrorJson {
  const i = dropReasonInfo(r);
  return hint
    ? { reason: i.code, section: i.section, text: i.text, hint }
    : { reason: i.code, section: i.section, text: i.text };
}

function ipJson(p: IpPacket): IpJson {
  if (p.version === 4) {
    const h = p.ip4;
    return {
      version: 4,
      source: ipv4ToString(h.src),
      destination: ipv4ToString(h.dst),
      protocol: p.protocol,
      protocolName: protocolName(p.protocol),
      ttl: h.ttl,
      length: h.totalLength,
      headerLength: h.headerLength,
      identification: h.identification,
      dontFragment: h.dontFragment,
      moreFragments: h.moreFragments,
      fragmentOffset: h.fragmentOffset,
      checksumValid: h.checksumValid(),
    };
  }
  const h = p.ip6;
  return {
    version: 6,
    source: ipv6ToString(p.b, h.srcOffset),
    destination: ipv6ToString(p.b, h.dstOffset),
    protocol: p.protocol,
    protocolName: protocolName(p.protocol),
    ttl: h.hopLimit,
    length: 40 + h.payloadLength,
    headerLength: p.l4Offset - p.start,
    moreFragments: h.moreFragments,
    fragmentOffset: h.fragmentOffset,
    flowLabel: h.flowLabel,
    trafficClass: h.trafficClass,
  };
}

function l4Json(p: IpPacket): L4Json | null {
  if (p.isLaterFragment) return null;
  const valid = p.isFragment ? undefined : p.l4ChecksumValid();
  if (p.isTcp) {
    const t = p.tcp;
    return {
      protocol: 'tcp',
      sourcePort: t.srcPort,
      destinationPort: t.dstPort,
      seq: t.seq,
      ack: t.ack,
      flags: tcpFlagNames(t.flags),
      window: t.window,
      headerLength: t.headerLength,
      checksum: t.checksum,
      checksumValid: valid,
    };
  }
  if (p.isUdp) {
    const u = p.udp;
    return {
      protocol: 'udp',
      sourcePort: u.srcPort,
      destinationPort: u.dstPort,
      length: u.length,
      checksum: u.checksum,
      checksumValid: valid,
    };
  }
  if (p.isIcmp) {
    const c = p.icmp;
    const j: L4Json = {
      protocol: c.v6 ? 'icmpv6' : 'icmp',
      type: c.type,
      code: c.code,
      typeName: icmpTypeName(c.type, c.v6),
      checksum: c.checksum,
      checksumValid: valid,
    };
    if (c.isEcho) {
      j.identifier = c.identifier;
      j.sequence = c.sequence;
    } else if (c.isError) {
      const q = new IpPacket();
      if (q.parse(p.b, c.quotedOffset, p.end - c.quotedOffset, true) === DropReason.None) {
        const qi = ipJson(q);
        j.quoted = { source: qi.source, destination: qi.destination, protocol: q.protocol };
        if (q.isTcp || q.isUdp) {
          j.quoted.sourcePort = q.srcPort;
          j.quoted.destinationPort = q.dstPort;
        }
      }
    }
    return j;
  }
  return { protocol: 'other' };
}

/** Inspect a packet (the bytes are copied; the input is never changed). */
export function inspectPacket(
  bytes: Uint8Array,
  opts: InspectOptions = {},
  index = 0,
  timestampMs?: number,
): PacketJson {
  const out: PacketJson = {
    index,
    timestamp: timestampMs === undefined ? null : new Date(timestampMs).toISOString(),
    length: bytes.length,
    ip: null,
    l4: null,
    signature: null,
    metadata: null,
    restoredTcp: null,
    payload: null,
    error: null,
  };
  const pb = PacketBuffer.from(bytes, 0, 0);
  const pkt = new IpPacket();
  const r = pkt.parse(pb.data, pb.start, pb.length);
  if (r) {
    out.error = errorJson(r);
    return out;
  }
  pb.end = pkt.end;
  out.ip = ipJson(pkt);
  out.l4 = l4Json(pkt);
  if (pkt.l4HeaderLength === 0) {
    out.payload = {
      offset: pkt.payloadOffset - pkt.start,
      length: pkt.payloadLength,
      hex: toHex(pkt.b, pkt.payloadOffset, pkt.payloadLength),
    };
    return out;
  }

  if (opts.hmac) {
    const { key, window } = opts.hmac;
    const s = checkPacketSignature(pkt, key, window, opts.hmac.tracker);
    const sigAt = pkt.end - key.length;
    out.signature = {
      method: key.method,
      hex: sigAt >= pkt.payloadOffset ? toHex(pkt.b, sigAt, key.length) : '',
      valid: s.reason === DropReason.None,
      timeBased: window !== undefined,
      window: window === undefined ? null : window + (s.windowOffset ?? 0),
      windowOffset: s.windowOffset ?? null,
    };
    if (s.reason === DropReason.HmacMissing) {
      out.error = errorJson(s.reason);
      return out;
    }
    // The trailing bytes are the signature by provisioning, valid or not: take them off to read on.
    shrinkTail(pb, pkt, key.length);
    if (s.reason) out.error = errorJson(s.reason);
  }

  // SD-32: a TCP segment carried as UDP (4.2.7) has its metadata after the whole TCP header.
  const carried = pkt.isUdp && !hasCookie(pkt.b, pkt.payloadOffset, pkt.end) ? carriedTcpPayload(pkt) : -1;
  let payloadAt = carried >= 0 && hasCookie(pkt.b, carried, pkt.end) ? carried : pkt.payloadOffset;
  const md = decodeMetadata(pkt.b, payloadAt, pkt.end, opts.cipher);
  if (typeof md === 'number') {
    if (md !== DropReason.MetadataNotPresent && !out.error)
      out.error = errorJson(
        md,
        opts.cipher ? undefined : 'if the payload TLVs are encrypted, give --cipher-key',
      );
  } else {
    out.metadata = metadataToJson(md);
    payloadAt += md.blockLength;
    const purpose = inferMetadataPurpose(md);
    if (purpose === 'forward' || purpose === 'reverse' || purpose === 'icmp') {
      const req = checkRequiredTlvs(md, purpose);
      if (req && !out.error)
        out.error = errorJson(
          req,
          `missing for ${purpose} metadata: ${out.metadata.missingRequired.join(', ')}`,
        );
    }
    if (findTlv(md, TlvType.TcpSynPacket) && pkt.isUdp) {
      const copy = PacketBuffer.from(pkt.b.subarray(pkt.start, pkt.end), 0, 0);
      const q = new IpPacket();
      if (q.parse(copy.data, 0, copy.length) === DropReason.None && udpToTcp(q) === DropReason.None)
        out.restoredTcp = l4Json(q);
    }
  }
  const plen = pkt.end - payloadAt;
  out.payload = { offset: payloadAt - pkt.start, length: plen, hex: toHex(pkt.b, payloadAt, plen) };
  return out;
}
