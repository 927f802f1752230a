import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTunNative } from '../src/drivers/linux/native.js';
import { startPair } from '../src/lab/lab.js';
import {
  addAddress,
  addNamespace,
  deleteNamespaces,
  inNs,
  missingPrograms,
  netnsUnavailable,
  run,
  spawnInNs,
  sysctl,
  veth,
} from '../src/lab/netns.js';

/**
 * `npm run bench:lab [-- MODE...]`: one four-namespace chain (client, east, west, server) and,
 * one after another on it, Linux kernel forwarding (the limit), OpenVPN in userspace (what users
 * pick instead) and svr with HMAC on metadata packets only and on every packet
 * (examples/pair.yaml): one- and four-stream TCP (iperf3), 64-byte UDP packets per second, and
 * new TCP connections per second (nginx, wrk with Connection: close). Prints a table per mode,
 * then the ratios against OpenVPN and the kernel with the issue's goals, and writes
 * bench-lab-results.json. Seconds per test: SVR_BENCH_LAB_SECONDS (default 5).
 */
type Mode = 'kernel' | 'openvpn' | 'svr-metadata' | 'svr-all';
const MODES: readonly Mode[] = ['kernel', 'openvpn', 'svr-metadata', 'svr-all'];
interface Result {
  tcp1Gbps: number;
  tcp4Gbps: number;
  udpPps: number;
  connPerSec: number;
  note: string;
}

const P = 'svrb-';
const [CLIENT, EAST, WEST, SERVER] = ['client', 'east', 'west', 'server'].map((x) => P + x);
const SERVER_IP = '172.16.30.80';
const SECONDS = Number(process.env.SVR_BENCH_LAB_SECONDS ?? 5);
/** Connections wrk keeps open at once (SVR_BENCH_LAB_CONNECTIONS). */
const CONNECTIONS = Number(process.env.SVR_BENCH_LAB_CONNECTIONS ?? 32);
const log = (s: string) => process.stdout.write(`${s}\n`);

function skipReason(): string | undefined {
  const why = netnsUnavailable();
  if (why) return why;
  const native = loadTunNative();
  if (typeof native === 'string') return native;
  const missing = missingPrograms(['iperf3', 'wrk', 'nginx', 'openvpn']);
  return missing.length > 0
    ? `missing ${missing.join(', ')} (apt-get install iperf3 wrk nginx-light openvpn)`
    : undefined;
}

function buildChain(): void {
  deleteNamespaces(P);
  for (const n of [CLIENT, EAST, WEST, SERVER]) {
    addNamespace(n);
    sysctl(n, 'net.ipv4.conf.all.rp_filter', 0);
    sysctl(n, 'net.ipv4.conf.default.rp_filter', 0);
  }
  veth(CLIENT, 'eth0', EAST, 'lan0');
  veth(EAST, 'wan0', WEST, 'wan0');
  veth(WEST, 'lan0', SERVER, 'eth0');
  addAddress(CLIENT, 'eth0', '172.16.10.5/24');
  addAddress(EAST, 'lan0', '172.16.10.1/24');
  addAddress(EAST, 'wan0', '203.0.113.1/30');
  addAddress(WEST, 'wan0', '203.0.113.2/30');
  addAddress(WEST, 'lan0', '172.16.30.1/24');
  addAddress(SERVER, 'eth0', `${SERVER_IP}/24`);
  inNs(CLIENT, ['ip', 'route', 'add', 'default', 'via', '172.16.10.1']);
  inNs(SERVER, ['ip', 'route', 'add', 'default', 'via', '172.16.30.1']);
  for (const n of [EAST, WEST]) sysctl(n, 'net.ipv4.ip_forward', 1);
}

/** Servers in the server namespace for the whole run: iperf3 and nginx. */
function startServers(dir: string): ChildProcess[] {
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), 'svr bench\n');
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/nginx.err; daemon off;
events { worker_connections 8192; }
http { access_log off; server { listen ${SERVER_IP}:80 backlog=4096; root ${www}; keepalive_timeout 0; } }\n`,
  );
  return [spawnInNs(SERVER, ['iperf3', '-s']), spawnInNs(SERVER, ['nginx', '-c', conf])];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ok: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`${what} not ready after ${ms / 1000} s`);
    await sleep(200);
  }
}

const pings = () => {
  try {
    inNs(CLIENT, ['ping', '-c', '1', '-W', '1', SERVER_IP], { timeoutMs: 5000 });
    return true;
  } catch {
    return false;
  }
};

/** Set a mode up; returns what stops it. */
async function setUp(mode: Mode, dir: string): Promise<() => void> {
  if (mode === 'kernel') {
    inNs(EAST, ['ip', 'route', 'replace', '172.16.30.0/24', 'via', '203.0.113.2']);
    inNs(WEST, ['ip', 'route', 'replace', '172.16.10.0/24', 'via', '203.0.113.1']);
    await waitFor('kernel forwarding', pings, 5000);
    return () => {
      inNs(EAST, ['ip', 'route', 'del', '172.16.30.0/24']);
      inNs(WEST, ['ip', 'route', 'del', '172.16.10.0/24']);
    };
  }
  if (mode === 'openvpn') {
    // Static-key point-to-point (deprecated in 2.6, still the simplest userspace tunnel):
    // AES-256-CBC with HMAC-SHA256 on every packet, the data channel in userspace (no DCO).
    const key = join(dir, 'ovpn.key');
    run(['openvpn', '--genkey', 'secret', key]);
    const ends = [
      [EAST, '203.0.113.1', '203.0.113.2', '192.0.2.101', '192.0.2.102', '172.16.30.0/24'],
      [WEST, '203.0.113.2', '203.0.113.1', '192.0.2.102', '192.0.2.101', '172.16.10.0/24'],
    ] as const;
    const procs = ends.map(([ns, local, remote, a, b]) =>
      spawnInNs(ns, [
        'openvpn',
        '--dev',
        'ovpn0',
        '--dev-type',
        'tun',
        '--proto',
        'udp',
        '--local',
        local,
        '--remote',
        remote,
        '--ifconfig',
        a,
        b,
        '--secret',
        key,
        '--cipher',
        'AES-256-CBC',
        '--auth',
        'SHA256',
        '--disable-dco',
        '--verb',
        '1',
      ]),
    );
    const routed = () => {
      try {
        for (const [ns, , , , peer, lan] of ends)
          inNs(ns, ['ip', 'route', 'replace', lan, 'via', peer, 'dev', 'ovpn0']);
        return true;
      } catch {
        return false;
      }
    };
    await waitFor('OpenVPN tunnel devices', routed, 15_000);
    await waitFor('OpenVPN tunnel', pings, 15_000);
    return () => {
      for (const p of procs) p.kill('SIGTERM');
    };
  }
  const pair = await startPair({
    hmacEveryPacket: mode === 'svr-all',
    namespaces: { east: EAST, west: WEST },
    dir,
  });
  await waitFor('svr routers', pings, 10_000);
  return () => pair.stop();
}

function iperf(args: string[]): { end: { sum_received?: { bits_per_second: number }; sum?: IperfUdp } } {
  const out = inNs(
    CLIENT,
    ['iperf3', '-c', SERVER_IP, '-t', String(SECONDS), '-J', '--connect-timeout', '3000', ...args],
    {
      timeoutMs: (SECONDS + 30) * 1000,
    },
  );
  return JSON.parse(out) as { end: { sum_received?: { bits_per_second: number }; sum?: IperfUdp } };
}
interface IperfUdp {
  packets: number;
  lost_packets: number;
  seconds: number;
}

function measure(): Result {
  const notes: string[] = [];
  const tcp1 = (iperf([]).end.sum_received?.bits_per_second ?? 0) / 1e9;
  const tcp4 = (iperf(['-P', '4']).end.sum_received?.bits_per_second ?? 0) / 1e9;
  const u = iperf(['-u', '-l', '64', '-b', '0']).end.sum;
  const udpPps = u ? (u.packets - u.lost_packets) / u.seconds : 0;
  const wrk = inNs(
    CLIENT,
    ['wrk', '-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '-H', 'Connection: close', `http://${SERVER_IP}/`],
    { timeoutMs: (SECONDS + 30) * 1000 },
  );
  const rps = Number(/Requests\/sec:\s*([\d.]+)/.exec(wrk)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(wrk)?.[1];
  if (errors) notes.push(`wrk socket errors: ${errors}`);
  return { tcp1Gbps: tcp1, tcp4Gbps: tcp4, udpPps, connPerSec: rps, note: notes.join('; ') };
}

function table(results: Partial<Record<Mode, Result | string>>): void {
  log('\nmode           TCP 1 stream   TCP 4 streams   64 B UDP          TCP connections');
  for (const m of MODES) {
    const r = results[m];
    if (r === undefined) continue;
    if (typeof r === 'string') {
      log(`${m.padEnd(14)} not measured: ${r}`);
      continue;
    }
    log(
      `${m.padEnd(14)} ${`${r.tcp1Gbps.toFixed(2)} Gbit/s`.padEnd(14)} ${`${r.tcp4Gbps.toFixed(2)} Gbit/s`.padEnd(15)} ${`${(r.udpPps / 1000).toFixed(1)} k pkt/s`.padEnd(17)} ${(r.connPerSec / 1000).toFixed(2)} k/s${r.note ? `  (${r.note})` : ''}`,
    );
  }
}

/** Ratios against OpenVPN and the kernel, with the goals of issue 6. */
function ratios(results: Partial<Record<Mode, Result | string>>): Record<string, number> {
  const k = results.kernel;
  const o = results.openvpn;
  const out: Record<string, number> = {};
  if (typeof k !== 'object' || typeof o !== 'object') return out;
  log('\nratios (goal in brackets)');
  const line = (name: string, v: number, goal?: number) => {
    out[name] = v;
    const verdict = goal === undefined ? '' : `  [>= ${goal}x] ${v >= goal ? 'met' : 'MISSED'}`;
    log(`  ${name.padEnd(48)} ${v.toFixed(2)}x${verdict}`);
  };
  line('openvpn / kernel, TCP 1 stream', o.tcp1Gbps / k.tcp1Gbps);
  const md = results['svr-metadata'];
  if (typeof md === 'object') {
    line('svr (HMAC metadata) / openvpn, TCP 1 stream', md.tcp1Gbps / o.tcp1Gbps, 5);
    line('svr (HMAC metadata) / kernel, TCP 1 stream', md.tcp1Gbps / k.tcp1Gbps, 0.4);
    line('svr (HMAC metadata) / openvpn, TCP 4 streams', md.tcp4Gbps / o.tcp4Gbps, 5);
    line('svr (HMAC metadata) / openvpn, 64 B UDP pkt/s', md.udpPps / o.udpPps, 2);
    line('svr (HMAC metadata) / openvpn, connections/s', md.connPerSec / o.connPerSec, 2);
  }
  const all = results['svr-all'];
  if (typeof all === 'object') {
    line('svr (HMAC every packet) / openvpn, TCP 1 stream', all.tcp1Gbps / o.tcp1Gbps, 2);
    line('svr (HMAC every packet) / openvpn, TCP 4 streams', all.tcp4Gbps / o.tcp4Gbps, 2);
    line('svr (HMAC every packet) / openvpn, 64 B UDP pkt/s', all.udpPps / o.udpPps, 2);
    line('svr (HMAC every packet) / openvpn, connections/s', all.connPerSec / o.connPerSec, 2);
  }
  return out;
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2);
  const bad = wanted.filter((w) => !MODES.includes(w as Mode));
  if (bad.length > 0) {
    process.stderr.write(`svr bench:lab: unknown mode ${bad.join(', ')}; modes: ${MODES.join(', ')}\n`);
    return 2;
  }
  const modes = wanted.length > 0 ? (wanted as Mode[]) : MODES;
  const skip = skipReason();
  if (skip) {
    log(`bench:lab skipped: ${skip}`);
    return 0;
  }
  const dir = mkdtempSync(join(tmpdir(), 'svr-bench-lab-'));
  const cleanup = () => {
    deleteNamespaces(P);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const results: Partial<Record<Mode, Result | string>> = {};
  try {
    buildChain();
    const servers = startServers(dir);
    await sleep(500);
    log(`bench:lab: ${SECONDS} s per test; client ${CLIENT} -> east -> west -> ${SERVER} (${SERVER_IP})`);
    for (const m of modes) {
      let stop: (() => void) | undefined;
      try {
        stop = await setUp(m, dir);
        results[m] = measure();
      } catch (e) {
        results[m] = (e as Error).message.split('\n')[0];
      } finally {
        stop?.();
        await sleep(1000);
      }
      const r = results[m];
      log(typeof r === 'string' ? `${m}: not measured: ${r}` : `${m}: done`);
    }
    for (const s of servers) s.kill('SIGTERM');
  } finally {
    cleanup();
  }
  table(results);
  const r = ratios(results);
  const file = fileURLToPath(new URL('../../bench-lab-results.json', import.meta.url));
  writeFileSync(file, `${JSON.stringify({ seconds: SECONDS, results, ratios: r }, null, 2)}\n`);
  log(`\nwrote ${file}`);
  return 0;
}

process.exitCode = await main();
