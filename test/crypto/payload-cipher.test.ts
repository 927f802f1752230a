import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeededRandom } from '../../src/base/random.js';
import { PayloadCipher } from '../../src/crypto/payload-cipher.js';

const rnd = new SeededRandom(7);

test('D-9: IV || AES-CBC of payload + padding; every length 0-64 round-trips, and the wire length is as sealedLength says', () => {
  for (const bits of [16, 32]) {
    const key = new Uint8Array(bits).map((_, i) => i * 7);
    const c = new PayloadCipher(key);
    for (let n = 0; n <= 64; n++) {
      const plain = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      const sealed = c.seal(plain, rnd);
      assert.equal(sealed.length, PayloadCipher.sealedLength(n));
      assert.equal(sealed.length % 16, 0);
      assert.deepEqual(c.open(sealed), plain, `${bits * 8} bits, ${n} bytes`);
    }
  }
});

test('D-9 padding: a multiple of 16 gets a whole block of zeros; otherwise 1-15 bytes holding the pad length', () => {
  assert.equal(PayloadCipher.sealedLength(16), 16 + 32);
  assert.equal(PayloadCipher.sealedLength(17), 16 + 32);
  assert.equal(PayloadCipher.sealedLength(31), 16 + 32);
  assert.equal(PayloadCipher.sealedLength(0), 16 + 16);
});

test('D-9: a wrong key, a changed byte, or a bad length is refused rather than opened to garbage (almost always: CBC has no integrity of its own)', () => {
  const a = new PayloadCipher(new Uint8Array(32).fill(1));
  const b = new PayloadCipher(new Uint8Array(32).fill(2));
  const plain = new Uint8Array(100).fill(0x41);
  const sealed = a.seal(plain, rnd);
  assert.equal(b.open(sealed), undefined, 'another key');
  const bad = sealed.slice();
  bad[bad.length - 1] ^= 0x5a;
  assert.equal(a.open(bad), undefined, 'last block altered');
  assert.equal(a.open(sealed.subarray(0, sealed.length - 1)), undefined, 'not whole blocks');
  assert.equal(a.open(sealed.subarray(0, 16)), undefined, 'an IV alone');
});

test('7.4.15: TLV 45 carries the key as a PEM-style block, read back the same; anything else is refused', () => {
  const c = new PayloadCipher(new Uint8Array(16).map((_, i) => i));
  const pem = c.toPem();
  assert.match(pem, /^-----BEGIN SVR SESSION KEY-----\n[A-Za-z0-9+/=]+\n-----END SVR SESSION KEY-----\n$/);
  assert.deepEqual(PayloadCipher.fromPem(pem)?.key, c.key);
  assert.equal(PayloadCipher.fromPem('not a key'), undefined);
  assert.equal(
    PayloadCipher.fromPem('-----BEGIN SVR SESSION KEY-----\nAAAA\n-----END SVR SESSION KEY-----\n'),
    undefined,
  );
});
