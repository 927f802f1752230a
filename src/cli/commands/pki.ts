import { createPrivateKey, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../base/clock.js';
import { fsErrorText } from '../../base/fs-error.js';
import {
  type CertificateInfo,
  CertificateValidator,
  createCaCertificate,
  describeCertificate,
  describeKey,
  generateP256KeyPair,
  issueRouterCertificate,
  isValidNamePart,
  parseRouterName,
} from '../../crypto/certificates.js';
import { CliError } from '../errors.js';

/**
 * `svr pki`: the authority's CA and router certificates (5.1.7, D-7): P-256 keys, X.509 with
 * CN = router/authority, PEM files. The draft leaves enrolment out of scope (it points at
 * RFC 4210); these commands are the offline equivalent an operator runs once per router.
 */

const DAY = 86_400_000;
/** Back-date new certificates a little: a peer whose clock lags should not see "not yet valid". */
const SKEW_MS = 5 * 60_000;

function days(s: string | undefined, dflt: number): number {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!/^[0-9]+$/.test(s) || !Number.isInteger(n) || n < 1 || n > 36_500)
    throw new CliError(`--days: expected a whole number of days from 1 to 36500, got "${s}"`);
  return n;
}

/** RFC 5280 4.1.2.2: a positive serial of at most 20 octets; 16 random bytes, top bit clear. */
function serial(): Uint8Array {
  const s = new Uint8Array(randomBytes(16));
  s[0] = (s[0] & 0x7f) | 0x01;
  return s;
}

function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new CliError(`${dir}: cannot create the directory (${fsErrorText(e)})`);
  }
}

/** Refuse before writing anything, so a refusal never leaves a certificate without its key. */
function checkNew(paths: readonly string[], force: boolean): void {
  if (force) return;
  for (const p of paths) if (existsSync(p)) throw new CliError(`${p} exists; --force replaces it`);
}

function write(path: string, text: string, secret = false): void {
  try {
    writeFileSync(path, text, secret ? { mode: 0o600 } : undefined);
    // `mode` applies only when the file is created: an overwritten key must not stay readable.
    if (secret) chmodSync(path, 0o600);
  } catch (e) {
    throw new CliError(`${path}: cannot write (${fsErrorText(e)})`);
  }
}

function readText(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(`${path}: ${fsErrorText(e)} (${what})`);
  }
  return text;
}

function pkcs8(k: KeyObject): string {
  return k.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function summary(d: CertificateInfo): string {
  return [
    `subject      ${d.subject}`,
    `issuer       ${d.issuer}`,
    `serial       ${d.serial}`,
    `valid        ${d.notBefore} to ${d.notAfter}`,
    `key          ${d.key}`,
    `kind         ${d.isCa ? 'CA certificate' : 'router certificate'}`,
    `sha256       ${d.fingerprint256}`,
    `key sha256   ${d.publicKeyFingerprint256}`,
  ].join('\n');
}

function describeOrFail(pem: string, file: string): CertificateInfo {
  const d = describeCertificate(pem);
  if ('error' in d) throw new CliError(`${file}: ${d.error}`);
  return d;
}

/** The authority a CA certificate speaks for: its O (D-7), or undefined when it is no CA. */
function caAuthority(pem: string): string | undefined {
  const d = describeCertificate(pem);
  return 'error' in d || !d.isCa ? undefined : d.authority;
}

/** `svr pki init-ca --authority NAME [--dir DIR] [--days N] [--force]`. */
export function pkiInitCa(o: { authority: string; dir?: string; days?: string; force?: boolean }): string {
  if (!isValidNamePart(o.authority))
    throw new CliError(
      `--authority: expected printable ASCII without spaces or "/" (5.1.7), got "${o.authority}"`,
    );
  const validDays = days(o.days, 3650);
  const dir = o.dir ?? 'pki';
  const crt = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  checkNew([crt, key], o.force ?? false);
  ensureDir(dir);
  const keys = generateP256KeyPair();
  const now = Date.now();
  const pem = createCaCertificate({
    authority: o.authority,
    keys,
    notBefore: new Date(now - SKEW_MS),
    notAfter: new Date(now + validDays * DAY),
    serial: serial(),
  });
  write(key, pkcs8(keys.privateKey), true);
  write(crt, pem);
  return `wrote ${crt} and ${key} (private, mode 0600)\n${summary(describeOrFail(pem, crt))}\n`;
}

/** `svr pki issue NAME/AUTHORITY [--dir DIR] [--days N] [--force]`. */
export function pkiIssue(name: string, o: { dir?: string; days?: string; force?: boolean }): string {
  const rn = parseRouterName(name);
  if (!rn)
    throw new CliError(
      `expected router/authority (5.1.7), printable ASCII without spaces, e.g. east/example; got "${name}"`,
    );
  if (rn.router === 'ca')
    throw new CliError(`a router cannot be named "ca": its files would replace the CA's`);
  const validDays = days(o.days, 365);
  const dir = o.dir ?? 'pki';
  const caFile = join(dir, 'ca.crt');
  const caKeyFile = join(dir, 'ca.key');
  const caPem = readText(caFile, 'run `svr pki init-ca` first');
  const caKeyPem = readText(caKeyFile, 'the CA private key');
  const ca = describeOrFail(caPem, caFile);
  const authority = caAuthority(caPem);
  if (authority === undefined) throw new CliError(`${caFile}: not the CA certificate of an authority`);
  if (authority !== rn.authority)
    throw new CliError(
      `"${name}" is of authority "${rn.authority}", but ${caFile} is the CA of "${authority}"`,
    );
  const caKey = loadKey(caKeyPem, caKeyFile);
  if (!new X509Certificate(caPem).checkPrivateKey(caKey))
    throw new CliError(`${caKeyFile}: does not match the CA certificate ${caFile}`);
  const now = Date.now();
  const caUntil = Date.parse(ca.notAfter);
  if (now > caUntil) throw new CliError(`${caFile}: the CA expired on ${ca.notAfter}; run init-ca again`);
  // A certificate cannot outlive the CA that vouches for it (peers check both, 5.1.7).
  const until = Math.min(now + validDays * DAY, caUntil);
  const crt = join(dir, `${rn.router}.crt`);
  const key = join(dir, `${rn.router}.key`);
  checkNew([crt, key], o.force ?? false);
  const keys = generateP256KeyPair();
  let pem: string;
  try {
    pem = issueRouterCertificate({
      caCertificatePem: caPem,
      caPrivateKey: caKey,
      name,
      publicKey: keys.publicKey,
      notBefore: new Date(now - SKEW_MS),
      notAfter: new Date(until),
      serial: serial(),
    });
  } catch (e) {
    throw new CliError(`cannot issue "${name}": ${e instanceof Error ? e.message : String(e)}`);
  }
  write(key, pkcs8(keys.privateKey), true);
  write(crt, pem);
  const clamped = until < now + validDays * DAY ? `\nnote: valid only until the CA expires` : '';
  return `wrote ${crt} and ${key} (private, mode 0600)\n${summary(describeOrFail(pem, crt))}${clamped}\n`;
}

function loadKey(pem: string, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new CliError(`${file}: not a readable PEM private key`);
  }
}

/** `svr pki show FILE [--json]`: a certificate or a key. */
export function pkiShow(file: string, json = false): string {
  const text = readText(file, 'a PEM certificate or key');
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    const d = describeOrFail(text, file);
    return json ? `${JSON.stringify(d, null, 2)}\n` : `${file}\n${summary(d)}\n`;
  }
  const k = describeKey(text);
  if ('error' in k) {
    const pemLike = /-----BEGIN [A-Z0-9 ]+-----/.test(text);
    throw new CliError(`${file}: ${pemLike ? k.error : 'not PEM (expected a certificate or a key)'}`);
  }
  return json
    ? `${JSON.stringify(k, null, 2)}\n`
    : `${file}\n${k.type}  ${k.key}\nkey sha256   ${k.fingerprint256}\n`;
}

/** `svr pki verify CERT [--dir DIR | --ca FILE]`: check a router certificate as a peer would. */
export function pkiVerify(
  file: string,
  o: { dir?: string; ca?: string },
): { stdout: string; exitCode: number } {
  const caFile = o.ca ?? join(o.dir ?? 'pki', 'ca.crt');
  const caPem = readText(caFile, 'the CA certificate');
  const pem = readText(file, 'the certificate to verify');
  let v: CertificateValidator;
  try {
    v = new CertificateValidator(caPem, systemClock);
  } catch (e) {
    throw new CliError(`${caFile}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const authority = caAuthority(caPem);
  if (authority === undefined) throw new CliError(`${caFile}: not the CA certificate of an authority`);
  // Without a configuration every router of the authority counts as configured: the name check
  // is then the router/authority form and the authority only.
  const d = describeCertificate(pem);
  const router = 'error' in d ? undefined : parseRouterName(d.subject)?.router;
  const r = v.validate(pem, authority, new Set(router === undefined ? [] : [router]));
  return r.ok
    ? { stdout: `${file}: ok, ${r.name} signed by ${caFile}\n`, exitCode: 0 }
    : { stdout: `${file}: refused (${r.reason}): ${r.message}\n`, exitCode: 1 };
}
