import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * A small benchmark harness: warm up, run several timed rounds, keep the median. Each figure may
 * carry a goal (from the issue) and a baseline measured in the same run, so results read as
 * ratios that hold across machines. Results merge into bench-results.json at the project root.
 */

export type Unit = 'ns/op' | 'ops/s' | 'B' | 'pkt/s' | 'x' | 'ms';

export interface Figure {
  value: number;
  unit: Unit;
  /** The target from the issue. */
  goal?: number;
  /** Whether the value must stay at or below (`max`) or at or above (`min`) the goal. */
  goalKind?: 'max' | 'min';
  /** Same operation done the straightforward way, measured in this run. */
  baseline?: { name: string; value: number };
}

export type Figures = Record<string, Figure>;

export interface MeasureOptions {
  /** Operations per timed round. */
  iterations: number;
  rounds?: number;
  warmup?: number;
}

let sink = 0;

/** Median ns per call of `fn` over `rounds` rounds. `fn` returns a number so work is not optimised away. */
export function nsPerOp(fn: (i: number) => number, o: MeasureOptions): number {
  const rounds = o.rounds ?? 7;
  const warm = o.warmup ?? Math.min(o.iterations, 50_000);
  for (let i = 0; i < warm; i++) sink += fn(i) | 0;
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < o.iterations; i++) sink += fn(i) | 0;
    times.push(Number(process.hrtime.bigint() - t0) / o.iterations);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(rounds / 2)];
}

/** Keeps the JIT from discarding benchmark results. */
export function consumed(): number {
  return sink;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  if (v >= 100) return v.toFixed(0);
  return v.toFixed(1);
}

export function met(f: Figure): boolean | undefined {
  if (f.goal === undefined) return undefined;
  return (f.goalKind ?? 'max') === 'max' ? f.value <= f.goal : f.value >= f.goal;
}

export function printTable(title: string, figs: Figures): void {
  const rows = Object.entries(figs).map(([name, f]) => {
    const g = f.goal === undefined ? '' : `${(f.goalKind ?? 'max') === 'max' ? '<=' : '>='} ${fmt(f.goal)}`;
    const ok = met(f);
    const base = f.baseline
      ? `${f.baseline.name} ${fmt(f.baseline.value)} (x${(f.baseline.value / f.value).toFixed(2)})`
      : '';
    return [name, fmt(f.value), f.unit, g, ok === undefined ? '' : ok ? 'ok' : 'MISSED', base];
  });
  const head = ['figure', 'value', 'unit', 'goal', '', 'baseline in this run (speed-up)'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ');
  process.stdout.write(`\n${title}\n${line(head)}\n${w.map((n) => '-'.repeat(n)).join('  ')}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

/** Merge figures into bench-results.json (later suites add to, never replace, earlier ones). */
export function saveResults(path: string, figs: Figures): void {
  let all: Record<string, Figure> = {};
  if (existsSync(path)) {
    try {
      all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Figure>;
    } catch {
      all = {};
    }
  }
  for (const [k, v] of Object.entries(figs)) all[k] = v;
  writeFileSync(path, `${JSON.stringify(all, null, 2)}\n`);
}
