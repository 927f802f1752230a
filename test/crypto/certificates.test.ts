import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ecdsaWithSHA256 } from '@peculiar/asn1-ecc';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  Certificate,
  Name,
  RelativeDistinguishedName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import { ManualClock } from '../../src/base/clock.js';
import { type Random, SeededRandom } from '../../src/base/random.js';
import {
  CertificateValidator,
  createCaCertificate,
  describeCertificate,
  describeKey,
  emulatedPki,
  generateP256KeyPair,
  issueRouterCertificate,
  loadRouterCredentials,
  type P256KeyPair,
  p256KeyPairFromRandom,
  parseRouterName,
  signEcdsaSha256,
} from '../../src/crypto/certificates.js';

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;

function authority(name = 'example', caFrom = NOW - 10 * DAY, caTo = NOW + 3650 * DAY) {
  const keys = generateP256KeyPair();
  const ca = createCaCertificate({
    authority: name,
    keys,
    notBefore: new Date(caFrom),
    notAfter: new Date(caTo),
    serial: Uint8Array.of(0x81, 1),
  });
  const issue = (cn: string, from = NOW - DAY, to = NOW + 365 * DAY, key?: KeyObject) =>
    issueRouterCertificate({
      caCertificatePem: ca,
      caPrivateKey: keys.privateKey,
      name: cn,
      publicKey: key ?? generateP256KeyPair().publicKey,
      notBefore: new Date(from),
      notAfter: new Date(to),
      serial: Uint8Array.of(7),
    });
  return { ca, keys, issue };
}

/**
 * A certificate the library refuses to make (a bad CN, an RSA key...), built from the ASN.1 schemas
 * and signed by `signer`: what a misconfigured or hostile peer could send.
 */
function craft(o: {
  issuerPem: string | undefined;
  signer: KeyObject;
  subject: readonly (readonly [string, string])[];
  publicKey: KeyObject;
}): string {
  const name = new Name(
    o.subject.map(
      ([type, value]) =>
        new RelativeDistinguishedName([
          new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
        ]),
    ),
  );
  const issuer = o.issuerPem
    ? AsnConvert.parse(new X509Certificate(o.issuerPem).raw, Certificate).tbsCertificate.subject
    : name;
  const alg =
    o.signer.asymmetricKeyType === 'rsa'
      ? new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null })
      : ecdsaWithSHA256;
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: Uint8Array.of(9).buffer,
    signature: alg,
    issuer,
    validity: new Validity({ notBefore: new Date(NOW - DAY), notAfter: new Date(NOW + DAY) }),
    subject: name,
    subjectPublicKeyInfo: AsnConvert.parse(
      o.publicKey.export({ type: 'spki', format: 'der' }),
      SubjectPublicKeyInfo,
    ),
  });
  const der = new Uint8Array(AsnConvert.serialize(tbs));
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: alg,
    signatureValue: new Uint8Array(sign('sha256', der, o.signer)).buffer,
  });
  const b64 = Buffer.from(AsnConvert.serialize(cert)).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE-----\n`;
}

const CN = '2.5.4.3';
const O = '2.5.4.10';

test('5.1.7, D-7: a router certificate validates: dates, CA signature, router/authority name in the configuration', () => {
  const a = authority();
  const routerKeys = generateP256KeyPair();
  const v = new CertificateValidator(a.ca, new ManualClock(NOW));
  const r = v.validate(
    a.issue('west/example', undefined, undefined, routerKeys.publicKey),
    'example',
    new Set(['west']),
  );
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.name, 'west/example');
  assert.equal(r.router, 'west');
  assert.equal(r.authority, 'example');
  assert.deepEqual(
    r.publicKey.export({ type: 'spki', format: 'der' }),
    routerKeys.publicKey.export({ type: 'spki', format: 'der' }),
    'the key later used to check signed peer keys (5.1.8)',
  );
  const d = describeCertificate(a.issue('east/example'));
  assert.ok(!('error' in d));
  assert.equal(d.subject, 'east/example');
  assert.equal(d.issuer, 'example CA');
  assert.equal(d.authority, 'example');
  assert.equal(d.serial, '07');
  assert.equal(d.isCa, false);
  assert.equal(d.key, 'EC P-256');
  assert.equal(d.keyAlgorithm, 'EC');
  assert.equal(d.curve, 'P-256');
  assert.equal(d.notBefore, new Date(NOW - DAY).toISOString());
  assert.match(d.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  const ca = describeCertificate(a.ca);
  assert.ok(!('error' in ca));
  assert.equal(ca.isCa, true);
  assert.equal(ca.serial, '8101');
  const caSerial = AsnConvert.parse(new X509Certificate(a.ca).raw, Certificate).tbsCertificate.serialNumber;
  assert.deepEqual(
    new Uint8Array(caSerial),
    Uint8Array.of(0, 0x81, 1),
    'a serial with the top bit set stays positive (RFC 5280 4.1.2.2)',
  );
  const k = describeKey(a.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  assert.ok(!('error' in k));
  assert.equal(k.type, 'private key');
  assert.equal(
    k.fingerprint256,
    ca.publicKeyFingerprint256,
    'a key and its certificate show one fingerprint',
  );
  const pub = describeKey(a.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  assert.ok(!('error' in pub) && pub.type === 'public key' && pub.curve === 'P-256');
});

test('5.1.7: refusals, each with one sentence naming the certificate', () => {
  const a = authority();
  const other = authority();
  const clock = new ManualClock(NOW);
  const v = new CertificateValidator(a.ca, clock);
  const peers = new Set(['west']);
  const check = (pem: string, auth = 'example') => {
    const r = v.validate(pem, auth, peers);
    return r.ok ? { reason: 'ok', message: '' } : r;
  };
  const reason = (pem: string, auth = 'example') => check(pem, auth).reason;
  const foreign = check(other.issue('west/example'));
  assert.equal(foreign.reason, 'wrong-ca');
  assert.equal(foreign.message, 'certificate "west/example" is signed by another CA than "example CA"');
  assert.equal(reason(a.issue('west/example', NOW - 400 * DAY, NOW - DAY)), 'expired');
  assert.equal(reason(a.issue('west/example', NOW + DAY, NOW + 9 * DAY)), 'not-yet-valid');
  const unknown = check(a.issue('mallory/example'));
  assert.equal(unknown.reason, 'unknown-router');
  assert.match(unknown.message, /^certificate "mallory\/example" names router "mallory"/);
  assert.equal(reason(a.issue('west/example'), 'other'), 'wrong-authority');
  assert.equal(reason(a.ca), 'is-ca', 'the CA itself is no router');
  assert.equal(reason(other.ca), 'wrong-ca');
  assert.equal(reason('garbage'), 'unreadable');
  assert.equal(reason(''), 'unreadable');
  assert.equal(reason('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), 'unreadable');

  // Names the library will not issue, as a misconfigured CA could: signed by our CA all the same.
  const crafted = (subject: readonly (readonly [string, string])[]) =>
    craft({
      issuerPem: a.ca,
      signer: a.keys.privateKey,
      subject,
      publicKey: generateP256KeyPair().publicKey,
    });
  const noSlash = check(
    crafted([
      [O, 'example'],
      [CN, 'west'],
    ]),
  );
  assert.equal(noSlash.reason, 'bad-name');
  assert.equal(noSlash.message, 'certificate "west" is not named router/authority (5.1.7)');
  assert.equal(
    reason(
      crafted([
        [O, 'example'],
        [CN, 'west/exa/mple'],
      ]),
    ),
    'bad-name',
  );
  assert.equal(
    reason(
      crafted([
        [O, 'example'],
        [CN, 'we st/example'],
      ]),
    ),
    'bad-name',
  );
  assert.equal(
    reason(
      crafted([
        [O, 'example'],
        [CN, '/example'],
      ]),
    ),
    'bad-name',
  );
  assert.equal(
    reason(
      crafted([
        [CN, 'west/example'],
        [CN, 'east/example'],
      ]),
    ),
    'bad-name',
    'two CNs',
  );
  assert.equal(reason(crafted([[O, 'example']])), 'bad-name', 'no CN');
  const otherAuthority = check(
    crafted([
      [O, 'other'],
      [CN, 'west/other'],
    ]),
  );
  assert.equal(otherAuthority.reason, 'wrong-authority');
  assert.equal(otherAuthority.message, 'certificate "west/other" is of authority "other", not "example"');

  // Programmer errors: the library does not issue what a peer would refuse.
  assert.throws(() => a.issue('west'), /router\/authority/);
  assert.throws(() => a.issue('west/other'), /authority "example"/);
  assert.throws(() => a.issue('west/example', NOW, NOW - 1), /notBefore/);
  assert.throws(() =>
    createCaCertificate({
      authority: 'a b',
      keys: a.keys,
      notBefore: new Date(0),
      notAfter: new Date(1),
      serial: Uint8Array.of(1),
    }),
  );
  assert.throws(
    () =>
      createCaCertificate({
        authority: 'x',
        keys: a.keys,
        notBefore: new Date(0),
        notAfter: new Date(1),
        serial: Uint8Array.of(0, 0),
      }),
    /positive/,
  );
});

test('5.1.7: dates are checked on every call against the clock, the CA signature once per certificate text', () => {
  const a = authority();
  const clock = new ManualClock(NOW);
  const v = new CertificateValidator(a.ca, clock);
  const pem = a.issue('west/example', NOW - DAY, NOW + DAY);
  const peers = new Set(['west']);
  const calls = { n: 0 };
  const verify = X509Certificate.prototype.verify;
  X509Certificate.prototype.verify = function (this: X509Certificate, key: KeyObject): boolean {
    calls.n++;
    return verify.call(this, key);
  };
  try {
    for (let i = 0; i < 3; i++) assert.ok(v.validate(pem, 'example', peers).ok, 'three paths, one peer');
    assert.equal(calls.n, 1, 'validated once for all paths (5.1.7)');
    clock.advance(2 * DAY);
    const r = v.validate(pem, 'example', peers);
    assert.ok(!r.ok && r.reason === 'expired');
    assert.equal(calls.n, 1);
    clock.set(NOW - 2 * DAY);
    const early = v.validate(pem, 'example', peers);
    assert.ok(!early.ok && early.reason === 'not-yet-valid');
    // The names are the caller's configuration of the moment: a peer removed is refused at once.
    clock.set(NOW);
    const gone = v.validate(pem, 'example', new Set(['east']));
    assert.ok(!gone.ok && gone.reason === 'unknown-router');
  } finally {
    X509Certificate.prototype.verify = verify;
  }
});

test('5.1.7: an expired CA vouches for nobody', () => {
  const a = authority('example', NOW - 100 * DAY, NOW + 10 * DAY);
  const pem = a.issue('west/example', NOW - DAY, NOW + 365 * DAY);
  const clock = new ManualClock(NOW + 20 * DAY);
  const r = new CertificateValidator(a.ca, clock).validate(pem, 'example', new Set(['west']));
  assert.ok(!r.ok);
  assert.equal(r.reason, 'expired');
  assert.match(r.message, /^certificate "west\/example" is signed by "example CA", which expired on /);
});

test('5.1.7: names are read from the certificate exactly, not from an escaped text form', () => {
  // Node writes CN=a\,b/example in X509Certificate.subject: the ASN.1 value is "a,b/example".
  const a = authority();
  const r = new CertificateValidator(a.ca, new ManualClock(NOW)).validate(
    a.issue('a,b+c/example'),
    'example',
    new Set(['a,b+c']),
  );
  assert.ok(r.ok, r.ok ? '' : r.message);
  assert.equal(r.router, 'a,b+c');
  assert.equal(parseRouterName('a b/c'), undefined);
  assert.equal(parseRouterName('r1'), undefined);
  assert.equal(parseRouterName('r1/'), undefined);
  assert.equal(parseRouterName('r1/a/b'), undefined);
  assert.equal(parseRouterName('r\u00e9/example'), undefined, 'ASCII only');
  assert.equal(parseRouterName('r\t1/example'), undefined);
  assert.deepEqual(parseRouterName('r1/example'), { router: 'r1', authority: 'example' });
});

test('5.1.7, D-7: RSA or other-curve certificates are refused as not P-256, without an exception', () => {
  const a = authority();
  const v = new CertificateValidator(a.ca, new ManualClock(NOW));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const subject = [
    [O, 'example'],
    [CN, 'west/example'],
  ] as const;
  const selfSignedRsa = craft({
    issuerPem: undefined,
    signer: rsa.privateKey,
    subject,
    publicKey: rsa.publicKey,
  });
  assert.ok(new X509Certificate(selfSignedRsa), 'a well-formed RSA certificate');
  const peers = new Set(['west']);
  const r1 = v.validate(selfSignedRsa, 'example', peers);
  assert.ok(!r1.ok && r1.reason === 'not-p256', JSON.stringify(r1));
  const rsaKeySignedByCa = craft({
    issuerPem: a.ca,
    signer: a.keys.privateKey,
    subject,
    publicKey: rsa.publicKey,
  });
  const r2 = v.validate(rsaKeySignedByCa, 'example', peers);
  assert.ok(!r2.ok && r2.reason === 'not-p256');
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const r3 = v.validate(
    craft({ issuerPem: a.ca, signer: a.keys.privateKey, subject, publicKey: p384.publicKey }),
    'example',
    peers,
  );
  assert.ok(!r3.ok && r3.reason === 'not-p256');
  const d = describeCertificate(selfSignedRsa);
  assert.ok(!('error' in d) && d.keyAlgorithm === 'RSA' && d.curve === undefined);
  const d384 = describeKey(p384.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  assert.ok(!('error' in d384) && d384.curve === 'secp384r1');
  assert.throws(() => new CertificateValidator('not a certificate', new ManualClock(NOW)));
});

test('5.1.7: 2 000 random, truncated and bit-flipped PEM strings never throw from validate or describe', () => {
  const a = authority();
  const v = new CertificateValidator(a.ca, new ManualClock(NOW));
  const good = a.issue('west/example');
  const der = new Uint8Array(new X509Certificate(good).raw);
  const rnd = new SeededRandom(5);
  const pick = (n: number) => rnd.u32() % n;
  const armor = (b: Uint8Array, label = 'CERTIFICATE') =>
    `-----BEGIN ${label}-----\n${
      Buffer.from(b)
        .toString('base64')
        .match(/.{1,64}/g)
        ?.join('\n') ?? ''
    }\n-----END ${label}-----\n`;
  const peers = new Set(['west']);
  let accepted = 0;
  for (let i = 0; i < 2000; i++) {
    let pem: string;
    switch (i % 5) {
      case 0: {
        // DER with 1-4 bits flipped, armored correctly: reaches the X.509 parser.
        const b = Uint8Array.from(der);
        for (let k = 0, n = 1 + pick(4); k < n; k++) b[pick(b.length)] ^= 1 << pick(8);
        pem = armor(b);
        break;
      }
      case 1:
        pem = armor(der.subarray(0, pick(der.length))); // truncated DER
        break;
      case 2:
        pem = good.slice(0, pick(good.length)); // truncated text
        break;
      case 3: {
        const bytes = new Uint8Array(pick(600));
        rnd.fill(bytes);
        pem = i % 2 ? armor(bytes) : Buffer.from(bytes).toString('latin1'); // random
        break;
      }
      default: {
        const chars = good.split('');
        for (let k = 0, n = 1 + pick(4); k < n; k++)
          chars[28 + pick(chars.length - 56)] = String.fromCharCode(pick(128));
        pem = chars.join('');
      }
    }
    const r = v.validate(pem, 'example', peers);
    if (r.ok) {
      accepted++;
      // Only a change DER does not sign (such as the outer signature's unused bits) can pass.
      assert.equal(r.name, 'west/example');
    } else assert.ok(r.message.length > 0);
    describeCertificate(pem);
    describeKey(pem);
  }
  assert.ok(accepted < 20, `${accepted} mangled certificates accepted`);
});

/** A Random that serves scripted bytes, then zeros. */
class Script implements Random {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  fill(out: Uint8Array, off = 0, len = out.length - off): void {
    for (let i = 0; i < len; i++) out[off + i] = this.bytes[this.at++] ?? 0;
  }
  u32(): number {
    const b = new Uint8Array(4);
    this.fill(b);
    return new DataView(b.buffer).getUint32(0);
  }
}

test('keys from a seeded random are reproducible; scalars 0 and >= n are drawn again', () => {
  const spki = (k: P256KeyPair) => k.publicKey.export({ type: 'spki', format: 'der' });
  assert.deepEqual(
    spki(p256KeyPairFromRandom(new SeededRandom(1))),
    spki(p256KeyPairFromRandom(new SeededRandom(1))),
  );
  assert.notDeepEqual(
    spki(p256KeyPairFromRandom(new SeededRandom(1))),
    spki(p256KeyPairFromRandom(new SeededRandom(2))),
  );
  const valid = new Uint8Array(32).fill(0x11);
  const tooBig = new Uint8Array(32).fill(0xff);
  const zero = new Uint8Array(32);
  const k = p256KeyPairFromRandom(new Script(Uint8Array.from([...zero, ...tooBig, ...valid])));
  const jwk = k.privateKey.export({ format: 'jwk' });
  assert.deepEqual(Buffer.from(jwk.d ?? '', 'base64url'), Buffer.from(valid));
  assert.ok(k.privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1');
});

test('RFC 6979: keys from an injected random sign deterministically (RFC 6979 A.2.5 known answer); others through OpenSSL', () => {
  // RFC 6979 A.2.5: P-256, SHA-256, message "sample".
  const x = Buffer.from('C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721', 'hex');
  const k = p256KeyPairFromRandom(new Script(x));
  const sample = new TextEncoder().encode('sample');
  const sig = signEcdsaSha256(sample, k.privateKey);
  assert.equal(
    Buffer.from(sig).toString('hex'),
    '3046022100efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716' +
      '022100f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8',
  );
  assert.ok(verify('sha256', sample, k.publicKey, sig));
  const seeded = p256KeyPairFromRandom(new SeededRandom(8));
  for (let i = 0; i < 200; i++) {
    const m = new TextEncoder().encode(`message ${i}`);
    const s1 = signEcdsaSha256(m, seeded.privateKey);
    assert.deepEqual(signEcdsaSha256(m, seeded.privateKey), s1);
    assert.ok(verify('sha256', m, seeded.publicKey, s1), `message ${i}`);
  }
  const csprng = generateP256KeyPair();
  const m = new TextEncoder().encode('m');
  const a = signEcdsaSha256(m, csprng.privateKey);
  assert.ok(verify('sha256', m, csprng.publicKey, a));
  assert.notDeepEqual(signEcdsaSha256(m, csprng.privateKey), a, 'OpenSSL: a fresh nonce each time');
});

test('the emulated PKI: one certificate per router, reproducible from the seed, valid from a day before now', () => {
  const make = () =>
    emulatedPki({ authority: 'example', routers: ['east', 'west'], random: new SeededRandom(2), now: NOW });
  const pki = make();
  assert.equal(make().routers.get('west')?.certificatePem, pki.routers.get('west')?.certificatePem);
  const v = new CertificateValidator(pki.caCertificatePem, new ManualClock(NOW));
  for (const [r, c] of pki.routers) {
    assert.equal(c.name, `${r}/example`);
    assert.ok(v.validate(c.certificatePem, 'example', new Set([r])).ok);
    assert.ok(new X509Certificate(c.certificatePem).checkPrivateKey(c.privateKey));
  }
  const d = describeCertificate(pki.routers.get('east')?.certificatePem ?? '');
  assert.ok(!('error' in d));
  assert.equal(d.notBefore, new Date(NOW - DAY).toISOString());
  assert.equal(d.notAfter, new Date(NOW + 365 * DAY).toISOString());
  const short = emulatedPki({
    authority: 'example',
    routers: ['east'],
    random: new SeededRandom(2),
    now: NOW,
    validDays: 2,
  });
  const later = new CertificateValidator(short.caCertificatePem, new ManualClock(NOW + 3 * DAY));
  const r = later.validate(short.routers.get('east')?.certificatePem ?? '', 'example', new Set(['east']));
  assert.ok(!r.ok && r.reason === 'expired');
});

test('router credentials load from PEM files, with one clear error naming the file', (t) => {
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
  const f = (name: string, text: string | Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  f('ca.crt', pki.caCertificatePem);
  f('east.crt', east.certificatePem);
  f('east.key', east.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const ok = loadRouterCredentials(files);
  assert.ok(!('error' in ok), 'error' in ok ? ok.error : '');
  assert.equal(ok.name, 'east/example');
  assert.equal(ok.caCertificatePem, pki.caCertificatePem);
  const error = (x: Partial<typeof files>) => {
    const r = loadRouterCredentials({ ...files, ...x });
    return 'error' in r ? r.error : 'ok';
  };
  assert.equal(error({ key: join(dir, 'nope.key') }), `${join(dir, 'nope.key')}: no such file`);
  assert.equal(error({ ca: dir }), `${dir}: is a directory`);
  const text = f('text.txt', 'hello\n');
  assert.equal(error({ certificate: text }), `${text}: not a PEM X.509 certificate`);
  assert.equal(error({ ca: files.certificate }), `${files.certificate}: not a CA certificate`);
  assert.equal(error({ key: text }), `${text}: not a PEM private key`);
  const other = f('other.key', generateP256KeyPair().privateKey.export({ type: 'pkcs8', format: 'pem' }));
  assert.equal(error({ key: other }), `${other}: does not match the certificate ${files.certificate}`);
  const foreign = emulatedPki({
    authority: 'example',
    routers: ['east'],
    random: new SeededRandom(4),
    now: Date.now(),
  });
  const foreignCa = f('foreign-ca.crt', foreign.caCertificatePem);
  assert.equal(error({ ca: foreignCa }), `${files.certificate}: not signed by the CA of ${foreignCa}`);
  const ec = f('sec1.key', east.privateKey.export({ type: 'sec1', format: 'pem' }));
  assert.equal(error({ key: ec }), 'ok', 'SEC 1 "EC PRIVATE KEY" files are keys too');
  if (process.getuid?.() !== 0) {
    chmodSync(files.key, 0);
    assert.match(error({}), /east\.key: permission denied/);
    chmodSync(files.key, 0o600);
  }
});

test('D-7: openssl reads the certificates as this project means them', (t) => {
  const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip('openssl is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'svr-pki-openssl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = authority('example', Date.now() - DAY, Date.now() + 10 * DAY);
  const ca = join(dir, 'ca.crt');
  const crt = join(dir, 'east.crt');
  writeFileSync(ca, a.ca);
  writeFileSync(crt, a.issue('east/example', Date.now() - DAY, Date.now() + DAY));
  const verify = spawnSync('openssl', ['verify', '-x509_strict', '-CAfile', ca, crt], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  const text = spawnSync('openssl', ['x509', '-in', crt, '-noout', '-text'], { encoding: 'utf8' }).stdout;
  assert.match(text, /Version: 3/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /Issuer: O ?= ?example, CN ?= ?example CA/);
  assert.match(text, /Subject: O ?= ?example, CN ?= ?east\/example/);
  assert.match(text, /NIST CURVE: P-256/);
  assert.match(text, /Basic Constraints: critical\s+CA:FALSE/);
  assert.match(text, /Key Usage: critical\s+Digital Signature/);
  assert.match(text, /Authority Key Identifier/);
  const caText = spawnSync('openssl', ['x509', '-in', ca, '-noout', '-text'], { encoding: 'utf8' }).stdout;
  assert.match(caText, /Basic Constraints: critical\s+CA:TRUE/);
  assert.match(caText, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
  assert.match(caText, /Subject Key Identifier/);
});
