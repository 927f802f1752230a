import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ipv4ToString, ipv6ToString, parseIp, parseIpv4, parseIpv6 } from '../../src/base/address.js';
import { parseHex, toHex } from '../../src/base/bytes.js';

test('IPv4 text and numbers convert both ways', () => {
  assert.equal(parseIpv4('203.0.113.89'), 0xcb007159);
  assert.equal(ipv4ToString(0xcb007159), '203.0.113.89');
  assert.equal(parseIpv4('0.0.0.0'), 0);
  assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', 'a.b.c.d', '', '1..2.3'])
    assert.equal(parseIpv4(bad), undefined, bad);
  fc.assert(fc.property(fc.nat({ max: 0xffffffff }), (n) => parseIpv4(ipv4ToString(n)) === n));
});

test('IPv6 text follows RFC 5952 and parses every legal form', () => {
  const cases: [string, string][] = [
    ['2001:db8::1', '20010db8000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['fe80::1:2', 'fe800000000000000000000000010002'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
  ];
  for (const [text, h] of cases) {
    const b = parseIpv6(text);
    assert.ok(b, text);
    assert.equal(toHex(b), h, text);
  }
  // RFC 5952 4.2.3: the first of two equal longest runs is shortened; 4.2.2: one zero group is not.
  assert.equal(ipv6ToString(parseHex('20010db8000000000001000000000001') as Uint8Array), '2001:db8::1:0:0:1');
  assert.equal(
    ipv6ToString(parseHex('20010db8000000010001000100010001') as Uint8Array),
    '2001:db8:0:1:1:1:1:1',
  );
  for (const bad of ['1::2::3', ':::', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7', '::1.2.3'])
    assert.equal(parseIpv6(bad), undefined, bad);
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      (b) => toHex(parseIpv6(ipv6ToString(b)) ?? new Uint8Array()) === toHex(b),
    ),
  );
});

test('parseIp picks the family', () => {
  assert.deepEqual(parseIp('192.0.2.1'), { version: 4, v4: 0xc0000201 });
  assert.equal(parseIp('2001:db8::1')?.version, 6);
  assert.equal(parseIp('nope'), undefined);
});

test('hex parsing reports what is wrong instead of throwing', () => {
  assert.equal(parseHex('0x0a:0B 0c') instanceof Uint8Array, true);
  assert.equal(toHex(parseHex('0x0a:0B 0c') as Uint8Array), '0a0b0c');
  assert.match(String(parseHex('abc')), /odd number/);
  assert.match(String(parseHex('zz')), /not a hex digit/);
  assert.match(String(parseHex('')), /empty/);
});
