import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateP256KeyPair, issueRouterCertificate } from '../../src/crypto/certificates.js';
import { type Run, svr } from '../../testlib/cli.js';

function tempDir(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'svr-pki-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Bad input: exit 2, nothing on stdout, one line on stderr. */
function badInput(r: Run, pattern: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what} should exit 2; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '', what);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0], pattern, what);
}

test('svr pki: init-ca, issue, show, verify round trip in a fresh directory', (t) => {
  const dir = tempDir(t);
  const ca = svr(['pki', 'init-ca', '--authority', 'example', '--dir', dir]);
  assert.equal(ca.code, 0, ca.stderr);
  assert.match(ca.stdout, /^wrote .*ca\.crt and .*ca\.key/);
  assert.match(ca.stdout, /subject\s+example CA/);
  assert.match(ca.stdout, /kind\s+CA certificate/);
  assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  assert.match(readFileSync(join(dir, 'ca.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);

  const issued = svr(['pki', 'issue', 'east/example', '--dir', dir, '--days', '30']);
  assert.equal(issued.code, 0, issued.stderr);
  assert.match(issued.stdout, /subject\s+east\/example/);
  assert.match(issued.stdout, /issuer\s+example CA/);
  assert.equal(statSync(join(dir, 'east.key')).mode & 0o777, 0o600);
  const crt = readFileSync(join(dir, 'east.crt'), 'utf8');
  assert.match(
    crt,
    /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END CERTIFICATE-----\n$/,
  );

  const show = svr(['pki', 'show', join(dir, 'east.crt'), '--json']);
  assert.equal(show.code, 0, show.stderr);
  const j = JSON.parse(show.stdout);
  assert.equal(j.subject, 'east/example');
  assert.equal(j.issuer, 'example CA');
  assert.equal(j.isCa, false);
  assert.equal(j.curve, 'P-256');
  const days = (Date.parse(j.notAfter) - Date.parse(j.notBefore)) / 86_400_000;
  assert.ok(days > 30 && days < 30.01, `${days} days`);
  const key = svr(['pki', 'show', join(dir, 'east.key'), '--json']);
  assert.equal(
    JSON.parse(key.stdout).fingerprint256,
    j.publicKeyFingerprint256,
    'the key matches its certificate',
  );
  assert.match(svr(['pki', 'show', join(dir, 'east.key')]).stdout, /private key\s+EC P-256/);
  assert.match(svr(['pki', 'show', join(dir, 'ca.crt')]).stdout, /kind\s+CA certificate/);

  const ok = svr(['pki', 'verify', join(dir, 'east.crt'), '--dir', dir]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /ok, east\/example/);
  const viaCa = svr(['pki', 'verify', join(dir, 'east.crt'), '--ca', join(dir, 'ca.crt')]);
  assert.equal(viaCa.code, 0);
});

test('svr pki: --force replaces files and a replaced key is private again', (t) => {
  const dir = tempDir(t);
  assert.equal(svr(['pki', 'init-ca', '--authority', 'example', '--dir', dir]).code, 0);
  assert.equal(svr(['pki', 'issue', 'east/example', '--dir', dir]).code, 0);
  const before = readFileSync(join(dir, 'east.crt'), 'utf8');
  badInput(
    svr(['pki', 'issue', 'east/example', '--dir', dir]),
    /east\.crt exists; --force replaces it/,
    'no force',
  );
  assert.equal(readFileSync(join(dir, 'east.crt'), 'utf8'), before, 'nothing written on refusal');
  chmodSync(join(dir, 'east.key'), 0o644);
  assert.equal(svr(['pki', 'issue', 'east/example', '--dir', dir, '--force']).code, 0);
  assert.notEqual(readFileSync(join(dir, 'east.crt'), 'utf8'), before);
  assert.equal(statSync(join(dir, 'east.key')).mode & 0o777, 0o600);
  badInput(
    svr(['pki', 'init-ca', '--authority', 'example', '--dir', dir]),
    /ca\.crt exists/,
    'init-ca again',
  );
  // The old router certificate no longer verifies under a new CA.
  assert.equal(svr(['pki', 'init-ca', '--authority', 'example', '--dir', dir, '--force']).code, 0);
  const refused = svr(['pki', 'verify', join(dir, 'east.crt'), '--dir', dir]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stdout,
    /refused \(wrong-ca\): certificate "east\/example" is signed by another CA than "example CA"/,
  );
});

test('svr pki verify: refusals exit 1 with the reason', (t) => {
  const dir = tempDir(t);
  assert.equal(svr(['pki', 'init-ca', '--authority', 'example', '--dir', dir]).code, 0);
  // An expired certificate, issued by the same CA through the library.
  const caKey = readFileSync(join(dir, 'ca.key'), 'utf8');
  const expired = issueRouterCertificate({
    caCertificatePem: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    caPrivateKey: createPrivateKey(caKey),
    name: 'west/example',
    publicKey: generateP256KeyPair().publicKey,
    notBefore: new Date(Date.now() - 10 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
    serial: Uint8Array.of(5),
  });
  writeFileSync(join(dir, 'west.crt'), expired);
  const r = svr(['pki', 'verify', join(dir, 'west.crt'), '--dir', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /refused \(expired\): certificate "west\/example" expired on /);
  const isCa = svr(['pki', 'verify', join(dir, 'ca.crt'), '--dir', dir]);
  assert.equal(isCa.code, 1);
  assert.match(isCa.stdout, /refused \(is-ca\)/);
});

test('svr pki: bad input exits 2 with one line on stderr', (t) => {
  const dir = tempDir(t);
  assert.equal(svr(['pki', 'init-ca', '--authority', 'example', '--dir', dir]).code, 0);
  const garbage = join(dir, 'garbage.txt');
  writeFileSync(garbage, 'hello, not PEM\n');
  const broken = join(dir, 'broken.crt');
  writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  const cases: [string[], RegExp][] = [
    [['pki', 'issue', 'east', '--dir', dir], /expected router\/authority/],
    [['pki', 'issue', 'we st/example', '--dir', dir], /expected router\/authority/],
    [['pki', 'issue', 'east/other', '--dir', dir], /authority "other", but .*ca\.crt is the CA of "example"/],
    [['pki', 'issue', 'ca/example', '--dir', dir], /cannot be named "ca"/],
    [['pki', 'issue', 'west/example', '--dir', join(dir, 'nowhere')], /nowhere\/ca\.crt: no such file/],
    [['pki', 'issue', 'west/example', '--dir', dir, '--days', '0'], /--days: expected a whole number/],
    [['pki', 'issue', 'west/example', '--dir', dir, '--days', '1.5'], /--days/],
    [
      ['pki', 'init-ca', '--authority', 'a b', '--dir', join(dir, 'x')],
      /--authority: expected printable ASCII/,
    ],
    [['pki', 'init-ca', '--authority', 'a/b', '--dir', join(dir, 'x')], /--authority/],
    [['pki', 'init-ca', '--dir', join(dir, 'x')], /--authority/],
    [['pki', 'show', join(dir, 'missing.crt')], /missing\.crt: no such file/],
    [['pki', 'show', dir], /is a directory/],
    [['pki', 'show', garbage], /garbage\.txt: not PEM/],
    [['pki', 'show', broken], /broken\.crt: not a PEM X\.509 certificate/],
    [['pki', 'verify', join(dir, 'missing.crt'), '--dir', dir], /missing\.crt: no such file/],
    [['pki', 'verify', broken, '--ca', garbage], /garbage\.txt: the CA certificate is not/],
  ];
  for (const [args, pattern] of cases) badInput(svr(args), pattern, args.join(' '));
  // A CA key that does not belong to ca.crt would sign certificates no peer accepts.
  writeFileSync(
    join(dir, 'ca.key'),
    generateP256KeyPair().privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  badInput(svr(['pki', 'issue', 'west/example', '--dir', dir]), /ca\.key: does not match/, 'CA key mismatch');
});
