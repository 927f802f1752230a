import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingPrograms, netnsUnavailable } from '../../src/lab/netns.js';
import { assertChainIntact, buildChain, NS, reachable, SERVER_IP, teardownChain } from './chain.js';
import { measureAll, startServers } from './measure.js';
import { type ModeHandle, startKernel, startOpenVpn } from './modes.js';
import { killAll, waitFor } from './proc.js';
import {
  MODES,
  type Mode,
  type ModeResult,
  printComparison,
  printMode,
  type Results,
  ratios,
  resultsJson,
  TITLES,
} from './report.js';
import { startSvr } from './svr-mode.js';

/**
 * `npm run bench:lab [-- MODE...]`: throughput on a four-namespace chain (client, east, west,
 * server; chain.ts), one mode after another on the same chain: Linux kernel forwarding, OpenVPN
 * in userspace, svr with HMAC on metadata packets only and on every packet. Per mode: TCP with 1
 * and 4 streams and 64-byte UDP (iperf3), new TCP connections per second (wrk against nginx).
 * Prints a table per mode and a comparison with the goals, and writes
 * bench-lab-results.json at the project root.
 *
 * Modes: argv or SVR_BENCH_LAB_MODES (comma or space separated), default all.
 * SVR_BENCH_LAB_SECONDS: seconds per test (default 5). SVR_BENCH_LAB_CONNECTIONS: wrk's
 * concurrent connections (default 32). Needs root, network namespaces, iperf3, wrk, nginx (and
 * openvpn, openssl for the openvpn mode); without them it prints why and exits 0 ("skipped").
 */

const log = (s: string) => process.stdout.write(`${s}\n`);
const TMP_PREFIX = 'svrb-lab-';

function positiveInt(name: string, fallback: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`${name} must be an integer from 1 to ${max}`);
  return n;
}

function wantedModes(): Mode[] {
  const args = process.argv.slice(2);
  const words =
    args.length > 0 ? args : (process.env.SVR_BENCH_LAB_MODES ?? '').split(/[\s,]+/).filter(Boolean);
  const bad = words.filter((w) => !(MODES as readonly string[]).includes(w));
  if (bad.length > 0) throw new Error(`unknown mode ${bad.join(', ')}; modes: ${MODES.join(', ')}`);
  // Always in the canonical order: baselines first, so ratios can be printed as modes finish.
  return MODES.filter((m) => words.length === 0 || words.includes(m));
}

function skipReason(modes: readonly Mode[]): string | undefined {
  const why = netnsUnavailable();
  if (why) return why;
  const need = ['iperf3', 'wrk', 'nginx', 'ping', 'ss'];
  if (modes.includes('openvpn')) need.push('openvpn', 'openssl');
  const missing = missingPrograms(need);
  return missing.length > 0
    ? `missing ${missing.join(', ')} (Debian: apt-get install iperf3 wrk nginx-light openvpn openssl iproute2 iputils-ping)`
    : undefined;
}

/** Temp dirs of earlier runs that died before their cleanup (their namespaces go at start too). */
function removeStaleTempDirs(): void {
  for (const d of readdirSync(tmpdir())) {
    if (d.startsWith(TMP_PREFIX)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
}

/** Resolve `p`, or throw when it takes longer than `ms`. */
async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function startMode(mode: Mode, dir: string): Promise<ModeHandle> {
  switch (mode) {
    case 'kernel':
      return startKernel();
    case 'openvpn':
      return startOpenVpn(join(dir, 'openvpn'));
    case 'svr-metadata':
    case 'svr-all':
      return bounded(
        startSvr({ hmacEveryPacket: mode === 'svr-all', namespaces: { east: NS.east, west: NS.west } }),
        60_000,
        `${mode}: startSvr`,
      );
  }
}

async function runMode(
  mode: Mode,
  dir: string,
  o: { seconds: number; connections: number },
): Promise<ModeResult> {
  assertChainIntact();
  // Each mode must carry the traffic itself: a leftover route from the previous one would not.
  if (await reachable()) throw new Error('client already reaches the server before set-up (leftover routes)');
  const servers = await startServers(join(dir, 'servers'));
  let handle: ModeHandle | undefined;
  try {
    handle = await startMode(mode, dir);
    await waitFor(`${mode}: client -> server ping`, reachable, 20_000);
    const figures = await measureAll(o, (what) => log(`  ${mode}: ${what}`));
    assertChainIntact();
    return { measured: true, describe: handle.describe, figures, seconds: o.seconds };
  } finally {
    try {
      if (handle) await bounded(handle.stop(), 20_000, `${mode}: stop`);
    } finally {
      await servers.stop();
    }
  }
}

async function main(): Promise<number> {
  let modes: Mode[];
  let seconds: number;
  let connections: number;
  try {
    modes = wantedModes();
    seconds = positiveInt('SVR_BENCH_LAB_SECONDS', 5, 600);
    connections = positiveInt('SVR_BENCH_LAB_CONNECTIONS', 32, 10_000);
  } catch (e) {
    process.stderr.write(`svr bench:lab: ${(e as Error).message}\n`);
    return 2;
  }
  const skip = skipReason(modes);
  if (skip) {
    log(`bench:lab skipped: ${skip}`);
    return 0;
  }

  // Crash recovery: namespaces (and every process in them) and temp dirs of an earlier run.
  const stale = teardownChain();
  if (stale.length > 0) log(`bench:lab: removed namespaces left by an earlier run: ${stale.join(', ')}`);
  removeStaleTempDirs();
  const dir = mkdtempSync(join(tmpdir(), TMP_PREFIX));
  chmodSync(dir, 0o711); // nginx workers (nobody) pass through to servers/www
  mkdirSync(join(dir, 'servers'));

  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    killAll();
    teardownChain();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`\nbench:lab: ${sig}, tearing down`);
    cleanup();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The whole run is bounded even if something below hangs despite its own timeouts.
  const budgetMs = (60 + modes.length * (150 + 4 * (seconds + 25))) * 1000;
  const watchdog = setTimeout(() => {
    log(`\nbench:lab: run took longer than ${budgetMs / 1000} s, aborting`);
    cleanup();
    process.exit(1);
  }, budgetMs);

  // Other work on the host skews every figure; say how busy it was.
  const load = loadavg()[0];
  const results: Results = {};
  try {
    try {
      buildChain();
    } catch (e) {
      log(`bench:lab: could not build the namespace chain: ${(e as Error).message}`);
      return 1;
    }
    log(
      `bench:lab: ${seconds} s per test; ${NS.client} -> ${NS.east} -> ${NS.west} -> ${NS.server} (${SERVER_IP}); modes ${modes.join(', ')}; load average ${load.toFixed(2)} on ${cpus().length} CPUs`,
    );
    for (const m of modes) {
      log(`${m}: ${TITLES[m]}`);
      try {
        results[m] = await runMode(m, dir, { seconds, connections });
      } catch (e) {
        let reason = (e as Error).message.split('\n')[0];
        try {
          assertChainIntact(); // a vanished namespace explains any error better than the error
        } catch (gone) {
          reason = (gone as Error).message;
        }
        results[m] = { measured: false, reason };
      }
      const r = results[m];
      if (r) printMode(m, r);
    }
  } finally {
    clearTimeout(watchdog);
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const rs = ratios(results);
  printComparison(results, rs);
  const file = fileURLToPath(new URL('../../../bench-lab-results.json', import.meta.url));
  writeFileSync(
    file,
    resultsJson({
      seconds,
      connections,
      results,
      ratios: rs,
      host: {
        cpus: cpus().length,
        cpu: cpus()[0]?.model ?? '?',
        kernel: release(),
        loadAverageAtStart: load,
      },
    }),
  );
  log(`\nwrote ${file}`);
  return 0;
}

process.exitCode = await main();
