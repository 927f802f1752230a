import {
  addAddress,
  addNamespace,
  deleteNamespaces,
  inNs,
  namespaces,
  sysctl,
  tryInNs,
  veth,
} from '../../src/lab/netns.js';
import { exec } from './proc.js';

/**
 * The four-namespace chain every mode runs on:
 *
 *   svrb-client eth0 172.16.10.5 ─ lan0 172.16.10.1 svrb-east wan0 203.0.113.1
 *     ─ wan0 203.0.113.2 svrb-west lan0 172.16.30.1 ─ eth0 172.16.30.80 svrb-server
 *
 * It is built without forwarding and without routes between the LANs, so client and server
 * reach each other only through what a mode sets up (checked before each mode).
 */

/** Prefix of every namespace bench:lab makes (the lab's own use `svr-`). */
export const PREFIX = 'svrb-';
export const NS = {
  client: `${PREFIX}client`,
  east: `${PREFIX}east`,
  west: `${PREFIX}west`,
  server: `${PREFIX}server`,
} as const;
export const CLIENT_LAN = '172.16.10.0/24';
export const SERVER_LAN = '172.16.30.0/24';
export const SERVER_IP = '172.16.30.80';
export const EAST_WAN = '203.0.113.1';
export const WEST_WAN = '203.0.113.2';

export function buildChain(): void {
  deleteNamespaces(PREFIX);
  for (const n of Object.values(NS)) {
    addNamespace(n);
    // Asymmetric paths are normal for tunnels; strict reverse-path filtering would drop them.
    // `default` before the veths exist, so that they inherit 0 (a device uses max(all, dev)).
    for (const c of ['all', 'default']) sysctl(n, `net.ipv4.conf.${c}.rp_filter`, 0);
  }
  veth(NS.client, 'eth0', NS.east, 'lan0');
  veth(NS.east, 'wan0', NS.west, 'wan0');
  veth(NS.west, 'lan0', NS.server, 'eth0');
  addAddress(NS.client, 'eth0', '172.16.10.5/24');
  addAddress(NS.east, 'lan0', '172.16.10.1/24');
  addAddress(NS.east, 'wan0', `${EAST_WAN}/30`);
  addAddress(NS.west, 'wan0', `${WEST_WAN}/30`);
  addAddress(NS.west, 'lan0', '172.16.30.1/24');
  addAddress(NS.server, 'eth0', `${SERVER_IP}/24`);
  inNs(NS.client, ['ip', 'route', 'add', 'default', 'via', '172.16.10.1']);
  inNs(NS.server, ['ip', 'route', 'add', 'default', 'via', '172.16.30.1']);
  forwarding(false);
  // ~17 k connections/s for 5 s would wrap the default ephemeral range while earlier ones sit
  // in TIME_WAIT; widen it and allow reuse on the client so wrk measures forwarding, not ports.
  sysctl(NS.client, 'net.ipv4.ip_local_port_range', '1024 65000');
  sysctl(NS.client, 'net.ipv4.tcp_tw_reuse', 1);
}

/** Delete every `svrb-` namespace (and so every process and veth in them). */
export function teardownChain(): string[] {
  return deleteNamespaces(PREFIX);
}

/**
 * Throws when a chain namespace is gone: something else on the host deleted `svrb-*` (another
 * bench:lab run, whose start-up recovery deletes them), and the figures would be meaningless.
 */
export function assertChainIntact(): void {
  const have = new Set(namespaces());
  const gone = Object.values(NS).filter((n) => !have.has(n));
  if (gone.length > 0)
    throw new Error(`namespace ${gone.join(', ')} vanished (another bench:lab running on this host?)`);
}

/** Forwarding on or off in both routers. */
export function forwarding(on: boolean): void {
  for (const n of [NS.east, NS.west]) sysctl(n, 'net.ipv4.ip_forward', on ? 1 : 0);
}

/** Best-effort removal of the LAN routes a mode may have left in the routers. */
export function dropLanRoutes(): void {
  tryInNs(NS.east, ['ip', 'route', 'del', SERVER_LAN]);
  tryInNs(NS.west, ['ip', 'route', 'del', CLIENT_LAN]);
}

/** One ping from client to server (1 s wait). */
export async function reachable(): Promise<boolean> {
  try {
    await exec(NS.client, ['ping', '-c', '1', '-W', '1', '-q', SERVER_IP], 5000);
    return true;
  } catch {
    return false;
  }
}
