import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipToString } from '../../src/base/address.js';
import type { Capture } from '../../src/emu/capture.js';
import { Network } from '../../src/emu/network.js';
import { echoServer } from '../../src/emu/servers.js';
import { IpPacket } from '../../src/wire/packet.js';
import { IPPROTO_UDP } from '../../src/wire/protocol.js';
import { pattern } from './helpers.js';

/**
 * h1, h2 (192.168.1.10, .20) - lan - nat (192.168.1.1 | 203.0.113.2) - wan - r (203.0.113.1 |
 * 198.51.100.1) - dmz - s (198.51.100.10), s2 (198.51.100.20).
 */
function home(seed = 1, nat: { udpTimeoutMs?: number } = {}) {
  const net = new Network({ seed });
  const lan = net.segment('lan', { latencyMs: 1 });
  const wan = net.segment('wan', { latencyMs: 10 });
  const dmz = net.segment('dmz', { latencyMs: 1 });
  const h1 = net.host('h1', {
    interfaces: [{ segment: lan, address: '192.168.1.10/24', gateway: '192.168.1.1' }],
  });
  const h2 = net.host('h2', {
    interfaces: [{ segment: lan, address: '192.168.1.20/24', gateway: '192.168.1.1' }],
  });
  const box = net.nat('nat', {
    inside: { segment: lan, address: '192.168.1.1/24' },
    outside: { segment: wan, address: '203.0.113.2/24' },
    gateway: '203.0.113.1',
    ...nat,
  });
  const r = net.ipRouter('r', {
    interfaces: [
      { segment: wan, address: '203.0.113.1/24' },
      { segment: dmz, address: '198.51.100.1/24' },
    ],
    // Someone outside routing the private network at the NAT: it must still refuse.
    routes: [{ prefix: '192.168.1.0/24', via: '203.0.113.2' }],
  });
  const s = net.host('s', {
    interfaces: [{ segment: dmz, address: '198.51.100.10/24', gateway: '198.51.100.1' }],
  });
  const s2 = net.host('s2', {
    interfaces: [{ segment: dmz, address: '198.51.100.20/24', gateway: '198.51.100.1' }],
  });
  return { net, lan, wan, h1, h2, box, r, s, s2 };
}

/** Every captured packet parses and its IP and transport checksums verify. */
let checkedQuotes = 0;

function assertAllChecksumsValid(cap: Capture): void {
  const p = new IpPacket();
  const q = new IpPacket();
  for (const c of cap.packets) {
    assert.equal(p.parse(c.data, 0, c.data.length), 0);
    if (p.version === 4) assert.ok(p.ip4.checksumValid(), `IP checksum of packet ${c.index}`);
    assert.ok(p.l4ChecksumValid(), `transport checksum of packet ${c.index}`);
    if (p.isIcmp && p.icmp.isError) {
      const at = p.icmp.quotedOffset;
      assert.equal(q.parse(p.b, at, p.end - at, true), 0);
      assert.ok(q.ip4.checksumValid(), `quoted IP checksum of packet ${c.index}`);
      // A whole quoted packet (short probes are) must carry a valid transport checksum too.
      if (q.ip4.totalLength === p.end - at)
        assert.ok(q.l4ChecksumValid(), `quoted transport checksum of ${c.index}`);
      checkedQuotes++;
    }
  }
}

test('NAT: inside TCP goes out with the outside address and comes back', () => {
  const { net, lan, wan, h1, s } = home();
  const capLan = net.capture(lan);
  const capWan = net.capture(wan);
  let remote = '';
  s.tcpListen(80, (conn) => {
    remote = `${ipToString(conn.remoteAddress)}:${conn.remotePort}`;
    conn.onData = (d) => conn.send(d);
    conn.onEnd = () => conn.close();
  });
  const c = h1.tcpConnect('198.51.100.10', 80, { localPort: 40000 });
  const data = pattern(50_000, 5);
  c.send(data);
  assert.ok(net.runUntil(() => c.bytesReceived === data.length, 30_000));
  assert.deepEqual(c.received(), data);
  // The inside port is kept when free.
  assert.equal(remote, '203.0.113.2:40000');
  c.close();
  assert.ok(net.runUntil(() => c.state === 'CLOSED', 30_000));
  assert.equal(c.error, undefined);
  assertAllChecksumsValid(capLan);
  assertAllChecksumsValid(capWan);
  // Nothing with a private address crossed the outside link.
  const p = new IpPacket();
  for (const f of capWan.packets) {
    p.parse(f.data, 0, f.data.length);
    assert.notEqual(p.ip4.src >>> 16, (192 << 8) | 168);
    assert.notEqual(p.ip4.dst >>> 16, (192 << 8) | 168);
  }
});

test('NAT: UDP out and back; outside unsolicited packets are dropped and counted', () => {
  const { net, h1, s, box, r } = home();
  const srv = s.udpBind(53);
  srv.onMessage = (d) => srv.sendTo(d.fromAddress, d.port, Uint8Array.of(...d.data, 0xff));
  // Unsolicited first: to the NAT's address, and to the inside address routed at the NAT.
  srv.sendTo('203.0.113.2', 5000, Uint8Array.of(1));
  srv.sendTo('192.168.1.10', 5000, Uint8Array.of(2));
  const sp = s.ping('203.0.113.2');
  net.run(1000);
  assert.equal(box.counters.get('nat:no-mapping'), 2);
  assert.equal(box.counters.get('nat:unsolicited'), 1);
  assert.equal(sp.received, 0);
  assert.equal(r.counters.get('forwarded'), 3);
  const cli = h1.udpBind(5000);
  cli.sendTo('198.51.100.10', 53, Uint8Array.of(7, 8));
  net.run(1000);
  assert.equal(srv.received.at(-1)?.from, '203.0.113.2');
  assert.equal(srv.received.at(-1)?.port, 5000);
  assert.deepEqual(
    cli.received.map((d) => [d.from, d.port, [...d.data]]),
    [['198.51.100.10', 53, [7, 8, 0xff]]],
  );
  assert.equal(box.counters.get('nat:out'), 1);
  assert.equal(box.counters.get('nat:in'), 1);
});

test('NAT: port-restricted filtering lets in only the remote address and port the inside host sent to', () => {
  const { net, h1, s, s2, box } = home();
  const cli = h1.udpBind(5000);
  cli.sendTo('198.51.100.10', 53, Uint8Array.of(1));
  net.run(100);
  const s2a = s2.udpBind(53);
  s2a.sendTo('203.0.113.2', 5000, Uint8Array.of(2)); // another host
  s.udpBind(54).sendTo('203.0.113.2', 5000, Uint8Array.of(3)); // same host, another port
  s.udpBind(53).sendTo('203.0.113.2', 5000, Uint8Array.of(4)); // the one it sent to
  net.run(100);
  assert.deepEqual(
    cli.received.map((d) => d.data[0]),
    [4],
  );
  assert.equal(box.counters.get('nat:filtered'), 2);
  // Once the inside host sends to s2 as well, s2 may answer on the same mapping (cone), from that port only.
  cli.sendTo('198.51.100.20', 53, Uint8Array.of(5));
  net.run(100);
  s2.udpBind(99).sendTo('203.0.113.2', 5000, Uint8Array.of(6));
  s2a.sendTo('203.0.113.2', 5000, Uint8Array.of(7));
  net.run(100);
  assert.deepEqual(
    cli.received.map((d) => d.data[0]),
    [4, 7],
  );
  assert.equal(box.counters.get('nat:filtered'), 3);
  assert.equal(box.mappings().length, 1);
  assert.equal(box.mappings()[0].remotes.size, 2);
});

test('NAT: mappings expire after idle time; traffic keeps them alive', () => {
  const { net, h1, s, box } = home(1, { udpTimeoutMs: 30_000 });
  const srv = s.udpBind(53);
  const cli = h1.udpBind(5000);
  cli.sendTo('198.51.100.10', 53, Uint8Array.of(1));
  net.run(29_000);
  srv.sendTo('203.0.113.2', 5000, Uint8Array.of(2)); // refreshes at 29 s
  net.run(29_000);
  srv.sendTo('203.0.113.2', 5000, Uint8Array.of(3)); // 29 s after the refresh: still alive
  net.run(31_000);
  srv.sendTo('203.0.113.2', 5000, Uint8Array.of(4)); // 31 s idle: gone
  net.run(1000);
  assert.deepEqual(
    cli.received.map((d) => d.data[0]),
    [2, 3],
  );
  assert.equal(box.counters.get('nat:mapping-expired'), 1);
  assert.equal(box.counters.get('nat:no-mapping'), 1);
  assert.equal(box.mappings().length, 0);
});

test('NAT: two inside hosts with the same source port get distinct external ports', () => {
  const { net, h1, h2, s, box } = home(3);
  const srv = s.udpBind(53);
  srv.onMessage = (d) => srv.sendTo(d.fromAddress, d.port, d.data);
  const c1 = h1.udpBind(5000);
  const c2 = h2.udpBind(5000);
  c1.sendTo('198.51.100.10', 53, Uint8Array.of(1));
  c2.sendTo('198.51.100.10', 53, Uint8Array.of(2));
  net.run(1000);
  const ports = srv.received.map((d) => d.port);
  assert.equal(ports[0], 5000);
  assert.ok(ports[1] >= 49152 && ports[1] <= 65535, `allocated ${ports[1]}`);
  assert.deepEqual(
    c1.received.map((d) => d.data[0]),
    [1],
  );
  assert.deepEqual(
    c2.received.map((d) => d.data[0]),
    [2],
  );
  assert.equal(box.mappings().length, 2);
});

test('NAT: ping out through it; ICMP errors about mapped packets come back translated', () => {
  const { net, lan, h1, s, box } = home();
  const cap = net.capture(lan);
  const p = h1.ping('198.51.100.10', { count: 2, intervalMs: 100, identifier: 77 });
  net.runUntil(() => p.done, 5000);
  assert.equal(p.received, 2);
  // TTL 2 expires at r, beyond the NAT; a closed port on s answers too.
  const probe = h1.udpBind(33000);
  probe.sendTo('198.51.100.10', 33434, Uint8Array.of(1), { ttl: 2 });
  probe.sendTo('198.51.100.10', 33435, Uint8Array.of(2));
  net.run(1000);
  assert.deepEqual(
    h1.icmpErrors.map((e) => [e.type, e.code, e.from, e.quoted?.src, e.quoted?.srcPort, e.quoted?.dstPort]),
    [
      [11, 0, '203.0.113.1', '192.168.1.10', 33000, 33434],
      [3, 3, '198.51.100.10', '192.168.1.10', 33000, 33435],
    ],
  );
  assert.equal(box.counters.get('nat:icmp-error'), 2);
  const before = checkedQuotes;
  assertAllChecksumsValid(cap);
  assert.equal(checkedQuotes - before, 2);
  assert.equal(s.counters.get('udp-closed-port'), 1);
});

test('NAT: an inside host refusing a mapped flow sends port unreachable out, translated', () => {
  const { net, h1, s, box } = home();
  const srv = s.udpBind(53);
  const cli = h1.udpBind(5000);
  cli.sendTo('198.51.100.10', 53, Uint8Array.of(1));
  net.run(100);
  cli.close();
  srv.sendTo('203.0.113.2', 5000, Uint8Array.of(2));
  net.run(100);
  assert.deepEqual(
    s.icmpErrors.map((e) => [e.type, e.code, e.from, e.quoted?.dst, e.quoted?.dstPort, e.quoted?.protocol]),
    [[3, 3, '203.0.113.2', '203.0.113.2', 5000, IPPROTO_UDP]],
  );
  assert.equal(box.counters.get('nat:icmp-error'), 1);
});

test('NAT: TCP echo through the NAT with loss, for a checksum-heavy run', () => {
  const { net, wan, h1, s } = home(9);
  wan.set({ lossRate: 0.03, jitterMs: 4 });
  echoServer(s, 7);
  const c = h1.tcpConnect('198.51.100.10', 7);
  const data = pattern(200_000, 6);
  c.send(data);
  assert.ok(net.runUntil(() => c.bytesReceived === data.length, 120_000));
  assert.deepEqual(c.received(), data);
});
