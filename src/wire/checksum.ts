import { loadNative } from '../base/native.js';

/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624, eqn. 3).
 *
 * Sums are kept unfolded as plain numbers (doubles are exact to 2^53, far beyond any packet) and
 * folded to 16 bits only when written, so callers can add partial sums freely.
 */

const native = (() => {
  const n = loadNative();
  return typeof n === 'string' ? undefined : n.sum16;
})();
/** Below this many bytes calling the native helper costs more than it saves. */
const NATIVE_MIN = 512;

/** One's-complement sum of the 16-bit big-endian words of b[off, off+len); odd tail padded with zero. */
export function onesSum(b: Uint8Array, off: number, len: number, acc = 0): number {
  if (native !== undefined && len >= NATIVE_MIN) return acc + native(b, off, len);
  const end = off + len;
  let i = off;
  // Four words per turn: fewer loop checks on long payloads.
  for (; i + 8 <= end; i += 8) {
    acc +=
      ((b[i] << 8) | b[i + 1]) +
      ((b[i + 2] << 8) | b[i + 3]) +
      ((b[i + 4] << 8) | b[i + 5]) +
      ((b[i + 6] << 8) | b[i + 7]);
  }
  for (; i + 2 <= end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < end) acc += b[i] << 8;
  return acc;
}

/**
 * Sum of bytes that start at an odd distance from the start of the checksummed data: every byte
 * sits in the other half of its word, which is the byte-swapped sum (RFC 1071 section 2(B)).
 */
export function onesSumAtOddOffset(b: Uint8Array, off: number, len: number): number {
  return swap16(fold(onesSum(b, off, len)));
}

export function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

/** Fold a sum to 16 bits with end-around carry. */
export function fold(sum: number): number {
  if (sum > 0xffffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** Final checksum value for a sum: the complement of the folded sum. */
export function finish(sum: number): number {
  return ~fold(sum) & 0xffff;
}

export function checksum(b: Uint8Array, off: number, len: number, acc = 0): number {
  return finish(onesSum(b, off, len, acc));
}

/** IPv4 pseudo-header sum (RFC 9293 3.1, RFC 768). */
export function pseudoSumV4(src: number, dst: number, protocol: number, l4Length: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + protocol + l4Length;
}

/** IPv6 pseudo-header sum (RFC 8200 8.1): addresses read in place, 32-bit length, next header. */
export function pseudoSumV6(
  b: Uint8Array,
  srcOff: number,
  dstOff: number,
  protocol: number,
  l4Length: number,
): number {
  return onesSum(b, srcOff, 16) + onesSum(b, dstOff, 16) + (l4Length >>> 16) + (l4Length & 0xffff) + protocol;
}

// ---- Incremental update (RFC 1624) ----
//
// A delta is the unfolded sum of (~old + new) over every 16-bit word that changes. Applying it:
// HC' = ~(~HC + delta)  (RFC 1624 eqn. 3, which never produces -0 for a non-zero sum).

export function deltaWord(acc: number, oldWord: number, newWord: number): number {
  return acc + (~oldWord & 0xffff) + (newWord & 0xffff);
}

export function deltaU32(acc: number, oldValue: number, newValue: number): number {
  return deltaWord(deltaWord(acc, oldValue >>> 16, newValue >>> 16), oldValue & 0xffff, newValue & 0xffff);
}

/** Delta for 16 address bytes changing from a[ao..] to b[bo..]. */
export function deltaBytes16(acc: number, a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < 16; i += 2)
    acc = deltaWord(acc, (a[ao + i] << 8) | a[ao + i + 1], (b[bo + i] << 8) | b[bo + i + 1]);
  return acc;
}

/** The delta of removing a sum from the checksummed data. */
export function deltaRemoveSum(acc: number, sum: number): number {
  return acc + (~fold(sum) & 0xffff);
}

export function applyDelta(csum: number, delta: number): number {
  return ~fold((~csum & 0xffff) + delta) & 0xffff;
}

/** RFC 1624 eqn. 3 for one changed word. */
export function updateWord(csum: number, oldWord: number, newWord: number): number {
  return applyDelta(csum, deltaWord(0, oldWord, newWord));
}
