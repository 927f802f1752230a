import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ManualClock } from '../../src/base/clock.js';
import { SeededRandom } from '../../src/base/random.js';
import {
  CertificateValidator,
  createCaCertificate,
  describeCertificate,
  emulatedPki,
  generateP256KeyPair,
  issueRouterCertificate,
  loadRouterCredentials,
  p256KeyPairFromRandom,
  parseRouterName,
} from '../../src/crypto/certificates.js';

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

function authority(name = 'example') {
  const keys = generateP256KeyPair();
  const ca = createCaCertificate({
    authority: name,
    keys,
    notBefore: new Date(NOW - 10 * DAY),
    notAfter: new Date(NOW + 3650 * DAY),
    serial: Uint8Array.of(0x81, 1),
  });
  const issue = (cn: string, from = NOW - DAY, to = NOW + 365 * DAY) => {
    const k = generateP256KeyPair();
    return issueRouterCertificate({
      caCertificatePem: ca,
      caPrivateKey: keys.privateKey,
      name: cn,
      publicKey: k.publicKey,
      notBefore: new Date(from),
      notAfter: new Date(to),
      serial: Uint8Array.of(7),
    });
  };
  return { ca, keys, issue };
}

test('5.1.7, D-7: a router certificate validates: dates, CA signature, router/authority name in the configuration', () => {
  const a = authority();
  const v = new CertificateValidator(a.ca, new ManualClock(NOW));
  const r = v.validate(a.issue('west/example'), 'example', new Set(['west']));
  assert.ok(r.ok);
  assert.equal(r.ok && r.router, 'west');
  const d = describeCertificate(a.issue('east/example'));
  assert.ok(!('error' in d));
  assert.equal(!('error' in d) && d.subject, 'east/example');
  assert.equal(!('error' in d) && d.issuer, 'example CA');
  assert.equal(!('error' in d) && d.key, 'EC P-256');
});

test('5.1.7: refusals: another CA, expired, not yet valid, unknown router, other authority, bad name, a CA', () => {
  const a = authority();
  const other = authority();
  const clock = new ManualClock(NOW);
  const v = new CertificateValidator(a.ca, clock);
  const peers = new Set(['west']);
  const reason = (pem: string, auth = 'example') => {
    const r = v.validate(pem, auth, peers);
    return r.ok ? 'ok' : r.reason;
  };
  assert.equal(reason(other.issue('west/example')), 'wrong-ca');
  assert.equal(reason(a.issue('west/example', NOW - 400 * DAY, NOW - DAY)), 'expired');
  assert.equal(reason(a.issue('west/example', NOW + DAY, NOW + 9 * DAY)), 'not-yet-valid');
  assert.equal(reason(a.issue('mallory/example')), 'unknown-router');
  assert.equal(reason(a.ca), 'is-ca', 'the CA itself is no router');
  assert.equal(reason('garbage'), 'unreadable');
  // Dates move with the clock; the signature check is cached.
  const pem = a.issue('west/example', NOW - DAY, NOW + DAY);
  assert.equal(reason(pem), 'ok');
  clock.advance(2 * DAY);
  assert.equal(reason(pem), 'expired');
  assert.throws(() => a.issue('west'), /router\/authority/);
  assert.throws(() => a.issue('west/other'), /authority/);
  assert.equal(parseRouterName('a b/c'), undefined);
  assert.deepEqual(parseRouterName('r1/example'), { router: 'r1', authority: 'example' });
});

test('5.1.7: 2 000 mangled certificates are refused without an exception', () => {
  const a = authority();
  const v = new CertificateValidator(a.ca, new ManualClock(NOW));
  const good = a.issue('west/example');
  const rnd = new SeededRandom(5);
  for (let i = 0; i < 2000; i++) {
    const chars = good.split('');
    const n = 1 + (rnd.u32() % 4);
    for (let k = 0; k < n; k++) {
      const at = 28 + (rnd.u32() % (chars.length - 56));
      chars[at] = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[rnd.u32() % 64];
    }
    const pem = i % 7 === 0 ? chars.join('').slice(0, rnd.u32() % chars.length) : chars.join('');
    const r = v.validate(pem, 'example', new Set(['west']));
    assert.ok(r.ok || typeof r.message === 'string');
    describeCertificate(pem);
  }
});

test('keys from a seeded random are reproducible; the emulated PKI issues one certificate per router', () => {
  const k1 = p256KeyPairFromRandom(new SeededRandom(1));
  const k2 = p256KeyPairFromRandom(new SeededRandom(1));
  assert.deepEqual(
    k1.publicKey.export({ type: 'spki', format: 'der' }),
    k2.publicKey.export({ type: 'spki', format: 'der' }),
  );
  const pki = emulatedPki({
    authority: 'example',
    routers: ['east', 'west'],
    random: new SeededRandom(2),
    now: NOW,
  });
  const v = new CertificateValidator(pki.caCertificatePem, new ManualClock(NOW));
  for (const [r, c] of pki.routers) assert.ok(v.validate(c.certificatePem, 'example', new Set([r])).ok);
});

test('router credentials load from PEM files with clear errors; openssl agrees with the certificates', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svr-pki-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = emulatedPki({
    authority: 'example',
    routers: ['east'],
    random: new SeededRandom(3),
    now: Date.now(),
  });
  const east = pki.routers.get('east');
  assert.ok(east);
  const files = { ca: join(dir, 'ca.crt'), certificate: join(dir, 'east.crt'), key: join(dir, 'east.key') };
  writeFileSync(files.ca, pki.caCertificatePem);
  writeFileSync(files.certificate, east.certificatePem);
  writeFileSync(files.key, east.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const ok = loadRouterCredentials(files);
  assert.ok(!('error' in ok) && ok.name === 'east/example');
  const missing = loadRouterCredentials({ ...files, key: join(dir, 'nope.key') });
  assert.match('error' in missing ? missing.error : '', /nope\.key: no such file/);
  writeFileSync(
    join(dir, 'other.key'),
    generateP256KeyPair().privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  const wrong = loadRouterCredentials({ ...files, key: join(dir, 'other.key') });
  assert.match('error' in wrong ? wrong.error : '', /does not match/);
  const v = spawnSync('openssl', ['verify', '-CAfile', files.ca, files.certificate], { encoding: 'utf8' });
  if (v.error) {
    t.diagnostic('openssl not installed: cross-check skipped');
    return;
  }
  assert.equal(v.status, 0, v.stderr);
});
