import { readU16, readU32, writeU16, writeU32 } from '../base/bytes.js';
import { DropReason } from '../base/drop-reason.js';
import { checksum, updateWord } from './checksum.js';
import { HeaderView } from './view.js';

export const IPV4_MIN_HEADER = 20;

/**
 * A view of an IPv4 header (RFC 791) in place. `check()` validates once and points the view at
 * the bytes; the accessors then trust the offsets. One view is reused across packets, so reading
 * allocates nothing.
 */
export class Ipv4Header extends HeaderView {
  /**
   * Validate version, IHL and total length against `len` bytes available at `off`.
   * `lenient` accepts a total length beyond the bytes present: the header quoted inside an ICMP
   * error is cut short by design (RFC 792).
   */
  check(b: Uint8Array, off: number, len: number, lenient = false): DropReason {
    if (len < IPV4_MIN_HEADER) return DropReason.Ipv4Truncated;
    if (b[off] >> 4 !== 4) return DropReason.Ipv4BadVersion;
    const hl = (b[off] & 0x0f) << 2;
    if (hl < IPV4_MIN_HEADER || hl > len) return DropReason.Ipv4BadHeaderLength;
    const total = readU16(b, off + 2);
    if (total < hl || (!lenient && total > len)) return DropReason.Ipv4BadTotalLength;
    this.at(b, off);
    return DropReason.None;
  }

  get version(): number {
    return this.b[this.o] >> 4;
  }
  get headerLength(): number {
    return (this.b[this.o] & 0x0f) << 2;
  }
  get dscp(): number {
    return this.b[this.o + 1] >> 2;
  }
  get ecn(): number {
    return this.b[this.o + 1] & 3;
  }
  get totalLength(): number {
    return readU16(this.b, this.o + 2);
  }
  set totalLength(v: number) {
    writeU16(this.b, this.o + 2, v);
  }
  get identification(): number {
    return readU16(this.b, this.o + 4);
  }
  set identification(v: number) {
    writeU16(this.b, this.o + 4, v);
  }
  /** Flags and fragment offset word: bit 15 reserved, 14 DF, 13 MF, 12..0 offset in 8-byte units. */
  get flagsAndOffset(): number {
    return readU16(this.b, this.o + 6);
  }
  set flagsAndOffset(v: number) {
    writeU16(this.b, this.o + 6, v);
  }
  get dontFragment(): boolean {
    return (this.b[this.o + 6] & 0x40) !== 0;
  }
  get moreFragments(): boolean {
    return (this.b[this.o + 6] & 0x20) !== 0;
  }
  /** Fragment offset in 8-byte units. */
  get fragmentOffset(): number {
    return readU16(this.b, this.o + 6) & 0x1fff;
  }
  /** True for any piece of a fragmented datagram, first included. */
  get isFragment(): boolean {
    return (readU16(this.b, this.o + 6) & 0x3fff) !== 0;
  }
  get ttl(): number {
    return this.b[this.o + 8];
  }
  set ttl(v: number) {
    this.b[this.o + 8] = v;
  }
  get protocol(): number {
    return this.b[this.o + 9];
  }
  set protocol(v: number) {
    this.b[this.o + 9] = v;
  }
  get checksum(): number {
    return readU16(this.b, this.o + 10);
  }
  set checksum(v: number) {
    writeU16(this.b, this.o + 10, v);
  }
  get src(): number {
    return readU32(this.b, this.o + 12);
  }
  set src(v: number) {
    writeU32(this.b, this.o + 12, v);
  }
  get dst(): number {
    return readU32(this.b, this.o + 16);
  }
  set dst(v: number) {
    writeU32(this.b, this.o + 16, v);
  }
  get optionsOffset(): number {
    return this.o + IPV4_MIN_HEADER;
  }
  get optionsLength(): number {
    return this.headerLength - IPV4_MIN_HEADER;
  }

  /** Header checksum computed over the header with the checksum field taken as zero. */
  computeChecksum(): number {
    const hl = this.headerLength;
    const stored = this.checksum;
    // Sum including the stored value, then remove it: avoids writing to the packet.
    return checksum(this.b, this.o, hl, ~stored & 0xffff);
  }

  updateChecksum(): void {
    this.checksum = 0;
    this.checksum = checksum(this.b, this.o, this.headerLength);
  }

  checksumValid(): boolean {
    return checksum(this.b, this.o, this.headerLength) === 0;
  }

  /** Decrement TTL and patch the checksum incrementally (RFC 1624): what every router does. */
  decrementTtl(): void {
    const w = readU16(this.b, this.o + 8);
    this.b[this.o + 8]--;
    this.checksum = updateWord(this.checksum, w, readU16(this.b, this.o + 8));
  }

  /** Set total length and patch the checksum incrementally. */
  setTotalLength(v: number): void {
    const old = this.totalLength;
    this.totalLength = v;
    this.checksum = updateWord(this.checksum, old, v);
  }

  /** Set the protocol and patch the checksum incrementally. */
  setProtocol(p: number): void {
    const w = readU16(this.b, this.o + 8);
    this.b[this.o + 9] = p;
    this.checksum = updateWord(this.checksum, w, readU16(this.b, this.o + 8));
  }
}
