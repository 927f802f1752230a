import { type IpAddress, parseIp } from '../base/address.js';
import { writeU16, writeU32 } from '../base/bytes.js';
import { DEFAULT_HEADROOM, DEFAULT_TAILROOM, PacketBuffer } from '../base/packet-buffer.js';
import { checksum } from './checksum.js';
import { IpPacket } from './packet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from './protocol.js';

/**
 * Valid packets from fields, for tests, tools and the emulator's hosts. The output carries
 * correct lengths and checksums; everything not given takes an ordinary default.
 */

export interface TcpSpec {
  readonly protocol: 'tcp';
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq?: number;
  readonly ack?: number;
  /** Flag bits (TCP_SYN | TCP_ACK ...). Default ACK. */
  readonly flags?: number;
  readonly window?: number;
  readonly urgentPointer?: number;
  /** Raw option bytes, padded with zero (end of list) to a multiple of 4. */
  readonly options?: Uint8Array;
}

export interface UdpSpec {
  readonly protocol: 'udp';
  readonly srcPort: number;
  readonly dstPort: number;
  /** Send a zero checksum (IPv4 only: "no checksum"). */
  readonly noChecksum?: boolean;
}

export interface IcmpSpec {
  readonly protocol: 'icmp';
  readonly type: number;
  readonly code?: number;
  /** Echo identifier and sequence, or the 4-byte rest-of-header of an error. */
  readonly identifier?: number;
  readonly sequence?: number;
  readonly restOfHeader?: number;
}

export interface RawSpec {
  readonly protocol: number;
}

export interface PacketSpec {
  /** Text or parsed address; both must be of the same family. */
  readonly src: string | IpAddress;
  readonly dst: string | IpAddress;
  readonly l4: TcpSpec | UdpSpec | IcmpSpec | RawSpec;
  readonly payload?: Uint8Array;
  readonly ttl?: number;
  readonly tos?: number;
  readonly identification?: number;
  readonly dontFragment?: boolean;
  readonly moreFragments?: boolean;
  /** In 8-byte units. */
  readonly fragmentOffset?: number;
  /** IPv4 options, padded to a multiple of 4. */
  readonly ipOptions?: Uint8Array;
  readonly flowLabel?: number;
}

function address(a: string | IpAddress): IpAddress {
  if (typeof a !== 'string') return a;
  const p = parseIp(a);
  if (!p) throw new TypeError(`not an IP address: ${a}`);
  return p;
}

function pad4(b: Uint8Array | undefined): Uint8Array {
  if (!b || b.length === 0) return new Uint8Array(0);
  const out = new Uint8Array((b.length + 3) & ~3);
  out.set(b);
  return out;
}

function l4HeaderLength(l4: PacketSpec['l4']): number {
  if (typeof l4.protocol === 'number') return 0;
  if (l4.protocol === 'tcp') return 20 + pad4(l4.options).length;
  return 8;
}

function protocolNumber(l4: PacketSpec['l4'], v6: boolean): number {
  if (typeof l4.protocol === 'number') return l4.protocol;
  if (l4.protocol === 'tcp') return IPPROTO_TCP;
  if (l4.protocol === 'udp') return IPPROTO_UDP;
  return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
}

/** Build a packet into a new buffer with the given headroom and tailroom. */
export function buildPacketBuffer(
  spec: PacketSpec,
  headroom = DEFAULT_HEADROOM,
  tailroom = DEFAULT_TAILROOM,
): PacketBuffer {
  const src = address(spec.src);
  const dst = address(spec.dst);
  if (src.version !== dst.version) throw new TypeError('source and destination are of different IP versions');
  const v6 = src.version === 6;
  const opts = v6 ? new Uint8Array(0) : pad4(spec.ipOptions);
  const ipHl = v6 ? 40 : 20 + opts.length;
  const l4Hl = l4HeaderLength(spec.l4);
  const payload = spec.payload ?? new Uint8Array(0);
  const total = ipHl + l4Hl + payload.length;
  const data = new Uint8Array(headroom + total + tailroom);
  const o = headroom;
  const proto = protocolNumber(spec.l4, v6);
  const l4 = o + ipHl;

  if (v6 && src.version === 6 && dst.version === 6) {
    const tc = spec.tos ?? 0;
    const fl = spec.flowLabel ?? 0;
    writeU32(data, o, ((6 << 28) | (tc << 20) | (fl & 0xfffff)) >>> 0);
    writeU16(data, o + 4, total - 40);
    data[o + 6] = proto;
    data[o + 7] = spec.ttl ?? 64;
    data.set(src.v6, o + 8);
    data.set(dst.v6, o + 24);
  } else if (src.version === 4 && dst.version === 4) {
    data[o] = 0x40 | (ipHl >> 2);
    data[o + 1] = spec.tos ?? 0;
    writeU16(data, o + 2, total);
    writeU16(data, o + 4, spec.identification ?? 0);
    const flags = (spec.dontFragment ? 0x4000 : 0) | (spec.moreFragments ? 0x2000 : 0);
    writeU16(data, o + 6, flags | ((spec.fragmentOffset ?? 0) & 0x1fff));
    data[o + 8] = spec.ttl ?? 64;
    data[o + 9] = proto;
    writeU32(data, o + 12, src.v4);
    writeU32(data, o + 16, dst.v4);
    data.set(opts, o + 20);
    writeU16(data, o + 10, checksum(data, o, ipHl));
  }

  const s = spec.l4;
  if (typeof s.protocol !== 'number') {
    if (s.protocol === 'tcp') {
      writeU16(data, l4, s.srcPort);
      writeU16(data, l4 + 2, s.dstPort);
      writeU32(data, l4 + 4, s.seq ?? 0);
      writeU32(data, l4 + 8, s.ack ?? 0);
      data[l4 + 12] = (l4Hl >> 2) << 4;
      data[l4 + 13] = s.flags ?? 0x10;
      writeU16(data, l4 + 14, s.window ?? 65535);
      writeU16(data, l4 + 18, s.urgentPointer ?? 0);
      data.set(pad4(s.options), l4 + 20);
    } else if (s.protocol === 'udp') {
      writeU16(data, l4, s.srcPort);
      writeU16(data, l4 + 2, s.dstPort);
      writeU16(data, l4 + 4, 8 + payload.length);
    } else {
      data[l4] = s.type;
      data[l4 + 1] = s.code ?? 0;
      if (s.restOfHeader !== undefined) writeU32(data, l4 + 4, s.restOfHeader);
      else {
        writeU16(data, l4 + 4, s.identifier ?? 0);
        writeU16(data, l4 + 6, s.sequence ?? 0);
      }
    }
  }
  data.set(payload, l4 + l4Hl);

  const pb = new PacketBuffer(data, o, o + total);
  if (typeof s.protocol !== 'number' && !spec.moreFragments && !spec.fragmentOffset) {
    const pkt = new IpPacket();
    const r = pkt.parse(data, o, total);
    if (r) throw new Error(`builder produced an unparsable packet (reason ${r})`);
    if (!(s.protocol === 'udp' && s.noChecksum && !v6)) pkt.updateL4Checksum();
  }
  return pb;
}

/** Build a packet as exactly its bytes. */
export function buildPacket(spec: PacketSpec): Uint8Array {
  return buildPacketBuffer(spec, 0, 0).data;
}
