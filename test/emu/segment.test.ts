import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/base/random.js';
import { toAddress } from '../../src/emu/addresses.js';
import { Network } from '../../src/emu/network.js';
import { Segment, type SegmentPort } from '../../src/emu/segment.js';
import { Simulator } from '../../src/emu/sim.js';
import { buildPacket } from '../../src/wire/builder.js';
import { chain, pattern } from './helpers.js';

const A = toAddress('10.0.0.1');
const B = toAddress('10.0.0.2');

function udp(dst: string, size = 0): Uint8Array {
  return buildPacket({
    src: '10.0.0.1',
    dst,
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
    payload: new Uint8Array(size),
  });
}

/** A segment with two raw attachments recording arrival times. */
function pair(props: ConstructorParameters<typeof Segment>[3] = {}, seed = 1) {
  const sim = new Simulator(0);
  const seg = new Segment('s', sim, new SeededRandom(seed), props);
  const got: { t: number; frame: Uint8Array }[] = [];
  const pa: SegmentPort = seg.attach({ name: 'a', addresses: [A], receive: () => {} });
  seg.attach({ name: 'b', addresses: [B], receive: (frame) => got.push({ t: sim.now(), frame }) });
  return { sim, seg, pa, got };
}

test('latency delays every frame; bytes are copied onto the wire', () => {
  const { sim, pa, got, seg } = pair({ latencyMs: 20 });
  const f = udp('10.0.0.2', 10);
  assert.equal(pa.send(f, undefined), true);
  f[30] = 0xee; // the sender reuses its buffer: the receiver must not see it
  sim.run(19);
  assert.equal(got.length, 0);
  sim.run(1);
  assert.equal(got.length, 1);
  assert.equal(got[0].t, 20);
  assert.equal(got[0].frame[30], 0);
  assert.notEqual(got[0].frame.buffer, f.buffer);
  assert.deepEqual(seg.counters.snapshot(), { bytes: f.length, delivered: 1, sent: 1 });
});

test('jitter is uniform in [0, jitter) and reorders frames; loss drops about lossRate', () => {
  const { sim, pa, got, seg } = pair({ latencyMs: 10, jitterMs: 5, lossRate: 0.2 }, 3);
  for (let i = 0; i < 2000; i++) {
    const f = udp('10.0.0.2', 2);
    f[29] = i & 0xff;
    f[28] = i >> 8;
    pa.send(f, undefined);
  }
  sim.run(100);
  const lost = seg.counters.get('dropped:loss');
  assert.equal(got.length + lost, 2000);
  assert.ok(lost > 330 && lost < 470, `lost ${lost} of 2000 at 20%`);
  for (const g of got) assert.ok(g.t >= 10 && g.t < 15, `arrival at ${g.t}`);
  const order = got.map((g) => (g.frame[28] << 8) | g.frame[29]);
  assert.notDeepEqual(
    order,
    [...order].sort((x, y) => x - y),
    'jitter should reorder frames sent at the same instant',
  );
});

test('bandwidth serializes frames one after another and drops the tail of a full queue', () => {
  // 1000-byte frames at 8 Mbit/s: 1 ms each.
  const { sim, pa, got, seg } = pair({ bandwidthBps: 8_000_000, latencyMs: 2, queueLimit: 5 });
  for (let i = 0; i < 8; i++) pa.send(udp('10.0.0.2', 1000 - 28), undefined);
  sim.run(50);
  assert.deepEqual(
    got.map((g) => g.t),
    [3, 4, 5, 6, 7],
  );
  assert.equal(seg.counters.get('dropped:queue-full'), 3);
  // Once the queue drained there is room again.
  pa.send(udp('10.0.0.2', 1000 - 28), undefined);
  sim.run(50);
  assert.equal(got.length, 6);
  assert.equal(got[5].t, 53);
});

test('frames above the MTU are dropped and counted; the MTU can change at run time', () => {
  const { sim, pa, got, seg } = pair({ mtu: 1000 });
  assert.equal(pa.send(udp('10.0.0.2', 1000), undefined), false);
  assert.equal(pa.send(udp('10.0.0.2', 1000 - 28), undefined), true);
  seg.set({ mtu: 1500 });
  assert.equal(pa.send(udp('10.0.0.2', 1000), undefined), true);
  sim.run(1);
  assert.equal(got.length, 2);
  assert.equal(seg.counters.get('dropped:mtu'), 1);
});

test('delivery goes to the next hop named, or the destination; nobody there is a counted drop', () => {
  const { sim, pa, got, seg } = pair();
  pa.send(udp('192.0.2.99'), B); // via B as gateway
  pa.send(udp('10.0.0.2'), undefined);
  pa.send(udp('10.0.0.3'), undefined);
  sim.run(1);
  assert.equal(got.length, 2);
  assert.equal(seg.counters.get('dropped:no-neighbor'), 1);
  assert.throws(() => seg.attach({ name: 'dup', addresses: [B], receive: () => {} }), /both/);
});

test('a link that goes down drops everything, frames in flight too; up restores traffic', () => {
  const { net, a, b, links } = chain(5, { latencyMs: 10 });
  const sock = b.udpBind(5000);
  const tx = a.udpBind();
  tx.sendTo('10.0.2.10', 5000, Uint8Array.of(1));
  net.run(15); // crossed the first link, in flight on the second
  links[1].set({ up: false });
  net.run(100);
  tx.sendTo('10.0.2.10', 5000, Uint8Array.of(2));
  const ping = a.ping('10.0.2.10', { count: 3, intervalMs: 100 });
  net.run(1000);
  assert.equal(sock.received.length, 0);
  assert.equal(ping.received, 0);
  assert.equal(links[1].counters.get('dropped:down'), 5);
  links[1].set({ up: true });
  tx.sendTo('10.0.2.10', 5000, Uint8Array.of(3));
  const again = a.ping('10.0.2.10', { count: 3, intervalMs: 100 });
  net.run(1000);
  assert.deepEqual(
    sock.received.map((d) => d.data[0]),
    [3],
  );
  assert.equal(again.received, 3);
});

test('VLANs separate traffic on one segment; the same address may exist on two VLANs', () => {
  const net = new Network({ seed: 1 });
  const lan = net.segment('trunk', { latencyMs: 1 });
  const red1 = net.host('red1', { interfaces: [{ segment: lan, vlan: 10, address: '10.9.0.1/24' }] });
  const red2 = net.host('red2', { interfaces: [{ segment: lan, vlan: 10, address: '10.9.0.2/24' }] });
  const blue1 = net.host('blue1', { interfaces: [{ segment: lan, vlan: 20, address: '10.9.0.1/24' }] });
  const blue3 = net.host('blue3', { interfaces: [{ segment: lan, vlan: 20, address: '10.9.0.3/24' }] });
  const redPing = red1.ping('10.9.0.2', { count: 2 });
  const crossPing = red1.ping('10.9.0.3', { count: 2 });
  const bluePing = blue3.ping('10.9.0.1', { count: 2 });
  const cap10 = net.capture(lan, { vlan: 10 });
  net.run(5000);
  assert.equal(redPing.received, 2);
  assert.equal(crossPing.received, 0, 'red cannot reach a blue address');
  assert.equal(bluePing.received, 2, 'blue 10.9.0.1 answers blue, not red');
  assert.equal(blue1.counters.get('icmp-echo-answered'), 2);
  assert.equal(red1.counters.get('icmp-echo-answered'), 0);
  assert.equal(red2.counters.get('icmp-echo-answered'), 2);
  assert.equal(lan.counters.get('dropped:no-neighbor'), 2);
  assert.ok(cap10.packets.every((p) => p.vlan === 10));
  assert.equal(cap10.count, 4);
});

test('segment properties are validated', () => {
  const seg = new Segment('x', new Simulator(0), new SeededRandom(1));
  assert.throws(() => seg.set({ lossRate: 1.5 }), RangeError);
  assert.throws(() => seg.set({ latencyMs: -1 }), RangeError);
  assert.throws(() => seg.attach({ name: 'v', vlan: 5000, addresses: [], receive: () => {} }), RangeError);
  assert.equal(pattern(4, 1).length, 4);
});
