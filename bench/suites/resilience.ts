import { PacketBuffer } from '../../src/base/packet-buffer.js';
import { figure2 } from '../../src/emu/topologies.js';
import type { Figures } from '../harness.js';
import type { Suite } from '../run.js';
import { established, routers } from './dataplane.js';

/**
 * Session moves (issue 7, 6.1): how long traffic stops when a path is cut (on the emulated
 * Figure 2, virtual time), and how many sessions a router moves per second (in process).
 */

/**
 * Virtual ms from cutting its path to the first datagram of a steady UDP flow (one every 10 ms)
 * delivered over the new path. Goal: BFD detection time (3 x 1000 ms, D-6) plus one round trip
 * on the Internet path (60 ms).
 */
export function cutToTrafficMs(): number {
  const f = figure2({ seed: 31 });
  const rx = f.logsvc.udpBind(514);
  const paths = { mpls: f.segments.mpls, internet: f.segments.internet, lte: f.segments.lte };
  let last = 0;
  rx.onMessage = () => {
    last = f.net.sim.now();
  };
  const tx = f.client.udpBind(40514);
  let seq = 0;
  const tick = () => {
    const d = new Uint8Array(100);
    new DataView(d.buffer).setUint32(0, ++seq);
    tx.sendTo('172.15.11.20', 514, d);
    f.net.sim.at(f.net.sim.now() + 10, tick);
  };
  tick();
  f.net.run(2000);
  if (last === 0) throw new Error('no UDP before the cut');
  // Cut the path the flow is on.
  const on =
    f.east
      .sessions()
      .find((r) => r.direction === 'forward')
      ?.path.split(' ')[0] ?? '';
  const segment = paths[on as keyof typeof paths];
  if (!segment) throw new Error(`the flow is on "${on}"`);
  const cut = f.net.sim.now();
  segment.set({ up: false });
  // Datagrams already on the wire still arrive; count from the first one sent after the cut.
  const cutSeq = seq;
  let after = 0;
  rx.onMessage = (m) => {
    if (after === 0 && new DataView(m.data.buffer, m.data.byteOffset).getUint32(0) > cutSeq)
      after = f.net.sim.now();
  };
  f.net.runUntil(() => after > 0, 20_000);
  if (after === 0) throw new Error('no UDP after the cut');
  return after - cut;
}

/**
 * Sessions moved per second, both routers' work: East moves each of `n` established sessions
 * off MPLS on its next packet (a full-size one: metadata goes ahead in a control packet, 6.2),
 * West accepts the move.
 */
export function movesPerSecond(n = 4000): number {
  const env = routers('all');
  const data = established(env, n, 1400);
  const eLan = env.iface('east', 'lan-vlan2');
  const wInet = env.iface('west', 'internet');
  const east = env.east.driver;
  const kept: Uint8Array[] = [];
  east.kept = kept;
  const deliver = (d: typeof east, bytes: Uint8Array, iface: number) =>
    d.deliver({ count: 1, packets: [PacketBuffer.from(bytes)], iface: Int32Array.of(iface) });
  for (const r of [env.east.router, env.west.router])
    for (const p of r.dataPlane.ctx.paths.paths) if (p && p.model.vector === 'mpls') p.up = false;
  const t0 = process.hrtime.bigint();
  for (const pkt of data) {
    kept.length = 0;
    deliver(east, pkt, eLan);
    for (const b of kept) deliver(env.west.driver, b, wInet);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const moved = env.east.router.dataPlane.ctx.stats.sessionsMoved;
  const accepted = env.west.router.dataPlane.ctx.stats.sessionsMoved;
  if (moved !== n || accepted !== n) throw new Error(`moved ${moved}, accepted ${accepted} of ${n}`);
  return (n * 1e9) / ns;
}

export const resilienceSuite: Suite = {
  name: 'resilience',
  title: 'Session moves (issue 7, 6.1)',
  run(): Figures {
    const cut = cutToTrafficMs();
    const moves = movesPerSecond();
    return {
      'resilience.path-cut-to-traffic-ms': { value: cut, unit: 'ms', goal: 3000 + 60, goalKind: 'max' },
      'resilience.sessions-moved-per-second': { value: moves, unit: 'ops/s' },
    };
  },
};
