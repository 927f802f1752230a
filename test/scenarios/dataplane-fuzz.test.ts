import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketBuffer } from '../../src/base/packet-buffer.js';
import { SeededRandom } from '../../src/base/random.js';
import { echoServer } from '../../src/emu/servers.js';
import { figure2 } from '../../src/emu/topologies.js';
import { IpPacket } from '../../src/wire/packet.js';

/**
 * The data plane's receive path against mutated wire packets of the kinds issue 7 added: TCP
 * segments carried as UDP past a middlebox (4.2.7), metadata after a carried TCP header, ICMP
 * error carriers (6.6), move and control packets. Each mutant is dropped with a reason or
 * forwarded; none throws, and the router still carries a session afterwards.
 */
test('fuzz: 50 000 mutated session, transformed and ICMP-carrier packets into West: never an exception, and West still works', () => {
  const f = figure2({ seed: 91, middlebox: true });
  f.net.run(5000);
  const cap = f.net.capture(f.segments.mpls);
  echoServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  c.send(new Uint8Array(20_000).fill(7));
  assert.ok(f.net.runUntil(() => c.bytesReceived === 20_000, 20_000));
  // A closed UDP port behind West: a port unreachable carried back (6.6).
  f.client.udpBind(40800).sendTo('172.15.11.20', 514, new Uint8Array(30));
  f.net.run(1000);
  const q = new IpPacket();
  const seeds = cap.packets
    .map((p) => p.data)
    .filter(
      (d) => !q.parse(d, 0, d.length) && (q.isTcp || q.isUdp) && q.srcPort !== 1280 && q.dstPort !== 1280,
    );
  assert.ok(seeds.length > 20, `${seeds.length} seed packets`);
  const west = f.west.dataPlane;
  const mplsIface = west.ctx.iface('mpls');
  const rnd = new SeededRandom(9191);
  const before = west.ctx.drops.total();
  const rx = west.ctx.stats.rx;
  for (let i = 0; i < 50_000; i++) {
    const base = seeds[rnd.u32() % seeds.length];
    let b = base.slice();
    const kind = rnd.u32() % 4;
    if (kind === 0) b = b.slice(0, 20 + (rnd.u32() % Math.max(1, b.length - 20)));
    else if (kind === 1)
      for (let k = 0; k < 1 + (rnd.u32() % 4); k++)
        b[20 + (rnd.u32() % (b.length - 20))] ^= 1 << (rnd.u32() % 8);
    else if (kind === 2) {
      // The L4 header and the bytes where a carried TCP header or metadata header sit.
      for (let k = 0; k < 1 + (rnd.u32() % 3); k++)
        b[20 + (rnd.u32() % Math.min(60, b.length - 20))] = rnd.u32() & 0xff;
    } else b[9] = rnd.u32() % 2 ? 6 : 17; // protocol swapped under the same bytes
    west.handle(PacketBuffer.from(b), mplsIface);
  }
  assert.equal(west.ctx.stats.rx - rx, 50_000, 'every mutant was taken in');
  // The rest replay a packet, or change only what svr recomputes (a UDP checksum the HMAC does
  // not cover: D-1 signs the L4 payload), and go on like the original.
  assert.ok(west.ctx.drops.total() - before > 25_000, 'most were dropped, each with a reason');
  // The router is intact: a new session end to end.
  const c2 = f.client.tcpConnect('172.15.11.23', 22);
  c2.send(new Uint8Array(5000).fill(3));
  assert.ok(f.net.runUntil(() => c2.bytesReceived === 5000, 20_000));
});
