import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIM_EPOCH_MS, Simulator } from '../../src/emu/sim.js';
import { chain } from './helpers.js';

test('the clock starts at 2026-01-01T00:00:00Z unless told otherwise', () => {
  assert.equal(new Simulator().now(), Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(SIM_EPOCH_MS, 1767225600000);
  assert.equal(new Simulator(5000).now(), 5000);
});

test('events run in time order, equal times in scheduling order', () => {
  const sim = new Simulator(0);
  const order: string[] = [];
  sim.at(30, () => order.push('c'));
  sim.at(10, () => order.push('a1'));
  sim.at(20, () => order.push('b'));
  sim.at(10, () => order.push('a2'));
  sim.at(10, () => {
    order.push('a3');
    // Scheduled for "now" from inside an event: after everything already due now.
    sim.at(10, () => order.push('a5'));
  });
  sim.at(10, () => order.push('a4'));
  sim.run(100);
  assert.deepEqual(order, ['a1', 'a2', 'a3', 'a4', 'a5', 'b', 'c']);
  assert.equal(sim.now(), 100);
  assert.equal(sim.eventsRun, 7);
});

test('run() processes events due up to now + duration, inclusive, then sets the clock there', () => {
  const sim = new Simulator(1000);
  const seen: number[] = [];
  sim.at(1050, () => seen.push(sim.now()));
  sim.at(1100, () => seen.push(sim.now()));
  sim.at(1101, () => seen.push(sim.now()));
  sim.run(100);
  assert.deepEqual(seen, [1050, 1100]);
  assert.equal(sim.now(), 1100);
  assert.equal(sim.pending, 1);
  sim.run(1);
  assert.deepEqual(seen, [1050, 1100, 1101]);
});

test('a time in the past runs as soon as possible; cancel removes an event', () => {
  const sim = new Simulator(500);
  const seen: string[] = [];
  sim.at(100, () => seen.push(`past@${sim.now()}`));
  const h = sim.at(600, () => seen.push('cancelled'));
  sim.after(50, () => seen.push(`after@${sim.now()}`));
  sim.cancel(h);
  sim.cancel(h); // twice is harmless
  assert.equal(sim.pending, 2);
  sim.run(1000);
  assert.deepEqual(seen, ['past@500', 'after@550']);
  assert.throws(() => sim.at(Number.NaN, () => {}), TypeError);
});

test('runUntil stops at the event that makes the predicate true, or gives up at the limit', () => {
  const sim = new Simulator(0);
  let n = 0;
  for (let i = 1; i <= 10; i++) sim.at(i * 10, () => n++);
  assert.equal(
    sim.runUntil(() => n === 3, 1000),
    true,
  );
  assert.equal(sim.now(), 30);
  assert.equal(
    sim.runUntil(() => n === 99, 45),
    false,
  );
  assert.equal(sim.now(), 75);
  assert.equal(n, 7);
  assert.throws(() => {
    sim.at(80, () => sim.run(1));
    sim.run(10);
  }, /inside an event/);
});

test('an hour of virtual time with little traffic runs in well under a second', () => {
  const { net, a, b } = chain(7, { latencyMs: 5 });
  // One ping every 10 s for an hour, and a UDP datagram every minute.
  const ping = a.ping('10.0.2.10', { count: 360, intervalMs: 10_000 });
  const sock = b.udpBind(9000);
  const tx = a.udpBind(9001);
  for (let i = 0; i < 60; i++)
    net.sim.at(net.sim.now() + i * 60_000, () => tx.sendTo('10.0.2.10', 9000, new Uint8Array(20)));
  const t0 = performance.now();
  net.run(3_600_000);
  const wall = performance.now() - t0;
  assert.equal(ping.received, 360);
  assert.equal(sock.received.length, 60);
  assert.equal(net.sim.elapsedMs, 3_600_000);
  // Generous bound: typically a few tens of milliseconds (see the report); catches a clock that ticks.
  assert.ok(wall < 1000, `an idle hour took ${wall.toFixed(0)} ms of wall time`);
});

test('the same seed gives the same event trace; another seed a different one', () => {
  const trace = (seed: number): string[] => {
    const { net, a, b } = chain(seed, { latencyMs: 3, jitterMs: 4, lossRate: 0.1 });
    const out: string[] = [];
    net.sim.onEvent = (t, id) => out.push(`${t.toFixed(6)}#${id}`);
    const sink = b.udpBind(7);
    const tx = a.udpBind();
    for (let i = 0; i < 50; i++)
      net.sim.at(net.sim.now() + i, () => tx.sendTo('10.0.2.10', 7, Uint8Array.of(i)));
    a.ping('10.0.2.10', { count: 20, intervalMs: 7 });
    net.run(2000);
    out.push(`received ${sink.received.map((d) => d.data[0]).join(',')}`);
    return out;
  };
  const one = trace(42);
  assert.deepEqual(trace(42), one);
  assert.notDeepEqual(trace(43), one);
  assert.ok(one.length > 100);
});
