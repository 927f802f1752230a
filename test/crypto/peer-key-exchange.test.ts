import assert from 'node:assert/strict';
import { createECDH, createPublicKey, hkdfSync, type KeyObject, verify } from 'node:crypto';
import { test } from 'node:test';
import { SeededRandom } from '../../src/base/random.js';
import { generateP256KeyPair, p256KeyPairFromRandom } from '../../src/crypto/certificates.js';
import {
  derivePeerKeyMaterial,
  signPeerPublicKey,
  verifySignedPeerKey,
} from '../../src/crypto/peer-key-exchange.js';

const east = generateP256KeyPair();
const west = generateP256KeyPair();
const eph = p256KeyPairFromRandom(new SeededRandom(1));
const O = {
  securityId: 3,
  sender: 'east/example',
  receiver: 'west/example',
  routerPublicKey: east.publicKey,
};
const signed = signPeerPublicKey({
  ephemeralPublicKey: eph.publicKey,
  securityId: 3,
  sender: 'east/example',
  receiver: 'west/example',
  routerPrivateKey: east.privateKey,
});

function outcome(text: string, o: Partial<typeof O> = {}): string {
  const r = verifySignedPeerKey(text, { ...O, ...o });
  return r.ok ? 'ok' : r.reason;
}

/** The base64 body of one block, and a way to put a changed body back. */
function body(text: string, label: string): { der: Buffer; replace: (der: Uint8Array) => string } {
  const m = new RegExp(`-----BEGIN ${label}-----\\n([^-]*)-----END ${label}-----`).exec(text);
  assert.ok(m);
  return {
    der: Buffer.from(m[1], 'base64'),
    replace: (der) => {
      const lines =
        Buffer.from(der)
          .toString('base64')
          .match(/.{1,64}/g)
          ?.join('\n') ?? '';
      return text.replace(m[1], `${lines}\n`);
    },
  };
}

test('D-8: the signed key is a PUBLIC KEY block then an SVR SIGNATURE block, over SPKI || id || sender || 0 || receiver', () => {
  assert.match(
    signed,
    /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END PUBLIC KEY-----\n-----BEGIN SVR SIGNATURE-----\n([A-Za-z0-9+/=]{1,64}\n)+-----END SVR SIGNATURE-----\n$/,
  );
  // Checked from D-8's words, not through the module.
  const spki = body(signed, 'PUBLIC KEY').der;
  assert.deepEqual(spki, eph.publicKey.export({ type: 'spki', format: 'der' }));
  const sig = body(signed, 'SVR SIGNATURE').der;
  assert.equal(sig[0], 0x30, 'DER ECDSA-Sig-Value');
  const data = Buffer.concat([
    spki,
    Buffer.of(0, 0, 0, 3),
    Buffer.from('east/example', 'ascii'),
    Buffer.of(0),
    Buffer.from('west/example', 'ascii'),
  ]);
  assert.ok(verify('sha256', data, east.publicKey, sig));
  const r = verifySignedPeerKey(signed, O);
  assert.ok(r.ok);
  assert.deepEqual(Buffer.from(r.spki), spki);
  assert.deepEqual(
    r.publicKey.export({ type: 'spki', format: 'der' }),
    eph.publicKey.export({ type: 'spki', format: 'der' }),
  );
  // Whitespace is tolerated: CRLF line ends, no final newline, indentation.
  assert.equal(outcome(signed.replace(/\n/g, '\r\n')), 'ok');
  assert.equal(outcome(signed.trimEnd()), 'ok');
  assert.equal(outcome(`  ${signed.replace(/\n/g, '\n  ')}`), 'ok');
});

test('5.1.8, D-8: another id, sender, receiver or router key is refused as a bad signature', () => {
  assert.equal(outcome(signed, { securityId: 4 }), 'bad-signature');
  assert.equal(outcome(signed, { securityId: 3 + 2 ** 32 }), 'bad-signature');
  assert.equal(outcome(signed, { sender: 'mallory/example' }), 'bad-signature');
  assert.equal(outcome(signed, { receiver: 'east/example' }), 'bad-signature');
  assert.equal(outcome(signed, { sender: 'west/example', receiver: 'east/example' }), 'bad-signature');
  // The 0x00 separator: the boundary between the names is part of what is signed.
  assert.equal(outcome(signed, { sender: 'east/example\u0000west', receiver: '/example' }), 'bad-signature');
  assert.equal(outcome(signed, { routerPublicKey: west.publicKey }), 'bad-signature');
  assert.equal(outcome(signed, { routerPublicKey: eph.publicKey }), 'bad-signature');
});

test('5.1.8, D-8: a tampered key or signature is refused', () => {
  const pub = body(signed, 'PUBLIC KEY');
  const sig = body(signed, 'SVR SIGNATURE');
  // Another valid P-256 key under the same signature.
  const other = p256KeyPairFromRandom(new SeededRandom(2)).publicKey.export({ type: 'spki', format: 'der' });
  assert.equal(outcome(pub.replace(other)), 'bad-signature');
  // One bit of the point: a point off the curve (malformed) or another key (bad signature).
  for (let bit = 0; bit < 8; bit++) {
    const der = Buffer.from(pub.der);
    der[der.length - 1] ^= 1 << bit;
    assert.notEqual(outcome(pub.replace(der)), 'ok');
  }
  const p384 = generateP384Spki();
  assert.equal(outcome(pub.replace(p384)), 'not-p256');
  for (let i = 0; i < sig.der.length; i++) {
    const der = Buffer.from(sig.der);
    der[i] ^= 0x01;
    assert.equal(outcome(sig.replace(der)), 'bad-signature', `signature byte ${i}`);
  }
  assert.equal(outcome(sig.replace(new Uint8Array(0))), 'malformed');
});

function generateP384Spki(): Buffer {
  const e = createECDH('secp384r1');
  e.generateKeys();
  const pub = e.getPublicKey();
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const k: KeyObject = createPublicKey({
    key: { kty: 'EC', crv: 'P-384', x: b64(pub.subarray(1, 49)), y: b64(pub.subarray(49)) },
    format: 'jwk',
  });
  return k.export({ type: 'spki', format: 'der' });
}

test('D-8: anything but exactly the two blocks in order is malformed', () => {
  const [first, second] = signed.split(/(?<=-----END PUBLIC KEY-----\n)/);
  // (A signature whose base64 needs no padding leaves "padding removed" unchanged: skip it.)
  for (const text of [
    '',
    'x',
    first,
    second,
    second + first, // wrong order
    signed + signed, // twice
    `explanatory text\n${signed}`,
    `${signed}trailing`,
    signed.replace('SVR SIGNATURE', 'SIGNATURE'),
    signed.replace('BEGIN PUBLIC KEY', 'BEGIN EC PUBLIC KEY'),
    signed.replace(/\n[A-Za-z0-9+/]/, '\n!'),
    signed.replace(/=+\n-----END SVR/, '\n-----END SVR'), // padding removed
    signed.replace('-----END PUBLIC KEY-----', ''),
    ' '.repeat(5000) + signed, // longer than any signed key
  ])
    if (text !== signed) assert.equal(outcome(text), 'malformed', JSON.stringify(text.slice(0, 80)));
});

test('D-8: 2 000 random and mutated signed keys never throw and never verify', () => {
  const rnd = new SeededRandom(11);
  const pick = (n: number) => rnd.u32() % n;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n -';
  for (let i = 0; i < 2000; i++) {
    let text: string;
    if (i % 4 === 0) {
      const b = new Uint8Array(pick(400));
      rnd.fill(b);
      text = Buffer.from(b).toString('latin1');
    } else if (i % 4 === 1) text = signed.slice(0, pick(signed.length));
    else {
      const chars = signed.split('');
      for (let k = 0, n = 1 + pick(3); k < n; k++)
        chars[pick(chars.length)] = alphabet[pick(alphabet.length)];
      text = chars.join('');
    }
    const r = verifySignedPeerKey(text, O);
    // A change only in the whitespace between lines keeps the bytes: the rest must never pass.
    if (r.ok) assert.equal(text.replace(/\s+/g, ''), signed.replace(/\s+/g, ''), JSON.stringify(text));
  }
});

test('5.1.8: a seeded router key signs reproducibly (the emulator replays byte for byte)', () => {
  const router = p256KeyPairFromRandom(new SeededRandom(21));
  const make = () =>
    signPeerPublicKey({
      ephemeralPublicKey: eph.publicKey,
      securityId: 9,
      sender: 'west/example',
      receiver: 'east/example',
      routerPrivateKey: router.privateKey,
    });
  assert.equal(make(), make());
  assert.equal(
    outcome(make(), {
      securityId: 9,
      sender: 'west/example',
      receiver: 'east/example',
      routerPublicKey: router.publicKey,
    }),
    'ok',
  );
});

test('programmer errors throw: names that are not printable ASCII, ids outside 32 bits', () => {
  const base = {
    ephemeralPublicKey: eph.publicKey,
    securityId: 1,
    sender: 'east/example',
    receiver: 'west/example',
    routerPrivateKey: east.privateKey,
  };
  assert.throws(() => signPeerPublicKey({ ...base, sender: 'east example' }), /printable ASCII/);
  assert.throws(() => signPeerPublicKey({ ...base, receiver: 'w\u00e9st/example' }), /printable ASCII/);
  assert.throws(() => signPeerPublicKey({ ...base, receiver: '' }), /printable ASCII/);
  assert.throws(() => signPeerPublicKey({ ...base, securityId: -1 }), /32-bit/);
  assert.throws(() => signPeerPublicKey({ ...base, securityId: 2 ** 32 }), /32-bit/);
  assert.throws(() => signPeerPublicKey({ ...base, securityId: 1.5 }), /32-bit/);
  assert.doesNotThrow(() => signPeerPublicKey({ ...base, securityId: 2 ** 32 - 1 }));
});

test('D-5: both routers derive the same 64 bytes, exactly as D-5 words it; another id gives other bytes', () => {
  const a = p256KeyPairFromRandom(new SeededRandom(2));
  const b = p256KeyPairFromRandom(new SeededRandom(3));
  const derive = (id: number, swap = false) =>
    swap
      ? derivePeerKeyMaterial({
          privateKey: b.privateKey,
          peerPublicKey: a.publicKey,
          localName: 'west/example',
          peerName: 'east/example',
          securityId: id,
        })
      : derivePeerKeyMaterial({
          privateKey: a.privateKey,
          peerPublicKey: b.publicKey,
          localName: 'east/example',
          peerName: 'west/example',
          securityId: id,
        });
  const ka = derive(1);
  const kb = derive(1, true);
  assert.equal(ka.length, 64);
  assert.deepEqual(ka, kb, 'east and west compute the same key');

  // D-5 from its words, with raw ECDH: salt = lower name's public key first (east < west).
  const point = (k: KeyObject) => {
    const j = k.export({ format: 'jwk' });
    return Buffer.concat([
      Buffer.of(4),
      Buffer.from(j.x ?? '', 'base64url'),
      Buffer.from(j.y ?? '', 'base64url'),
    ]);
  };
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(Buffer.from(a.privateKey.export({ format: 'jwk' }).d ?? '', 'base64url'));
  const secret = ecdh.computeSecret(point(b.publicKey));
  const salt = Buffer.concat([point(a.publicKey), point(b.publicKey)]);
  assert.equal(salt.length, 130);
  const expected = hkdfSync('sha256', secret, salt, 'SVR peer key v1|east/example|west/example|1', 64);
  assert.deepEqual(Buffer.from(ka), Buffer.from(expected));

  assert.notDeepEqual(derive(2), ka);
  assert.deepEqual(derive(2), derive(2, true));
  assert.notDeepEqual(derive(2).subarray(0, 32), derive(2).subarray(32), 'cipher and HMAC keys differ');
  assert.throws(() =>
    derivePeerKeyMaterial({
      privateKey: a.privateKey,
      peerPublicKey: b.publicKey,
      localName: 'east/example',
      peerName: 'east/example',
      securityId: 1,
    }),
  );
  assert.throws(() =>
    derivePeerKeyMaterial({
      privateKey: a.privateKey,
      peerPublicKey: createPublicKey({ key: generateP384Spki(), format: 'der', type: 'spki' }),
      localName: 'east/example',
      peerName: 'west/example',
      securityId: 1,
    }),
  );
});
