import { ManualClock } from '../../src/base/clock.js';
import { SeededRandom } from '../../src/base/random.js';
import { SessionRole, SessionTable } from '../../src/session/session-table.js';
import { WayportAllocator } from '../../src/session/wayports.js';
import { IPPROTO_TCP } from '../../src/wire/protocol.js';
import { type Figures, nsPerOp } from '../harness.js';
import type { Suite } from '../run.js';

/**
 * Session state at scale (issue 3): lookups at 1 k, 100 k and 1 M sessions, insert and delete
 * rates, memory per session, and wayport allocations. Lookups are measured the way the fast
 * path does them, in batches of 64 (VPP-style vectors), and also one at a time.
 */

const BATCH = 64;

function memory(): number {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

interface Built {
  table: SessionTable;
  /** Wing keys to look up, in a random order, 4 words each. */
  probes: Uint32Array;
  nProbes: number;
  insertNs: number;
}

function build(n: number, seed: number): Built {
  const rnd = new SeededRandom(seed);
  const clock = new ManualClock(1_000_000);
  const table = new SessionTable({
    clock,
    limits: { maxSessions: n, maxSessionsPerTenant: n },
    initialCapacity: n,
  });
  const keys = new Uint32Array(8);
  const uuid = new Uint8Array(16);
  const init = {
    uuid,
    tenant: 1,
    service: 0,
    role: SessionRole.Ingress,
    protocol: IPPROTO_TCP,
    out: [
      { path: 0, keyId: 1, nextHop: 0 },
      { path: -1, keyId: 0, nextHop: 1 },
    ] as const,
    portPair: -1,
    portPath: 0,
  };
  const nProbes = Math.min(2 * n, 1 << 20);
  const probes = new Uint32Array(nProbes * 4);
  const every = Math.max(1, Math.floor((2 * n) / nProbes));
  let p = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const client = (0x0a000000 | (rnd.u32() & 0x00ffffff)) >>> 0;
    const port = 1024 + (rnd.u32() % 60000);
    SessionTable.keyV4(keys, 0, client, 0xac0f0b17, port, 22, IPPROTO_TCP, 2, 1);
    SessionTable.keyV4(
      keys,
      4,
      0xcb007159,
      0xcb007101,
      16385 + 2 * (i % 24000) + 1,
      16384 + 2 * (i % 24000),
      IPPROTO_TCP,
      0,
      2,
    );
    keys[4] = i; // distinct reverse keys even when ports repeat
    uuid[12] = i >>> 24;
    uuid[13] = i >>> 16;
    uuid[14] = i >>> 8;
    uuid[15] = i;
    uuid[0] = seed;
    if (table.create(4, keys, 0, keys, 4, init) < 0) continue; // the rare duplicate random key
    for (const w of [0, 4])
      if ((2 * i + (w >> 2)) % every === 0 && p < nProbes) {
        probes.set(keys.subarray(w, w + 4), p * 4);
        p++;
      }
  }
  const insertNs = Number(process.hrtime.bigint() - t0) / n;
  // Shuffle so lookups land all over the table, as real traffic does.
  for (let i = p - 1; i > 0; i--) {
    const j = rnd.u32() % (i + 1);
    for (let k = 0; k < 4; k++) {
      const t = probes[i * 4 + k];
      probes[i * 4 + k] = probes[j * 4 + k];
      probes[j * 4 + k] = t;
    }
  }
  return { table, probes, nProbes: p, insertNs };
}

function lookupFigures(b: Built): { single: number; batched: number } {
  const { table, probes, nProbes } = b;
  const single = nsPerOp((i) => table.lookupV4(probes, (i % nProbes) * 4), {
    iterations: 1_000_000,
    rounds: 5,
  });
  const homes = new Int32Array(BATCH);
  const out = new Int32Array(BATCH);
  const batches = Math.floor(nProbes / BATCH);
  const view = (q: number) => probes.subarray(q * BATCH * 4, (q + 1) * BATCH * 4);
  const slices = Array.from({ length: batches }, (_, q) => view(q));
  const perBatch = nsPerOp(
    (i) => {
      table.lookupBatchV4(slices[i % batches], BATCH, homes, out);
      return out[0];
    },
    { iterations: Math.max(2000, Math.floor(1_000_000 / BATCH)), rounds: 5 },
  );
  return { single, batched: perBatch / BATCH };
}

/** ns per independent random read, done as the batched lookup does: BATCH reads per call. */
function randomReadNs(bytes: number): number {
  const a = new Uint32Array(Math.floor(bytes / 4)).fill(1);
  const idx = new Uint32Array(1 << 20);
  const rnd = new SeededRandom(11);
  for (let i = 0; i < idx.length; i++) idx[i] = rnd.u32() % a.length;
  const perBatch = nsPerOp(
    (i) => {
      let t = 0;
      const base = (i * BATCH) & 0xfffff;
      for (let q = 0; q < BATCH; q++) t += a[idx[(base + q) & 0xfffff]];
      return t;
    },
    { iterations: 20_000, rounds: 5 },
  );
  return perBatch / BATCH;
}

function sessionFigures(): Figures {
  const figs: Figures = {};
  const results: Record<string, { single: number; batched: number }> = {};
  for (const [label, n] of [
    ['1k', 1_000],
    ['100k', 100_000],
  ] as const) {
    const b = build(n, n & 0xff);
    results[label] = lookupFigures(b);
  }
  const before = memory();
  const big = build(1_000_000, 7);
  const after = memory();
  results['1m'] = lookupFigures(big);
  // The probe keys are the benchmark's, not the table's.
  const bytesPerSession = (after - before - big.probes.byteLength) / big.table.size;

  for (const [label, r] of Object.entries(results)) {
    figs[`session.lookup-${label}`] = {
      value: r.batched,
      unit: 'ns/op',
      baseline: { name: 'one lookup at a time', value: r.single },
    };
  }
  // The machine's floor: an independent random 4-byte read from an array as large as the 1M
  // table's IPv4 wing index, with as many reads in flight as the core allows.
  const floor = randomReadNs(big.table.wingIndexBytes());
  figs['session.memory-floor-1m'] = { value: floor, unit: 'ns/op' };
  figs['session.lookup-ratio-1m-vs-1k'] = {
    value: results['1m'].batched / results['1k'].batched,
    unit: 'x',
    goal: 1.5,
    goalKind: 'max',
    baseline: { name: 'one at a time', value: results['1m'].single / results['1k'].single },
  };
  figs['session.insert-rate-1m'] = { value: 1e9 / big.insertNs, unit: 'ops/s' };
  figs['session.bytes-per-session-1m'] = {
    value: bytesPerSession,
    unit: 'B',
    goal: 256,
    goalKind: 'max',
    baseline: { name: "the table's typed arrays alone", value: big.table.byteLength() / big.table.size },
  };

  // Delete every session of the big table (both wings, UUID, timer).
  const ids = big.table.ids();
  const t0 = process.hrtime.bigint();
  for (const id of ids) big.table.remove(id);
  const deleteNs = Number(process.hrtime.bigint() - t0) / ids.length;
  figs['session.delete-rate-1m'] = { value: 1e9 / deleteNs, unit: 'ops/s' };

  // Wayport pairs: allocate and release with the guard time already over.
  const clock = new ManualClock(0);
  const a = new WayportAllocator({ lo: 16385, hi: 65533 }, 60_000, clock, new SeededRandom(3));
  const held: number[] = [];
  const allocNs = nsPerOp(
    () => {
      const p = a.allocate();
      held.push(p);
      if (held.length > 1000) {
        a.release(held.shift() as number);
        clock.advance(61);
      }
      return p;
    },
    { iterations: 1_000_000, rounds: 5 },
  );
  figs['session.wayport-allocations'] = { value: 1e9 / allocNs, unit: 'ops/s' };
  return figs;
}

export const sessionSuite: Suite = {
  name: 'session',
  title: 'Session table and waypoint ports (issue 3), one core',
  run: sessionFigures,
};
