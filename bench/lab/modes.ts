import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, inNs, run } from '../../src/lab/netns.js';
import {
  CLIENT_LAN,
  dropLanRoutes,
  EAST_WAN,
  forwarding,
  NS,
  reachable,
  SERVER_LAN,
  WEST_WAN,
} from './chain.js';
import { Daemon, waitFor } from './proc.js';

/**
 * The baselines: Linux kernel forwarding (the ceiling) and OpenVPN in userspace (what users run
 * instead). Each start function leaves client -> server reachable and returns what undoes it.
 */

export interface ModeHandle {
  stop(): Promise<void>;
  describe: string;
}

export async function startKernel(): Promise<ModeHandle> {
  forwarding(true);
  inNs(NS.east, ['ip', 'route', 'add', SERVER_LAN, 'via', WEST_WAN]);
  inNs(NS.west, ['ip', 'route', 'add', CLIENT_LAN, 'via', EAST_WAN]);
  return {
    describe: 'Linux kernel IPv4 forwarding, static routes over the wan veth',
    stop: async () => {
      dropLanRoutes();
      forwarding(false);
    },
  };
}

const OVPN_PORT = '1194';
const TUNNEL = { east: '192.0.2.1', west: '192.0.2.2' };
const CIPHER = 'AES-256-GCM';

/** A throwaway self-signed EC certificate and its SHA-256 fingerprint (for --peer-fingerprint). */
function selfSigned(dir: string, name: string): { cert: string; key: string; fingerprint: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  run(
    [
      'openssl',
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ],
    { timeoutMs: 20_000 },
  );
  const fp = run(['openssl', 'x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], {
    timeoutMs: 10_000,
  });
  const fingerprint = fp.trim().split('=')[1] ?? '';
  if (!/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i.test(fingerprint))
    throw new Error(`openssl printed no SHA-256 fingerprint: ${fp.trim()}`);
  return { cert, key, fingerprint };
}

/**
 * OpenVPN 2.6 point-to-point between east and west over UDP on the wan veth, data channel in
 * userspace (--disable-dco), AES-256-GCM. Static-key mode (--secret) cannot do AEAD ciphers, so
 * this is p2p TLS (east --tls-server, west --tls-client) with self-signed certificates pinned by
 * --peer-fingerprint, which is what a current point-to-point setup looks like. OpenVPN adds the
 * LAN routes through the tunnel itself (--route) and removes them when stopped.
 */
export async function startOpenVpn(dir: string): Promise<ModeHandle> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const east = selfSigned(dir, NS.east);
  const west = selfSigned(dir, NS.west);
  const ends = [
    {
      ns: NS.east,
      local: EAST_WAN,
      remote: WEST_WAN,
      ip: TUNNEL.east,
      peerIp: TUNNEL.west,
      lan: SERVER_LAN,
      own: east,
      peer: west,
      role: ['--tls-server', '--dh', 'none'],
    },
    {
      ns: NS.west,
      local: WEST_WAN,
      remote: EAST_WAN,
      ip: TUNNEL.west,
      peerIp: TUNNEL.east,
      lan: CLIENT_LAN,
      own: west,
      peer: east,
      role: ['--tls-client'],
    },
  ];
  forwarding(true);
  const daemons = ends.map((e) => {
    const [net] = e.lan.split('/');
    return new Daemon(
      `openvpn in ${e.ns}`,
      e.ns,
      [
        'openvpn',
        '--dev',
        'ovpn0',
        '--dev-type',
        'tun',
        '--proto',
        'udp',
        '--local',
        e.local,
        '--lport',
        OVPN_PORT,
        '--remote',
        e.remote,
        '--rport',
        OVPN_PORT,
        '--ifconfig',
        e.ip,
        e.peerIp,
        '--route',
        net,
        '255.255.255.0',
        ...e.role,
        '--cert',
        e.own.cert,
        '--key',
        e.own.key,
        '--peer-fingerprint',
        e.peer.fingerprint,
        '--data-ciphers',
        CIPHER,
        '--disable-dco',
        '--verb',
        '3',
      ],
      join(dir, `${e.ns}.log`),
    );
  });
  const stop = async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    dropLanRoutes();
    forwarding(false);
  };
  const logs = () => daemons.map((d) => `${d.name}: ${d.tail(2)}`).join(' || ');
  try {
    await waitFor(
      'OpenVPN tunnel (Initialization Sequence Completed at both ends)',
      () => {
        for (const d of daemons) d.assertRunning();
        return daemons.every((d) =>
          readFileSync(d.logFile, 'utf8').includes('Initialization Sequence Completed'),
        );
      },
      30_000,
      logs,
    );
    await waitFor('OpenVPN tunnel passing a client -> server ping', reachable, 15_000, logs);
  } catch (e) {
    await stop();
    throw e;
  }
  // Report the cipher OpenVPN says it uses, not the one asked for.
  const used = /Data Channel: cipher '([^']+)'/.exec(readFileSync(daemons[0].logFile, 'utf8'))?.[1];
  return {
    describe: `OpenVPN ${openvpnVersion()} userspace (--disable-dco), UDP p2p TLS, data channel ${used ?? 'cipher not logged'}`,
    stop,
  };
}

function openvpnVersion(): string {
  try {
    return /OpenVPN (\S+)/.exec(run(['openvpn', '--version'], { timeoutMs: 5000 }))?.[1] ?? '?';
  } catch (e) {
    // Some builds exit non-zero after printing the version.
    return e instanceof CommandError ? (/OpenVPN (\S+)/.exec(e.stdout)?.[1] ?? '?') : '?';
  }
}
