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
    if (this.version === 4)
      rewriteV4(
        pkt,
        this.src4,
        this.dst4,
        this.srcPort,
        this.dstPort,
        this.ipDelta,
        this.l4Delta,
        this.decrementTtl,
      );
    else
      rewriteV6(pkt, this.src6, 0, this.dst6, 0, this.srcPort, this.dstPort, this.l4Delta, this.decrementTtl);
  }
}

/** Patch the transport checksum with a saved delta (IPv4 UDP without checksum stays so). */
function patchL4(pkt: IpPacket, l4Delta: number): void {
  const csumAt = pkt.l4ChecksumOffset;
  if (csumAt < 0) return;
  const b = pkt.b;
  const old = readU16(b, csumAt);
  const udp = pkt.protocol === IPPROTO_UDP;
  if (udp && old === 0 && pkt.version === 4) return; // RFC 768: no checksum in use
  let c = applyDelta(old, l4Delta);
  if (udp && c === 0) c = 0xffff;
  writeU16(b, csumAt, c);
}

function writePorts(pkt: IpPacket, srcPort: number, dstPort: number): void {
  const b = pkt.b;
  const l4 = pkt.l4Offset;
  if (pkt.protocol === IPPROTO_ICMP || pkt.protocol === 58) {
    // ICMP echo: the identifier stands in for both ports (6.6).
    writeU16(b, l4 + 4, srcPort);
  } else {
    writeU16(b, l4, srcPort);
    writeU16(b, l4 + 2, dstPort);
  }
}

/**
 * The fast-path rewrite (R-4.6.4-c..g): new addresses and ports written in place, both checksums
 * patched with the deltas saved for the session direction (TTL decrement folded in when the
 * delta was planned with it). Allocates nothing.
 */
export function rewriteV4(
  pkt: IpPacket,
  src: number,
  dst: number,
  srcPort: number,
  dstPort: number,
  ipDelta: number,
  l4Delta: number,
  decrementTtl: boolean,
): void {
  const b = pkt.b;
  const ip = pkt.start;
  writeU32(b, ip + 12, src);
  writeU32(b, ip + 16, dst);
  if (decrementTtl) b[ip + 8]--;
  writeU16(b, ip + 10, applyDelta(readU16(b, ip + 10), ipDelta));
  writePorts(pkt, srcPort, dstPort);
  patchL4(pkt, l4Delta);
}

export function rewriteV6(
  pkt: IpPacket,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
  srcPort: number,
  dstPort: number,
  l4Delta: number,
  decrementTtl: boolean,
): void {
  const b = pkt.b;
  const ip = pkt.start;
  for (let i = 0; i < 16; i++) {
    b[ip + 8 + i] = src[srcOff + i];
    b[ip + 24 + i] = dst[dstOff + i];
  }
  if (decrementTtl) b[ip + 7]--;
  writePorts(pkt, srcPort, dstPort);
  patchL4(pkt, l4Delta);
}

/** Addresses and ports a packet is rewritten to; one reusable object per owner. */
export class RewriteTarget {
  src4 = 0;
  dst4 = 0;
  readonly src6 = new Uint8Array(16);
  readonly dst6 = new Uint8Array(16);
  srcPort = 0;
  dstPort = 0;
}

/**
 * The rewrite with checksums computed afresh, for packets whose bytes changed beyond what the
 * saved deltas cover (metadata inserted or removed, a protocol transformed).
 */
export function rewriteFull(pkt: IpPacket, t: RewriteTarget, decrementTtl: boolean): void {
  const b = pkt.b;
  const ip = pkt.start;
  if (pkt.version === 4) {
    writeU32(b, ip + 12, t.src4);
    writeU32(b, ip + 16, t.dst4);
    if (decrementTtl) b[ip + 8]--;
    pkt.ip4.updateChecksum();
  } else {
    b.set(t.src6, ip + 8);
    b.set(t.dst6, ip + 24);
    if (decrementTtl) b[ip + 7]--;
  }
  writePorts(pkt, t.srcPort, t.dstPort);
  pkt.updateL4Checksum();
}
