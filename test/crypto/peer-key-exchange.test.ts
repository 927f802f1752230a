import assert from 'node:assert/strict';
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

test('D-8: a signed ephemeral key verifies with the sender certificate key, for its id and names only', () => {
  const eph = p256KeyPairFromRandom(new SeededRandom(1));
  const signed = signPeerPublicKey({
    ephemeralPublicKey: eph.publicKey,
    securityId: 3,
    sender: 'east/example',
    receiver: 'west/example',
    routerPrivateKey: east.privateKey,
  });
  assert.match(signed, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----BEGIN SVR SIGNATURE-----\n/);
  const o = {
    securityId: 3,
    sender: 'east/example',
    receiver: 'west/example',
    routerPublicKey: east.publicKey,
  };
  const ok = verifySignedPeerKey(signed, o);
  assert.ok(ok.ok);
  const bad = (x: Partial<typeof o>) => {
    const r = verifySignedPeerKey(signed, { ...o, ...x });
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(bad({ securityId: 4 }), 'bad-signature');
  assert.equal(bad({ sender: 'mallory/example' }), 'bad-signature');
  assert.equal(bad({ receiver: 'east/example' }), 'bad-signature');
  assert.equal(bad({ routerPublicKey: west.publicKey }), 'bad-signature');
  for (const junk of [
    '',
    'x',
    signed.slice(0, 50),
    signed.replace('SVR SIGNATURE', 'SIG'),
    '\u0000'.repeat(5000),
  ]) {
    const r = verifySignedPeerKey(junk, o);
    assert.ok(!r.ok);
  }
});

test('D-5: both routers derive the same 64 bytes; another id gives other bytes', () => {
  const a = p256KeyPairFromRandom(new SeededRandom(2));
  const b = p256KeyPairFromRandom(new SeededRandom(3));
  const ka = derivePeerKeyMaterial({
    privateKey: a.privateKey,
    peerPublicKey: b.publicKey,
    localName: 'east/example',
    peerName: 'west/example',
    securityId: 1,
  });
  const kb = derivePeerKeyMaterial({
    privateKey: b.privateKey,
    peerPublicKey: a.publicKey,
    localName: 'west/example',
    peerName: 'east/example',
    securityId: 1,
  });
  assert.equal(ka.length, 64);
  assert.deepEqual(ka, kb);
  const k2 = derivePeerKeyMaterial({
    privateKey: a.privateKey,
    peerPublicKey: b.publicKey,
    localName: 'east/example',
    peerName: 'west/example',
    securityId: 2,
  });
  assert.notDeepEqual(ka, k2);
});
