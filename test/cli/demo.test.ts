import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCapture } from '../../src/pcap/pcap.js';
import { svr } from '../../testlib/cli.js';

test('svr demo: walks one session through 3.7.1 to 3.7.5, then session tables and the wire summary', () => {
  const r = svr(['demo']);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  for (const step of [
    '3.7.1.1 tenant      engineering',
    '3.7.1.2 service     github',
    '3.7.1.4 path        mpls',
    '3.7.1.6 wayports',
    '3.7.1.7 metadata',
    '3.7.1.10 signature',
    '3.7.4',
    '3.7.5   handshake   complete',
  ])
    assert.ok(out.includes(step), `missing "${step}"`);
  assert.match(out, /the server received "SSH-2\.0-svr-demo" byte for byte/);
  assert.match(
    out,
    /ssh bulk 300000 bytes delivered, https 1\/1\/1 sessions .* syslog 15\/15 datagrams, ping 4\/4 replies, denied tenant: 2 SYNs dropped/,
  );
  assert.match(out, /East: show sessions\n {2}Session +Dir +Service/);
  assert.match(out, /West: show sessions/);
  const svrRow = /\n {2}svr +(\d+) +(\d+) +(\d+)/.exec(out);
  const ipsec = /\n {2}IPsec tunnel +(\d+) +(\d+) +(\d+)/.exec(out);
  assert.ok(svrRow && ipsec);
  // SVR adds metadata on few packets and a signature on each: less than a 50-byte tunnel header.
  assert.ok(Number(svrRow[3]) < Number(ipsec[3]));
});

test('svr demo --seed reproduces a run exactly; another seed differs', () => {
  const a = svr(['demo', '--seed', '42']).stdout;
  assert.equal(svr(['demo', '--seed', '42']).stdout, a);
  assert.notEqual(svr(['demo', '--seed', '43']).stdout, a);
});

test('svr demo --pcap --no-metadata-encryption: a capture whose metadata decodes without a key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svr-demo-'));
  try {
    const file = join(dir, 'wan.pcap');
    const r = svr(['demo', '--pcap', file, '--no-metadata-encryption']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /encryption {2}none/);
    const cap = readCapture(readFileSync(file));
    assert.ok(typeof cap !== 'string' && cap.records.length > 100);
    const d = svr(['packet', 'decode', '--pcap', file]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Tenant Name +engineering/);
    assert.match(d.stdout, /Service Name +github/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('svr demo: a bad seed is a usage error on one line', () => {
  const r = svr(['demo', '--seed', 'x']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^svr: --seed: expected a non-negative integer, got "x"\n$/);
});
