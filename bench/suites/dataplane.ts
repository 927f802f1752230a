import type { IpAddress } from '../../src/base/address.js';
import { PacketBuffer } from '../../src/base/packet-buffer.js';
import { SeededRandom } from '../../src/base/random.js';
import { loadConfigFile } from '../../src/config/load.js';
import type { AuthorityModel } from '../../src/config/model.js';
import { StaticPeerKeys } from '../../src/crypto/peer-keys.js';
import { StaticResolver } from '../../src/dataplane/dns.js';
import type { Driver, RxBatch } from '../../src/drivers/driver.js';
import { SvrRouter } from '../../src/router/router.js';
import { buildPacket } from '../../src/wire/builder.js';
import { IpPacket } from '../../src/wire/packet.js';
import { TCP_ACK, TCP_SYN } from '../../src/wire/tcp.js';
import { ManualScheduler } from '../../testlib/dataplane-harness.js';
import { type Figures, nsPerOp } from '../harness.js';
import type { Suite } from '../run.js';

/**
 * The data plane in process (issue 4): fast-path packets per second through one router, and
 * whole session setups per second through two, with a driver that costs nothing, so the
 * figures are the router's own. Baseline: copying the packet into the buffer, which any driver
 * does anyway.
 */

const BATCH = 64;

/** A driver that keeps the last packet sent and nothing else. */
export class NullDriver implements Driver {
  last: PacketBuffer | undefined;
  lastIface = -1;
  sent = 0;
  /** When set, copies of what is sent (for benchmarks that pass packets on). */
  kept: Uint8Array[] | undefined;
  private rx: ((b: RxBatch) => void) | undefined;
  start(receive: (batch: RxBatch) => void): void {
    this.rx = receive;
  }
  send(iface: number, packet: PacketBuffer, _nextHop: IpAddress | undefined): void {
    this.last = packet;
    this.lastIface = iface;
    this.sent++;
    this.kept?.push(packet.copy());
  }
  release(): void {}
  allocate(): PacketBuffer {
    return new PacketBuffer(new Uint8Array(2048), 512, 512);
  }
  stop(): void {}
  deliver(batch: RxBatch): void {
    this.rx?.(batch);
  }
}

const SECRET = new TextEncoder().encode('bench');

/**
 * `tcpToUdp`: East's paths carry TCP sessions as UDP (4.2.7), as past a middlebox. `encrypt`:
 * github's sessions have their payload encrypted (4.6.6, AES-256-CBC).
 */
export function routers(scope: 'none' | 'all', tcpToUdp = false, encrypt = false) {
  const r = loadConfigFile('examples/figure2.yaml');
  if (!r.ok) throw new Error('config');
  const sealed = { name: 'sealed', encryption: 'aes-cbc-256', rekeySeconds: 0 } as const;
  // The example's MPLS range (8000-24000, 3.7.1.6) holds 8000 sessions; the default holds 24 574.
  const a: AuthorityModel = {
    ...r.config,
    securityPolicies: encrypt ? [...r.config.securityPolicies, sealed] : r.config.securityPolicies,
    services: r.config.services.map((x) =>
      encrypt && x.name === 'github' ? { ...x, securityPolicy: 'sealed' } : x,
    ),
    security: { ...r.config.security, hmac: { ...r.config.security.hmac, scope } },
    routers: r.config.routers.map((x) => ({
      ...x,
      interfaces: x.interfaces.map((i) => ({ ...i, wayports: { lo: 16385, hi: 65533 } })),
      peers: x.peers.map((p) => ({
        ...p,
        paths: p.paths.map((q) => ({
          ...q,
          tcpToUdp: tcpToUdp && x.name === 'east' ? 'always' : q.tcpToUdp,
        })),
      })),
    })),
  };
  const scheduler = new ManualScheduler(1_767_225_600_000);
  const make = (name: string, seed: number) => {
    const driver = new NullDriver();
    const random = new SeededRandom(seed);
    const router = new SvrRouter({
      authority: a,
      name,
      driver,
      scheduler,
      random,
      keys: new StaticPeerKeys(SECRET, name, a.security, random),
      dns: new StaticResolver({ 'logsvc.example': '172.15.11.20' }),
    });
    router.start();
    return { router, driver };
  };
  const iface = (router: string, name: string) =>
    a.routers.find((x) => x.name === router)?.interfaces.findIndex((i) => i.name === name) ?? -1;
  return { east: make('east', 1), west: make('west', 2), iface, scheduler };
}

function batchOf(pbs: PacketBuffer[], iface: number): RxBatch {
  return { count: pbs.length, packets: pbs, iface: new Int32Array(pbs.length).fill(iface) };
}

/** Establish `n` TCP sessions East to West (github) and return the client packets for each. */
export function established(env: ReturnType<typeof routers>, n: number, payload: number): Uint8Array[] {
  const lan2 = env.iface('east', 'lan-vlan2');
  const eMpls = env.iface('east', 'mpls');
  const wMpls = env.iface('west', 'mpls');
  const wLan = env.iface('west', 'servers');
  const out: Uint8Array[] = [];
  const one = (bytes: Uint8Array, d: NullDriver, iface: number): Uint8Array => {
    d.deliver(batchOf([PacketBuffer.from(bytes)], iface));
    return d.last?.copy() ?? new Uint8Array(0);
  };
  for (let i = 0; i < n; i++) {
    const client = `10.0.1.${(i % 250) + 1}`;
    const port = 10000 + Math.floor(i / 250);
    const syn = buildPacket({
      src: client,
      dst: '172.15.11.23',
      l4: { protocol: 'tcp', srcPort: port, dstPort: 22, flags: TCP_SYN },
    });
    const atWest = one(one(syn, env.east.driver, lan2), env.west.driver, wMpls);
    const natPort = (atWest[20] << 8) | atWest[21];
    const synack = buildPacket({
      src: '172.15.11.23',
      dst: '203.0.113.1',
      l4: { protocol: 'tcp', srcPort: 22, dstPort: natPort, flags: TCP_SYN | TCP_ACK },
    });
    one(one(synack, env.west.driver, wLan), env.east.driver, eMpls);
    const ack = buildPacket({
      src: client,
      dst: '172.15.11.23',
      l4: { protocol: 'tcp', srcPort: port, dstPort: 22, flags: TCP_ACK },
    });
    one(one(ack, env.east.driver, lan2), env.west.driver, wMpls); // completes West's handshake
    const data = buildPacket({
      src: client,
      dst: '172.15.11.23',
      l4: { protocol: 'tcp', srcPort: port, dstPort: 22, flags: TCP_ACK },
      payload: new Uint8Array(payload),
    });
    out.push(data);
  }
  return out;
}

export function fastPathPps(
  scope: 'none' | 'all',
  tcpToUdp = false,
  encrypt = false,
): { pps: number; copyNs: number } {
  const env = routers(scope, tcpToUdp, encrypt);
  const packets = established(env, 256, 64 - 40); // 64-byte IPv4/TCP packets
  const lan2 = env.iface('east', 'lan-vlan2');
  const bufs = Array.from({ length: BATCH }, () => new PacketBuffer(new Uint8Array(2048), 512, 512));
  const batch = batchOf(bufs, lan2);
  let next = 0;
  const fill = () => {
    for (let i = 0; i < BATCH; i++) {
      const src = packets[next++ & 255];
      const pb = bufs[i];
      pb.start = 512;
      pb.end = 512 + src.length;
      pb.data.set(src, 512);
    }
  };
  const before = env.east.router.dataPlane.ctx.stats.fastPath;
  const sentBefore = env.east.driver.sent;
  const perBatch = nsPerOp(
    () => {
      fill();
      env.east.driver.deliver(batch);
      return env.east.driver.sent;
    },
    { iterations: 20_000, rounds: 5 },
  );
  // Every packet went through (encrypted ones are rewritten whole, not by the saved deltas).
  const fast = encrypt
    ? env.east.driver.sent - sentBefore
    : env.east.router.dataPlane.ctx.stats.fastPath - before;
  if (fast < 20_000 * BATCH) throw new Error(`only ${fast} packets took the fast path`);
  const copyNs = nsPerOp(
    () => {
      fill();
      return bufs[0].end;
    },
    { iterations: 20_000, rounds: 5 },
  );
  return { pps: 1e9 / (perBatch / BATCH), copyNs: copyNs / BATCH };
}

export function setupsPerSecond(): number {
  const env = routers('all');
  const lan2 = env.iface('east', 'lan-vlan2');
  const eMpls = env.iface('east', 'mpls');
  const wMpls = env.iface('west', 'mpls');
  const wLan = env.iface('west', 'servers');
  const n = 20_000;
  const syns: Uint8Array[] = [];
  for (let i = 0; i < n; i++)
    syns.push(
      buildPacket({
        src: `10.0.1.${(i % 250) + 1}`,
        dst: '172.15.11.23',
        l4: { protocol: 'tcp', srcPort: 20000 + Math.floor(i / 250), dstPort: 22, flags: TCP_SYN },
      }),
    );
  const pb = new PacketBuffer(new Uint8Array(2048), 512, 512);
  const one = (bytes: Uint8Array, d: NullDriver, iface: number): PacketBuffer | undefined => {
    pb.start = 512;
    pb.end = 512 + bytes.length;
    pb.data.set(bytes, 512);
    d.last = undefined;
    d.deliver({ count: 1, packets: [pb], iface: Int32Array.of(iface) });
    return d.last;
  };
  const seen = new IpPacket();
  let done = 0;
  let replyNs = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    // East: first packet (3.7.1); West: first packet (3.7.2); West: SYN/ACK with reverse
    // metadata (3.7.4); East: reverse metadata in (3.7.5).
    const w = one(syns[i], env.east.driver, lan2);
    if (!w) continue;
    const atServer = one(w.copy(), env.west.driver, wMpls);
    if (!atServer || seen.parse(atServer.data, atServer.start, atServer.end - atServer.start)) continue;
    // The server's answer is the test's work, not the routers': timed apart and taken out.
    const r0 = process.hrtime.bigint();
    const synack = buildPacket({
      src: '172.15.11.23',
      dst: `${seen.b[seen.start + 12]}.${seen.b[seen.start + 13]}.${seen.b[seen.start + 14]}.${seen.b[seen.start + 15]}`,
      l4: { protocol: 'tcp', srcPort: 22, dstPort: seen.srcPort, flags: TCP_SYN | TCP_ACK, seq: 7, ack: 1 },
    });
    replyNs += Number(process.hrtime.bigint() - r0);
    const back = one(synack, env.west.driver, wLan);
    if (!back) continue;
    if (one(back.copy(), env.east.driver, eMpls)) done++;
  }
  const ns = Number(process.hrtime.bigint() - t0) - replyNs;
  if (done < n * 0.99) throw new Error(`only ${done} of ${n} setups completed`);
  return (done * 1e9) / ns;
}

export const dataplaneSuite: Suite = {
  name: 'dataplane',
  title: 'Data plane in process (issue 4), one core',
  run(): Figures {
    const none = fastPathPps('none');
    const all = fastPathPps('all');
    const setups = setupsPerSecond();
    const asUdp = fastPathPps('none', true);
    const sealed = fastPathPps('none', false, true);
    return {
      'dataplane.fast-path-pps-64b-no-hmac': {
        value: none.pps,
        unit: 'pkt/s',
        goal: 3_000_000,
        goalKind: 'min',
        baseline: { name: 'copying the packet into the buffer alone', value: 1e9 / none.copyNs },
      },
      'dataplane.fast-path-pps-64b-hmac-every-packet': { value: all.pps, unit: 'pkt/s' },
      // 4.2.7: each packet is transformed and its UDP checksum computed afresh.
      'dataplane.fast-path-pps-64b-tcp-as-udp': {
        value: asUdp.pps,
        unit: 'pkt/s',
        baseline: { name: 'the same packets as TCP (fast path, no HMAC)', value: none.pps },
      },
      // 4.6.6: each packet encrypted (AES-256-CBC, a fresh IV) and its checksum made again.
      'dataplane.fast-path-pps-64b-payload-encrypted': {
        value: sealed.pps,
        unit: 'pkt/s',
        baseline: { name: 'the same packets in clear (fast path, no HMAC)', value: none.pps },
      },
      'dataplane.session-setups-per-second': { value: setups, unit: 'ops/s', goal: 50_000, goalKind: 'min' },
    };
  },
};
