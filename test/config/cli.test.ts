import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { svr } from '../../testlib/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'svr-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('svr config check examples/figure2.yaml: a summary, exit 0', () => {
  const r = svr(['config', 'check', 'examples/figure2.yaml']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^authority example\n/);
  assert.match(r.stdout, /\nrouter east\n {2}interfaces \(5\):\n/);
  assert.match(r.stdout, /\nrouter west\n/);
});

test('svr config check --json: ok, authority, routers, warnings', () => {
  const r = svr(['config', 'check', 'examples/chain3.yaml', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    ok: true,
    authority: 'chain',
    routers: ['a', 'b', 'c'],
    warnings: [],
  });
});

test('svr config check: a broken file exits 2 with one FILE:LINE:COL: line per error', () => {
  const file = join(dir, 'broken.yaml');
  writeFileSync(
    file,
    [
      'authority:',
      '  name: t',
      'routers:',
      '  - name: a',
      '    interfaces:',
      '      - { name: lan, role: lan, vlan: two }',
      '      - { name: wan, role: wann }',
      '',
    ].join('\n'),
  );
  const r = svr(['config', 'check', file]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    `${file}:6:39: routers[0].interfaces[0].vlan: expected an integer 0-4095, got "two"`,
    `${file}:7:28: routers[0].interfaces[1].role: expected "lan" | "wan", got "wann"`,
  ]);
  const json = svr(['config', 'check', file, '--json']);
  assert.equal(json.code, 2);
  const j = JSON.parse(json.stdout);
  assert.equal(j.ok, false);
  assert.deepEqual(j.errors[1], {
    file,
    line: 7,
    column: 28,
    path: 'routers[0].interfaces[1].role',
    message: 'expected "lan" | "wan", got "wann"',
  });
  const missing = svr(['config', 'check', join(dir, 'nope.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^\S+nope\.yaml:0:0: expected a readable YAML file, got no such file\n$/);
});

test('svr config check: warnings go to stderr prefixed "warning: ", exit 0', () => {
  const file = join(dir, 'warn.yaml');
  writeFileSync(file, 'authority: { name: t }\nservices:\n  - { name: s, addresses: [10.0.0.0/8] }\n');
  const r = svr(['config', 'check', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stderr,
    `warning: ${file}:3:5: services[0].access: service "s" has no access.allow, so no tenant can use it (deny by default, 4.6.5.2)\n`,
  );
  assert.equal(JSON.parse(r.stdout).warnings.length, 1);
});
