import { createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../base/clock.js';
import {
  CertificateValidator,
  createCaCertificate,
  describeCertificate,
  describeKey,
  generateP256KeyPair,
  issueRouterCertificate,
  parseRouterName,
} from '../../crypto/certificates.js';
import { CliError } from '../errors.js';

/**
 * `svr pki`: the authority's CA and router certificates (5.1.7, D-7): P-256 keys, X.509 with
 * CN = router/authority, PEM files. The draft leaves enrolment out of scope (it points at
 * RFC 4210); these commands are the offline equivalent an operator runs once per router.
 */

const DAY = 86_400_000;

function days(s: string | undefined, dflt: number): number {
  if (s === undefined) return dflt;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > 36_500) throw new CliError(`--days: expected 1-36500, got "${s}"`);
  return n;
}

function writeNew(path: string, text: string, force: boolean, mode?: number): void {
  if (existsSync(path) && !force) throw new CliError(`${path} exists; --force replaces it`);
  try {
    writeFileSync(path, text, mode === undefined ? undefined : { mode });
  } catch (e) {
    throw new CliError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${path}: ${code === 'ENOENT' ? `no such file (${what})` : 'unreadable'}`);
  }
}

function summary(pem: string): string {
  const d = describeCertificate(pem);
  if ('error' in d) return d.error;
  return [
    `subject      ${d.subject}`,
    `issuer       ${d.issuer}`,
    `serial       ${d.serial}`,
    `valid        ${d.notBefore} to ${d.notAfter}`,
    `key          ${d.key}`,
    `kind         ${d.isCa ? 'CA certificate' : 'router certificate'}`,
    `sha256       ${d.fingerprint256}`,
  ].join('\n');
}

export function pkiInitCa(o: { authority: string; dir?: string; days?: string; force?: boolean }): string {
  if (!/^[!-.0-~]+$/.test(o.authority))
    throw new CliError(`--authority: expected a name without spaces or "/", got "${o.authority}"`);
  const dir = o.dir ?? 'pki';
  mkdirSync(dir, { recursive: true });
  const keys = generateP256KeyPair();
  const now = Date.now();
  const pem = createCaCertificate({
    authority: o.authority,
    keys,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days(o.days, 3650) * DAY),
    serial: new Uint8Array(randomBytes(16)),
  });
  const crt = join(dir, 'ca.crt');
  const key = join(dir, 'ca.key');
  writeNew(crt, pem, o.force ?? false);
  writeNew(key, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), o.force ?? false, 0o600);
  return `wrote ${crt} and ${key}\n${summary(pem)}\n`;
}

export function pkiIssue(name: string, o: { dir?: string; days?: string; force?: boolean }): string {
  const rn = parseRouterName(name);
  if (!rn) throw new CliError(`expected a router name as router/authority (5.1.7), got "${name}"`);
  const dir = o.dir ?? 'pki';
  const caPem = readText(join(dir, 'ca.crt'), 'run `svr pki init-ca` first');
  const caKeyPem = readText(join(dir, 'ca.key'), 'the CA private key');
  const ca = describeCertificate(caPem);
  if ('error' in ca) throw new CliError(`${join(dir, 'ca.crt')}: ${ca.error}`);
  if (ca.subject !== `${rn.authority} CA`)
    throw new CliError(`"${name}" is of authority "${rn.authority}", but this CA is "${ca.subject}"`);
  const keys = generateP256KeyPair();
  const now = Date.now();
  let pem: string;
  try {
    pem = issueRouterCertificate({
      caCertificatePem: caPem,
      caPrivateKey: loadKey(caKeyPem, join(dir, 'ca.key')),
      name,
      publicKey: keys.publicKey,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + days(o.days, 365) * DAY),
      serial: new Uint8Array(randomBytes(16)),
    });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const crt = join(dir, `${rn.router}.crt`);
  const key = join(dir, `${rn.router}.key`);
  writeNew(crt, pem, o.force ?? false);
  writeNew(key, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), o.force ?? false, 0o600);
  return `wrote ${crt} and ${key}\n${summary(pem)}\n`;
}

function loadKey(pem: string, file: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch {
    throw new CliError(`${file}: not a PEM private key`);
  }
}

export function pkiShow(file: string, json = false): string {
  const text = readText(file, 'a PEM file');
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    const d = describeCertificate(text);
    if ('error' in d) throw new CliError(`${file}: ${d.error}`);
    return json ? `${JSON.stringify(d, null, 2)}\n` : `${file}\n${summary(text)}\n`;
  }
  const k = describeKey(text);
  if ('error' in k) throw new CliError(`${file}: neither a PEM certificate nor a PEM key`);
  return json
    ? `${JSON.stringify(k, null, 2)}\n`
    : `${file}\n${k.type}  ${k.key}\nsha256       ${k.fingerprint256}\n`;
}

/** Check a router certificate as a peer would (5.1.7); exit 1 when refused. */
export function pkiVerify(
  file: string,
  o: { dir?: string; ca?: string },
): { stdout: string; exitCode: number } {
  const caFile = o.ca ?? join(o.dir ?? 'pki', 'ca.crt');
  const caPem = readText(caFile, 'the CA certificate');
  const pem = readText(file, 'the certificate');
  let v: CertificateValidator;
  try {
    v = new CertificateValidator(caPem, systemClock);
  } catch (e) {
    throw new CliError(`${caFile}: ${(e as Error).message}`);
  }
  const ca = describeCertificate(caPem);
  const authority = 'error' in ca ? '' : ca.subject.replace(/ CA$/, '');
  const d = describeCertificate(pem);
  const router = 'error' in d ? '' : (parseRouterName(d.subject)?.router ?? '');
  const r = v.validate(pem, authority, new Set([router]));
  return r.ok
    ? { stdout: `${file}: ok, ${r.name} signed by ${caFile}\n`, exitCode: 0 }
    : { stdout: `${file}: refused (${r.reason}): ${r.message}\n`, exitCode: 1 };
}
