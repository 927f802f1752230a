import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sinkServer } from '../../src/emu/servers.js';
import { LINKTYPE_RAW, readCapture } from '../../src/pcap/pcap.js';
import { chain, pattern } from './helpers.js';

function hasTshark(): boolean {
  const r = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

test('a capture writes a pcap that readCapture reads back: same count, bytes and virtual timestamps', () => {
  const { net, a, b, links } = chain(1, { latencyMs: 3, jitterMs: 1 });
  const cap = net.capture(links[1]);
  sinkServer(b, 9);
  const c = a.tcpConnect('10.0.2.10', 9);
  c.send(pattern(30_000));
  c.close();
  a.ping('2001:db8:2::10', { count: 2, intervalMs: 10 });
  net.run(5000);
  assert.ok(cap.count > 40);
  const file = readCapture(cap.bytes());
  assert.ok(typeof file !== 'string', String(file));
  assert.equal(file.format, 'pcap');
  assert.equal(file.records.length, cap.count);
  for (const [i, r] of file.records.entries()) {
    assert.equal(r.linkType, LINKTYPE_RAW);
    assert.deepEqual(r.data, cap.packets[i].data);
    // Microsecond resolution in the file.
    assert.ok(Math.abs(r.timestampMs - cap.packets[i].timeMs) < 0.001);
  }
  assert.ok(file.records[0].timestampMs >= Date.parse('2026-01-01T00:00:00Z'));
});

test('a capture at delivery omits lost frames; stop() ends recording', () => {
  const { net, a, links } = chain(2, { latencyMs: 1 }, { lossRate: 0.5 });
  const sent = net.capture(links[1]);
  const delivered = net.capture(links[1], { at: 'delivery' });
  a.ping('10.0.2.10', { count: 40, intervalMs: 10 });
  net.run(2000);
  const lost = links[1].counters.get('dropped:loss');
  assert.ok(lost > 0);
  assert.equal(sent.count - delivered.count, lost);
  delivered.stop();
  const n = delivered.count;
  a.ping('10.0.2.10', { count: 5, intervalMs: 10 });
  net.run(2000);
  assert.equal(delivered.count, n);
});

test('tshark opens the capture without error and finds no bad checksum (skipped without tshark)', (t) => {
  if (!hasTshark()) {
    t.skip('tshark is not installed');
    return;
  }
  const { net, a, b, links } = chain(3, { latencyMs: 2, jitterMs: 1, lossRate: 0.05 }, { mtu: 576 });
  const cap = net.capture(links[1]);
  sinkServer(b, 9);
  const c = a.tcpConnect('10.0.2.10', 9);
  c.send(pattern(20_000));
  c.close();
  const u = a.udpBind(5);
  u.sendTo('10.0.2.10', 40001, pattern(20)); // b's port unreachable comes back
  u.sendTo('10.0.2.10', 40001, pattern(1400)); // fragmented by r1
  a.ping('2001:db8:2::10', { count: 2, intervalMs: 10 });
  net.run(30_000);
  const dir = mkdtempSync(join(tmpdir(), 'svr-emu-'));
  try {
    const path = join(dir, 'r1-r2.pcap');
    cap.writeTo(path);
    const r = spawnSync('tshark', ['-r', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, cap.count);
    for (const proto of ['TCP', 'ICMP', 'ICMPv6', 'Fragmented IP protocol'])
      assert.ok(r.stdout.includes(proto), proto);
    // Wireshark checks IP, TCP and UDP checksums only when asked; ICMP and ICMPv6 always.
    const bad = spawnSync(
      'tshark',
      [
        '-r',
        path,
        ...['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'],
        '-Y',
        ['ip', 'tcp', 'udp', 'icmp', 'icmpv6'].map((p) => `${p}.checksum.status=="Bad"`).join(' || ') +
          ' || _ws.malformed',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(bad.status, 0, bad.stderr);
    assert.equal(bad.stdout.trim(), '', `packets with bad checksums:\n${bad.stdout}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
