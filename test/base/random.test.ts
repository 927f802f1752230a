import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DROP_REASON_COUNT, DROP_REASONS, DropCounters, DropReason } from '../../src/base/drop-reason.js';
import { CryptoRandom, SeededRandom } from '../../src/base/random.js';

test('a seed reproduces the same stream; different seeds differ', () => {
  const a = new SeededRandom(42);
  const b = new SeededRandom(42);
  const c = new SeededRandom(43);
  const xs = Array.from({ length: 100 }, () => a.u32());
  assert.deepEqual(
    Array.from({ length: 100 }, () => b.u32()),
    xs,
  );
  assert.notDeepEqual(
    Array.from({ length: 100 }, () => c.u32()),
    xs,
  );
  const buf1 = new Uint8Array(37);
  const buf2 = new Uint8Array(37);
  new SeededRandom(7).fill(buf1);
  new SeededRandom(7).fill(buf2);
  assert.deepEqual(buf1, buf2);
});

test('seeded output is spread evenly enough for jitter and loss decisions', () => {
  const r = new SeededRandom(1);
  const buckets = new Array<number>(16).fill(0);
  for (let i = 0; i < 16000; i++) buckets[r.u32() >>> 28]++;
  for (const n of buckets) assert.ok(n > 800 && n < 1200, `bucket ${n}`);
});

test('the pooled CSPRNG never hands out the same bytes twice', () => {
  const r = new CryptoRandom();
  const seen = new Set<string>();
  const iv = new Uint8Array(16);
  for (let i = 0; i < 1000; i++) {
    r.fill(iv);
    const k = Buffer.from(iv).toString('hex');
    assert.ok(!seen.has(k));
    seen.add(k);
  }
  const big = new Uint8Array(10000);
  r.fill(big);
  assert.ok(big.some((x) => x !== 0));
});

test('every drop reason has a code, a draft section and text; counters count per reason', () => {
  assert.equal(DROP_REASONS.length, DROP_REASON_COUNT);
  const codes = new Set<string>();
  for (const [i, info] of DROP_REASONS.entries()) {
    assert.match(info.code, /^[a-z0-9-]+$/, `reason ${i}`);
    assert.ok(info.text.length > 0 && info.section.length > 0);
    assert.ok(!codes.has(info.code), `duplicate code ${info.code}`);
    codes.add(info.code);
  }
  // The enum and the table must line up: the last enum member indexes the last row.
  assert.equal(DROP_REASONS[DropReason.MetadataNotPresent].code, 'metadata-not-present');
  assert.equal(DROP_REASONS[DropReason.HmacMismatch].code, 'hmac-mismatch');
  const c = new DropCounters();
  c.add(DropReason.HmacMismatch);
  c.add(DropReason.HmacMismatch);
  c.add(DropReason.Ipv4Truncated);
  assert.equal(c.get(DropReason.HmacMismatch), 2);
  assert.equal(c.total(), 3);
  assert.deepEqual(c.snapshot(), { 'ipv4-truncated': 1, 'hmac-mismatch': 2 });
});
