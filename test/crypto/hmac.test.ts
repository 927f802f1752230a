import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { toHex, writeU64 } from '../../src/base/bytes.js';
import {
  HMAC_SIGNATURE_LENGTH,
  HmacKey,
  hmacWindow,
  verifyInWindows,
  WindowTracker,
} from '../../src/crypto/hmac.js';
import { hex } from '../../testlib/packets.js';

function sig(key: HmacKey, data: Uint8Array, window?: number): Uint8Array {
  const out = new Uint8Array(key.length);
  key.sign(data, 0, data.length, window, out, 0);
  return out;
}

test('RFC 4231 test case 2 (HMAC-SHA256) and RFC 2202 test case 2 (HMAC-SHA1)', () => {
  const data = new TextEncoder().encode('what do ya want for nothing?');
  const key = new TextEncoder().encode('Jefe');
  assert.equal(
    toHex(sig(new HmacKey('sha256', key), data)),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
  );
  assert.equal(toHex(sig(new HmacKey('sha1', key), data)), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  // RFC 4231 test case 6: a key longer than the block is hashed first.
  const longKey = new Uint8Array(131).fill(0xaa);
  const msg = new TextEncoder().encode('Test Using Larger Than Block-Size Key - Hash Key First');
  assert.equal(
    toHex(sig(new HmacKey('sha256', longKey), msg)),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
  );
});

test('[D-2] sha1 is 20 bytes, sha256-128 the leftmost 16 bytes of HMAC-SHA256, sha256 32 bytes', () => {
  assert.deepEqual(HMAC_SIGNATURE_LENGTH, { sha1: 20, 'sha256-128': 16, sha256: 32 });
  const key = hex('0b'.repeat(20));
  const data = new TextEncoder().encode('Hi There');
  const full = createHmac('sha256', key).update(data).digest();
  assert.deepEqual(Buffer.from(sig(new HmacKey('sha256-128', key), data)), full.subarray(0, 16));
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 100 }),
      fc.uint8Array({ maxLength: 3000 }),
      (k, d) => {
        const ref = createHmac('sha256', k).update(d).digest();
        return Buffer.from(sig(new HmacKey('sha256', k), d)).equals(ref);
      },
    ),
    { numRuns: 200 },
  );
});

test('[R-4.5.1-g] [D-1] time-based HMAC signs the data followed by floor(unix seconds / 2) as 8 bytes big-endian', () => {
  const key = new HmacKey('sha256-128', hex('00112233'));
  const data = new TextEncoder().encode('metadata and payload');
  const nowMs = 1_767_225_601_999;
  const w = hmacWindow(nowMs);
  assert.equal(w, Math.floor(1_767_225_601 / 2));
  const withWindow = new Uint8Array(data.length + 8);
  withWindow.set(data);
  writeU64(withWindow, data.length, w);
  const ref = createHmac('sha256', hex('00112233')).update(withWindow).digest().subarray(0, 16);
  assert.deepEqual(Buffer.from(sig(key, data, w)), ref);
});

test('[R-4.5.2-f] [D-2] verification tries the current window, then +1, then -1, and remembers the peer offset', () => {
  const key = new HmacKey('sha256-128', hex('aa55'));
  const data = new TextEncoder().encode('x');
  const now = 1000;
  const tracker = new WindowTracker();
  for (const [senderWindow, expected] of [
    [1000, 0],
    [1001, 1],
    [999, -1],
  ] as const) {
    const s = sig(key, data, senderWindow);
    assert.equal(verifyInWindows(key, data, 0, data.length, s, 0, now, tracker), expected);
    assert.equal(tracker.offset, expected);
  }
  // Two windows away is not accepted: replay protection (8.2).
  assert.equal(verifyInWindows(key, data, 0, data.length, sig(key, data, 1002), 0, now, tracker), undefined);
  assert.equal(verifyInWindows(key, data, 0, data.length, sig(key, data, 998), 0, now), undefined);
  // A different key never verifies.
  const other = new HmacKey('sha256-128', hex('aa56'));
  assert.equal(verifyInWindows(other, data, 0, data.length, sig(key, data, now), 0, now), undefined);
});

test('[D-1] HmacKey (native helper when built, node:crypto otherwise) agrees with createHmac on random packets and windows', () => {
  const rnd = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + n * 7) & 0xff);
  for (const method of ['sha1', 'sha256-128', 'sha256'] as const) {
    for (const keyLen of [16, 32, 64, 100]) {
      const key = rnd(keyLen);
      const k = new HmacKey(method, key);
      for (const len of [0, 1, 63, 64, 65, 1400, 9000]) {
        const data = rnd(len + 7);
        for (const window of [undefined, 0, 887_654_321, 2 ** 40 + 5]) {
          const tail = window === undefined ? new Uint8Array(0) : new Uint8Array(8);
          if (window !== undefined) new DataView(tail.buffer).setBigUint64(0, BigInt(window));
          const want = createHmac(method === 'sha1' ? 'sha1' : 'sha256', key)
            .update(data.subarray(3, 3 + len))
            .update(tail)
            .digest()
            .subarray(0, k.length);
          const out = new Uint8Array(k.length + 4);
          k.sign(data, 3, len, window, out, 2);
          assert.deepEqual(
            out.subarray(2, 2 + k.length),
            new Uint8Array(want),
            `${method} key ${keyLen} len ${len} window ${window}`,
          );
          assert.ok(k.verify(data, 3, len, window, out, 2));
        }
      }
    }
  }
});
