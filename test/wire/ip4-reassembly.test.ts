import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readU16, writeU16 } from '../../src/base/bytes.js';
import { checksum } from '../../src/wire/checksum.js';
import { fragmentIpv4 } from '../../src/wire/fragment.js';
import { type AddResult, Ipv4Reassembly, isIpv4Fragment } from '../../src/wire/ip4-reassembly.js';

/** An unfragmented IPv4/UDP-ish datagram of `payload` bytes (protocol 17, ID 0x1234). */
function datagram(payload: number, df = false): Uint8Array {
  const b = new Uint8Array(20 + payload);
  b[0] = 0x45;
  writeU16(b, 2, b.length);
  writeU16(b, 4, 0x1234);
  writeU16(b, 6, df ? 0x4000 : 0);
  b[8] = 64;
  b[9] = 17;
  b.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  for (let i = 20; i < b.length; i++) b[i] = (i * 7) & 0xff;
  writeU16(b, 10, checksum(b, 0, 20));
  return b;
}

function feed(r: Ipv4Reassembly, frags: readonly Uint8Array[], now = 0): AddResult[] {
  return frags.map((f) => r.add(f, 0, f.length, now));
}

test('6.5: fragments in any order reassemble byte-exact, with the original ID and largest fragment', () => {
  for (const size of [4000, 9000]) {
    const whole = datagram(size);
    const frags = fragmentIpv4(whole, 0, whole.length, 1500);
    assert.ok(frags && frags.length > 2);
    assert.ok(frags.every((f) => isIpv4Fragment(f, 0)));
    assert.equal(isIpv4Fragment(whole, 0), false);
    const r = new Ipv4Reassembly();
    const results = feed(r, [...frags].reverse());
    const last = results.at(-1);
    assert.ok(last && last.kind === 'complete');
    assert.ok(results.slice(0, -1).every((x) => x.kind === 'pending'));
    assert.deepEqual(last.datagram.packet, whole);
    assert.equal(last.datagram.originalId, 0x1234);
    assert.equal(last.datagram.largestFragment, 1500);
    assert.equal(r.pending, 0);
    assert.equal(r.bytes, 0);
  }
});

test('6.5: DF is kept and the header checksum is valid after reassembly', () => {
  const whole = datagram(3000, true);
  const frags = fragmentIpv4(whole, 0, whole.length, 576) ?? [];
  assert.ok(frags.length > 1 && frags.every((f) => (readU16(f, 6) & 0x4000) !== 0));
  const done = feed(new Ipv4Reassembly(), frags).at(-1);
  assert.ok(done && done.kind === 'complete');
  assert.equal(checksum(done.datagram.packet, 0, 20), 0);
  assert.equal(readU16(done.datagram.packet, 6), 0x4000);
  assert.deepEqual(done.datagram.packet, whole);
});

test('6.5: an overlapping or duplicate fragment drops the whole datagram (RFC 5722 style)', () => {
  const whole = datagram(4000);
  const frags = fragmentIpv4(whole, 0, whole.length, 1500) ?? [];
  const r = new Ipv4Reassembly();
  assert.equal(r.add(frags[0], 0, frags[0].length, 0).kind, 'pending');
  const dup = r.add(frags[0], 0, frags[0].length, 0);
  assert.deepEqual(dup, { kind: 'drop', reason: 'reassembly-overlap' });
  assert.equal(r.pending, 0);
  assert.equal(r.bytes, 0);
  // The rest can no longer complete it: the first piece is gone.
  const rest = feed(r, frags.slice(1));
  assert.ok(rest.every((x) => x.kind === 'pending'));
  assert.equal(r.drops.get('reassembly-overlap'), 1);
});

test('6.5: a datagram missing a fragment times out on the injected clock and memory returns to zero', () => {
  const whole = datagram(9000);
  const frags = fragmentIpv4(whole, 0, whole.length, 1500) ?? [];
  const r = new Ipv4Reassembly({ maxBytes: 1 << 20, maxDatagrams: 8, timeoutMs: 30_000 });
  feed(r, frags.slice(0, -1), 1000);
  assert.equal(r.pending, 1);
  assert.ok(r.bytes > 0);
  r.expire(30_999);
  assert.equal(r.pending, 1);
  r.expire(31_000);
  assert.equal(r.pending, 0);
  assert.equal(r.bytes, 0);
  assert.equal(r.drops.get('reassembly-timeout'), 1);
});

test('6.5: the memory and datagram limits drop and count', () => {
  const whole = datagram(9000);
  const frags = fragmentIpv4(whole, 0, whole.length, 1500) ?? [];
  const r = new Ipv4Reassembly({ maxBytes: 4000, maxDatagrams: 8, timeoutMs: 30_000 });
  const out = feed(r, frags);
  assert.ok(out.some((x) => x.kind === 'drop' && x.reason === 'reassembly-memory'));
  assert.ok(!out.some((x) => x.kind === 'complete'));
  assert.ok(r.bytes <= 4000);

  const one = new Ipv4Reassembly({ maxBytes: 1 << 20, maxDatagrams: 1, timeoutMs: 30_000 });
  const a = datagram(3000);
  const b = datagram(3000);
  writeU16(b, 4, 0x9999);
  const fa = fragmentIpv4(a, 0, a.length, 1500) ?? [];
  const fb = fragmentIpv4(b, 0, b.length, 1500) ?? [];
  assert.equal(one.add(fa[0], 0, fa[0].length, 0).kind, 'pending');
  assert.deepEqual(one.add(fb[0], 0, fb[0].length, 0), { kind: 'drop', reason: 'reassembly-datagrams' });
});

test('6.5: bad lengths are dropped, never thrown', () => {
  const r = new Ipv4Reassembly();
  const whole = datagram(4000);
  const frags = fragmentIpv4(whole, 0, whole.length, 1500) ?? [];
  // Truncated buffer, total length beyond it, a non-last fragment not a multiple of 8.
  assert.equal(r.add(frags[0], 0, 10, 0).kind, 'drop');
  const short = frags[0].slice(0, 100);
  assert.equal(r.add(short, 0, short.length, 0).kind, 'drop');
  const odd = frags[0].slice(0, 20 + 13);
  writeU16(odd, 2, odd.length);
  assert.equal(r.add(odd, 0, odd.length, 0).kind, 'drop');
  // Two different last fragments for one datagram.
  const last = frags.at(-1) ?? frags[0];
  const fake = last.slice();
  writeU16(fake, 6, (readU16(fake, 6) & 0x1fff) - 8);
  assert.equal(r.add(last, 0, last.length, 0).kind, 'pending');
  assert.equal(r.add(fake, 0, fake.length, 0).kind, 'drop');
  assert.ok((r.drops.get('reassembly-bad-length') ?? 0) >= 3);
  assert.equal(r.bytes, 0);
});
