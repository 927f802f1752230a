import { type Cipher, createCipheriv, createDecipheriv, type Decipher } from 'node:crypto';
import type { Random } from '../base/random.js';

const BLOCK = 16;

/**
 * Payload encryption of a session (4.6.6, D-9): AES-CBC with a fresh random IV a packet; on the
 * wire the payload is IV || ciphertext of (payload + padding). Padding (8.3, D-9): a full block of
 * zeros when the length is a multiple of 16, else 1-15 bytes each holding the pad length, so the
 * last byte says how much to take off (0: a whole block).
 *
 * One OpenSSL context per key for its whole life, as for metadata (crypto/metadata-cipher.ts): a
 * long-lived CBC context chains from its last output block, so XOR-ing the first block with
 * (IV xor that block) makes its output CBC under the fresh IV; decryption is one ECB call and the
 * chaining XOR done here.
 */
export class PayloadCipher {
  readonly algorithm: 'aes-128-cbc' | 'aes-256-cbc';
  /** When the key was made (router clock, ms) and how long it may serve (0: for ever). */
  bornAt = 0;
  lifetimeMs = 0;

  private readonly enc: Cipher;
  private readonly dec: Decipher;
  private readonly chain = new Uint8Array(BLOCK);

  constructor(readonly key: Uint8Array) {
    if (key.length !== 16 && key.length !== 32)
      throw new RangeError(`payload key must be 16 or 32 bytes, got ${key.length}`);
    this.algorithm = key.length === 16 ? 'aes-128-cbc' : 'aes-256-cbc';
    this.enc = createCipheriv(this.algorithm, key, this.chain);
    this.enc.setAutoPadding(false);
    this.dec = createDecipheriv(key.length === 16 ? 'aes-128-ecb' : 'aes-256-ecb', key, null);
    this.dec.setAutoPadding(false);
  }

  /** Bytes `n` bytes of payload take on the wire. */
  static sealedLength(n: number): number {
    return BLOCK + n + (n % BLOCK === 0 ? BLOCK : BLOCK - (n % BLOCK));
  }

  /** IV || ciphertext of `plain`. */
  seal(plain: Uint8Array, random: Random): Uint8Array {
    const n = plain.length;
    const pad = n % BLOCK === 0 ? BLOCK : BLOCK - (n % BLOCK);
    const padded = new Uint8Array(n + pad);
    padded.set(plain, 0);
    if (pad !== BLOCK) padded.fill(pad, n);
    const out = new Uint8Array(BLOCK + padded.length);
    random.fill(out, 0, BLOCK);
    for (let j = 0; j < BLOCK; j++) padded[j] ^= out[j] ^ this.chain[j];
    const ct = this.enc.update(padded);
    out.set(ct, BLOCK);
    this.chain.set(ct.subarray(ct.length - BLOCK));
    return out;
  }

  /** The plaintext of IV || ciphertext, or undefined when its length or padding is wrong. */
  open(sealed: Uint8Array): Uint8Array | undefined {
    const len = sealed.length - BLOCK;
    if (len < BLOCK || len % BLOCK !== 0) return undefined;
    const p = this.dec.update(sealed.subarray(BLOCK));
    // P[i] = D(C[i]) xor C[i-1], with C[-1] the IV in front.
    for (let i = 0; i < p.length; i++) p[i] ^= sealed[i];
    const last = p[p.length - 1];
    const pad = last === 0 ? BLOCK : last;
    if (pad > BLOCK - 1 && last !== 0) return undefined;
    for (let i = p.length - pad; i < p.length; i++) if (p[i] !== last) return undefined;
    return new Uint8Array(p.buffer, p.byteOffset, p.length - pad);
  }

  /** TLV 45's text (D-9: a PEM-style base64 block). */
  toPem(): string {
    const b64 = Buffer.from(this.key).toString('base64');
    return `-----BEGIN SVR SESSION KEY-----\n${b64}\n-----END SVR SESSION KEY-----\n`;
  }

  /** The key in TLV 45's text, or undefined when it is not one. */
  static fromPem(text: string): PayloadCipher | undefined {
    const m = /^-----BEGIN SVR SESSION KEY-----\n([A-Za-z0-9+/=]+)\n-----END SVR SESSION KEY-----\n?$/.exec(
      text,
    );
    if (!m) return undefined;
    const key = Buffer.from(m[1], 'base64');
    return key.length === 16 || key.length === 32 ? new PayloadCipher(new Uint8Array(key)) : undefined;
  }
}
