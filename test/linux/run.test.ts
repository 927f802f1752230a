import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadTunNative } from '../../src/drivers/linux/native.js';
import { addNamespace, deleteNamespace, inNs, netnsUnavailable, run, veth } from '../../src/lab/netns.js';

/**
 * `svr run` on Linux: what it sets up, that SIGTERM removes it, and its refusals. Each test runs
 * in a namespace of its own; skipped with the reason without root and network namespaces.
 */
const SVR = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../examples/pair.yaml', import.meta.url));
const NS = `svrrun-${process.pid}`;
const PEER = `svrrun-peer-${process.pid}`;
const why = netnsUnavailable() ?? (typeof loadTunNative() === 'string' ? String(loadTunNative()) : undefined);
const skip = why ? `svr run tests need root, network namespaces and the native helper: ${why}` : undefined;
if (skip) process.stdout.write(`# ${skip}\n`);
let dir: string;

before(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'svr-run-test-'));
  run([process.execPath, SVR, 'pki', 'init-ca', '--authority', 'pair', '--dir', dir]);
  run([process.execPath, SVR, 'pki', 'issue', 'east/pair', '--dir', dir]);
  addNamespace(NS);
  addNamespace(PEER);
});

after(() => {
  if (skip) return;
  deleteNamespace(NS);
  deleteNamespace(PEER);
  rmSync(dir, { recursive: true, force: true });
});

const svrIn = (args: string[]) => {
  try {
    inNs(NS, [process.execPath, SVR, ...args], { timeoutMs: 20_000 });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { status?: number; stderr?: string };
    return { code: err.status ?? -1, stderr: err.stderr ?? '' };
  }
};

test('svr run refuses, in one line with exit code 2, a device the configuration names that is missing', {
  skip,
}, () => {
  const r = svrIn(['run', '--config', EXAMPLE, '--router', 'east', '--pki', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^svr: interface east\.clients: device lan0 does not exist here/);
});

test('svr run refuses a router without certificates, saying how to make them', { skip }, () => {
  const r = svrIn(['run', '--config', EXAMPLE, '--router', 'east']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /router east has no certificates: give --pki DIR/);
});

test('svr run sets up TUN devices, addresses and policy rules, and SIGTERM removes them all', {
  skip,
  timeout: 30_000,
}, async () => {
  veth(NS, 'lan0', PEER, 'c0');
  veth(NS, 'wan0', PEER, 'w0');
  const rulesBefore = inNs(NS, ['ip', 'rule']);
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      NS,
      process.execPath,
      SVR,
      'run',
      '--config',
      EXAMPLE,
      '--router',
      'east',
      '--pki',
      dir,
      '--quiet',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const until = Date.now() + 15_000;
  while (!out.includes('running') && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.match(out, /svr: router east running/);
  const links = inNs(NS, ['ip', '-br', 'link']);
  assert.match(links, /svr-clients/);
  assert.match(links, /svr-core/);
  assert.match(inNs(NS, ['ip', '-br', 'addr', 'show', 'dev', 'wan0']), /203\.0\.113\.1\/30/);
  const rules = inNs(NS, ['ip', 'rule']);
  assert.match(rules, /^120:\s+from all iif lan0 ipproto tcp lookup 10000/m);
  assert.match(rules, /^500:\s+from all lookup local/m);
  assert.doesNotMatch(rules, /^0:\s+from all lookup local/m, 'the local table comes after the router');
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  assert.equal(inNs(NS, ['ip', 'rule']), rulesBefore, 'rules as before');
  assert.doesNotMatch(inNs(NS, ['ip', '-br', 'link']), /svr-/, 'TUN devices gone');
  assert.doesNotMatch(
    inNs(NS, ['ip', '-br', 'addr', 'show', 'dev', 'wan0']),
    /203\.0\.113\.1/,
    'address removed',
  );
});
