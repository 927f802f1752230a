import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  applyDelta,
  checksum,
  deltaU32,
  deltaWord,
  fold,
  onesSum,
  onesSumAtOddOffset,
  updateWord,
} from '../../src/wire/checksum.js';
import { hex } from '../../testlib/packets.js';

test('RFC 1071 worked example sums to ddf2', () => {
  // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 -> sum 0xddf2
  assert.equal(fold(onesSum(hex('0001f203f4f5f6f7'), 0, 8)), 0xddf2);
  assert.equal(checksum(hex('0001f203f4f5f6f7'), 0, 8), ~0xddf2 & 0xffff);
});

test('a known IPv4 header checksums to b1e6 and verifies to zero', () => {
  const h = hex('450000730000400040110000c0a80001c0a800c7');
  const c = checksum(h, 0, 20);
  assert.equal(c, 0xb861);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  assert.equal(checksum(h, 0, 20), 0);
});

test('odd lengths pad with zero; odd offsets are the byte-swapped sum', () => {
  assert.equal(fold(onesSum(hex('0102 03'), 0, 3)), 0x0102 + 0x0300);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (b) => {
      // Summing [0, x) + bytes from an odd offset must equal summing the whole buffer.
      const whole = fold(onesSum(b, 0, b.length));
      const split = 1;
      const parts = fold(onesSum(b, 0, split) + onesSumAtOddOffset(b, split, b.length - split));
      return parts === whole || (parts === 0xffff && whole === 0) || (parts === 0 && whole === 0xffff);
    }),
  );
});

test('[R-4.6.4-g] RFC 1624 incremental updates equal a full recomputation', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 120 }).filter((b) => b.length % 2 === 0),
      fc.nat({ max: 0xffffffff }),
      fc.nat({ max: 0xffff }),
      (b, newAddr, newPort) => {
        const c0 = checksum(b, 0, b.length);
        const oldAddr = ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
        const oldPort = (b[8] << 8) | b[9];
        let d = deltaU32(0, oldAddr, newAddr);
        d = deltaWord(d, oldPort, newPort);
        const inc = applyDelta(c0, d);
        const m = b.slice();
        m[4] = newAddr >>> 24;
        m[5] = newAddr >>> 16;
        m[6] = newAddr >>> 8;
        m[7] = newAddr;
        m[8] = newPort >>> 8;
        m[9] = newPort;
        const full = checksum(m, 0, m.length);
        // One's complement has two zeros; eqn. 3 and the full sum may pick different ones only
        // for an all-zero sum, which real headers never have.
        return inc === full || (inc ^ full) === 0xffff;
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(updateWord(0xdd2f, 0x5555, 0x3285), applyDelta(0xdd2f, deltaWord(0, 0x5555, 0x3285)));
});

test('RFC 1071: a long sum (native helper when built) equals the sum of its short pieces (TypeScript)', () => {
  for (const len of [512, 513, 1448, 1449, 9000, 65535]) {
    const b = Uint8Array.from({ length: len + 3 }, (_, i) => (i * 151 + len) & 0xff);
    let pieces = 0;
    for (let o = 0; o < len; o += 256) pieces += onesSum(b, 3 + o, Math.min(256, len - o));
    assert.equal(fold(onesSum(b, 3, len)), fold(pieces), `length ${len}`);
  }
});
