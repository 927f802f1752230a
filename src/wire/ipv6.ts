import { readU16, readU32, writeU16 } from '../base/bytes.js';
import { DropReason } from '../base/drop-reason.js';
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HIP,
  IPPROTO_HOPOPTS,
  IPPROTO_MOBILITY,
  IPPROTO_ROUTING,
  IPPROTO_SHIM6,
} from './protocol.js';
import { HeaderView } from './view.js';

export const IPV6_HEADER = 40;
export const IPV6_FRAGMENT_HEADER = 8;
/** RFC 8200 sets no limit; real packets carry a handful. More than this is an attack or garbage. */
export const IPV6_MAX_EXTENSIONS = 16;

/** Extension headers whose length is (Hdr Ext Len + 1) * 8 (RFC 8200 4.x, RFC 6564). */
function isGenericExtension(p: number): boolean {
  return (
    p === IPPROTO_HOPOPTS ||
    p === IPPROTO_ROUTING ||
    p === IPPROTO_DSTOPTS ||
    p === IPPROTO_MOBILITY ||
    p === IPPROTO_HIP ||
    p === IPPROTO_SHIM6
  );
}

/**
 * A view of an IPv6 header (RFC 8200) and its extension header chain, in place.
 * `walk()` follows Next Header values to the upper-layer protocol and records the fragment
 * header, if any, so the caller knows where L4 starts and which byte names its protocol.
 */
export class Ipv6Header extends HeaderView {
  /** Upper-layer protocol at the end of the extension chain (or 59/50 when the chain ends opaquely). */
  upperProtocol = 0;
  /** Absolute offset of the upper-layer header. */
  upperOffset = 0;
  /** Absolute offset of the Next Header byte that names the upper-layer protocol. */
  protocolFieldOffset = 0;
  /** Absolute offset of the fragment header, or -1. */
  fragmentHeaderOffset = -1;
  extensionCount = 0;

  check(b: Uint8Array, off: number, len: number, lenient = false): DropReason {
    if (len < IPV6_HEADER) return DropReason.Ipv6Truncated;
    if (b[off] >> 4 !== 6) return DropReason.Ipv6BadVersion;
    if (!lenient && readU16(b, off + 4) + IPV6_HEADER > len) return DropReason.Ipv6BadPayloadLength;
    this.at(b, off);
    return DropReason.None;
  }

  /** Walk extension headers up to `end` (exclusive). */
  walk(end: number): DropReason {
    const b = this.b;
    let next = b[this.o + 6];
    let fieldOff = this.o + 6;
    let p = this.o + IPV6_HEADER;
    let count = 0;
    this.fragmentHeaderOffset = -1;
    for (;;) {
      let hl: number;
      if (isGenericExtension(next)) {
        if (p + 2 > end) return DropReason.Ipv6ExtensionTruncated;
        hl = (b[p + 1] + 1) << 3;
      } else if (next === IPPROTO_FRAGMENT) {
        hl = IPV6_FRAGMENT_HEADER;
        this.fragmentHeaderOffset = p;
      } else if (next === IPPROTO_AH) {
        if (p + 2 > end) return DropReason.Ipv6ExtensionTruncated;
        hl = (b[p + 1] + 2) << 2; // RFC 4302: length in 4-octet units minus 2
      } else {
        break;
      }
      if (p + hl > end) return DropReason.Ipv6ExtensionTruncated;
      if (++count > IPV6_MAX_EXTENSIONS) return DropReason.Ipv6ExtensionChainTooLong;
      fieldOff = p;
      next = b[p];
      p += hl;
      // A non-first fragment's payload is not a header chain: stop at the fragment header.
      if (this.fragmentHeaderOffset === fieldOff && this.fragmentOffset !== 0) break;
    }
    this.upperProtocol = next;
    this.upperOffset = p;
    this.protocolFieldOffset = fieldOff;
    this.extensionCount = count;
    return DropReason.None;
  }

  get version(): number {
    return this.b[this.o] >> 4;
  }
  get trafficClass(): number {
    return ((this.b[this.o] & 0x0f) << 4) | (this.b[this.o + 1] >> 4);
  }
  get flowLabel(): number {
    return ((this.b[this.o + 1] & 0x0f) << 16) | readU16(this.b, this.o + 2);
  }
  get payloadLength(): number {
    return readU16(this.b, this.o + 4);
  }
  set payloadLength(v: number) {
    writeU16(this.b, this.o + 4, v);
  }
  get nextHeader(): number {
    return this.b[this.o + 6];
  }
  get hopLimit(): number {
    return this.b[this.o + 7];
  }
  set hopLimit(v: number) {
    this.b[this.o + 7] = v;
  }
  get srcOffset(): number {
    return this.o + 8;
  }
  get dstOffset(): number {
    return this.o + 24;
  }
  /** Copies: for people and tests, not the hot path. */
  srcBytes(): Uint8Array {
    return this.b.slice(this.o + 8, this.o + 24);
  }
  dstBytes(): Uint8Array {
    return this.b.slice(this.o + 24, this.o + 40);
  }

  get hasFragmentHeader(): boolean {
    return this.fragmentHeaderOffset >= 0;
  }
  /** Fragment offset in 8-byte units (0 without a fragment header). */
  get fragmentOffset(): number {
    return this.fragmentHeaderOffset < 0 ? 0 : readU16(this.b, this.fragmentHeaderOffset + 2) >> 3;
  }
  get moreFragments(): boolean {
    return this.fragmentHeaderOffset >= 0 && (this.b[this.fragmentHeaderOffset + 3] & 1) !== 0;
  }
  get fragmentIdentification(): number {
    return this.fragmentHeaderOffset < 0 ? 0 : readU32(this.b, this.fragmentHeaderOffset + 4);
  }
}
