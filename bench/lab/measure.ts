import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError } from '../../src/lab/netns.js';
import { NS, SERVER_IP } from './chain.js';
import { Daemon, exec, sleep, waitFor } from './proc.js';

/**
 * The four figures of a mode, measured from the client namespace against servers in the server
 * namespace: iperf3 (TCP 1 and 4 streams, 64-byte UDP) and wrk against nginx with
 * `Connection: close`, so every request is a new TCP connection.
 */

export type FigureKey = 'tcp1Gbps' | 'tcp4Gbps' | 'udp64Pps' | 'connPerSec';

export const FIGURES: readonly {
  key: FigureKey;
  label: string;
  /** Unit of the value as stored (bench-lab-results.json). */
  raw: string;
  /** Unit shown in the tables: value / scale. */
  unit: string;
  scale: number;
  digits: number;
}[] = [
  { key: 'tcp1Gbps', label: 'TCP 1 stream', raw: 'Gbit/s', unit: 'Gbit/s', scale: 1, digits: 2 },
  { key: 'tcp4Gbps', label: 'TCP 4 streams', raw: 'Gbit/s', unit: 'Gbit/s', scale: 1, digits: 2 },
  { key: 'udp64Pps', label: '64 B UDP received', raw: 'pkt/s', unit: 'k pkt/s', scale: 1e3, digits: 1 },
  { key: 'connPerSec', label: 'TCP connections', raw: 'conn/s', unit: 'k conn/s', scale: 1e3, digits: 2 },
];

export interface Measurement {
  value: number;
  /** How the value came about (retransmits, loss, wrk counts). */
  detail: string;
  /** Something that makes the value doubtful. */
  warning?: string;
}

export type Measurements = Record<FigureKey, Measurement>;

export interface MeasureOptions {
  seconds: number;
  /** Connections wrk keeps open at once. */
  connections: number;
}

/** Share of wrk requests that may end in socket errors before the figure is flagged. */
const WRK_ERROR_SHARE = 0.01;
const IPERF_PORT = 5201;

export interface Servers {
  stop(): Promise<void>;
}

/** iperf3 and nginx in the server namespace, listening on SERVER_IP; resolves once both listen. */
export async function startServers(dir: string): Promise<Servers> {
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  // nginx workers run as nobody: they must be able to reach the file (run.ts opens the parent).
  chmodSync(dir, 0o711);
  chmodSync(www, 0o755);
  writeFileSync(join(www, 'index.html'), 'svr bench\n', { mode: 0o644 });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log error;
events { worker_connections 8192; }
http {
  access_log off;
  server_tokens off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_timeout 0;
  server {
    listen ${SERVER_IP}:80 backlog=4096;
    root ${www};
  }
}
`,
  );
  const daemons = [
    new Daemon('iperf3 server', NS.server, ['iperf3', '-s', '-B', SERVER_IP], join(dir, 'iperf3.log')),
    // -p and the *_temp_path lines keep nginx out of /var/lib/nginx; -e is its log before the config.
    new Daemon(
      'nginx',
      NS.server,
      ['nginx', '-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', conf],
      join(dir, 'nginx.log'),
    ),
  ];
  const stop = async () => {
    await Promise.all(daemons.map((d) => d.stop()));
  };
  try {
    await waitFor(
      'iperf3 and nginx in the server namespace',
      async () => {
        for (const d of daemons) d.assertRunning();
        const ports = (await exec(NS.server, ['ss', '-Hltn'], 5000))
          .split('\n')
          .map((l) => l.trim().split(/\s+/)[3] ?? ''); // State Recv-Q Send-Q Local Peer
        return ports.includes(`${SERVER_IP}:${IPERF_PORT}`) && ports.includes(`${SERVER_IP}:80`);
      },
      10_000,
      () => daemons.map((d) => `${d.name}: ${d.tail(2) || 'no output'}`).join('; '),
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop };
}

interface IperfSum {
  seconds: number;
  bits_per_second: number;
  packets?: number;
  lost_packets?: number;
  retransmits?: number;
}
interface IperfJson {
  error?: string;
  end?: { sum?: IperfSum; sum_sent?: IperfSum; sum_received?: IperfSum };
}

async function iperf(args: readonly string[], seconds: number): Promise<NonNullable<IperfJson['end']>> {
  const argv = ['iperf3', '-c', SERVER_IP, '-t', String(seconds), '-J', '--connect-timeout', '3000', ...args];
  let json: IperfJson;
  try {
    json = JSON.parse(await exec(NS.client, argv, (seconds + 20) * 1000)) as IperfJson;
  } catch (e) {
    // With -J, iperf3 reports its error inside the JSON on stdout, not on stderr.
    if (e instanceof CommandError) {
      try {
        const msg = (JSON.parse(e.stdout) as IperfJson).error;
        if (msg) throw new Error(`iperf3 ${args.join(' ')}: ${msg}`);
      } catch (inner) {
        if (!(inner instanceof SyntaxError)) throw inner;
      }
    }
    throw e;
  }
  if (json.error) throw new Error(`iperf3 ${args.join(' ')}: ${json.error}`);
  if (!json.end) throw new Error(`iperf3 ${args.join(' ')}: no end-of-test summary`);
  return json.end;
}

async function tcp(streams: number, seconds: number): Promise<Measurement> {
  const end = await iperf(streams > 1 ? ['-P', String(streams)] : [], seconds);
  const r = end.sum_received;
  if (!r || !(r.bits_per_second > 0)) throw new Error(`iperf3 TCP x${streams}: nothing received`);
  return { value: r.bits_per_second / 1e9, detail: `retransmits ${end.sum_sent?.retransmits ?? '?'}` };
}

async function udp64(seconds: number): Promise<Measurement> {
  // -b 0: as fast as the client can send; what counts is what the server received.
  const end = await iperf(['-u', '-l', '64', '-b', '0'], seconds);
  // sum_received is the receiver's view; iperf3 before 3.13 may only have `sum` for UDP.
  const r = end.sum_received?.packets !== undefined ? end.sum_received : end.sum;
  if (r?.packets === undefined || r.lost_packets === undefined || !(r.seconds > 0))
    throw new Error('iperf3 UDP: no receiver packet counts in the JSON');
  const received = r.packets - r.lost_packets;
  if (received <= 0) throw new Error('iperf3 UDP: the server received nothing');
  const s = end.sum_sent;
  const sent =
    s?.packets !== undefined && s.seconds > 0 ? `sent ${(s.packets / s.seconds / 1e3).toFixed(1)} k/s, ` : '';
  return {
    value: received / r.seconds,
    detail: `${sent}${((100 * r.lost_packets) / Math.max(1, r.packets)).toFixed(1)}% lost`,
  };
}

async function connections(o: MeasureOptions): Promise<Measurement> {
  const out = await exec(
    NS.client,
    [
      'wrk',
      '-t1',
      `-c${o.connections}`,
      `-d${o.seconds}s`,
      '--timeout',
      '2s',
      '-H',
      'Connection: close',
      `http://${SERVER_IP}/`,
    ],
    (o.seconds + 20) * 1000,
  );
  const rps = Number(/Requests\/sec:\s*([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
  if (!(rps > 0) || !(requests > 0)) throw new Error(`wrk: no requests completed: ${out.trim().slice(-200)}`);
  const e = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = e ? e.slice(1).reduce((a, n) => a + Number(n), 0) : 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errText = e ? `socket errors: connect ${e[1]}, read ${e[2]}, write ${e[3]}, timeout ${e[4]}` : '';
  const warnings: string[] = [];
  if (errors > WRK_ERROR_SHARE * requests)
    warnings.push(`wrk ${errText} (${((100 * errors) / requests).toFixed(1)}% of requests)`);
  if (non2xx > 0) warnings.push(`wrk: ${non2xx} responses were not 2xx/3xx`);
  return {
    value: rps,
    detail: `${requests} requests, ${errText || 'no socket errors'}`,
    ...(warnings.length > 0 ? { warning: warnings.join('; ') } : {}),
  };
}

/** All four figures, one test after another (with a pause so queues and sockets settle). */
export async function measureAll(o: MeasureOptions, progress: (s: string) => void): Promise<Measurements> {
  const tests: [FigureKey, () => Promise<Measurement>][] = [
    ['tcp1Gbps', () => tcp(1, o.seconds)],
    ['tcp4Gbps', () => tcp(4, o.seconds)],
    ['udp64Pps', () => udp64(o.seconds)],
    ['connPerSec', () => connections(o)],
  ];
  const out: Partial<Measurements> = {};
  for (const [key, test] of tests) {
    progress(FIGURES.find((f) => f.key === key)?.label ?? key);
    out[key] = await test();
    await sleep(1000);
  }
  return out as Measurements;
}
