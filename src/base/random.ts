import { randomFillSync } from 'node:crypto';

/**
 * Randomness is an input, like time. Production uses the CSPRNG; the emulator and tests use a
 * seeded generator so a seed reproduces a run byte for byte.
 */
export interface Random {
  /** Fill `out[off, off+len)` with random bytes. */
  fill(out: Uint8Array, off?: number, len?: number): void;
  /** A uniformly distributed unsigned 32-bit integer. */
  u32(): number;
}

/**
 * CSPRNG with a refill pool: `randomBytes(16)` costs about 2 us per call in Node, a slice of a
 * pooled 4 KiB fill about 15 ns, which matters for one IV per metadata packet (D-4).
 */
export class CryptoRandom implements Random {
  private readonly pool = new Uint8Array(4096);
  private pos = this.pool.length;

  fill(out: Uint8Array, off = 0, len = out.length - off): void {
    if (len > this.pool.length) {
      randomFillSync(out, off, len);
      return;
    }
    if (this.pos + len > this.pool.length) {
      randomFillSync(this.pool);
      this.pos = 0;
    }
    out.set(this.pool.subarray(this.pos, this.pos + len), off);
    // Never hand the same bytes out twice.
    this.pool.fill(0, this.pos, this.pos + len);
    this.pos += len;
  }

  u32(): number {
    if (this.pos + 4 > this.pool.length) {
      randomFillSync(this.pool);
      this.pos = 0;
    }
    const p = this.pool;
    const i = this.pos;
    this.pos += 4;
    return ((p[i] << 24) | (p[i + 1] << 16) | (p[i + 2] << 8) | p[i + 3]) >>> 0;
  }
}

/**
 * Deterministic generator (xoshiro128**, public domain algorithm by Blackman and Vigna), seeded
 * through splitmix32. Not for keys: for the emulator, tests and reproducible runs.
 */
export class SeededRandom implements Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  fill(out: Uint8Array, off = 0, len = out.length - off): void {
    let i = 0;
    while (i < len) {
      let v = this.u32();
      for (let k = 0; k < 4 && i < len; k++, i++) {
        out[off + i] = v & 0xff;
        v >>>= 8;
      }
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
