import type { PacketBuffer } from '../../base/packet-buffer.js';
import { checksum, fold, pseudoSumV4 } from '../../wire/checksum.js';
import { GSO_TCPV4, VNET_HDR_LEN } from './virtio.js';

const NEEDS_CSUM = 1;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
const MAX_SUPER = 65535;

/**
 * Receive-side coalescing for what the router writes to a TUN device (what the kernel's GRO
 * does for a NIC): consecutive IPv4 TCP segments of one flow, in order, with equal headers but
 * for the sequence number, become one super-packet written once with a segmentation request.
 * On a path that signs every packet the router receives segments one by one; writing them to
 * the LAN as one super-packet saves a system call per segment. Signed segments themselves never
 * merge: their signature makes the sequence numbers non-contiguous (4.5).
 */
export class TcpCoalescer {
  /**
   * The super-packet being built: first segment's headers, then each payload. Until a second
   * segment joins it is the first segment's own buffer (no copy for flows that never merge).
   */
  private group: PacketBuffer | undefined;
  private copied = false;
  private segments = 0;
  private segSize = 0;
  private nextSeq = 0;
  /** The group takes no more segments (a short one or PSH arrived). */
  private closed = false;
  private hdrLen = 0;
  constructor(
    private readonly buffer: () => PacketBuffer,
    private readonly give: (pb: PacketBuffer) => void,
  ) {}

  get pending(): boolean {
    return this.group !== undefined;
  }

  /** Segments in the group so far. */
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
    if (payload <= 0 || payload > this.segSize || len < hl) return false;
    if (g.end - g.start + payload > MAX_SUPER) return false;
    const gd = g.data;
    const gs = g.start;
    // Same header bytes but for IPv4 total length (2-3), id (4-5), checksum (10-11), TCP seq
    // (ihl+4..+7), flags (ihl+13) and checksum (ihl+16..17).
    const ihl = (d[s] & 0x0f) * 4;
    if ((gd[gs] & 0x0f) * 4 !== ihl || (d[s + ihl + 12] >> 4) * 4 + ihl !== hl) return false;
    for (let i = 0; i < hl; i++) {
      if (i === 2 || i === 3 || i === 4 || i === 5 || i === 10 || i === 11) continue;
      const t = i - ihl;
      if (t >= 4 && t <= 7) continue;
      if (t === 13 || t === 16 || t === 17) continue;
      if (d[s + i] !== gd[gs + i]) return false;
    }
    const seq =
      ((d[s + ihl + 4] << 24) | (d[s + ihl + 5] << 16) | (d[s + ihl + 6] << 8) | d[s + ihl + 7]) >>> 0;
    const flags = d[s + ihl + 13];
    if (seq !== this.nextSeq || (flags & ~TCP_PSH) !== TCP_ACK) return false;
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
    this.nextSeq = (seq + payload) >>> 0;
    this.segments++;
    if (flags & TCP_PSH) g.data[g.start + ihl + 13] |= TCP_PSH;
    if (payload < this.segSize || flags & TCP_PSH) this.closed = true;
    return true;
  }

  /**
   * Start a group with `pb` if it could grow into one (an IPv4 TCP segment with data). On true the
   * coalescer owns pb: it comes back from `finish`, or goes to `give` once copied.
   */
  start(pb: PacketBuffer): boolean {
    const d = pb.data;
    const s = pb.start;
    const len = pb.end - s;
    if (len < 40 || d[s] >> 4 !== 4 || d[s + 9] !== 6) return false;
    const ihl = (d[s] & 0x0f) * 4;
    if ((d[s + 6] & 0x3f) !== 0 || d[s + 7] !== 0) return false; // a fragment
    const hl = ihl + (d[s + ihl + 12] >> 4) * 4;
    const flags = d[s + ihl + 13];
    if (len <= hl || (flags & ~TCP_PSH) !== TCP_ACK || flags & TCP_PSH) return false;
    this.group = pb;
    this.copied = false;
    this.segments = 1;
    this.hdrLen = hl;
    this.segSize = len - hl;
    this.closed = false;
    const seq =
      ((d[s + ihl + 4] << 24) | (d[s + ihl + 5] << 16) | (d[s + ihl + 6] << 8) | d[s + ihl + 7]) >>> 0;
    this.nextSeq = (seq + this.segSize) >>> 0;
    return true;
  }

  /**
   * The group as one packet, with its virtio-net header written into `hdr`: a single segment goes
   * as it came; several become a super-packet whose TCP checksum field holds the pseudo-header
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
    d[s + 2] = total >>> 8;
    d[s + 3] = total;
    d[s + 10] = 0;
    d[s + 11] = 0;
    const c = checksum(d, s, ihl);
    d[s + 10] = c >>> 8;
    d[s + 11] = c;
    const src = ((d[s + 12] << 24) | (d[s + 13] << 16) | (d[s + 14] << 8) | d[s + 15]) >>> 0;
    const dst = ((d[s + 16] << 24) | (d[s + 17] << 16) | (d[s + 18] << 8) | d[s + 19]) >>> 0;
    const p = fold(pseudoSumV4(src, dst, 6, total - ihl));
    d[s + ihl + 16] = p >>> 8;
    d[s + ihl + 17] = p;
    hdr[0] = NEEDS_CSUM;
    hdr[1] = GSO_TCPV4;
    hdr[2] = this.hdrLen;
    hdr[3] = this.hdrLen >>> 8;
    hdr[4] = this.segSize;
    hdr[5] = this.segSize >>> 8;
    hdr[6] = ihl;
    hdr[7] = 0;
    hdr[8] = 16;
    hdr[9] = 0;
    return g;
  }
}
