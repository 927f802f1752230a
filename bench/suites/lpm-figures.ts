import { type Prefix, prefixOf } from '../../src/base/prefix.js';
import { SeededRandom } from '../../src/base/random.js';
import { LpmTable } from '../../src/policy/lpm.js';
import { type Figures, nsPerOp } from '../harness.js';

/**
 * Longest-prefix match at FIB scale: 100 000 random prefixes per family, lookups with half the
 * addresses hitting, build time per prefix and memory per prefix. The baseline is the
 * straightforward LPM: one Map per prefix length, probed from the longest length present down.
 */

const N = 100_000;
/** Probe addresses, cycled; more than fit in cache, as on a busy router. */
const PROBES = 1 << 20;

function memory(): number {
  // Twice: the first pass may leave freed typed arrays' backing stores for the next.
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Lengths 8-32, mostly /16-/24, as in a routing table. */
function v4Prefixes(rnd: SeededRandom): Prefix[] {
  const out: Prefix[] = [];
  const b = new Uint8Array(4);
  for (let i = 0; i < N; i++) {
    const r = rnd.u32() % 100;
    const len = r < 1 ? 8 + (rnd.u32() % 8) : r < 90 ? 16 + (rnd.u32() % 9) : 25 + (rnd.u32() % 8);
    rnd.fill(b);
    out.push(prefixOf(b, len));
  }
  return out;
}

/** Inside 2000::/3, lengths mostly /32-/64, some longer. */
function v6Prefixes(rnd: SeededRandom): Prefix[] {
  const out: Prefix[] = [];
  const b = new Uint8Array(16);
  for (let i = 0; i < N; i++) {
    const r = rnd.u32() % 100;
    const len =
      r < 20 ? 32 : r < 60 ? 33 + (rnd.u32() % 16) : r < 90 ? 49 + (rnd.u32() % 16) : 65 + (rnd.u32() % 64);
    rnd.fill(b);
    b[0] = 0x20 | (b[0] & 0x1f);
    out.push(prefixOf(b, len));
  }
  return out;
}

/** `bytes` with the host bits of a `length`-bit prefix replaced from `r`. */
function inside(bytes: Uint8Array, length: number, r: Uint8Array): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, length - 8 * i));
    const m = (0xff << (8 - keep)) & 0xff;
    out[i] = (out[i] & m) | (r[i] & ~m);
  }
  return out;
}

/** Half the probes inside a random prefix, half random addresses that match nothing. */
function probeBytes(
  rnd: SeededRandom,
  ps: Prefix[],
  width: number,
  misses: (a: Uint8Array) => boolean,
): Uint8Array {
  const out = new Uint8Array(PROBES * width);
  const r = new Uint8Array(width);
  for (let i = 0; i < PROBES; i++) {
    rnd.fill(r);
    if (i % 2 === 0) {
      const p = ps[rnd.u32() % ps.length];
      out.set(inside(p.bytes, p.length, r), i * width);
    } else {
      if (width === 16) r[0] = 0x20 | (r[0] & 0x1f);
      while (!misses(r)) rnd.fill(r);
      out.set(r, i * width);
    }
  }
  return out;
}

function build(ps: Prefix[]): LpmTable<number> {
  const t = new LpmTable<number>();
  for (let i = 0; i < ps.length; i++) t.add(ps[i], i);
  t.build();
  return t;
}

/** The baseline: one Map per length (key: masked address), probed longest length first. */
class ByLengthV4 {
  private readonly maps: Map<number, number[]>[] = [];
  private lengths = new Int32Array(0);

  add(p: Prefix, v: number): void {
    const m = this.maps[p.length] ?? new Map<number, number[]>();
    this.maps[p.length] = m;
    const k = ((p.bytes[0] << 24) | (p.bytes[1] << 16) | (p.bytes[2] << 8) | p.bytes[3]) >>> 0;
    const vs = m.get(k);
    if (vs) vs.push(v);
    else m.set(k, [v]);
  }

  build(): void {
    const ls: number[] = [];
    for (let l = 32; l >= 0; l--) if (this.maps[l]) ls.push(l);
    this.lengths = Int32Array.from(ls);
  }

  lookup(a: number): number[] | undefined {
    const ls = this.lengths;
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i];
      const k = l === 0 ? 0 : (a & (0xffffffff << (32 - l))) >>> 0;
      const v = this.maps[l].get(k);
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

/** The same for IPv6, keyed by the masked address's words as text. */
class ByLengthV6 {
  private readonly maps: Map<string, number[]>[] = [];
  private lengths: number[] = [];

  private static key(b: Uint8Array, off: number, l: number): string {
    let k = '';
    for (let w = 0; w < 4; w++) {
      const bits = Math.max(0, Math.min(32, l - 32 * w));
      const o = off + 4 * w;
      const x = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
      k += `${bits === 0 ? 0 : (x & (0xffffffff << (32 - bits))) >>> 0},`;
    }
    return k;
  }

  add(p: Prefix, v: number): void {
    const m = this.maps[p.length] ?? new Map<string, number[]>();
    this.maps[p.length] = m;
    const k = ByLengthV6.key(p.bytes, 0, p.length);
    const vs = m.get(k);
    if (vs) vs.push(v);
    else m.set(k, [v]);
  }

  build(): void {
    this.lengths = [];
    for (let l = 128; l >= 0; l--) if (this.maps[l]) this.lengths.push(l);
  }

  lookup(b: Uint8Array, off: number): number[] | undefined {
    for (const l of this.lengths) {
      const v = this.maps[l].get(ByLengthV6.key(b, off, l));
      if (v !== undefined) return v;
    }
    return undefined;
  }
}

export function lpmFigures(): Figures {
  const rnd = new SeededRandom(0x1e4);
  const ps4 = v4Prefixes(rnd);
  const ps6 = v6Prefixes(rnd);

  // Build: the median of three full add() + build() runs.
  const buildNs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    build(ps4);
    buildNs.push(Number(process.hrtime.bigint() - t0) / N);
  }
  const baseBuildNs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = process.hrtime.bigint();
    const b = new ByLengthV4();
    for (let i = 0; i < N; i++) b.add(ps4[i], i);
    b.build();
    baseBuildNs.push(Number(process.hrtime.bigint() - t0) / N);
  }

  // Memory: growth from building, with the prefixes themselves already allocated.
  const m0 = memory();
  let t4: LpmTable<number> | undefined = build(ps4);
  const bytes = (memory() - m0) / N;
  const m1 = memory();
  let base4: ByLengthV4 | undefined = new ByLengthV4();
  for (let i = 0; i < N; i++) base4.add(ps4[i], i);
  base4.build();
  const baseBytes = (memory() - m1) / N;

  const table4 = t4;
  const byLen4 = base4;
  const p4b = probeBytes(rnd, ps4, 4, (a) => table4.lookup(a) < 0);
  const p4 = new Uint32Array(PROBES);
  for (let i = 0; i < PROBES; i++)
    p4[i] = ((p4b[4 * i] << 24) | (p4b[4 * i + 1] << 16) | (p4b[4 * i + 2] << 8) | p4b[4 * i + 3]) >>> 0;
  const mask = PROBES - 1;
  const v4 = nsPerOp((i) => table4.lookupV4(p4[i & mask]), { iterations: 2_000_000 });
  const v4Base = nsPerOp((i) => byLen4.lookup(p4[i & mask])?.[0] ?? -1, { iterations: 200_000, rounds: 3 });
  t4 = undefined;
  base4 = undefined;

  const table6 = build(ps6);
  const byLen6 = new ByLengthV6();
  for (let i = 0; i < N; i++) byLen6.add(ps6[i], i);
  byLen6.build();
  const p6 = probeBytes(rnd, ps6, 16, (a) => table6.lookup(a) < 0);
  const v6 = nsPerOp((i) => table6.lookupV6(p6, (i & mask) << 4), { iterations: 2_000_000 });
  const v6Base = nsPerOp((i) => byLen6.lookup(p6, (i & mask) << 4)?.[0] ?? -1, {
    iterations: 20_000,
    rounds: 3,
    warmup: 5_000,
  });

  return {
    'fib.lpm-lookup-v4-100k-prefixes': {
      value: v4,
      unit: 'ns/op',
      goal: 100,
      goalKind: 'max',
      baseline: { name: 'Map per length', value: v4Base },
    },
    'fib.lpm-lookup-v6-100k-prefixes': {
      value: v6,
      unit: 'ns/op',
      baseline: { name: 'Map per length', value: v6Base },
    },
    'fib.lpm-build-per-prefix': {
      value: median(buildNs),
      unit: 'ns/op',
      // "Well under a second" for 100k prefixes.
      goal: 1e9 / N,
      goalKind: 'max',
      baseline: { name: 'Map per length', value: median(baseBuildNs) },
    },
    'fib.lpm-bytes-per-prefix': {
      value: bytes,
      unit: 'B',
      baseline: { name: 'Map per length', value: baseBytes },
    },
  };
}
