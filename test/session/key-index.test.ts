import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KeyIndex } from '../../src/session/key-index.js';

test('key index agrees with a Map through inserts, deletes and growth', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ op: fc.constantFrom('put', 'put', 'del', 'get'), k: fc.nat({ max: 300 }) }), {
        maxLength: 600,
      }),
      (ops) => {
        const positions = new Int32Array(2000).fill(-1);
        const idx = new KeyIndex(4, 16, positions);
        const oracle = new Map<number, number>();
        const key = new Uint32Array(4);
        const setKey = (k: number) => {
          key[0] = k;
          key[1] = k * 7;
          key[2] = 0xffffffff - k;
          key[3] = k & 3;
        };
        let next = 0;
        for (const { op, k } of ops) {
          setKey(k);
          if (op === 'put') {
            const ok = idx.insert(key, 0, next);
            assert.equal(ok, !oracle.has(k));
            if (ok) oracle.set(k, next++);
          } else if (op === 'del') {
            assert.equal(idx.remove(key, 0), oracle.get(k) ?? -1);
            oracle.delete(k);
          } else {
            assert.equal(idx.find(key, 0), oracle.get(k) ?? -1);
          }
          assert.equal(idx.size, oracle.size);
        }
        // Every value's recorded position holds its key.
        const back = new Uint32Array(4);
        for (const [k, v] of oracle) {
          setKey(k);
          idx.keyAt(positions[v], back, 0);
          assert.deepEqual(back, key);
          assert.equal(idx.find(key, 0), v);
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
});

test('batched lookups return what single lookups return', () => {
  const idx = new KeyIndex(4, 64);
  const n = 5000;
  const keys = new Uint32Array(n * 4);
  for (let i = 0; i < n; i++) {
    keys.set([i, i ^ 0x5555, i * 31, 6], i * 4);
    if (i % 3 !== 0) idx.insert(keys, i * 4, i);
  }
  const out = new Int32Array(n);
  idx.findBatch(keys, n, new Int32Array(n), out);
  for (let i = 0; i < n; i++) assert.equal(out[i], i % 3 !== 0 ? i : -1);
});

test('ten-word keys (IPv6 wings) work the same way', () => {
  const idx = new KeyIndex(10, 16);
  const k = new Uint32Array(10);
  for (let i = 0; i < 1000; i++) {
    k.fill(i);
    k[9] = 6;
    assert.ok(idx.insert(k, 0, i));
  }
  for (let i = 0; i < 1000; i += 2) {
    k.fill(i);
    k[9] = 6;
    assert.equal(idx.remove(k, 0), i);
  }
  for (let i = 0; i < 1000; i++) {
    k.fill(i);
    k[9] = 6;
    assert.equal(idx.find(k, 0), i % 2 ? i : -1);
  }
});
