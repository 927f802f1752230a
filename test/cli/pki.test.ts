import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { svr } from '../../testlib/cli.js';

test('svr pki: init-ca, issue, show, verify in a fresh directory; errors are one line, exit 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svr-pki-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ca = svr(['pki', 'init-ca', '--authority', 'example', '--dir', dir]);
  assert.equal(ca.code, 0, ca.stderr);
  assert.match(ca.stdout, /subject\s+example CA/);
  assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  const again = svr(['pki', 'init-ca', '--authority', 'example', '--dir', dir]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists; --force replaces it/);
  const issued = svr(['pki', 'issue', 'east/example', '--dir', dir]);
  assert.equal(issued.code, 0, issued.stderr);
  assert.match(issued.stdout, /subject\s+east\/example/);
  const show = svr(['pki', 'show', join(dir, 'east.crt'), '--json']);
  assert.equal(show.code, 0);
  assert.equal(JSON.parse(show.stdout).issuer, 'example CA');
  assert.match(svr(['pki', 'show', join(dir, 'east.key')]).stdout, /private key\s+EC P-256/);
  const ok = svr(['pki', 'verify', join(dir, 'east.crt'), '--dir', dir]);
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /ok, east\/example/);
  for (const bad of [
    ['pki', 'issue', 'east', '--dir', dir],
    ['pki', 'issue', 'east/other', '--dir', dir],
    ['pki', 'show', join(dir, 'missing.crt')],
    ['pki', 'issue', 'west/example', '--dir', join(dir, 'nowhere')],
  ]) {
    const r = svr(bad);
    assert.equal(r.code, 2, bad.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  // A certificate of another authority's CA is refused by verify (exit 1).
  const other = join(dir, 'other');
  svr(['pki', 'init-ca', '--authority', 'example', '--dir', other]);
  svr(['pki', 'issue', 'west/example', '--dir', other]);
  const refused = svr(['pki', 'verify', join(other, 'west.crt'), '--dir', dir]);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /refused \(wrong-ca\)/);
});
