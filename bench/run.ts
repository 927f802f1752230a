import { fileURLToPath } from 'node:url';
import { consumed, type Figures, met, printTable, saveResults } from './harness.js';
import { dataplaneSuite } from './suites/dataplane.js';
import { policySuite } from './suites/policy.js';
import { resilienceSuite } from './suites/resilience.js';
import { sessionSuite } from './suites/session.js';
import { wireSuite } from './suites/wire.js';

/**
 * `npm run bench [-- SUITE...]`: runs the benchmark suites, prints a table per suite and merges
 * every figure into bench-results.json at the project root. Later issues add suites here.
 */
export interface Suite {
  readonly name: string;
  readonly title: string;
  run(): Figures;
}

const SUITES: Suite[] = [wireSuite, policySuite, sessionSuite, dataplaneSuite, resilienceSuite];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SUITES.some((s) => s.name === w));
if (unknown.length > 0) {
  process.stderr.write(
    `svr bench: unknown suite ${unknown.join(', ')}; suites: ${SUITES.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
const all: Figures = {};
for (const s of SUITES) {
  if (wanted.length > 0 && !wanted.includes(s.name)) continue;
  const figs = s.run();
  printTable(s.title, figs);
  Object.assign(all, figs);
}
const out = fileURLToPath(new URL('../../bench-results.json', import.meta.url));
saveResults(out, all);
const missed = Object.entries(all).filter(([, f]) => met(f) === false);
process.stdout.write(
  `\nwrote ${out}; ${Object.keys(all).length} figures, ${missed.length} goals missed${missed.length ? `: ${missed.map(([n]) => n).join(', ')}` : ''}\n`,
);
if (consumed() === 0.5) process.stdout.write('\n');
