import { readU16, writeU16 } from '../base/bytes.js';
import { DropReason } from '../base/drop-reason.js';
import { PortsView } from './view.js';

export const UDP_HEADER = 8;

/** A view of a UDP header (RFC 768) in place. */
export class UdpHeader extends PortsView {
  /** `len` is the IP payload available; the UDP length field must fit inside it. */
  check(b: Uint8Array, off: number, len: number, lenient = false): DropReason {
    if (len < UDP_HEADER) return DropReason.UdpTruncated;
    const l = readU16(b, off + 4);
    if (l < UDP_HEADER || (!lenient && l > len)) return DropReason.UdpBadLength;
    this.at(b, off);
    return DropReason.None;
  }

  get length(): number {
    return readU16(this.b, this.o + 4);
  }
  set length(v: number) {
    writeU16(this.b, this.o + 4, v);
  }
  get checksum(): number {
    return readU16(this.b, this.o + 6);
  }
  set checksum(v: number) {
    writeU16(this.b, this.o + 6, v);
  }
}
