import { readU16, writeU16 } from '../base/bytes.js';
import { checksum } from './checksum.js';

/**
 * Router-side IPv4 reassembly (draft 6.5: a fragmented packet is reassembled before any SVR
 * processing). Pure byte work on an injected time in milliseconds: no sessions, no clock.
 * Bounded in datagrams and bytes held; overlapping fragments drop the whole datagram (RFC 5722
 * applied to IPv4, since overlaps are only ever an attack or a bug).
 */

/** Why a fragment (or the datagram it belonged to) was dropped. */
export type ReassemblyDrop =
  | 'reassembly-overlap'
  | 'reassembly-bad-length'
  | 'reassembly-memory'
  | 'reassembly-datagrams'
  | 'reassembly-timeout';

export interface ReassemblyLimits {
  /** Payload bytes held over all pending datagrams. */
  readonly maxBytes: number;
  /** Datagrams pending at once. */
  readonly maxDatagrams: number;
  /** How long the first fragment may wait for the rest (RFC 791 suggests 15 s; Linux uses 30 s). */
  readonly timeoutMs: number;
}

export const DEFAULT_REASSEMBLY_LIMITS: ReassemblyLimits = {
  maxBytes: 4 * 1024 * 1024,
  maxDatagrams: 1024,
  timeoutMs: 30_000,
};

/** A whole datagram and what 7.3.1 (TLV 1) wants to know about its fragments. */
export interface Reassembled {
  /** The IPv4 datagram, a new buffer, header rewritten as unfragmented (DF kept). */
  readonly packet: Uint8Array;
  /** The Identification field of the original fragments (7.3.1 "Original ID"). */
  readonly originalId: number;
  /** Largest fragment seen, in bytes of IP packet (7.3.1 "Largest Seen Fragment"). */
  readonly largestFragment: number;
}

export type AddResult =
  | { readonly kind: 'pending' }
  | { readonly kind: 'complete'; readonly datagram: Reassembled }
  | { readonly kind: 'drop'; readonly reason: ReassemblyDrop };

interface Piece {
  readonly at: number;
  readonly data: Uint8Array;
}

interface Datagram {
  readonly firstSeenMs: number;
  readonly id: number;
  header: Uint8Array | undefined;
  /** Payload length, known once the last fragment (MF clear) has come; -1 before. */
  total: number;
  bytes: number;
  largest: number;
  readonly pieces: Piece[];
}

/** Largest IPv4 datagram. */
const MAX_DATAGRAM = 65535;
const PENDING: AddResult = { kind: 'pending' };

/** True when the IPv4 packet at b[off..] is a fragment (MF set or a non-zero offset). */
export function isIpv4Fragment(b: Uint8Array, off: number): boolean {
  return (readU16(b, off + 6) & 0x3fff) !== 0;
}

export class Ipv4Reassembly {
  private readonly held = new Map<string, Datagram>();
  private heldBytes = 0;
  /** Drops by reason, including datagrams that timed out. */
  readonly drops = new Map<ReassemblyDrop, number>();

  constructor(readonly limits: ReassemblyLimits = DEFAULT_REASSEMBLY_LIMITS) {}

  /** Datagrams pending. */
  get pending(): number {
    return this.held.size;
  }

  /** Payload bytes held. */
  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * Take the IPv4 fragment at b[off, off+len); `scope` separates tables that must not mix
   * (e.g. the ingress interface). The fragment's bytes are copied: the caller keeps its buffer.
   */
  add(b: Uint8Array, off: number, len: number, nowMs: number, scope = ''): AddResult {
    this.expire(nowMs);
    if (len >= 48 && b[off] >> 4 === 6) return this.add6(b, off, len, nowMs, scope);
    if (len < 20) return this.count('reassembly-bad-length');
    const hl = (b[off] & 0x0f) << 2;
    const totalLength = readU16(b, off + 2);
    if (hl < 20 || totalLength < hl || totalLength > len) return this.count('reassembly-bad-length');
    const flags = readU16(b, off + 6);
    const at = (flags & 0x1fff) * 8;
    const more = (flags & 0x2000) !== 0;
    const n = totalLength - hl;
    // RFC 791: every fragment but the last carries a multiple of 8 bytes, and none is empty.
    if (n === 0 || (more && n % 8 !== 0) || at + n > MAX_DATAGRAM - hl)
      return this.count('reassembly-bad-length');
    const id = readU16(b, off + 4);
    const key = `${scope}/${b[off + 9]}/${b.subarray(off + 12, off + 20).join('.')}/${id}`;
    let d = this.held.get(key);
    if (!d) {
      if (this.held.size >= this.limits.maxDatagrams) return this.count('reassembly-datagrams');
      d = { firstSeenMs: nowMs, id, header: undefined, total: -1, bytes: 0, largest: 0, pieces: [] };
      this.held.set(key, d);
    }
    if (this.heldBytes + n > this.limits.maxBytes) return this.discard(key, d, 'reassembly-memory');
    // RFC 5722: any overlap (even an exact duplicate) discards the datagram.
    for (const p of d.pieces)
      if (at < p.at + p.data.length && p.at < at + n) return this.discard(key, d, 'reassembly-overlap');
    if (!more) {
      if (d.total >= 0 || d.pieces.some((p) => p.at + p.data.length > at + n))
        return this.discard(key, d, 'reassembly-bad-length');
      d.total = at + n;
    } else if (d.total >= 0 && at + n > d.total) return this.discard(key, d, 'reassembly-bad-length');
    if (at === 0) d.header = b.slice(off, off + hl);
    d.pieces.push({ at, data: b.slice(off + hl, off + totalLength) });
    d.bytes += n;
    this.heldBytes += n;
    d.largest = Math.max(d.largest, totalLength);
    if (!d.header || d.total < 0 || d.bytes !== d.total) return PENDING;
    // No overlaps and bytes == total with every piece inside [0, total): the pieces tile it.
    this.remove(key, d);
    return {
      kind: 'complete',
      datagram: { packet: assemble(d.header, d.pieces, d.total), originalId: id, largestFragment: d.largest },
    };
  }

  /**
   * An IPv6 fragment (RFC 8200 4.5) whose Fragment header follows the IPv6 header directly (the
   * usual case; anything else is refused as a bad length). The same limits and overlap rule.
   */
  private add6(b: Uint8Array, off: number, len: number, nowMs: number, scope: string): AddResult {
    if (b[off + 6] !== 44) return this.count('reassembly-bad-length');
    const end = off + 40 + readU16(b, off + 4);
    if (end > off + len) return this.count('reassembly-bad-length');
    const fh = off + 40;
    const word = readU16(b, fh + 2);
    const at = word & 0xfff8;
    const more = (word & 1) !== 0;
    const n = end - fh - 8;
    if (n <= 0 || (more && n % 8 !== 0) || at + n > MAX_DATAGRAM) return this.count('reassembly-bad-length');
    const id = ((b[fh + 4] << 24) | (b[fh + 5] << 16) | (b[fh + 6] << 8) | b[fh + 7]) >>> 0;
    const key = `${scope}/6/${b.subarray(off + 8, off + 40).join('.')}/${id}`;
    let d = this.held.get(key);
    if (!d) {
      if (this.held.size >= this.limits.maxDatagrams) return this.count('reassembly-datagrams');
      d = { firstSeenMs: nowMs, id, header: undefined, total: -1, bytes: 0, largest: 0, pieces: [] };
      this.held.set(key, d);
    }
    if (this.heldBytes + n > this.limits.maxBytes) return this.discard(key, d, 'reassembly-memory');
    for (const p of d.pieces)
      if (at < p.at + p.data.length && p.at < at + n) return this.discard(key, d, 'reassembly-overlap');
    if (!more) {
      if (d.total >= 0 || d.pieces.some((p) => p.at + p.data.length > at + n))
        return this.discard(key, d, 'reassembly-bad-length');
      d.total = at + n;
    } else if (d.total >= 0 && at + n > d.total) return this.discard(key, d, 'reassembly-bad-length');
    if (at === 0) {
      // The IPv6 header, its Next Header now the fragment's.
      d.header = b.slice(off, off + 40);
      d.header[6] = b[fh];
    }
    d.pieces.push({ at, data: b.slice(fh + 8, end) });
    d.bytes += n;
    this.heldBytes += n;
    d.largest = Math.max(d.largest, end - off);
    if (!d.header || d.total < 0 || d.bytes !== d.total) return PENDING;
    this.remove(key, d);
    const out = new Uint8Array(40 + d.total);
    out.set(d.header);
    for (const p of d.pieces) out.set(p.data, 40 + p.at);
    writeU16(out, 4, d.total);
    return { kind: 'complete', datagram: { packet: out, originalId: id, largestFragment: d.largest } };
  }

  /** Drop datagrams older than the timeout; call from a timer too, so memory returns when idle. */
  expire(nowMs: number): void {
    for (const [k, d] of this.held)
      if (nowMs - d.firstSeenMs >= this.limits.timeoutMs) {
        this.remove(k, d);
        this.bump('reassembly-timeout');
      }
  }

  private remove(key: string, d: Datagram): void {
    this.held.delete(key);
    this.heldBytes -= d.bytes;
  }

  private discard(key: string, d: Datagram, reason: ReassemblyDrop): AddResult {
    this.remove(key, d);
    return this.count(reason);
  }

  private count(reason: ReassemblyDrop): AddResult {
    this.bump(reason);
    return { kind: 'drop', reason };
  }

  private bump(reason: ReassemblyDrop): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }
}

function assemble(header: Uint8Array, pieces: readonly Piece[], total: number): Uint8Array {
  const hl = header.length;
  const out = new Uint8Array(hl + total);
  out.set(header);
  for (const p of pieces) out.set(p.data, hl + p.at);
  writeU16(out, 2, out.length);
  writeU16(out, 6, readU16(out, 6) & 0x4000);
  writeU16(out, 10, 0);
  writeU16(out, 10, checksum(out, 0, hl));
  return out;
}
