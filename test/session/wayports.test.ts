import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../src/base/clock.js';
import { SeededRandom } from '../../src/base/random.js';
import { WayportAllocator, WayportPool } from '../../src/session/wayports.js';

const clock = new ManualClock(1_000_000);

test('[R-4.2.3-a] [R-4.2.3-b] the ingress allocates both ports: even local, odd remote (8000/8001 first in 8000-24000)', () => {
  const a = new WayportAllocator({ lo: 8000, hi: 24000 }, 60_000, clock, new SeededRandom(1));
  assert.equal(a.pairs, 8000);
  assert.equal(a.evenPort(0), 8000);
  assert.equal(a.oddPort(0), 8001);
  for (let i = 0; i < 100; i++) {
    const p = a.allocate();
    assert.equal(a.evenPort(p) % 2, 0);
    assert.equal(a.oddPort(p) % 2, 1);
    assert.ok(a.evenPort(p) >= 8000 && a.oddPort(p) <= 24000);
    assert.equal(a.pairOfEvenPort(a.evenPort(p)), p);
  }
  // An odd start still pairs even with odd, within the range.
  const b = new WayportAllocator({ lo: 8001, hi: 8002 }, 0, clock, new SeededRandom(1));
  assert.equal(b.pairs, 1);
  assert.deepEqual([b.evenPort(0), b.oddPort(0)], [8002, 8001]);
});

test('[R-4.2.3-c] ports in use are never handed out twice; exhaustion is a clean refusal', () => {
  const a = new WayportAllocator({ lo: 16384, hi: 16483 }, 60_000, clock, new SeededRandom(2));
  assert.equal(a.pairs, 50);
  const got = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const p = a.allocate();
    assert.ok(p >= 0 && !got.has(p));
    got.add(p);
  }
  assert.equal(a.allocate(), -1);
  assert.equal(a.inUse, 50);
});

test('[R-4.2.3-d] [R-4.2.3-e] a released pair is unallocated at once and reusable only after 60 s', () => {
  const c = new ManualClock(0);
  const a = new WayportAllocator({ lo: 20000, hi: 20003 }, 60_000, c, new SeededRandom(3));
  const p = a.allocate();
  const q = a.allocate();
  assert.equal(a.allocate(), -1);
  a.release(p);
  assert.equal(a.inUse, 1);
  assert.ok(!a.isInUse(p));
  c.advance(59_999);
  assert.equal(a.allocate(), -1, 'still in its guard time');
  c.advance(1);
  assert.equal(a.allocate(), p);
  assert.throws(() => a.release(99), RangeError);
  void q;
});

test('allocation order is shuffled by the injected random source and reproducible by seed', () => {
  const order = (seed: number) => {
    const a = new WayportAllocator({ lo: 16385, hi: 65533 }, 60_000, clock, new SeededRandom(seed));
    return Array.from({ length: 20 }, () => a.allocate());
  };
  assert.deepEqual(order(7), order(7));
  assert.notDeepEqual(order(7), order(8));
  assert.notDeepEqual(
    order(7),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test('a claimed pair (known ports, e.g. recovered state) is taken out of the free queue', () => {
  const a = new WayportAllocator({ lo: 10000, hi: 10009 }, 1000, clock, new SeededRandom(4));
  assert.ok(a.claim(3));
  assert.ok(!a.claim(3));
  const rest = Array.from({ length: 4 }, () => a.allocate());
  assert.ok(!rest.includes(3));
  assert.equal(a.allocate(), -1);
});

test('the pool keeps one allocator per peer path', () => {
  const pool = new WayportPool(
    [
      { id: 0, range: { lo: 8000, hi: 8003 } },
      { id: 1, range: { lo: 9000, hi: 9001 } },
    ],
    60,
    clock,
    new SeededRandom(5),
  );
  assert.equal(pool.allocator(0)?.pairs, 2);
  assert.equal(pool.allocator(1)?.pairs, 1);
  assert.ok(pool.allocate(1) >= 0);
  assert.equal(pool.allocate(1), -1);
  assert.equal(pool.allocate(7), -1, 'unknown path');
});
