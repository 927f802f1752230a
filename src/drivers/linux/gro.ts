import type { PacketBuffer } from '../../base/packet-buffer.js';
import { fold, pseudoSumV4 } from '../../wire/checksum.js';
import { setIpv4Length } from '../../wire/gso.js';
import { GSO_TCPV4, GSO_UDP_L4, VNET_HDR_LEN } from './virtio.js';

const NEEDS_CSUM = 1;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
const MAX_SUPER = 65535;
/** The kernel splits a UDP super-packet into at most this many datagrams (UDP_MAX_SEGMENTS). */
const UDP_MAX_SEGMENTS = 64;

const readU32 = (d: Uint8Array, o: number) =>
  ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;

/**
 * Receive-side coalescing for what the router writes to a TUN device (what the kernel's GRO
 * does for a NIC): consecutive IPv4 TCP segments of one flow, in order, or UDP datagrams of one
 * flow, with equal headers but for lengths, identifications, checksums (and TCP sequence
 * numbers), become one super-packet written once with a segmentation request (TCP TSO, UDP
 * USO). A router handles packets one by one; writing a batch's packets of a flow as one saves a
 * system call per packet.
 *
 * Signed packets stay intact: signatures cover only the L4 payload (4.5, SD-2), which UDP
 * segmentation cuts exactly where the datagrams were, and TCP segments carrying a signature
 * never merge, since the signature makes their sequence numbers non-contiguous.
 */
export class Coalescer {
  /**
   * The super-packet being built: first packet's headers, then each payload. Until a second
   * packet joins it is the first packet's own buffer (no copy for flows that never merge).
   */
  private group: PacketBuffer | undefined;
  private copied = false;
  private segments = 0;
  private segSize = 0;
  private nextSeq = 0;
  private udp = false;
  /** The group takes no more packets (a short one, or PSH, arrived). */
  private closed = false;
  private hdrLen = 0;
  /** False once the kernel refused a UDP segmentation request. */
  allowUdp = true;

  constructor(
    private readonly buffer: () => PacketBuffer,
    private readonly give: (pb: PacketBuffer) => void,
  ) {}

  get pending(): boolean {
    return this.group !== undefined;
  }

  /** Packets in the group so far. */
  get count(): number {
    return this.group ? this.segments : 0;
  }

  /**
   * Take `pb` into the group (its bytes are copied; the caller keeps pb) and return true, or
   * return false when it cannot join: flush first, then write it or `start` with it.
   */
  add(pb: PacketBuffer): boolean {
    let g = this.group;
    if (!g || this.closed) return false;
    const d = pb.data;
    const s = pb.start;
    const len = pb.end - s;
    const hl = this.hdrLen;
    const payload = len - hl;
    if (payload <= 0 || payload > this.segSize) return false;
    if (g.end - g.start + payload > MAX_SUPER || (this.udp && this.segments >= UDP_MAX_SEGMENTS))
      return false;
    const gd = g.data;
    const gs = g.start;
    const ihl = (d[s] & 0x0f) * 4;
    if ((gd[gs] & 0x0f) * 4 !== ihl || d[s + 9] !== gd[gs + 9]) return false;
    if (!this.udp && (d[s + ihl + 12] >> 4) * 4 + ihl !== hl) return false;
    // Equal headers but for IPv4 total length (2-3), id (4-5) and checksum (10-11), and the L4
    // fields segmentation rewrites: UDP length and checksum, TCP sequence, flags and checksum.
    for (let i = 0; i < hl; i++) {
      if (i === 2 || i === 3 || i === 4 || i === 5 || i === 10 || i === 11) continue;
      const t = i - ihl;
      if (this.udp ? t >= 4 : (t >= 4 && t <= 7) || t === 13 || t === 16 || t === 17) continue;
      if (d[s + i] !== gd[gs + i]) return false;
    }
    let flags = 0;
    if (!this.udp) {
      const seq = readU32(d, s + ihl + 4);
      flags = d[s + ihl + 13];
      if (seq !== this.nextSeq || (flags & ~TCP_PSH) !== TCP_ACK) return false;
      this.nextSeq = (seq + payload) >>> 0;
    }
    if (!this.copied) {
      const big = this.buffer();
      big.gsoSize = 0;
      big.gsoType = 0;
      big.data.set(gd.subarray(gs, g.end), big.start);
      big.end = big.start + (g.end - gs);
      this.give(g);
      this.group = g = big;
      this.copied = true;
    }
    g.data.set(d.subarray(s + hl, s + len), g.end);
    g.end += payload;
    this.segments++;
    if (flags & TCP_PSH) g.data[g.start + ihl + 13] |= TCP_PSH;
    if (payload < this.segSize || flags & TCP_PSH) this.closed = true;
    return true;
  }

  /**
   * Start a group with `pb` if it could grow into one (an IPv4 TCP segment or UDP datagram with
   * data, not a fragment). On true the coalescer owns pb: it comes back from `finish`, or goes to
   * `give` once copied.
   */
  start(pb: PacketBuffer): boolean {
    const d = pb.data;
    const s = pb.start;
    const len = pb.end - s;
    if (len < 28 || d[s] >> 4 !== 4) return false;
    const proto = d[s + 9];
    if (proto !== 6 && (proto !== 17 || !this.allowUdp)) return false;
    const ihl = (d[s] & 0x0f) * 4;
    if ((d[s + 6] & 0x3f) !== 0 || d[s + 7] !== 0) return false; // a fragment
    let hl: number;
    if (proto === 17) {
      hl = ihl + 8;
      // A datagram whose UDP length disagrees with its IP length, or without a checksum, stays alone.
      if (((d[s + ihl + 4] << 8) | d[s + ihl + 5]) !== len - ihl) return false;
      if (d[s + ihl + 6] === 0 && d[s + ihl + 7] === 0) return false;
    } else {
      if (len < 40) return false;
      hl = ihl + (d[s + ihl + 12] >> 4) * 4;
      const flags = d[s + ihl + 13];
      if ((flags & ~TCP_PSH) !== TCP_ACK || flags & TCP_PSH) return false;
      this.nextSeq = (readU32(d, s + ihl + 4) + (len - hl)) >>> 0;
    }
    if (len <= hl) return false;
    this.group = pb;
    this.copied = false;
    this.udp = proto === 17;
    this.segments = 1;
    this.hdrLen = hl;
    this.segSize = len - hl;
    this.closed = false;
    return true;
  }

  /**
   * The group as one packet, with its virtio-net header written into `hdr`: a single packet goes
   * as it came; several become a super-packet whose L4 checksum field holds the pseudo-header
   * sum for the kernel to complete per segment. The caller writes it and gives the buffer back.
   */
  finish(hdr: Uint8Array): PacketBuffer | undefined {
    const g = this.group;
    this.group = undefined;
    if (!g) return undefined;
    hdr.fill(0, 0, VNET_HDR_LEN);
    if (this.segments === 1) return g;
    const d = g.data;
    const s = g.start;
    const total = g.end - s;
    const ihl = (d[s] & 0x0f) * 4;
    setIpv4Length(d, s, ihl, total);
    const l4 = s + ihl;
    if (this.udp) {
      d[l4 + 4] = (total - ihl) >>> 8;
      d[l4 + 5] = total - ihl;
    }
    const p = fold(pseudoSumV4(readU32(d, s + 12), readU32(d, s + 16), d[s + 9], total - ihl));
    const field = l4 + (this.udp ? 6 : 16);
    d[field] = p >>> 8;
    d[field + 1] = p;
    hdr[0] = NEEDS_CSUM;
    hdr[1] = this.udp ? GSO_UDP_L4 : GSO_TCPV4;
    hdr[2] = this.hdrLen;
    hdr[3] = this.hdrLen >>> 8;
    hdr[4] = this.segSize;
    hdr[5] = this.segSize >>> 8;
    hdr[6] = ihl;
    hdr[7] = 0;
    hdr[8] = this.udp ? 6 : 16;
    hdr[9] = 0;
    return g;
  }
}
