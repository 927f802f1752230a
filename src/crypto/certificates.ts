import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  X509Certificate,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ecdsaWithSHA256 } from '@peculiar/asn1-ecc';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  Extension,
  Extensions,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectKeyIdentifier,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
} from '@peculiar/asn1-x509';
import type { Clock } from '../base/clock.js';
import type { Random } from '../base/random.js';

/**
 * Router certificates (5.1.7, D-7): P-256 keys, X.509 certificates with CN = router/authority
 * signed by the authority's CA, PEM everywhere (RFC 7468). Certificates are built with the
 * ASN.1 schemas of @peculiar/asn1-x509 and signed with node:crypto; they are parsed and
 * validated with node:crypto's X509Certificate. Everything is synchronous: the emulator issues
 * and checks certificates inside its event loop.
 */

export interface P256KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** The order n of P-256: private scalars are 1..n-1. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A P-256 key pair from the injected random source (deterministic for a seeded one). */
export function p256KeyPairFromRandom(random: Random): P256KeyPair {
  const d = new Uint8Array(32);
  for (;;) {
    random.fill(d);
    const v = BigInt(`0x${Buffer.from(d).toString('hex')}`);
    if (v > 0n && v < P256_N) break;
  }
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey(); // 0x04 || X || Y
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const jwk = { kty: 'EC', crv: 'P-256', x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33, 65)) };
  return {
    privateKey: createPrivateKey({ key: { ...jwk, d: b64(d) }, format: 'jwk' }),
    publicKey: createPublicKey({ key: jwk, format: 'jwk' }),
  };
}

/** A P-256 key pair from the system CSPRNG (what `svr pki` uses). */
export function generateP256KeyPair(): P256KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

function name(cn: string, o: string): Name {
  const rdn = (type: string, value: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
    ]);
  return new Name([rdn(OID_O, o), rdn(OID_CN, cn)]);
}

function spkiOf(key: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(key.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the public key bits. */
function keyId(key: KeyObject): Uint8Array {
  const spki = spkiOf(key);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

function ext(id: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function signed(tbs: TBSCertificate, caKey: KeyObject): string {
  const der = new Uint8Array(AsnConvert.serialize(tbs));
  const signature = sign('sha256', der, caKey); // ECDSA, DER (RFC 5758)
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: ecdsaWithSHA256,
    signatureValue: new Uint8Array(signature).buffer,
  });
  return toPem(AsnConvert.serialize(cert), 'CERTIFICATE');
}

function serialOf(serial: Uint8Array): ArrayBuffer {
  // A positive INTEGER: a leading zero when the top bit is set.
  const s = serial[0] & 0x80 ? Uint8Array.of(0, ...serial) : Uint8Array.from(serial);
  return s.buffer;
}

export function createCaCertificate(o: {
  authority: string;
  keys: P256KeyPair;
  notBefore: Date;
  notAfter: Date;
  serial: Uint8Array;
}): string {
  const subject = name(`${o.authority} CA`, o.authority);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialOf(o.serial),
    signature: ecdsaWithSHA256,
    issuer: subject,
    validity: new Validity({ notBefore: o.notBefore, notAfter: o.notAfter }),
    subject,
    subjectPublicKeyInfo: spkiOf(o.keys.publicKey),
    extensions: new Extensions([
      ext(id_ce_basicConstraints, true, new BasicConstraints({ cA: true })),
      ext(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
      ext(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(o.keys.publicKey))),
    ]),
  });
  return signed(tbs, o.keys.privateKey);
}

/** 5.1.7: "name/authority": exactly one slash, printable ASCII without spaces on both sides. */
export function parseRouterName(cn: string): { router: string; authority: string } | undefined {
  const m = /^([!-.0-~]+)\/([!-.0-~]+)$/.exec(cn);
  return m ? { router: m[1], authority: m[2] } : undefined;
}

export function issueRouterCertificate(o: {
  caCertificatePem: string;
  caPrivateKey: KeyObject;
  name: string;
  publicKey: KeyObject;
  notBefore: Date;
  notAfter: Date;
  serial: Uint8Array;
}): string {
  const rn = parseRouterName(o.name);
  if (!rn) throw new Error(`router certificate name must be router/authority, got "${o.name}"`);
  const ca = new X509Certificate(o.caCertificatePem);
  const caAuthority = fieldOf(ca.subject, 'O');
  if (caAuthority !== rn.authority)
    throw new Error(`"${o.name}" is not of authority "${caAuthority}", whose CA this is`);
  const caDer = AsnConvert.parse(ca.raw, Certificate);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialOf(o.serial),
    signature: ecdsaWithSHA256,
    issuer: caDer.tbsCertificate.subject,
    validity: new Validity({ notBefore: o.notBefore, notAfter: o.notAfter }),
    subject: name(o.name, rn.authority),
    subjectPublicKeyInfo: spkiOf(o.publicKey),
    extensions: new Extensions([
      ext(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
      ext(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
      ext(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(o.publicKey))),
      ext(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId(ca.publicKey)) }),
      ),
    ]),
  });
  return signed(tbs, o.caPrivateKey);
}

/** A field of node's multi-line subject text ("O=example\nCN=east/example"). */
function fieldOf(dn: string, field: string): string | undefined {
  for (const line of dn.split('\n')) if (line.startsWith(`${field}=`)) return line.slice(field.length + 1);
  return undefined;
}

function parse(pem: string): X509Certificate | undefined {
  if (typeof pem !== 'string' || pem.length > 16_384 || !pem.includes('-----BEGIN CERTIFICATE-----'))
    return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function isP256(k: KeyObject): boolean {
  return k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

export interface CertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly isCa: boolean;
  readonly key: string;
  readonly fingerprint256: string;
}

export function describeCertificate(pem: string): CertificateInfo | { error: string } {
  const c = parse(pem);
  if (!c) return { error: 'not a PEM X.509 certificate' };
  try {
    return describe(c);
  } catch {
    return { error: 'an X.509 certificate whose contents cannot be read' };
  }
}

function describe(c: X509Certificate): CertificateInfo {
  return {
    subject: fieldOf(c.subject, 'CN') ?? c.subject,
    issuer: fieldOf(c.issuer, 'CN') ?? c.issuer,
    serial: c.serialNumber.toLowerCase(),
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    isCa: c.ca,
    key: isP256(c.publicKey) ? 'EC P-256' : (c.publicKey.asymmetricKeyType ?? 'unknown'),
    fingerprint256: c.fingerprint256,
  };
}

/** A PEM private or public key: its type and the SHA-256 fingerprint of its public key. */
export function describeKey(
  pem: string,
): { type: string; key: string; fingerprint256: string } | { error: string } {
  try {
    const isPrivate = pem.includes('PRIVATE KEY');
    const k = isPrivate ? createPrivateKey(pem) : createPublicKey(pem);
    const pub = isPrivate ? createPublicKey(k) : k;
    const der = pub.export({ type: 'spki', format: 'der' });
    const fp = createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':') ?? '';
    return {
      type: isPrivate ? 'private key' : 'public key',
      key: isP256(pub) ? 'EC P-256' : (pub.asymmetricKeyType ?? 'unknown'),
      fingerprint256: fp,
    };
  } catch {
    return { error: 'not a PEM key' };
  }
}

export type CertificateRefusal =
  | 'unreadable'
  | 'not-p256'
  | 'not-yet-valid'
  | 'expired'
  | 'wrong-ca'
  | 'bad-name'
  | 'wrong-authority'
  | 'unknown-router'
  | 'is-ca';

export type CertificateCheck =
  | { ok: true; name: string; router: string; authority: string; publicKey: KeyObject }
  | { ok: false; reason: CertificateRefusal; message: string };

/**
 * 5.1.7's checks: dates, the CA's signature, a router name of this authority that the
 * configuration names. The signature check is cached per certificate text (a certificate seen
 * on several paths is verified once); dates and names are checked on every call. Revocation
 * lists are not consulted (5.1.7: "if revocation list available").
 */
export class CertificateValidator {
  private readonly ca: X509Certificate;
  private readonly caName: string;
  private readonly signatureOk = new Map<string, boolean>();

  constructor(
    caCertificatePem: string,
    private readonly clock: Clock,
  ) {
    const ca = parse(caCertificatePem);
    if (!ca) throw new Error('the CA certificate is not a PEM X.509 certificate');
    this.ca = ca;
    this.caName = fieldOf(ca.subject, 'CN') ?? ca.subject;
  }

  validate(pem: string, expectedAuthority: string, allowedRouters: ReadonlySet<string>): CertificateCheck {
    // Accessors of a parsed certificate can still throw on odd contents (a key OpenSSL cannot
    // decode): whatever throws is unreadable, never an exception out of the BFD receive path.
    try {
      return this.check(pem, expectedAuthority, allowedRouters);
    } catch {
      return refuse('unreadable', 'a certificate that cannot be read');
    }
  }

  private check(
    pem: string,
    expectedAuthority: string,
    allowedRouters: ReadonlySet<string>,
  ): CertificateCheck {
    const c = parse(pem);
    if (!c) return refuse('unreadable', 'a certificate that is not PEM X.509');
    const cn = fieldOf(c.subject, 'CN') ?? '';
    const who = `certificate "${cn}"`;
    if (!isP256(c.publicKey)) return refuse('not-p256', `${who} has no P-256 key (5.1.7, D-7)`);
    let sig = this.signatureOk.get(pem);
    if (sig === undefined) {
      try {
        sig = c.checkIssued(this.ca) && c.verify(this.ca.publicKey);
      } catch {
        sig = false;
      }
      if (this.signatureOk.size > 1000) this.signatureOk.clear();
      this.signatureOk.set(pem, sig);
    }
    if (!sig) return refuse('wrong-ca', `${who} is signed by another CA than "${this.caName}"`);
    if (c.ca) return refuse('is-ca', `${who} is a CA certificate, not a router's`);
    const now = this.clock.now();
    if (now < Date.parse(c.validFrom))
      return refuse('not-yet-valid', `${who} is not valid before ${c.validFrom}`);
    if (now > Date.parse(c.validTo)) return refuse('expired', `${who} expired on ${c.validTo}`);
    const rn = parseRouterName(cn);
    if (!rn) return refuse('bad-name', `${who} is not named router/authority`);
    if (rn.authority !== expectedAuthority)
      return refuse(
        'wrong-authority',
        `${who} is of authority "${rn.authority}", not "${expectedAuthority}"`,
      );
    if (!allowedRouters.has(rn.router))
      return refuse('unknown-router', `${who} names router "${rn.router}", which is not a configured peer`);
    return { ok: true, name: cn, router: rn.router, authority: rn.authority, publicKey: c.publicKey };
  }
}

function refuse(reason: CertificateRefusal, message: string): CertificateCheck {
  return { ok: false, reason, message };
}

export interface RouterCredentials {
  readonly name: string;
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  readonly caCertificatePem: string;
}

/** A router's PEM files (`routers[].pki`); every problem named with its file. */
export function loadRouterCredentials(files: {
  ca: string;
  certificate: string;
  key: string;
}): RouterCredentials | { error: string } {
  const read = (f: string): string | { error: string } => {
    try {
      return readFileSync(f, 'utf8');
    } catch (e) {
      return {
        error: `${f}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'unreadable'}`,
      };
    }
  };
  const ca = read(files.ca);
  const cert = read(files.certificate);
  const key = read(files.key);
  for (const x of [ca, cert, key]) if (typeof x !== 'string') return x;
  const caPem = ca as string;
  const certPem = cert as string;
  if (!parse(caPem)) return { error: `${files.ca}: not a PEM certificate` };
  const c = parse(certPem);
  if (!c) return { error: `${files.certificate}: not a PEM certificate` };
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key as string);
  } catch {
    return { error: `${files.key}: not a PEM private key` };
  }
  if (!c.checkPrivateKey(privateKey))
    return { error: `${files.key}: does not match the certificate ${files.certificate}` };
  return {
    name: fieldOf(c.subject, 'CN') ?? '',
    certificatePem: certPem,
    privateKey,
    caCertificatePem: caPem,
  };
}

/** An in-memory CA and a certificate per router: the emulator's authority. */
export function emulatedPki(o: {
  authority: string;
  routers: readonly string[];
  random: Random;
  now: number;
  validDays?: number;
}): { caCertificatePem: string; caPrivateKey: KeyObject; routers: Map<string, RouterCredentials> } {
  const day = 86_400_000;
  const notBefore = new Date(o.now - day);
  const notAfter = new Date(o.now + (o.validDays ?? 365) * day);
  const caKeys = p256KeyPairFromRandom(o.random);
  const caCertificatePem = createCaCertificate({
    authority: o.authority,
    keys: caKeys,
    notBefore,
    notAfter: new Date(o.now + 10 * 365 * day),
    serial: Uint8Array.of(1),
  });
  const routers = new Map<string, RouterCredentials>();
  o.routers.forEach((r, i) => {
    const keys = p256KeyPairFromRandom(o.random);
    const name = `${r}/${o.authority}`;
    const certificatePem = issueRouterCertificate({
      caCertificatePem,
      caPrivateKey: caKeys.privateKey,
      name,
      publicKey: keys.publicKey,
      notBefore,
      notAfter,
      serial: Uint8Array.of(2, i & 0xff, (i >> 8) & 0xff),
    });
    routers.set(r, { name, certificatePem, privateKey: keys.privateKey, caCertificatePem });
  });
  return { caCertificatePem, caPrivateKey: caKeys.privateKey, routers };
}
