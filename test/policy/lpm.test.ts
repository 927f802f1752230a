import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIp } from '../../src/base/address.js';
import { readU32, toHex } from '../../src/base/bytes.js';
import { addressBytes, type Prefix, parsePrefix, prefixContains, prefixOf } from '../../src/base/prefix.js';
import { SeededRandom } from '../../src/base/random.js';
import { LpmTable } from '../../src/policy/lpm.js';

const pfx = (s: string): Prefix => {
  const p = parsePrefix(s);
  if (typeof p === 'string') throw new Error(p);
  return p;
};
const ip = (s: string): Uint8Array => {
  const a = parseIp(s);
  if (!a) throw new Error(`bad address ${s}`);
  return addressBytes(a);
};
const u32 = (s: string): number => readU32(ip(s), 0);

/** Prefix texts from a lookup out through its parents. */
function chain<T>(t: LpmTable<T>, addr: Uint8Array): string[] {
  const out: string[] = [];
  for (let e = t.lookup(addr); e >= 0; e = t.parent(e)) out.push(t.prefix(e).text);
  return out;
}

function table(...texts: string[]): LpmTable<string> {
  const t = new LpmTable<string>();
  for (const s of texts) t.add(pfx(s), s);
  t.build();
  return t;
}

test('nested prefixes: the longest wins and parents step out one level at a time', () => {
  const t = table('10.1.2.0/24', '10.0.0.0/8', '10.1.0.0/16');
  const e24 = t.lookupV4(u32('10.1.2.3'));
  assert.equal(t.prefix(e24).text, '10.1.2.0/24');
  const e16 = t.parent(e24);
  assert.equal(t.prefix(e16).text, '10.1.0.0/16');
  const e8 = t.parent(e16);
  assert.equal(t.prefix(e8).text, '10.0.0.0/8');
  assert.equal(t.parent(e8), -1);
  assert.deepEqual(chain(t, ip('10.1.2.255')), ['10.1.2.0/24', '10.1.0.0/16', '10.0.0.0/8']);
  assert.deepEqual(chain(t, ip('10.1.3.0')), ['10.1.0.0/16', '10.0.0.0/8']);
  assert.deepEqual(chain(t, ip('10.1.1.255')), ['10.1.0.0/16', '10.0.0.0/8']);
  assert.deepEqual(chain(t, ip('10.255.255.255')), ['10.0.0.0/8']);
  assert.deepEqual(chain(t, ip('10.0.0.0')), ['10.0.0.0/8']);
  assert.deepEqual(chain(t, ip('11.0.0.0')), []);
  assert.deepEqual(chain(t, ip('9.255.255.255')), []);
  assert.equal(t.size, 3);
});

test('a /0 covers its whole family, a /32 or /128 only its one address', () => {
  const t = table(
    '0.0.0.0/0',
    '1.2.3.4/32',
    '255.255.255.255/32',
    '0.0.0.0/32',
    '::/0',
    '::1/128',
    'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128',
  );
  assert.deepEqual(chain(t, ip('1.2.3.4')), ['1.2.3.4/32', '0.0.0.0/0']);
  assert.deepEqual(chain(t, ip('1.2.3.5')), ['0.0.0.0/0']);
  assert.deepEqual(chain(t, ip('1.2.3.3')), ['0.0.0.0/0']);
  assert.deepEqual(chain(t, ip('0.0.0.0')), ['0.0.0.0/32', '0.0.0.0/0']);
  assert.deepEqual(chain(t, ip('0.0.0.1')), ['0.0.0.0/0']);
  assert.deepEqual(chain(t, ip('255.255.255.255')), ['255.255.255.255/32', '0.0.0.0/0']);
  assert.deepEqual(chain(t, ip('255.255.255.254')), ['0.0.0.0/0']);
  assert.deepEqual(chain(t, ip('::1')), ['::1/128', '::/0']);
  assert.deepEqual(chain(t, ip('::')), ['::/0']);
  assert.deepEqual(chain(t, ip('::2')), ['::/0']);
  assert.deepEqual(chain(t, ip('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')), [
    'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128',
    '::/0',
  ]);
  assert.deepEqual(chain(t, ip('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe')), ['::/0']);
  // Only a /0: one interval, no search.
  const all = table('0.0.0.0/0');
  assert.deepEqual(chain(all, ip('0.0.0.0')), ['0.0.0.0/0']);
  assert.deepEqual(chain(all, ip('128.0.0.0')), ['0.0.0.0/0']);
  assert.deepEqual(chain(all, ip('255.255.255.255')), ['0.0.0.0/0']);
});

test('adjacent halves and a covering prefix switch exactly at their boundaries', () => {
  const t = table('10.0.0.0/25', '10.0.0.128/25', '10.0.0.0/24', '10.0.1.0/24', '10.0.0.64/26');
  assert.deepEqual(chain(t, ip('10.0.0.0')), ['10.0.0.0/25', '10.0.0.0/24']);
  assert.deepEqual(chain(t, ip('10.0.0.63')), ['10.0.0.0/25', '10.0.0.0/24']);
  assert.deepEqual(chain(t, ip('10.0.0.64')), ['10.0.0.64/26', '10.0.0.0/25', '10.0.0.0/24']);
  assert.deepEqual(chain(t, ip('10.0.0.127')), ['10.0.0.64/26', '10.0.0.0/25', '10.0.0.0/24']);
  assert.deepEqual(chain(t, ip('10.0.0.128')), ['10.0.0.128/25', '10.0.0.0/24']);
  assert.deepEqual(chain(t, ip('10.0.0.255')), ['10.0.0.128/25', '10.0.0.0/24']);
  assert.deepEqual(chain(t, ip('10.0.1.0')), ['10.0.1.0/24']);
  assert.deepEqual(chain(t, ip('10.0.1.255')), ['10.0.1.0/24']);
  assert.deepEqual(chain(t, ip('10.0.2.0')), []);
  assert.deepEqual(chain(t, ip('9.255.255.255')), []);
});

test('addresses below the first and above the last prefix find nothing', () => {
  const t = table('10.0.0.0/8', '20.0.0.0/8', '2001:db8::/32', '2001:db9::/48');
  for (const a of ['0.0.0.0', '9.255.255.255', '11.0.0.0', '15.1.2.3', '21.0.0.0', '255.255.255.255'])
    assert.equal(t.lookup(ip(a)), -1, a);
  assert.deepEqual(chain(t, ip('20.255.255.255')), ['20.0.0.0/8']);
  for (const a of ['::', '2001:db7:ffff::', '2001:db9:1::', '2001:dba::', 'ffff::1'])
    assert.equal(t.lookup(ip(a)), -1, a);
  assert.deepEqual(chain(t, ip('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')), ['2001:db8::/32']);
  assert.deepEqual(chain(t, ip('2001:db9::1')), ['2001:db9::/48']);
});

test('IPv4 and IPv6 prefixes share a table but never match or parent each other', () => {
  const t = table('0.0.0.0/0', '::/0', '10.0.0.0/8', '::ffff:0:0/96', '::a00:0/104');
  assert.deepEqual(chain(t, ip('10.0.0.1')), ['10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(chain(t, ip('::ffff:10.0.0.1')), ['::ffff:0:0/96', '::/0']);
  assert.deepEqual(chain(t, ip('::10.0.0.1')), ['::a00:0/104', '::/0']);
  const only6 = table('::/0');
  assert.equal(only6.lookupV4(u32('10.0.0.1')), -1);
  assert.equal(only6.lookupV4(0), -1);
  const only4 = table('0.0.0.0/0');
  assert.equal(only4.lookup(ip('::')), -1);
  assert.equal(only4.lookup(new Uint8Array(5)), -1, 'neither family');
  const empty = table();
  assert.equal(empty.size, 0);
  assert.equal(empty.lookupV4(0x0a000001), -1);
  assert.equal(empty.lookup(ip('2001:db8::1')), -1);
  assert.deepEqual(empty.entries(), []);
});

test('IPv6 lookups read the address at the given offset', () => {
  const t = table('2001:db8::/32', '2001:db8:1::/48');
  const buf = new Uint8Array(40);
  buf.set(ip('2001:db8:1::5'), 24);
  assert.equal(t.prefix(t.lookupV6(buf, 24)).text, '2001:db8:1::/48');
  buf.set(ip('2001:db8:2::5'), 3);
  assert.equal(t.prefix(t.lookupV6(buf, 3)).text, '2001:db8::/32');
});

test('adding a prefix again appends its values in order and keeps one entry', () => {
  const t = new LpmTable<number>();
  t.add(pfx('10.0.0.0/8'), 1);
  t.add(pfx('10.1.0.0/16'), 2);
  t.add(pfx('10.0.0.0/8'), 3);
  // Host bits set are cleared rather than making a second entry.
  t.add({ family: 4, bytes: Uint8Array.of(10, 9, 9, 9), length: 8, text: '10.9.9.9/8' }, 4);
  t.build();
  assert.equal(t.size, 2);
  const e = t.lookupV4(u32('10.2.0.0'));
  assert.deepEqual(t.values(e), [1, 3, 4]);
  assert.equal(t.prefix(e).text, '10.0.0.0/8');
  assert.deepEqual(t.values(t.lookupV4(u32('10.1.0.0'))), [2]);
});

test('more adds after a build need a rebuild, which keeps earlier values first', () => {
  const t = new LpmTable<string>();
  t.add(pfx('10.0.0.0/8'), 'a');
  t.add(pfx('2001:db8::/32'), 'v6');
  t.build();
  assert.deepEqual(chain(t, ip('10.1.2.3')), ['10.0.0.0/8']);
  t.add(pfx('10.1.0.0/16'), 'b');
  t.add(pfx('10.0.0.0/8'), 'c');
  t.add(pfx('0.0.0.0/0'), 'd');
  assert.throws(() => t.lookupV4(0), /build/);
  assert.throws(() => t.size, /build/);
  t.build();
  t.build(); // a second build with nothing new changes nothing
  assert.equal(t.size, 4);
  assert.deepEqual(chain(t, ip('10.1.2.3')), ['10.1.0.0/16', '10.0.0.0/8', '0.0.0.0/0']);
  assert.deepEqual(t.values(t.lookup(ip('10.2.0.0'))), ['a', 'c']);
  assert.deepEqual(chain(t, ip('2001:db8::1')), ['2001:db8::/32']);
  assert.deepEqual(t.values(t.lookup(ip('2001:db8::1'))), ['v6']);
});

test('entries list IPv4 before IPv6, then by address, then shorter first', () => {
  const t = table('2001:db8::/32', '10.1.0.0/16', '::/0', '10.0.0.0/8', '9.0.0.0/8', '10.0.0.0/16');
  assert.deepEqual(
    t.entries().map((e) => t.prefix(e).text),
    ['9.0.0.0/8', '10.0.0.0/8', '10.0.0.0/16', '10.1.0.0/16', '::/0', '2001:db8::/32'],
  );
});

test('a prefix whose family, size and length disagree is refused', () => {
  const t = new LpmTable<number>();
  assert.throws(() => t.add({ family: 4, bytes: new Uint8Array(16), length: 8, text: 'x' }, 0), RangeError);
  assert.throws(() => t.add({ family: 6, bytes: new Uint8Array(16), length: 129, text: 'x' }, 0), RangeError);
  assert.throws(() => t.add({ family: 4, bytes: new Uint8Array(4), length: -1, text: 'x' }, 0), RangeError);
});

// ---- Property tests against a brute-force oracle ----

const BASES4 = [0x0a000000, 0x0a010200, 0xc0a80000, 0, 0xffffffff, 0x80000000];
const BASES6 = ['::', '2001:db8::', '2001:db8:1::', 'fe80::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'].map(
  ip,
);

/** `keep` leading bits from base, the rest from r: addresses that share prefixes, so prefixes nest. */
function blend(base: Uint8Array, keep: number, r: Uint8Array): Uint8Array {
  const out = new Uint8Array(base.length);
  for (let i = 0; i < base.length; i++) {
    const bits = Math.max(0, Math.min(8, keep - 8 * i));
    const m = (0xff << (8 - bits)) & 0xff;
    out[i] = (base[i] & m) | (r[i] & ~m);
  }
  return out;
}

const arbV4 = fc
  .tuple(
    fc.constantFrom(...BASES4),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 0xffffffff }),
    fc.integer({ min: 0, max: 32 }),
  )
  .map(([b, keep, r, len]) => {
    const be = (x: number) => Uint8Array.of(x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
    return prefixOf(blend(be(b), keep, be(r)), len);
  });
const arbV6 = fc
  .tuple(
    fc.constantFrom(...BASES6),
    fc.integer({ min: 0, max: 128 }),
    fc.uint8Array({ minLength: 16, maxLength: 16 }),
    fc.oneof(fc.integer({ min: 0, max: 128 }), fc.integer({ min: 28, max: 68 })),
  )
  .map(([b, keep, r, len]) => prefixOf(blend(b, keep, r), len));

const key = (p: Prefix) => `${toHex(p.bytes)}/${p.length}`;

/** Addresses to probe: uniform, inside a prefix, and at and around prefix edges. */
function probes(prefixes: Prefix[], seed: number, count: number): Uint8Array[] {
  const rnd = new SeededRandom(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const kind = rnd.u32() % 4;
    const fam = rnd.u32() % 2 === 0 ? 4 : 16;
    const r = new Uint8Array(fam);
    rnd.fill(r);
    if (kind === 0 || prefixes.length === 0) {
      out.push(r);
      continue;
    }
    const p = prefixes[rnd.u32() % prefixes.length];
    const host = new Uint8Array(p.bytes.length);
    if (rnd.u32() % 2 === 0) rnd.fill(host);
    const inside = blend(p.bytes, p.length, host);
    if (kind === 1) out.push(inside);
    else {
      // The prefix's first or last address, or one step outside it.
      const edge =
        kind === 2 ? p.bytes.slice() : blend(p.bytes, p.length, new Uint8Array(p.bytes.length).fill(255));
      const step = rnd.u32() % 2 === 0 ? 0 : kind === 2 ? -1 : 1;
      for (let j = edge.length - 1; j >= 0 && step !== 0; j--) {
        edge[j] = (edge[j] + step) & 255;
        if (edge[j] !== (step > 0 ? 0 : 255)) break;
      }
      out.push(edge);
    }
  }
  return out;
}

test('lookups and parent chains agree with a brute-force scan on random IPv4/IPv6 tables', () => {
  fc.assert(
    fc.property(
      // Mostly small tables (where edge cases are dense) and some of up to 300 prefixes.
      fc.oneof(
        fc.array(fc.oneof(arbV4, arbV6), { maxLength: 300 }),
        fc.array(fc.oneof(arbV4, arbV6), { maxLength: 300, size: 'large' }),
      ),
      fc.integer({ min: 0, max: 0x7fffffff }),
      (added, seed) => {
        const t = new LpmTable<number>();
        const byKey = new Map<string, { p: Prefix; values: number[] }>();
        added.forEach((p, i) => {
          t.add(p, i);
          const k = key(p);
          const o = byKey.get(k) ?? { p, values: [] };
          o.values.push(i);
          byKey.set(k, o);
        });
        t.build();
        const distinct = [...byKey.values()];
        assert.equal(t.size, distinct.length);
        // Entries: each distinct prefix once, with its values in order, in display order.
        const sorted = distinct
          .map((d) => d.p)
          .sort((a, b) => a.family - b.family || Buffer.compare(a.bytes, b.bytes) || a.length - b.length);
        assert.deepEqual(
          t.entries().map((e) => key(t.prefix(e))),
          sorted.map(key),
        );
        for (const e of t.entries()) assert.deepEqual(t.values(e), byKey.get(key(t.prefix(e)))?.values);

        for (const a of probes(sorted, seed, 250)) {
          const want = sorted
            .filter((p) => prefixContains(p, a))
            .sort((x, y) => y.length - x.length)
            .map(key);
          const got: string[] = [];
          for (let e = t.lookup(a); e >= 0; e = t.parent(e)) got.push(key(t.prefix(e)));
          assert.deepEqual(got, want, `address ${toHex(a)}`);
          if (a.length === 4) assert.equal(t.lookupV4(readU32(a, 0)), t.lookup(a));
        }
      },
    ),
    { numRuns: 200 },
  );
});

/** Oracle for big tables: one Set per length, probed longest first. */
function byLengthOracle(prefixes: Prefix[]): (a: Uint8Array) => string | undefined {
  const sets = new Map<number, Set<string>>();
  for (const p of prefixes) {
    const s = sets.get(p.length) ?? new Set<string>();
    s.add(key(p));
    sets.set(p.length, s);
  }
  const lengths = [...sets.keys()].sort((a, b) => b - a);
  return (a) => {
    for (const l of lengths) {
      if (l > a.length * 8) continue;
      const k = `${toHex(blend(a, l, new Uint8Array(a.length)))}/${l}`;
      if (sets.get(l)?.has(k)) return k;
    }
    return undefined;
  };
}

test('large tables with a full bucket index match a per-length oracle, inside and outside a shared prefix', () => {
  const rnd = new SeededRandom(7);
  const cases: [string, () => Prefix][] = [
    [
      'random IPv4 /8-/32',
      () => {
        const b = new Uint8Array(4);
        rnd.fill(b);
        return prefixOf(b, 8 + (rnd.u32() % 25));
      },
    ],
    [
      'IPv4 inside 10.0.0.0/8',
      () => {
        const b = new Uint8Array(4);
        rnd.fill(b);
        b[0] = 10;
        return prefixOf(b, 12 + (rnd.u32() % 21));
      },
    ],
    [
      'IPv6 inside 2001:db8::/32',
      () => {
        const b = new Uint8Array(16);
        rnd.fill(b);
        b.set(ip('2001:db8::').subarray(0, 4));
        return prefixOf(b, 36 + (rnd.u32() % 93));
      },
    ],
    [
      'IPv6 anywhere',
      () => {
        const b = new Uint8Array(16);
        rnd.fill(b);
        return prefixOf(b, 16 + (rnd.u32() % 49));
      },
    ],
  ];
  for (const [name, gen] of cases) {
    const t = new LpmTable<number>();
    const ps: Prefix[] = [];
    for (let i = 0; i < 20_000; i++) {
      const p = gen();
      ps.push(p);
      t.add(p, i);
    }
    t.build();
    const oracle = byLengthOracle(ps);
    let hits = 0;
    for (const a of probes(ps, 11, 8_000)) {
      const e = t.lookup(a);
      const want = oracle(a);
      assert.equal(e >= 0 ? key(t.prefix(e)) : undefined, want, `${name}: ${toHex(a)}`);
      if (want !== undefined) hits++;
    }
    assert.ok(hits > 2_000, `${name}: probes should often hit (${hits})`);
  }
});
