import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../config/load.js';
import type { LinuxRouterStatus } from '../runtime/linux-router.js';
import {
  addAddress,
  addNamespace,
  deleteNamespaces,
  inNs,
  missingPrograms,
  namespaces,
  run,
  spawnInNs,
  sysctl,
  tryInNs,
  veth,
} from './netns.js';
import { chain3Lab, figure2Lab, LAB_PREFIX, type LabTopology } from './topologies.js';

/** What `svr lab up` leaves in the lab directory's lab.json, for status and down. */
export interface LabState {
  topology: string;
  dir: string;
  config: string;
  namespaces: string[];
  clientNamespace: string;
  clientAddress: string;
  serverNamespace: string;
  serverAddress: string;
  serverUrl: string;
  routers: RouterProcess[];
  servers: { name: string; pid: number }[];
}

export interface LabUpOptions {
  topology?: 'figure2' | 'chain3';
  /** Figure 2: put a middlebox that drops TCP SYNs with payload on the MPLS path. */
  middlebox?: boolean;
  /** Run the routers from this configuration instead of the example (same router names). */
  config?: string;
  /** TUN offloads in the routers (default true). */
  offloads?: boolean;
  /** Seconds to wait for the routers' peer paths (default 30). */
  waitSeconds?: number;
  /** Lab directory (default $SVR_LAB_DIR, /run/svr-lab, or <tmp>/svr-lab). */
  dir?: string;
  log?: (line: string) => void;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SVR = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const HTTP_SERVER = fileURLToPath(new URL('./http-server.js', import.meta.url));

export function labDir(dir?: string): string {
  if (dir) return resolve(dir);
  if (process.env.SVR_LAB_DIR) return resolve(process.env.SVR_LAB_DIR);
  return existsSync('/run') ? '/run/svr-lab' : join(tmpdir(), 'svr-lab');
}

export function topologyOf(name: string, middlebox = false): LabTopology {
  if (name === 'figure2') return figure2Lab({ middlebox });
  if (name === 'chain3') return chain3Lab();
  throw new Error(`--topology: expected figure2 or chain3, got "${name}"`);
}

/** Build the lab and start its routers and servers; throws (after removing it all) on failure. */
export async function labUp(o: LabUpOptions = {}): Promise<LabState> {
  const log = o.log ?? (() => {});
  const t = topologyOf(o.topology ?? 'figure2', o.middlebox);
  const dir = labDir(o.dir);
  const left = namespaces().filter((n) => n.startsWith(LAB_PREFIX));
  if (left.length > 0) throw new Error(`a lab is already up (${left.join(', ')}): run svr lab down first`);
  const missing = missingPrograms(['ip', ...(t.nft.length > 0 ? ['nft'] : [])]);
  if (missing.length > 0) throw new Error(`the lab needs ${missing.join(', ')}, not installed here`);
  if (!existsSync(SVR)) throw new Error(`${SVR} is missing: run npm run build`);
  const config = o.config ? resolve(o.config) : join(ROOT, 'examples', t.config);
  const loaded = loadConfigFile(config);
  if (!loaded.ok) throw new Error(`${config} has errors: svr config check ${config}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const state: LabState = {
    topology: t.name,
    dir,
    config,
    namespaces: [...t.namespaces],
    clientNamespace: t.clientNamespace,
    clientAddress: t.clientAddress,
    serverNamespace: t.serverNamespace,
    serverAddress: t.serverAddress,
    serverUrl: `http://${t.serverAddress}/`,
    routers: [],
    servers: [],
  };
  try {
    buildNetwork(t);
    log(`network: ${t.namespaces.length} namespaces, ${t.links.length} links`);
    startServers(t, dir, state);
    state.routers.push(
      ...startRouters({
        config,
        authority: loaded.config.name,
        routers: t.routers,
        dir,
        offloads: o.offloads,
      }),
    );
    writeState(state);
    await waitForPaths(state.routers, (o.waitSeconds ?? 30) * 1000);
    log('routers: every peer in service');
    return state;
  } catch (e) {
    writeState(state);
    const msg = (e as Error).message;
    if (process.env.SVR_LAB_KEEP !== '1') labDown({ dir });
    throw new Error(msg);
  }
}

function buildNetwork(t: LabTopology): void {
  for (const n of t.namespaces) {
    addNamespace(n);
    sysctl(n, 'net.ipv4.conf.all.rp_filter', 0);
    sysctl(n, 'net.ipv4.conf.default.rp_filter', 0);
    // Keep the lab's namespaces quiet: no IPv6 autoconfiguration chatter on the links.
    sysctl(n, 'net.ipv6.conf.all.disable_ipv6', 1);
    sysctl(n, 'net.ipv6.conf.default.disable_ipv6', 1);
    // traceroute's errors from the lab's routers are not rate-limited (1 per second by default).
    sysctl(n, 'net.ipv4.icmp_ratelimit', 0);
  }
  for (const l of t.links) veth(l.a[0], l.a[1], l.b[0], l.b[1]);
  for (const b of t.bridges) {
    inNs(b.ns, ['ip', 'link', 'add', b.name, 'type', 'bridge']);
    for (const m of b.members) inNs(b.ns, ['ip', 'link', 'set', m, 'master', b.name]);
    inNs(b.ns, ['ip', 'link', 'set', b.name, 'up']);
  }
  for (const v of t.vlans) {
    const [an, ad] = v.link.a;
    const [bn, bd] = v.link.b;
    try {
      for (const [n, d] of [v.link.a, v.link.b]) {
        inNs(n, ['ip', 'link', 'add', 'link', d, 'name', `${d}.${v.id}`, 'type', 'vlan', 'id', String(v.id)]);
        inNs(n, ['ip', 'link', 'set', `${d}.${v.id}`, 'up']);
      }
    } catch {
      // No 8021q in this kernel: a separate link with the VLAN devices' names stands in.
      tryInNs(an, ['ip', 'link', 'del', `${ad}.${v.id}`]);
      veth(an, `${ad}.${v.id}`, bn, `${bd}.${v.id}`);
    }
  }
  for (const a of t.addresses) addAddress(a.ns, a.dev, a.cidr);
  for (const r of t.routes) inNs(r.ns, ['ip', 'route', 'add', ...r.args]);
  for (const n of t.forwarding) sysctl(n, 'net.ipv4.ip_forward', 1);
  for (const [n, dev] of t.proxyArp) sysctl(n, `net.ipv4.conf.${dev}.proxy_arp`, 1);
  for (const f of t.nft) inNs(f.ns, ['nft', '-f', '-'], { input: f.ruleset });
}

function startServers(t: LabTopology, dir: string, state: LabState): void {
  const www = join(dir, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), 'svr lab: hello from the server namespace\n');
  // 1 MB of known bytes, so a download through svr can be compared byte for byte.
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >>> 10)) & 0xff;
  writeFileSync(join(www, 'big.bin'), big);
  const serve = (name: string, argv: string[]) => {
    const fd = openSync(join(dir, `${name}.log`), 'a');
    const c = spawnInNs(t.serverNamespace, argv, { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    c.unref();
    if (c.pid !== undefined) state.servers.push({ name, pid: c.pid });
  };
  serve('http', [process.execPath, HTTP_SERVER, t.serverAddress, '80', www]);
  if (missingPrograms(['iperf3']).length === 0) serve('iperf3', ['iperf3', '-s', '-B', t.serverAddress]);
}

/** A router started by `startRouters`. */
export interface RouterProcess {
  name: string;
  namespace: string;
  pid: number;
  statusFile: string;
  log: string;
}

/**
 * Start `svr run` for each router in its namespace, detached, logging to DIR/<name>.log and
 * reporting to DIR/<name>.json, with certificates made for the occasion in DIR/pki (5.1.7).
 */
export function startRouters(o: {
  config: string;
  authority: string;
  routers: Readonly<Record<string, string>>;
  dir: string;
  offloads?: boolean;
  /** Use the certificates already in DIR/pki (a restart). */
  reusePki?: boolean;
}): RouterProcess[] {
  const pki = join(o.dir, 'pki');
  if (!o.reusePki) {
    run([process.execPath, SVR, 'pki', 'init-ca', '--authority', o.authority, '--dir', pki, '--force']);
    for (const name of Object.keys(o.routers))
      run([process.execPath, SVR, 'pki', 'issue', `${name}/${o.authority}`, '--dir', pki, '--force']);
  }
  const out: RouterProcess[] = [];
  for (const [name, netns] of Object.entries(o.routers)) {
    const statusFile = join(o.dir, `${name}.json`);
    const logFile = join(o.dir, `${name}.log`);
    rmSync(statusFile, { force: true });
    const fd = openSync(logFile, 'a');
    const args = ['run', '--config', o.config, '--router', name, '--pki', pki, '--status-file', statusFile];
    if (o.offloads === false) args.push('--no-offloads');
    // SVR_LAB_PROFILE=DIR: each router writes DIR/<name>.cpuprofile when stopped (docs/lab.md).
    const prof = process.env.SVR_LAB_PROFILE;
    if (prof) args.push('--cpu-profile', join(prof, `${name}.cpuprofile`));
    const child = spawnInNs(netns, [process.execPath, SVR, ...args], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    child.unref();
    if (child.pid === undefined) throw new Error(`router ${name} did not start`);
    out.push({ name, namespace: netns, pid: child.pid, statusFile, log: logFile });
  }
  return out;
}

/**
 * Kill a lab router outright (SIGKILL: no cleanup, its sessions lost, 2.10) and start it again
 * with the same configuration and certificates. Updates lab.json; resolves once it runs.
 */
export async function restartRouter(name: string, o: { dir?: string } = {}): Promise<RouterProcess> {
  const st = readLabState(o.dir);
  const r = st?.routers.find((x) => x.name === name);
  if (!st || !r) throw new Error(`no lab router ${name}`);
  try {
    process.kill(r.pid, 'SIGKILL');
  } catch {
    // already gone
  }
  while (alive(r.pid)) await new Promise((res) => setTimeout(res, 20));
  const authority = loadConfigFile(st.config);
  if (!authority.ok) throw new Error(`${st.config} has errors`);
  const [again] = startRouters({
    config: st.config,
    authority: authority.config.name,
    routers: { [name]: r.namespace },
    dir: st.dir,
    reusePki: true,
  });
  st.routers = st.routers.map((x) => (x.name === name ? again : x));
  writeState(st);
  return again;
}

/** Stop routers (SIGTERM, so they remove their rules; SIGKILL after 3 s). Returns how many ran. */
export function stopProcesses(pids: readonly number[]): number {
  let n = 0;
  for (const pid of pids)
    if (alive(pid)) {
      n++;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
  const until = Date.now() + 3000;
  while (pids.some(alive) && Date.now() < until)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  for (const pid of pids)
    if (alive(pid))
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
  return n;
}

/** Wait until every router has a usable path to each of its peers (3.1.3), or fail with why. */
export async function waitForPaths(routers: readonly RouterProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pending: string[] = [];
    for (const r of routers) {
      if (!alive(r.pid)) {
        const tail = existsSync(r.log)
          ? readFileSync(r.log, 'utf8').trim().split('\n').slice(-12).join('\n')
          : '';
        throw new Error(`router ${r.name} exited: ${tail || 'no output'}`);
      }
      const st = readStatus(r.statusFile);
      // Up when every peer has a usable path (3.1.3).
      const peers = new Set(st?.paths.map((p) => p.peer) ?? []);
      const usable = new Set(st?.paths.filter((p) => p.usable).map((p) => p.peer) ?? []);
      if (!st || peers.size === 0 || usable.size < peers.size) pending.push(r.name);
    }
    if (pending.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`routers ${pending.join(', ')} have no peer in service after ${timeoutMs / 1000} s`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function readStatus(file: string): LinuxRouterStatus | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LinuxRouterStatus;
  } catch {
    return undefined;
  }
}

function writeState(s: LabState): void {
  writeFileSync(join(s.dir, 'lab.json'), `${JSON.stringify(s, null, 2)}\n`);
}

export function readLabState(dir?: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(join(labDir(dir), 'lab.json'), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

/**
 * Remove the lab: routers stopped (SIGTERM, then SIGKILL), servers killed, every `svrlab-`
 * namespace deleted, the lab directory removed. Works after a crash: it needs no state.
 */
export function labDown(o: { dir?: string } = {}): { namespaces: string[]; processes: number } {
  const st = readLabState(o.dir);
  const pids = [...(st?.routers.map((r) => r.pid) ?? []), ...(st?.servers.map((x) => x.pid) ?? [])];
  const processes = stopProcesses(pids);
  const gone = deleteNamespaces(LAB_PREFIX);
  rmSync(labDir(o.dir), { recursive: true, force: true });
  return { namespaces: gone, processes };
}

/** What `svr lab status` prints. */
export interface LabStatus {
  up: boolean;
  topology?: string;
  dir: string;
  clientNamespace?: string;
  clientAddress?: string;
  serverNamespace?: string;
  serverAddress?: string;
  serverUrl?: string;
  namespaces: string[];
  routers: {
    name: string;
    namespace: string;
    pid: number;
    running: boolean;
    sessions?: number;
    paths: LinuxRouterStatus['paths'];
  }[];
}

export function labStatus(o: { dir?: string } = {}): LabStatus {
  const dir = labDir(o.dir);
  const st = readLabState(o.dir);
  const present = namespaces().filter((n) => n.startsWith(LAB_PREFIX));
  const routers = (st?.routers ?? []).map((r) => {
    const s = readStatus(r.statusFile);
    return {
      name: r.name,
      namespace: r.namespace,
      pid: r.pid,
      running: alive(r.pid) && tryInNs(r.namespace, ['true']),
      sessions: s?.sessions,
      paths: s?.paths ?? [],
    };
  });
  return {
    up: st !== undefined && present.length > 0 && routers.every((r) => r.running),
    topology: st?.topology,
    dir,
    clientNamespace: st?.clientNamespace,
    clientAddress: st?.clientAddress,
    serverNamespace: st?.serverNamespace,
    serverAddress: st?.serverAddress,
    serverUrl: st?.serverUrl,
    namespaces: present,
    routers,
  };
}

/**
 * examples/pair.yaml's two routers in existing namespaces (the bench:lab chain): HMAC on every
 * packet, or on metadata packets only (4.5.1, R-4.5.1-c). Resolves once both are in service.
 */
export async function startPair(o: {
  hmacEveryPacket: boolean;
  namespaces: { east: string; west: string };
  dir: string;
  offloads?: boolean;
}): Promise<{ routers: RouterProcess[]; stop(): void }> {
  mkdirSync(o.dir, { recursive: true });
  const text = readFileSync(join(ROOT, 'examples', 'pair.yaml'), 'utf8');
  const config = join(o.dir, o.hmacEveryPacket ? 'pair-all.yaml' : 'pair-metadata.yaml');
  writeFileSync(config, o.hmacEveryPacket ? text : text.replace('scope: all', 'scope: metadata'));
  const routers = startRouters({
    config,
    authority: 'pair',
    routers: o.namespaces,
    dir: o.dir,
    offloads: o.offloads,
  });
  const stop = () => {
    stopProcesses(routers.map((r) => r.pid));
  };
  try {
    await waitForPaths(routers, 20_000);
  } catch (e) {
    stop();
    throw e;
  }
  return { routers, stop };
}
