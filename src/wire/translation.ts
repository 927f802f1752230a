import { readU16, writeU16, writeU32 } from '../base/bytes.js';
import { applyDelta, deltaBytes16, deltaU32, deltaWord } from './checksum.js';
import type { IpPacket } from './packet.js';
import { IPPROTO_ICMP, IPPROTO_UDP } from './protocol.js';

/** Where a packet's addresses and ports are before or after translation. */
export interface Endpoints4 {
  readonly src: number;
  readonly dst: number;
  readonly srcPort: number;
  readonly dstPort: number;
}

export interface Endpoints6 {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly srcPort: number;
  readonly dstPort: number;
}

const NO_ADDRESS = new Uint8Array(16);

/** TTL decremented by one changes the TTL/protocol word by -0x100 whatever the TTL: a constant delta. */
const TTL_DECREMENT_DELTA = 0xfeff;

/**
 * An address and port rewrite planned once per session direction and applied to every packet of
 * it (R-4.6.4-c..g): the new values and the saved checksum deltas, so the fast path writes 12
 * bytes and patches two checksums without summing anything (RFC 1624).
 *
 * The plan assumes every packet it is applied to arrives with the `from` endpoints, which is what
 * the session lookup that found the plan guarantees. For ICMP echo the identifier stands in for
 * both ports (6.6) and `srcPort` is used.
 */
export class Translation {
  version: 4 | 6 = 4;
  protocol = 0;
  src4 = 0;
  dst4 = 0;
  src6: Uint8Array = NO_ADDRESS;
  dst6: Uint8Array = NO_ADDRESS;
  srcPort = 0;
  dstPort = 0;
  decrementTtl = false;
  /** Delta for the IPv4 header checksum. */
  ipDelta = 0;
  /** Delta for the transport checksum (pseudo-header addresses and ports). */
  l4Delta = 0;

  static ipv4(protocol: number, from: Endpoints4, to: Endpoints4, decrementTtl = false): Translation {
    const t = new Translation();
    t.version = 4;
    t.protocol = protocol;
    t.src4 = to.src;
    t.dst4 = to.dst;
    t.srcPort = to.srcPort;
    t.dstPort = to.dstPort;
    t.decrementTtl = decrementTtl;
    let ip = deltaU32(deltaU32(0, from.src, to.src), from.dst, to.dst);
    if (decrementTtl) ip += TTL_DECREMENT_DELTA;
    t.ipDelta = ip;
    if (protocol === IPPROTO_ICMP) {
      t.l4Delta = deltaWord(0, from.srcPort, to.srcPort);
    } else {
      let l4 = deltaU32(deltaU32(0, from.src, to.src), from.dst, to.dst);
      l4 = deltaWord(deltaWord(l4, from.srcPort, to.srcPort), from.dstPort, to.dstPort);
      t.l4Delta = l4;
    }
    return t;
  }

  static ipv6(protocol: number, from: Endpoints6, to: Endpoints6, decrementTtl = false): Translation {
    const t = new Translation();
    t.version = 6;
    t.protocol = protocol;
    t.src6 = to.src.slice();
    t.dst6 = to.dst.slice();
    t.srcPort = to.srcPort;
    t.dstPort = to.dstPort;
    t.decrementTtl = decrementTtl;
    // ICMPv6 has a pseudo-header too (RFC 4443 2.3), so addresses count for every protocol.
    let l4 = deltaBytes16(deltaBytes16(0, from.src, 0, to.src, 0), from.dst, 0, to.dst, 0);
    if (protocol === 58) l4 = deltaWord(l4, from.srcPort, to.srcPort);
    else l4 = deltaWord(deltaWord(l4, from.srcPort, to.srcPort), from.dstPort, to.dstPort);
    t.l4Delta = l4;
    return t;
  }

  /** Rewrite a parsed packet in place. Allocates nothing. */
  apply(pkt: IpPacket): void {
    const b = pkt.b;
    const ip = pkt.start;
    const l4 = pkt.l4Offset;
    const csumAt = pkt.l4ChecksumOffset;
    if (this.version === 4) {
      writeU32(b, ip + 12, this.src4);
      writeU32(b, ip + 16, this.dst4);
      if (this.decrementTtl) b[ip + 8]--;
      writeU16(b, ip + 10, applyDelta(readU16(b, ip + 10), this.ipDelta));
    } else {
      b.set(this.src6, ip + 8);
      b.set(this.dst6, ip + 24);
      if (this.decrementTtl) b[ip + 7]--;
    }
    const icmp = this.protocol === IPPROTO_ICMP || this.protocol === 58;
    if (icmp) {
      writeU16(b, l4 + 4, this.srcPort);
    } else {
      writeU16(b, l4, this.srcPort);
      writeU16(b, l4 + 2, this.dstPort);
    }
    if (csumAt < 0) return;
    const old = readU16(b, csumAt);
    // IPv4 UDP without checksum stays without (RFC 768).
    if (this.protocol === IPPROTO_UDP && old === 0 && this.version === 4) return;
    let c = applyDelta(old, this.l4Delta);
    if (this.protocol === IPPROTO_UDP && c === 0) c = 0xffff;
    writeU16(b, csumAt, c);
  }
}
