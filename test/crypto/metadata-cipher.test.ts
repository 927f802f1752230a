import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { DropReason } from '../../src/base/drop-reason.js';
import { SeededRandom } from '../../src/base/random.js';
import { AesCbcMetadataCipher, FixedBytes, metadataCipher } from '../../src/crypto/metadata-cipher.js';
import { draftForwardMetadata, draftReverseMetadata } from '../../src/fixtures/draft-example.js';
import { decodeMetadata, encodeMetadataBlock } from '../../src/wire/metadata/block.js';

test('[R-4.4-a] [R-4.4-b] output is standard AES-CBC under the fresh IV, packet after packet', () => {
  for (const keyLen of [16, 32]) {
    const key = Uint8Array.from({ length: keyLen }, (_, i) => i * 7);
    const rnd = new SeededRandom(keyLen);
    const c = new AesCbcMetadataCipher(key, rnd);
    const ivs = new SeededRandom(keyLen); // same stream: predicts the IVs the cipher draws
    for (let n = 1; n <= 20; n++) {
      const plain = Uint8Array.from({ length: 16 * ((n % 5) + 1) }, (_, i) => (i * n) & 0xff);
      const buf = new Uint8Array(plain.length + 16);
      buf.set(plain);
      c.encrypt(buf, 0, plain.length);
      const iv = new Uint8Array(16);
      ivs.fill(iv);
      assert.deepEqual(buf.subarray(plain.length), iv, 'IV follows the ciphertext (D-4)');
      const ref = createCipheriv(`aes-${keyLen * 8}-cbc`, key, iv);
      ref.setAutoPadding(false);
      const expect = Buffer.concat([ref.update(plain), ref.final()]);
      assert.deepEqual(Buffer.from(buf.subarray(0, plain.length)), expect, `packet ${n}`);
      c.decrypt(buf, 0, plain.length);
      assert.deepEqual(buf.subarray(0, plain.length), plain);
    }
  }
});

test('[D-4] the draft example blocks: 34 + 119 -> 178 bytes, 34 + 43 -> 98 bytes, and back', () => {
  const c = metadataCipher(
    'aes-256-cbc',
    new Uint8Array(32).fill(3),
    new FixedBytes(new Uint8Array(16).fill(9)),
  );
  const fwd = encodeMetadataBlock(draftForwardMetadata(), c);
  const rev = encodeMetadataBlock(draftReverseMetadata(), c);
  assert.equal(fwd.length, 178);
  assert.equal(rev.length, 98);
  const d = decodeMetadata(fwd, 0, fwd.length, c);
  assert.ok(typeof d === 'object');
  assert.equal(d.encrypted, true);
  assert.equal(d.headerLength, 34);
  assert.equal(d.payloadLength, 119);
  assert.deepEqual(d.tlvs, [...draftForwardMetadata().tlvs]);
  assert.deepEqual(d.iv, new Uint8Array(16).fill(9));
});

test('[R-4.6.2.2-a] [R-4.6.2.2-c] a wrong key or a flipped ciphertext bit is a drop, never garbage TLVs', () => {
  const good = metadataCipher('aes-128-cbc', new Uint8Array(32).fill(1));
  const bad = metadataCipher('aes-128-cbc', new Uint8Array(32).fill(2));
  let refused = 0;
  for (let i = 0; i < 50; i++) {
    const b = encodeMetadataBlock(draftForwardMetadata(), good);
    const r = decodeMetadata(b, 0, b.length, bad);
    if (typeof r === 'number') refused++;
  }
  // 9 padding bytes must come out zero: a wrong key passes that with probability 2^-72.
  assert.equal(refused, 50);
  const b = encodeMetadataBlock(draftForwardMetadata(), good);
  b[b.length - 20] ^= 0x80; // inside the last ciphertext block, over the padding
  assert.equal(decodeMetadata(b, 0, b.length, good), DropReason.MetadataBadPadding);
});

test('any payload survives encrypt and decrypt', () => {
  const c = new AesCbcMetadataCipher(new Uint8Array(32).fill(5));
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((a) => a.length),
      fc.uint8Array({ minLength: 16 * 8, maxLength: 16 * 8 }),
      (blocks, data) => {
        const n = Math.max(1, blocks % 8) * 16;
        const buf = new Uint8Array(n + 16);
        buf.set(data.subarray(0, n));
        c.encrypt(buf, 0, n);
        c.decrypt(buf, 0, n);
        return Buffer.from(buf.subarray(0, n)).equals(data.subarray(0, n));
      },
    ),
  );
  assert.throws(() => c.encrypt(new Uint8Array(40), 0, 17), RangeError);
  assert.throws(() => new AesCbcMetadataCipher(new Uint8Array(24)), /16 or 32 bytes/);
});
