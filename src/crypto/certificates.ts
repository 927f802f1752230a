import {
  createECDH,
  createHash,
  createHmac,
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
import { fsErrorText } from '../base/fs-error.js';
import type { Random } from '../base/random.js';

/**
 * Router certificates (3.1.1, 5.1.7, D-7): P-256 keys, X.509 certificates with CN =
 * router/authority signed by the authority's CA, PEM everywhere (RFC 7468). Certificates are built
 * with the ASN.1 schemas of @peculiar/asn1-x509 and signed with node:crypto; they are verified with
 * node:crypto's X509Certificate, and their names and dates read from the ASN.1 (node's subject text
 * escapes characters such as "," that a router name may hold). Everything is synchronous: the
 * emulator issues and checks certificates inside its event loop.
 */

export interface P256KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** The order n of P-256: private scalars are 1..n-1 (SEC 1 3.2.1). */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * Private keys drawn from an injected Random: they exist for reproducible runs (the emulator), so
 * their signatures are reproducible too (RFC 6979, see `signEcdsaSha256`).
 */
const reproducible = new WeakSet<KeyObject>();

/**
 * A P-256 key pair from the injected random source: deterministic for a seeded one, so an emulated
 * run replays byte for byte. Out-of-range scalars are drawn again (keeps the scalar uniform; it
 * happens with probability about 2^-32).
 */
export function p256KeyPairFromRandom(random: Random): P256KeyPair {
  const d = new Uint8Array(32);
  for (;;) {
    random.fill(d);
    const v = BigInt(`0x${Buffer.from(d).toString('hex')}`);
    if (v > 0n && v < P256_N) break;
  }
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey(); // uncompressed: 0x04 || X || Y
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const jwk = { kty: 'EC', crv: 'P-256', x: b64(pub.subarray(1, 33)), y: b64(pub.subarray(33, 65)) };
  const privateKey = createPrivateKey({ key: { ...jwk, d: b64(d) }, format: 'jwk' });
  reproducible.add(privateKey);
  return { privateKey, publicKey: createPublicKey({ key: jwk, format: 'jwk' }) };
}

/**
 * ECDSA P-256 with SHA-256, the signature DER-encoded (RFC 5758 3.2, D-8). OpenSSL draws the nonce
 * from its own CSPRNG, outside the injected Random, so a key from `p256KeyPairFromRandom` signs
 * with RFC 6979's deterministic nonce instead: the same seed then gives the same certificates and
 * BFD packets. That path uses BigInt arithmetic, which is not constant-time: it is for emulated
 * keys only; keys from files or the CSPRNG always sign through OpenSSL. Verifiers cannot tell the
 * two apart.
 */
export function signEcdsaSha256(data: Uint8Array, privateKey: KeyObject): Uint8Array {
  if (reproducible.has(privateKey)) return signRfc6979(data, privateKey);
  return new Uint8Array(sign('sha256', data, privateKey));
}

function big(b: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`);
}

/** RFC 6979 2.3.3: a scalar as 32 big-endian bytes. */
function octets(v: bigint): Buffer {
  return Buffer.from(v.toString(16).padStart(64, '0'), 'hex');
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
  }
  return r;
}

/** X.690 DER of an ECDSA-Sig-Value: SEQUENCE { INTEGER r, INTEGER s } (RFC 5480 / 5758). */
function derSignature(r: bigint, s: bigint): Uint8Array {
  const int = (v: bigint) => {
    // v is in 1..n-1: minimal big-endian bytes, a zero byte first when the top bit is set.
    let hex = v.toString(16);
    if (hex.length % 2) hex = `0${hex}`;
    if (Number.parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
    const b = Buffer.from(hex, 'hex');
    return Buffer.concat([Buffer.of(0x02, b.length), b]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return new Uint8Array(Buffer.concat([Buffer.of(0x30, body.length), body]));
}

/** RFC 6979 3.2 with HMAC-SHA256 on P-256 (qlen = hlen = 256, so bits2int is plain conversion). */
function signRfc6979(data: Uint8Array, key: KeyObject): Uint8Array {
  const d = big(Buffer.from(key.export({ format: 'jwk' }).d ?? '', 'base64url'));
  const h = createHash('sha256').update(data).digest();
  const z = big(h);
  const x = octets(d);
  const h1 = octets(z % P256_N);
  const mac = (k: Buffer, ...parts: Uint8Array[]) =>
    createHmac('sha256', k).update(Buffer.concat(parts)).digest();
  let k = Buffer.alloc(32, 0);
  let v = Buffer.alloc(32, 1);
  k = mac(k, v, Buffer.of(0), x, h1);
  v = mac(k, v);
  k = mac(k, v, Buffer.of(1), x, h1);
  v = mac(k, v);
  for (;;) {
    v = mac(k, v);
    const nonce = big(v);
    if (nonce > 0n && nonce < P256_N) {
      // k*G through OpenSSL: the x coordinate of the "public key" of the nonce.
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(octets(nonce));
      const r = big(ecdh.getPublicKey().subarray(1, 33)) % P256_N;
      const s = (modPow(nonce, P256_N - 2n, P256_N) * ((z + r * d) % P256_N)) % P256_N;
      if (r !== 0n && s !== 0n) return derSignature(r, s);
    }
    k = mac(k, v, Buffer.of(0));
    v = mac(k, v);
  }
}

/** A P-256 key pair from the system CSPRNG (what `svr pki` uses for real routers). */
export function generateP256KeyPair(): P256KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

const OID_CN = '2.5.4.3';
const OID_O = '2.5.4.10';

/** 5.1.7: one part of "name/authority": printable ASCII, no space and no slash. */
const NAME_PART = /^[!-.0-~]+$/;

/** 5.1.7: true when `s` can be the router or the authority part of "name/authority". */
export function isValidNamePart(s: string): boolean {
  return typeof s === 'string' && NAME_PART.test(s);
}

/** 5.1.7: "name/authority": exactly one slash, printable ASCII without spaces on both sides. */
export function parseRouterName(cn: string): { router: string; authority: string } | undefined {
  if (typeof cn !== 'string') return undefined;
  const i = cn.indexOf('/');
  if (i < 0) return undefined;
  const router = cn.slice(0, i);
  const authority = cn.slice(i + 1);
  return NAME_PART.test(router) && NAME_PART.test(authority) ? { router, authority } : undefined;
}

function dn(cn: string, o: string): Name {
  const rdn = (type: string, value: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
    ]);
  return new Name([rdn(OID_O, o), rdn(OID_CN, cn)]);
}

function spkiOf(key: KeyObject): SubjectPublicKeyInfo {
  return AsnConvert.parse(key.export({ type: 'spki', format: 'der' }), SubjectPublicKeyInfo);
}

/** RFC 5280 4.2.1.2 method 1: the SHA-1 of the subjectPublicKey bits. */
function keyId(key: KeyObject): Uint8Array {
  const spki = spkiOf(key);
  return new Uint8Array(createHash('sha1').update(new Uint8Array(spki.subjectPublicKey)).digest());
}

function ext(id: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

/** RFC 7468: base64 in 64-character lines between the encapsulation boundaries. */
export function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function signed(tbs: TBSCertificate, caKey: KeyObject): string {
  const der = new Uint8Array(AsnConvert.serialize(tbs));
  // RFC 5758 3.2: ecdsa-with-SHA256, the signature a DER Ecdsa-Sig-Value.
  const signature = signEcdsaSha256(der, caKey);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: ecdsaWithSHA256,
    signatureValue: new Uint8Array(signature).buffer,
  });
  return toPem(AsnConvert.serialize(cert), 'CERTIFICATE');
}

/** RFC 5280 4.1.2.2: a positive INTEGER of at most 20 octets, minimally encoded (DER). */
function serialOf(serial: Uint8Array): ArrayBuffer {
  let i = 0;
  while (i < serial.length && serial[i] === 0) i++;
  const digits = serial.subarray(i);
  if (digits.length === 0) throw new Error('a certificate serial must be a positive number');
  const s = digits[0] & 0x80 ? Uint8Array.of(0, ...digits) : Uint8Array.from(digits);
  if (s.length > 20) throw new Error('a certificate serial has at most 20 octets (RFC 5280 4.1.2.2)');
  return s.buffer;
}

function checkDates(notBefore: Date, notAfter: Date): void {
  if (!(notBefore.getTime() < notAfter.getTime())) throw new Error('notBefore must precede notAfter');
}

/** The authority CA (D-7): self-signed, CN "<authority> CA", O = the authority. */
export function createCaCertificate(o: {
  authority: string;
  keys: P256KeyPair;
  notBefore: Date;
  notAfter: Date;
  serial: Uint8Array;
}): string {
  if (!isValidNamePart(o.authority))
    throw new Error(`an authority name is printable ASCII without space or "/", got "${o.authority}"`);
  if (!isP256(o.keys.publicKey)) throw new Error('the CA key must be P-256 (D-7)');
  checkDates(o.notBefore, o.notAfter);
  const subject = dn(`${o.authority} CA`, o.authority);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialOf(o.serial),
    signature: ecdsaWithSHA256,
    issuer: subject,
    validity: new Validity({ notBefore: o.notBefore, notAfter: o.notAfter }),
    subject,
    subjectPublicKeyInfo: spkiOf(o.keys.publicKey),
    extensions: new Extensions([
      // The CA signs router certificates only, never another CA.
      ext(id_ce_basicConstraints, true, new BasicConstraints({ cA: true, pathLenConstraint: 0 })),
      ext(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign)),
      ext(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(o.keys.publicKey))),
    ]),
  });
  return signed(tbs, o.keys.privateKey);
}

/**
 * A router certificate (5.1.7, D-7): CN = "router/authority", issued by the authority's CA. The
 * draft's CSR round trip (RFC 4210) is out of scope: the CA holder signs the router key directly.
 * Throws (programmer error) on a name that is not router/authority or not of the CA's authority.
 */
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
  if (!rn) throw new Error(`a router certificate name is router/authority, got "${o.name}"`);
  const ca = parse(o.caCertificatePem);
  if (!ca) throw new Error('the CA certificate is not a readable PEM X.509 certificate');
  if (ca.authority !== rn.authority)
    throw new Error(`"${o.name}" is not of authority "${ca.authority ?? '?'}", whose CA this is`);
  if (!isP256(o.publicKey)) throw new Error('a router key must be P-256 (D-7)');
  checkDates(o.notBefore, o.notAfter);
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: serialOf(o.serial),
    signature: ecdsaWithSHA256,
    issuer: ca.asn.tbsCertificate.subject,
    validity: new Validity({ notBefore: o.notBefore, notAfter: o.notAfter }),
    subject: dn(o.name, rn.authority),
    subjectPublicKeyInfo: spkiOf(o.publicKey),
    extensions: new Extensions([
      ext(id_ce_basicConstraints, true, new BasicConstraints({ cA: false })),
      // 5.1.8: the router key signs its ephemeral peer keys, nothing else.
      ext(id_ce_keyUsage, true, new KeyUsage(KeyUsageFlags.digitalSignature)),
      ext(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(keyId(o.publicKey))),
      ext(
        id_ce_authorityKeyIdentifier,
        false,
        new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(keyId(ca.x509.publicKey)) }),
      ),
    ]),
  });
  return signed(tbs, o.caPrivateKey);
}

/** A certificate read both ways: OpenSSL's view for the crypto, the ASN.1 view for exact fields. */
interface Parsed {
  readonly x509: X509Certificate;
  readonly asn: Certificate;
  /** The subject's CN, or undefined when it has none or several (an ambiguous identity). */
  readonly cn: string | undefined;
  /** The subject's O: for a CA, its authority. */
  readonly authority: string | undefined;
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The value of an attribute that occurs exactly once in a name. */
function single(name: Name, oid: string): string | undefined {
  const values: string[] = [];
  for (const rdn of name) for (const atv of rdn) if (atv.type === oid) values.push(atv.value.toString());
  return values.length === 1 ? values[0] : undefined;
}

/** A bound on PEM text from the network: router certificates are well under 1 KiB. */
const MAX_PEM = 16_384;

/** A PEM certificate, or undefined for anything else. Never throws. */
function parse(pem: string): Parsed | undefined {
  if (typeof pem !== 'string' || pem.length > MAX_PEM || !pem.includes('-----BEGIN CERTIFICATE-----'))
    return undefined;
  try {
    const x509 = new X509Certificate(pem);
    const asn = AsnConvert.parse(x509.raw, Certificate);
    const v = asn.tbsCertificate.validity;
    const notBefore = v.notBefore.getTime().getTime();
    const notAfter = v.notAfter.getTime().getTime();
    if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) return undefined;
    const subject = asn.tbsCertificate.subject;
    return { x509, asn, cn: single(subject, OID_CN), authority: single(subject, OID_O), notBefore, notAfter };
  } catch {
    return undefined;
  }
}

function isP256(k: KeyObject): boolean {
  return k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/** "EC" and "P-256" for our keys; node's names for anything else. */
function keyKind(k: KeyObject): { key: string; keyAlgorithm: string; curve?: string } {
  const t = k.asymmetricKeyType ?? 'unknown';
  if (t !== 'ec') return { key: t.toUpperCase(), keyAlgorithm: t.toUpperCase() };
  const named = k.asymmetricKeyDetails?.namedCurve ?? 'unknown';
  const curve = named === 'prime256v1' ? 'P-256' : named;
  return { key: `EC ${curve}`, keyAlgorithm: 'EC', curve };
}

/** SHA-256 of the SubjectPublicKeyInfo DER, colon hex like X509Certificate.fingerprint256. */
function publicKeyFingerprint(k: KeyObject): string {
  const der = k.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)?.join(':') ?? '';
}

export interface CertificateInfo {
  /** Subject CN: the router's authentication name, or "<authority> CA". */
  readonly subject: string;
  /** Issuer CN. */
  readonly issuer: string;
  /** Subject O: the authority (D-7), when the certificate has exactly one. */
  readonly authority?: string;
  /** Serial number, lowercase hex. */
  readonly serial: string;
  /** ISO 8601. */
  readonly notBefore: string;
  readonly notAfter: string;
  readonly isCa: boolean;
  /** "EC P-256" for the keys of D-7. */
  readonly key: string;
  readonly keyAlgorithm: string;
  readonly curve?: string;
  /** SHA-256 of the certificate DER. */
  readonly fingerprint256: string;
  /** SHA-256 of the public key (SPKI DER): equal to `describeKey` of the matching key. */
  readonly publicKeyFingerprint256: string;
}

/** What `svr pki show` prints for a certificate. Never throws. */
export function describeCertificate(pem: string): CertificateInfo | { error: string } {
  const c = parse(pem);
  if (!c) return { error: 'not a PEM X.509 certificate' };
  try {
    const issuer = single(c.asn.tbsCertificate.issuer, OID_CN);
    return {
      subject: c.cn ?? c.x509.subject.replace(/\n/g, ', '),
      issuer: issuer ?? c.x509.issuer.replace(/\n/g, ', '),
      ...(c.authority === undefined ? {} : { authority: c.authority }),
      serial: c.x509.serialNumber.toLowerCase(),
      notBefore: new Date(c.notBefore).toISOString(),
      notAfter: new Date(c.notAfter).toISOString(),
      isCa: c.x509.ca,
      ...keyKind(c.x509.publicKey),
      fingerprint256: c.x509.fingerprint256,
      publicKeyFingerprint256: publicKeyFingerprint(c.x509.publicKey),
    };
  } catch {
    return { error: 'an X.509 certificate whose contents cannot be read' };
  }
}

export interface KeyInfo {
  readonly type: 'private key' | 'public key';
  /** "EC P-256" for the keys of D-7. */
  readonly key: string;
  readonly keyAlgorithm: string;
  readonly curve?: string;
  /** SHA-256 of the public key (SPKI DER), as `publicKeyFingerprint256` of its certificate. */
  readonly fingerprint256: string;
}

/** A PEM private or public key: its kind and its public key's fingerprint. Never throws. */
export function describeKey(pem: string): KeyInfo | { error: string } {
  if (typeof pem !== 'string' || pem.length > MAX_PEM || !/-----BEGIN [A-Z0-9 ]*KEY-----/.test(pem))
    return { error: 'not a PEM key' };
  try {
    const isPrivate = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem);
    const k = isPrivate ? createPrivateKey(pem) : createPublicKey(pem);
    const pub = isPrivate ? createPublicKey(k) : k;
    return {
      type: isPrivate ? 'private key' : 'public key',
      ...keyKind(pub),
      fingerprint256: publicKeyFingerprint(pub),
    };
  } catch {
    return { error: 'a PEM key that cannot be read (encrypted, or damaged)' };
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

/** A parsed certificate and whether the CA signed it: what 5.1.7 lets a router cache. */
interface Verified {
  readonly c: Parsed;
  readonly signedByCa: boolean;
}

/** Distinct certificates remembered: a router has a handful of peers; a flood cannot grow it. */
const CACHE_LIMIT = 1024;

/**
 * 5.1.7's checks of a peer's certificate: the dates (its own and its CA's), the CA's signature, and
 * a router name "name/authority" of this authority that the configuration names. The parse and the
 * signature check are cached per exact PEM text (5.1.7: a certificate seen on several paths is
 * validated once); dates and names are checked on every call, against the injected clock.
 * Revocation lists are not consulted: 5.1.7 asks for it only "if revocation list available", and
 * this project has no CRL distribution yet.
 */
export class CertificateValidator {
  private readonly ca: Parsed;
  private readonly caName: string;
  private readonly cache = new Map<string, Verified>();

  /** Throws when the CA certificate is unusable: that is configuration, checked at start. */
  constructor(
    caCertificatePem: string,
    private readonly clock: Clock,
  ) {
    const ca = parse(caCertificatePem);
    if (!ca) throw new Error('the CA certificate is not a readable PEM X.509 certificate');
    this.ca = ca;
    this.caName = ca.cn ?? ca.x509.subject.replace(/\n/g, ', ');
  }

  /** Never throws, whatever `pem` holds: a refusal is a value (the text comes off the wire). */
  validate(pem: string, expectedAuthority: string, allowedRouters: ReadonlySet<string>): CertificateCheck {
    try {
      return this.check(pem, expectedAuthority, allowedRouters);
    } catch {
      // Accessors of an odd certificate OpenSSL accepted can still throw: it is unreadable.
      return refuse('unreadable', 'a certificate that cannot be read');
    }
  }

  private verified(pem: string): Verified | undefined {
    const hit = this.cache.get(pem);
    if (hit) return hit;
    const c = parse(pem);
    if (!c) return undefined;
    let signedByCa = false;
    try {
      // checkIssued: issuer name, key identifiers, the CA's keyCertSign; verify: the signature.
      signedByCa = c.x509.checkIssued(this.ca.x509) && c.x509.verify(this.ca.x509.publicKey);
    } catch {
      signedByCa = false;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    const v = { c, signedByCa };
    this.cache.set(pem, v);
    return v;
  }

  private check(
    pem: string,
    expectedAuthority: string,
    allowedRouters: ReadonlySet<string>,
  ): CertificateCheck {
    const v = this.verified(pem);
    if (!v) return refuse('unreadable', 'a certificate that is not PEM X.509');
    const { c } = v;
    const who = `certificate "${c.cn ?? c.x509.subject.replace(/\n/g, ', ')}"`;
    if (!isP256(c.x509.publicKey)) return refuse('not-p256', `${who} has no P-256 key (D-7)`);
    if (!v.signedByCa) return refuse('wrong-ca', `${who} is signed by another CA than "${this.caName}"`);
    if (c.x509.ca) return refuse('is-ca', `${who} is a CA certificate, not a router's`);
    const now = this.clock.now();
    if (now < c.notBefore)
      return refuse('not-yet-valid', `${who} is not valid before ${new Date(c.notBefore).toISOString()}`);
    if (now > c.notAfter) return refuse('expired', `${who} expired on ${new Date(c.notAfter).toISOString()}`);
    // A chain is only as current as its CA: an expired CA vouches for nobody.
    if (now < this.ca.notBefore)
      return refuse(
        'not-yet-valid',
        `${who} is signed by "${this.caName}", which is not valid before ${new Date(this.ca.notBefore).toISOString()}`,
      );
    if (now > this.ca.notAfter)
      return refuse(
        'expired',
        `${who} is signed by "${this.caName}", which expired on ${new Date(this.ca.notAfter).toISOString()}`,
      );
    const rn = c.cn === undefined ? undefined : parseRouterName(c.cn);
    if (!rn || c.cn === undefined) return refuse('bad-name', `${who} is not named router/authority (5.1.7)`);
    if (rn.authority !== expectedAuthority)
      return refuse(
        'wrong-authority',
        `${who} is of authority "${rn.authority}", not "${expectedAuthority}"`,
      );
    if (!allowedRouters.has(rn.router))
      return refuse('unknown-router', `${who} names router "${rn.router}", which is not a configured peer`);
    return { ok: true, name: c.cn, router: rn.router, authority: rn.authority, publicKey: c.x509.publicKey };
  }
}

function refuse(reason: CertificateRefusal, message: string): CertificateCheck {
  return { ok: false, reason, message };
}

export interface RouterCredentials {
  /** The authentication name, router/authority (5.1.7). */
  readonly name: string;
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  readonly caCertificatePem: string;
}

/**
 * A router's PEM files (`routers[].pki`). Every problem is one sentence naming its file: a router
 * should not start with credentials that no peer would accept.
 */
export function loadRouterCredentials(files: {
  ca: string;
  certificate: string;
  key: string;
}): RouterCredentials | { error: string } {
  const read = (f: string): string | { error: string } => {
    try {
      return readFileSync(f, 'utf8');
    } catch (e) {
      return { error: `${f}: ${fsErrorText(e)}` };
    }
  };
  const caText = read(files.ca);
  if (typeof caText !== 'string') return caText;
  const certText = read(files.certificate);
  if (typeof certText !== 'string') return certText;
  const keyText = read(files.key);
  if (typeof keyText !== 'string') return keyText;

  const ca = parse(caText);
  if (!ca) return { error: `${files.ca}: not a PEM X.509 certificate` };
  if (!ca.x509.ca) return { error: `${files.ca}: not a CA certificate` };
  const c = parse(certText);
  if (!c) return { error: `${files.certificate}: not a PEM X.509 certificate` };
  if (!isP256(c.x509.publicKey)) return { error: `${files.certificate}: the key is not P-256 (D-7)` };
  if (c.cn === undefined || !parseRouterName(c.cn))
    return { error: `${files.certificate}: the common name is not router/authority (5.1.7)` };
  let issued = false;
  try {
    issued = c.x509.checkIssued(ca.x509) && c.x509.verify(ca.x509.publicKey);
  } catch {
    issued = false;
  }
  if (!issued) return { error: `${files.certificate}: not signed by the CA of ${files.ca}` };
  if (!/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(keyText))
    return { error: `${files.key}: not a PEM private key` };
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyText);
  } catch {
    return { error: `${files.key}: a PEM private key that cannot be read (encrypted, or damaged)` };
  }
  let matches = false;
  try {
    matches = c.x509.checkPrivateKey(privateKey);
  } catch {
    matches = false;
  }
  if (!matches) return { error: `${files.key}: does not match the certificate ${files.certificate}` };
  return { name: c.cn, certificatePem: certText, privateKey, caCertificatePem: caText };
}

const DAY_MS = 86_400_000;

/**
 * An in-memory CA and a certificate per router (`router/authority`), valid from a day before `now`
 * to `validDays` (365) after: the emulator's authority, so every emulated network authenticates
 * with real certificates. All keys come from `random`: a seed reproduces every certificate byte.
 */
export function emulatedPki(o: {
  authority: string;
  routers: readonly string[];
  random: Random;
  now: number;
  validDays?: number;
}): { caCertificatePem: string; caPrivateKey: KeyObject; routers: Map<string, RouterCredentials> } {
  const notBefore = new Date(o.now - DAY_MS);
  const notAfter = new Date(o.now + (o.validDays ?? 365) * DAY_MS);
  const caKeys = p256KeyPairFromRandom(o.random);
  const caCertificatePem = createCaCertificate({
    authority: o.authority,
    keys: caKeys,
    notBefore,
    notAfter,
    serial: Uint8Array.of(1),
  });
  const routers = new Map<string, RouterCredentials>();
  o.routers.forEach((r, i) => {
    const keys = p256KeyPairFromRandom(o.random);
    const name = `${r}/${o.authority}`;
    const n = i + 2; // serial 1 is the CA's; routers get 2, 3, ... in configuration order
    const certificatePem = issueRouterCertificate({
      caCertificatePem,
      caPrivateKey: caKeys.privateKey,
      name,
      publicKey: keys.publicKey,
      notBefore,
      notAfter,
      serial: Uint8Array.of(n >>> 24, n >>> 16, n >>> 8, n),
    });
    routers.set(r, { name, certificatePem, privateKey: keys.privateKey, caCertificatePem });
  });
  return { caCertificatePem, caPrivateKey: caKeys.privateKey, routers };
}
