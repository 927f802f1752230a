import { type Figure, met } from '../harness.js';
import { FIGURES, type FigureKey, type Measurements } from './measure.js';

/** Tables and ratios of bench:lab, and the shape of bench-lab-results.json. */

export const MODES = ['kernel', 'openvpn', 'svr-metadata', 'svr-all'] as const;
export type Mode = (typeof MODES)[number];
type Baseline = 'openvpn' | 'kernel';

export type ModeResult =
  | { measured: true; describe: string; figures: Measurements; seconds: number }
  | { measured: false; reason: string };
export type Results = Partial<Record<Mode, ModeResult>>;

export const TITLES: Record<Mode, string> = {
  kernel: 'kernel forwarding',
  openvpn: 'OpenVPN',
  'svr-metadata': 'svr, HMAC on metadata packets only',
  'svr-all': 'svr, HMAC on every packet',
};

/** The issue's goals: mode's figure / baseline's figure >= min. */
const GOALS: readonly { mode: Mode; figure: FigureKey; against: Baseline; min: number }[] = [
  { mode: 'svr-metadata', figure: 'tcp1Gbps', against: 'openvpn', min: 5 },
  { mode: 'svr-metadata', figure: 'tcp1Gbps', against: 'kernel', min: 0.4 },
  { mode: 'svr-metadata', figure: 'udp64Pps', against: 'openvpn', min: 2 },
  { mode: 'svr-metadata', figure: 'connPerSec', against: 'openvpn', min: 2 },
  { mode: 'svr-all', figure: 'tcp1Gbps', against: 'openvpn', min: 2 },
  { mode: 'svr-all', figure: 'tcp4Gbps', against: 'openvpn', min: 2 },
  { mode: 'svr-all', figure: 'udp64Pps', against: 'openvpn', min: 2 },
  { mode: 'svr-all', figure: 'connPerSec', against: 'openvpn', min: 2 },
];

export interface Ratio {
  mode: Mode;
  figure: FigureKey;
  against: Baseline;
  value: number;
  goal?: number;
  met?: boolean;
}

const out = (s: string) => process.stdout.write(`${s}\n`);

function grid(head: string[], rows: string[][], right: readonly number[]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (right.includes(i) ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  out(line(head));
  out(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) out(line(r));
}

function shown(key: FigureKey, v: number): string {
  const f = FIGURES.find((x) => x.key === key);
  return f ? (v / f.scale).toFixed(f.digits) : String(v);
}

const times = (v: number) => `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}x`;

export function printMode(mode: Mode, r: ModeResult): void {
  if (!r.measured) {
    out(`\n${mode} (${TITLES[mode]}): not measured: ${r.reason}`);
    return;
  }
  out(`\n${mode}: ${r.describe}; ${r.seconds} s per test`);
  grid(
    ['figure', 'value', 'unit', 'how'],
    FIGURES.map((f) => [f.label, shown(f.key, r.figures[f.key].value), f.unit, r.figures[f.key].detail]),
    [1],
  );
  for (const f of FIGURES) {
    const w = r.figures[f.key].warning;
    if (w) out(`  ! ${f.label}: ${w}`);
  }
}

/** mode / baseline for every figure, with the goal where the issue sets one. */
export function ratios(results: Results): Ratio[] {
  const list: Ratio[] = [];
  const fig = (m: Mode, k: FigureKey) => {
    const r = results[m];
    return r?.measured ? r.figures[k].value : undefined;
  };
  for (const mode of MODES) {
    const against: Baseline[] =
      mode === 'kernel' ? [] : mode === 'openvpn' ? ['kernel'] : ['openvpn', 'kernel'];
    for (const b of against)
      for (const { key } of FIGURES) {
        const v = fig(mode, key);
        const base = fig(b, key);
        if (v === undefined || base === undefined || !(base > 0)) continue;
        const g = GOALS.find((x) => x.mode === mode && x.figure === key && x.against === b);
        const value = v / base;
        const f: Figure = { value, unit: 'x', ...(g ? { goal: g.min, goalKind: 'min' as const } : {}) };
        list.push({ mode, figure: key, against: b, value, ...(g ? { goal: g.min, met: met(f) } : {}) });
      }
  }
  return list;
}

/** One row per figure and measured mode, with its ratios against OpenVPN and the kernel. */
export function printComparison(results: Results, rs: readonly Ratio[]): void {
  const measured = MODES.filter((m) => results[m]?.measured);
  if (measured.length === 0) return;
  const cell = (mode: Mode, key: FigureKey, b: Baseline) => {
    const r = rs.find((x) => x.mode === mode && x.figure === key && x.against === b);
    if (!r) return '';
    return r.goal === undefined
      ? times(r.value)
      : `${times(r.value)} [>= ${r.goal}x ${r.met ? 'ok' : 'MISSED'}]`;
  };
  out('\ncomparison: value, and ratio of the mode to OpenVPN and to the kernel [goal]');
  const rows: string[][] = [];
  for (const f of FIGURES)
    for (const [i, m] of measured.entries()) {
      const r = results[m];
      if (!r?.measured) continue;
      rows.push([
        i === 0 ? f.label : '',
        m,
        `${shown(f.key, r.figures[f.key].value)} ${f.unit}`,
        cell(m, f.key, 'openvpn'),
        cell(m, f.key, 'kernel'),
      ]);
    }
  grid(['figure', 'mode', 'value', '/ openvpn', '/ kernel'], rows, [2]);
  const skipped = MODES.filter((m) => results[m] && !results[m]?.measured);
  for (const m of skipped) {
    const r = results[m];
    if (r && !r.measured) out(`${m}: not measured: ${r.reason}`);
  }
  const withGoal = rs.filter((r) => r.goal !== undefined);
  const missed = withGoal.filter((r) => !r.met);
  const unchecked = GOALS.length - withGoal.length;
  out(
    `goals: ${withGoal.length - missed.length} met, ${missed.length} missed${
      missed.length ? ` (${missed.map((r) => `${r.mode} ${r.figure} / ${r.against}`).join(', ')})` : ''
    }${unchecked ? `, ${unchecked} not checked (their svr mode was not measured)` : ''}`,
  );
}

/** The JSON written to bench-lab-results.json. */
export function resultsJson(o: {
  seconds: number;
  connections: number;
  results: Results;
  ratios: readonly Ratio[];
  host: Record<string, string | number>;
}): string {
  const modes: Record<string, unknown> = {};
  for (const m of MODES) {
    const r = o.results[m];
    if (!r) continue;
    modes[m] = r.measured
      ? {
          measured: true,
          describe: r.describe,
          figures: Object.fromEntries(FIGURES.map((f) => [f.key, r.figures[f.key].value])),
          details: Object.fromEntries(FIGURES.map((f) => [f.key, r.figures[f.key].detail])),
          warnings: FIGURES.flatMap((f) => {
            const w = r.figures[f.key].warning;
            return w ? [`${f.key}: ${w}`] : [];
          }),
        }
      : { measured: false, reason: r.reason };
  }
  return `${JSON.stringify(
    {
      date: new Date().toISOString(),
      secondsPerTest: o.seconds,
      wrkConnections: o.connections,
      host: o.host,
      units: Object.fromEntries(FIGURES.map((f) => [f.key, f.raw])),
      modes,
      ratios: o.ratios,
    },
    null,
    2,
  )}\n`;
}
