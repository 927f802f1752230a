import { readU16, readU32, writeU16, writeU32 } from '../base/bytes.js';
import { DropReason } from '../base/drop-reason.js';
import { PortsView } from './view.js';

export const TCP_MIN_HEADER = 20;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;

const FLAG_NAMES: readonly [number, string][] = [
  [TCP_FIN, 'FIN'],
  [TCP_SYN, 'SYN'],
  [TCP_RST, 'RST'],
  [TCP_PSH, 'PSH'],
  [TCP_ACK, 'ACK'],
  [TCP_URG, 'URG'],
  [TCP_ECE, 'ECE'],
  [TCP_CWR, 'CWR'],
];

export function tcpFlagNames(flags: number): string[] {
  return FLAG_NAMES.filter(([f]) => (flags & f) !== 0).map(([, n]) => n);
}

/** A view of a TCP header (RFC 9293) in place. Options are left as they are: svr never rewrites them. */
export class TcpHeader extends PortsView {
  check(b: Uint8Array, off: number, len: number): DropReason {
    if (len < TCP_MIN_HEADER) return DropReason.TcpTruncated;
    const hl = (b[off + 12] >> 4) << 2;
    if (hl < TCP_MIN_HEADER || hl > len) return DropReason.TcpBadDataOffset;
    this.at(b, off);
    return DropReason.None;
  }

  get seq(): number {
    return readU32(this.b, this.o + 4);
  }
  set seq(v: number) {
    writeU32(this.b, this.o + 4, v);
  }
  get ack(): number {
    return readU32(this.b, this.o + 8);
  }
  set ack(v: number) {
    writeU32(this.b, this.o + 8, v);
  }
  get headerLength(): number {
    return (this.b[this.o + 12] >> 4) << 2;
  }
  get flags(): number {
    return this.b[this.o + 13];
  }
  set flags(v: number) {
    this.b[this.o + 13] = v;
  }
  get syn(): boolean {
    return (this.b[this.o + 13] & TCP_SYN) !== 0;
  }
  get ackFlag(): boolean {
    return (this.b[this.o + 13] & TCP_ACK) !== 0;
  }
  get fin(): boolean {
    return (this.b[this.o + 13] & TCP_FIN) !== 0;
  }
  get rst(): boolean {
    return (this.b[this.o + 13] & TCP_RST) !== 0;
  }
  get window(): number {
    return readU16(this.b, this.o + 14);
  }
  get checksum(): number {
    return readU16(this.b, this.o + 16);
  }
  set checksum(v: number) {
    writeU16(this.b, this.o + 16, v);
  }
  get urgentPointer(): number {
    return readU16(this.b, this.o + 18);
  }
  set urgentPointer(v: number) {
    writeU16(this.b, this.o + 18, v);
  }
  get optionsOffset(): number {
    return this.o + TCP_MIN_HEADER;
  }
  get optionsLength(): number {
    return this.headerLength - TCP_MIN_HEADER;
  }
}
