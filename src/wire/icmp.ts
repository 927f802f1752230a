import { readU16, readU32, writeU16 } from '../base/bytes.js';
import { DropReason } from '../base/drop-reason.js';
import { HeaderView } from './view.js';

export const ICMP_HEADER = 8;

// ICMPv4 (RFC 792)
export const ICMP4_ECHO_REPLY = 0;
export const ICMP4_DEST_UNREACHABLE = 3;
export const ICMP4_REDIRECT = 5;
export const ICMP4_ECHO_REQUEST = 8;
export const ICMP4_TIME_EXCEEDED = 11;
export const ICMP4_PARAMETER_PROBLEM = 12;
// ICMPv6 (RFC 4443)
export const ICMP6_DEST_UNREACHABLE = 1;
export const ICMP6_PACKET_TOO_BIG = 2;
export const ICMP6_TIME_EXCEEDED = 3;
export const ICMP6_PARAMETER_PROBLEM = 4;
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;

/**
 * A view of an ICMP or ICMPv6 header in place. Both share the layout of the first 8 bytes:
 * type, code, checksum, then identifier/sequence for echo, or unused/MTU/pointer for errors,
 * whose body quotes the offending IP header and the first bytes of its payload.
 */
export class IcmpHeader extends HeaderView {
  /** Which family: decides the type numbers. */
  v6 = false;

  check(b: Uint8Array, off: number, len: number, v6: boolean): DropReason {
    if (len < ICMP_HEADER) return DropReason.IcmpTruncated;
    this.at(b, off);
    this.v6 = v6;
    return DropReason.None;
  }

  get type(): number {
    return this.b[this.o];
  }
  get code(): number {
    return this.b[this.o + 1];
  }
  get checksum(): number {
    return readU16(this.b, this.o + 2);
  }
  set checksum(v: number) {
    writeU16(this.b, this.o + 2, v);
  }
  /** Echo identifier: what 6.6 keys an ICMP session on, in place of a port. */
  get identifier(): number {
    return readU16(this.b, this.o + 4);
  }
  set identifier(v: number) {
    writeU16(this.b, this.o + 4, v);
  }
  get sequence(): number {
    return readU16(this.b, this.o + 6);
  }
  /** The 4 bytes after the checksum: unused, next-hop MTU (v4 code 4), MTU (v6 type 2) or pointer. */
  get restOfHeader(): number {
    return readU32(this.b, this.o + 4);
  }
  get isEcho(): boolean {
    const t = this.type;
    return this.v6
      ? t === ICMP6_ECHO_REQUEST || t === ICMP6_ECHO_REPLY
      : t === ICMP4_ECHO_REQUEST || t === ICMP4_ECHO_REPLY;
  }
  get isEchoRequest(): boolean {
    return this.type === (this.v6 ? ICMP6_ECHO_REQUEST : ICMP4_ECHO_REQUEST);
  }
  /** Errors that quote an offending packet (6.6 maps them back to its session). */
  get isError(): boolean {
    const t = this.type;
    return this.v6
      ? t === ICMP6_DEST_UNREACHABLE ||
          t === ICMP6_PACKET_TOO_BIG ||
          t === ICMP6_TIME_EXCEEDED ||
          t === ICMP6_PARAMETER_PROBLEM
      : t === ICMP4_DEST_UNREACHABLE ||
          t === ICMP4_TIME_EXCEEDED ||
          t === ICMP4_PARAMETER_PROBLEM ||
          t === ICMP4_REDIRECT;
  }
  /** Offset of the quoted IP header in an error message. */
  get quotedOffset(): number {
    return this.o + ICMP_HEADER;
  }
}

const V4_NAMES: Record<number, string> = {
  0: 'echo-reply',
  3: 'destination-unreachable',
  5: 'redirect',
  8: 'echo-request',
  11: 'time-exceeded',
  12: 'parameter-problem',
};
const V6_NAMES: Record<number, string> = {
  1: 'destination-unreachable',
  2: 'packet-too-big',
  3: 'time-exceeded',
  4: 'parameter-problem',
  128: 'echo-request',
  129: 'echo-reply',
};

export function icmpTypeName(type: number, v6: boolean): string {
  return (v6 ? V6_NAMES : V4_NAMES)[type] ?? `type-${type}`;
}
