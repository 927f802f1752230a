import { readU16, writeU16 } from '../base/bytes.js';

const EMPTY = new Uint8Array(0);

/**
 * What every header view shares: the bytes and the header's offset in them. Views are reused
 * across packets (`at()` re-points one), so reading a header allocates nothing.
 */
export class HeaderView {
  b: Uint8Array = EMPTY;
  o = 0;

  /** Point at a header already known to be valid. */
  at(b: Uint8Array, off: number): this {
    this.b = b;
    this.o = off;
    return this;
  }
}

/** TCP and UDP both start with source and destination ports (RFC 9293, RFC 768). */
export class PortsView extends HeaderView {
  get srcPort(): number {
    return readU16(this.b, this.o);
  }
  set srcPort(v: number) {
    writeU16(this.b, this.o, v);
  }
  get dstPort(): number {
    return readU16(this.b, this.o + 2);
  }
  set dstPort(v: number) {
    writeU16(this.b, this.o + 2, v);
  }
}
