import { hash } from 'node:crypto';
import { writeU64 } from '../base/bytes.js';
import { loadNative, type NativeHelper } from '../base/native.js';

const native: NativeHelper | undefined = (() => {
  const n = loadNative();
  return typeof n === 'string' || !n.hmac ? undefined : n;
})();

/** 4.5.1 and D-2. */
export type HmacMethod = 'sha1' | 'sha256-128' | 'sha256';
/** What the authority signs (R-4.5.1-c). */
export type HmacScope = 'none' | 'metadata' | 'all';

export const HMAC_METHODS: readonly HmacMethod[] = ['sha1', 'sha256-128', 'sha256'];
export const HMAC_SCOPES: readonly HmacScope[] = ['none', 'metadata', 'all'];

export const HMAC_SIGNATURE_LENGTH: Readonly<Record<HmacMethod, number>> = {
  sha1: 20,
  'sha256-128': 16,
  sha256: 32,
};

/** Time window for time-based HMAC (4.5.1, D-1): floor(unix seconds / 2). */
export function hmacWindow(unixMs: number): number {
  return Math.floor(unixMs / 2000);
}

const BLOCK = 64; // SHA-1 and SHA-256 both hash 64-byte blocks
const WINDOW_BYTES = 8;

/**
 * HMAC (RFC 2104) over packet bytes with an optional time window appended (D-1), for one key.
 *
 * With the native helper (base/native.ts), the key's padded inner and outer digest states are
 * prepared once in OpenSSL and each signature copies them (docs/linux.md has the figures).
 * Without it, the key pads are computed once and each signature is two one-shot `crypto.hash`
 * calls over scratch buffers that already hold them (about 1.9 us for 200 bytes here, against
 * 2.2 us for `createHmac` per packet).
 *
 * R-4.5.2-f suggests hashing the packet once and trying each window on a saved state. Node can
 * only save a hash state with `Hash.copy()`, which costs more than it saves in the common case
 * (the first window tried matches, see `WindowTracker`), so each try hashes again.
 */
export class HmacKey {
  readonly length: number;
  private readonly alg: 'sha1' | 'sha256';
  private inner: Uint8Array;
  private readonly outer: Uint8Array;
  private readonly digestLength: number;
  /** The prepared OpenSSL states, when the native helper is built. */
  private readonly prepared: object | undefined;
  private readonly scratch = new Uint8Array(32);

  constructor(
    readonly method: HmacMethod,
    key: Uint8Array,
  ) {
    this.alg = method === 'sha1' ? 'sha1' : 'sha256';
    this.digestLength = method === 'sha1' ? 20 : 32;
    this.length = HMAC_SIGNATURE_LENGTH[method];
    let k = key;
    if (k.length > BLOCK) k = hash(this.alg, k, 'buffer');
    this.prepared = native?.hmacKey?.(this.alg === 'sha256', k);
    this.inner = new Uint8Array(BLOCK + 2048);
    this.outer = new Uint8Array(BLOCK + this.digestLength);
    for (let i = 0; i < BLOCK; i++) {
      const kb = i < k.length ? k[i] : 0;
      this.inner[i] = kb ^ 0x36;
      this.outer[i] = kb ^ 0x5c;
    }
  }

  /**
   * Sign b[off, off+len), with the 8-byte window appended when `window` is given, and write the
   * (possibly truncated) signature at out[outOff, outOff+length).
   */
  sign(
    b: Uint8Array,
    off: number,
    len: number,
    window: number | undefined,
    out: Uint8Array,
    outOff: number,
  ): void {
    const d = this.digest(b, off, len, window);
    for (let i = 0; i < this.length; i++) out[outOff + i] = d[i];
  }

  /** True when sig[sigOff, sigOff+length) is the signature of the data in that window. */
  verify(
    b: Uint8Array,
    off: number,
    len: number,
    window: number | undefined,
    sig: Uint8Array,
    sigOff: number,
  ): boolean {
    const d = this.digest(b, off, len, window);
    // Constant time over the signature length.
    let diff = 0;
    for (let i = 0; i < this.length; i++) diff |= d[i] ^ sig[sigOff + i];
    return diff === 0;
  }

  private digest(b: Uint8Array, off: number, len: number, window: number | undefined): Uint8Array {
    if (this.prepared && native?.hmac) {
      // Windows fit in 53 bits; the helper takes them as two 32-bit halves (-1: no window).
      const hi = window === undefined ? -1 : Math.floor(window / 0x100000000);
      const lo = window === undefined ? 0 : window >>> 0;
      native.hmac(this.prepared, b, off, len, hi, lo | 0, this.scratch, 0, this.digestLength);
      return this.scratch;
    }
    const need = BLOCK + len + WINDOW_BYTES;
    if (need > this.inner.length) {
      const grown = new Uint8Array(need);
      grown.set(this.inner.subarray(0, BLOCK));
      this.inner = grown;
    }
    const inner = this.inner;
    inner.set(b.subarray(off, off + len), BLOCK);
    let n = BLOCK + len;
    if (window !== undefined) {
      writeU64(inner, n, window);
      n += WINDOW_BYTES;
    }
    const ih = hash(this.alg, inner.subarray(0, n), 'buffer');
    this.outer.set(ih, BLOCK);
    return hash(this.alg, this.outer, 'buffer');
  }
}

/**
 * The window offset (-1, 0, +1) a peer's packets last verified in (D-2, R-4.5.2-f): tried first,
 * so a peer whose clock runs a window ahead costs one hash per packet, not two.
 */
export class WindowTracker {
  offset = 0;
}

const TRY_ORDER = [0, 1, -1] as const;

/**
 * Verify a time-based signature in the current window, then +1, then -1 (D-2), starting with the
 * offset that worked last for this peer. Returns the offset that verified, or undefined.
 */
export function verifyInWindows(
  key: HmacKey,
  b: Uint8Array,
  off: number,
  len: number,
  sig: Uint8Array,
  sigOff: number,
  nowWindow: number,
  tracker?: WindowTracker,
): number | undefined {
  const first = tracker?.offset ?? 0;
  if (key.verify(b, off, len, nowWindow + first, sig, sigOff)) return first;
  for (const o of TRY_ORDER) {
    if (o === first) continue;
    if (key.verify(b, off, len, nowWindow + o, sig, sigOff)) {
      if (tracker) tracker.offset = o;
      return o;
    }
  }
  return undefined;
}
