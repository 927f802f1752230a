import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipToString } from '../../src/base/address.js';
import { Network } from '../../src/emu/network.js';
import { buildPacket } from '../../src/wire/builder.js';
import { IpPacket } from '../../src/wire/packet.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/protocol.js';
import { TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { chain, pattern } from './helpers.js';

/** Hosts and plain routers: ping, ICMP errors, closed ports, MTU and fragments. */

test('a host pings a host across two IpRouters (IPv4 and ICMPv6 echo)', () => {
  const { net, a, r1, r2 } = chain(1, { latencyMs: 5 });
  const v4 = a.ping('10.0.2.10', { count: 3, intervalMs: 100 });
  const v6 = a.ping('2001:db8:2::10', { count: 3, intervalMs: 100 });
  net.runUntil(() => v4.done && v6.done, 10_000);
  assert.equal(v4.received, 3);
  assert.equal(v6.received, 3);
  assert.deepEqual(v4.rttMs, [30, 30, 30]);
  // TTL 64 decremented by two routers on the way back.
  assert.equal(v4.replies[0].ttl, 62);
  assert.equal(v6.replies[0].ttl, 62);
  assert.equal(r1.counters.get('forwarded'), 12);
  assert.equal(r2.counters.get('forwarded'), 12);
});

test('routers answer pings to their own addresses', () => {
  const { net, a } = chain(1, { latencyMs: 1 });
  const p = a.ping('10.0.12.2');
  net.runUntil(() => p.done, 5000);
  assert.equal(p.received, 1);
  assert.equal(p.replies[0].ttl, 63);
});

test('TTL expiry: each router on the path answers with ICMP time exceeded to the source (traceroute)', () => {
  const { net, a, b } = chain(1, { latencyMs: 2 });
  const probe = a.udpBind(40000);
  for (let ttl = 1; ttl <= 3; ttl++) probe.sendTo('10.0.2.10', 33434 + ttl, Uint8Array.of(ttl), { ttl });
  net.run(1000);
  const hops = a.icmpErrors.map((e) => [e.from, e.type, e.code, e.quoted?.dstPort]);
  assert.deepEqual(hops, [
    ['10.0.1.1', 11, 0, 33435],
    ['10.0.12.2', 11, 0, 33436],
    // The third probe reaches b, whose port is closed.
    ['10.0.2.10', 3, 3, 33437],
  ]);
  const q = a.icmpErrors[0].quoted;
  assert.deepEqual(q, {
    src: '10.0.1.10',
    dst: '10.0.2.10',
    protocol: IPPROTO_UDP,
    srcPort: 40000,
    dstPort: 33435,
  });
  assert.equal(b.counters.get('udp-closed-port'), 1);
  // ICMPv6 time exceeded too.
  a.ping('2001:db8:2::10', { ttl: 1 });
  net.run(1000);
  const e6 = a.icmpErrors[3];
  assert.deepEqual([e6.v6, e6.type, e6.code, e6.from], [true, 3, 0, '2001:db8:1::1']);
});

test('UDP to a closed port gets ICMP port unreachable; an open port delivers', () => {
  const { net, a, b } = chain(1, { latencyMs: 1 });
  const tx = a.udpBind(1234);
  const rx = b.udpBind(53);
  tx.sendTo('10.0.2.10', 54, Uint8Array.of(1, 2, 3));
  tx.sendTo('10.0.2.10', 53, Uint8Array.of(4, 5));
  tx.sendTo('2001:db8:2::10', 54, Uint8Array.of(6));
  net.run(100);
  assert.equal(rx.received.length, 1);
  assert.deepEqual([...rx.received[0].data], [4, 5]);
  assert.equal(rx.received[0].from, '10.0.1.10');
  assert.equal(rx.received[0].port, 1234);
  const [e4, e6] = a.icmpErrors;
  assert.deepEqual(
    [e4.type, e4.code, e4.from, e4.quoted?.dstPort, e4.quoted?.protocol],
    [3, 3, '10.0.2.10', 54, IPPROTO_UDP],
  );
  assert.deepEqual([e6.v6, e6.type, e6.code, e6.from], [true, 1, 4, '2001:db8:2::10']);
});

test('TCP to a closed port gets RST; the connection fails as refused', () => {
  const { net, a, b } = chain(1, { latencyMs: 1 });
  const resets: number[] = [];
  a.onPacket = (p) => {
    if (p.isTcp && p.tcp.flags & TCP_RST) resets.push(p.tcp.srcPort);
  };
  const c = a.tcpConnect('10.0.2.10', 81);
  let closed: string | undefined = 'not yet';
  c.onClose = (e) => {
    closed = e;
  };
  net.runUntil(() => c.state === 'CLOSED', 5000);
  assert.equal(closed, 'connection refused');
  assert.deepEqual(resets, [81]);
  assert.equal(b.counters.get('tcp-closed-port'), 1);
});

test('no route: the router answers with ICMP destination unreachable (net)', () => {
  const { net, a, r1 } = chain(1, { latencyMs: 1 });
  a.udpBind(1).sendTo('192.0.2.1', 9, Uint8Array.of(0));
  net.run(100);
  assert.deepEqual(
    a.icmpErrors.map((e) => [e.type, e.code, e.from]),
    [[3, 0, '10.0.1.1']],
  );
  assert.equal(r1.counters.get('no-route'), 1);
});

test('MTU: DF set gets fragmentation needed with the next-hop MTU', () => {
  const { net, a, r1 } = chain(1, { latencyMs: 1 }, { mtu: 1000 });
  const p = a.ping('10.0.2.10', { size: 1200, dontFragment: true });
  net.runUntil(() => p.done, 5000);
  assert.equal(p.received, 0);
  assert.deepEqual(
    a.icmpErrors.map((e) => [e.type, e.code, e.mtu, e.from, e.quoted?.protocol]),
    [[3, 4, 1000, '10.0.1.1', IPPROTO_ICMP]],
  );
  assert.equal(r1.counters.get('too-big'), 1);
  // IPv6 routers never fragment: packet too big.
  const p6 = a.ping('2001:db8:2::10', { size: 1200 });
  net.runUntil(() => p6.done, 5000);
  assert.deepEqual(
    a.icmpErrors.slice(1).map((e) => [e.v6, e.type, e.mtu]),
    [[true, 2, 1000]],
  );
});

test('MTU: DF clear is fragmented by the router into valid fragments that the host reassembles', () => {
  const { net, a, b, links } = chain(1, { latencyMs: 1 }, { mtu: 576 });
  const cap = net.capture(links[1]);
  const rx = b.udpBind(7000);
  const data = pattern(1400, 9);
  a.udpBind(7001).sendTo('10.0.2.10', 7000, data);
  net.run(100);
  // The fragments on the small link: each fits, each header checksum verifies, offsets tile.
  const p = new IpPacket();
  const frags = cap.packets.map((c) => {
    assert.equal(p.parse(c.data, 0, c.data.length), 0);
    assert.ok(c.data.length <= 576);
    assert.ok(p.ip4.checksumValid());
    return {
      off: p.ip4.fragmentOffset * 8,
      len: p.ip4.totalLength - p.ip4.headerLength,
      mf: p.ip4.moreFragments,
      id: p.ip4.identification,
    };
  });
  assert.equal(frags.length, 3);
  assert.deepEqual(
    frags.map((f) => [f.off, f.len, f.mf]),
    [
      [0, 552, true],
      [552, 552, true],
      [1104, 1408 - 1104, false],
    ],
  );
  assert.equal(new Set(frags.map((f) => f.id)).size, 1);
  assert.equal(rx.received.length, 1);
  assert.deepEqual(rx.received[0].data, data);
  assert.equal(b.reassembler.counters.get('reassembled'), 1);
});

test('a host sends its own large datagrams fragmented when DF is clear, refuses them when set', () => {
  const { net, a, b } = chain(1, { latencyMs: 1 });
  const rx = b.udpBind(7000);
  const tx = a.udpBind();
  const data = pattern(3000, 2);
  assert.equal(tx.sendTo('10.0.2.10', 7000, data), true);
  assert.equal(tx.sendTo('10.0.2.10', 7000, data, { dontFragment: true }), false);
  net.run(100);
  assert.equal(rx.received.length, 1);
  assert.deepEqual(rx.received[0].data, data);
  assert.equal(a.counters.get('fragmented'), 1);
  assert.equal(a.counters.get('tx-dropped:mtu'), 1);
});

test('hosts drop and count what is not for them and packets with bad checksums', () => {
  const net = new Network({ seed: 1 });
  const lan = net.segment('lan');
  const h = net.host('h', { interfaces: [{ segment: lan, address: '10.0.0.1/24' }] });
  const g = net.host('g', { interfaces: [{ segment: lan, address: '10.0.0.2/24' }] });
  // Sent to h as the next hop, but addressed elsewhere.
  const stray = buildPacket({
    src: '10.0.0.2',
    dst: '10.0.0.99',
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
  });
  g.interfaces[0].port.send(stray, h.interfaces[0].address);
  const bad = buildPacket({
    src: '10.0.0.2',
    dst: '10.0.0.1',
    l4: { protocol: 'tcp', srcPort: 1, dstPort: 2, flags: TCP_SYN },
  });
  bad[bad.length - 1] ^= 0xff;
  bad[37] ^= 1; // the TCP checksum
  g.send(bad);
  const badIp = buildPacket({
    src: '10.0.0.2',
    dst: '10.0.0.1',
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
  });
  badIp[10] ^= 1;
  g.send(badIp);
  g.send(Uint8Array.of(0x45, 0, 0));
  net.run(10);
  assert.equal(h.counters.get('not-for-me'), 1);
  assert.equal(h.counters.get(`bad-checksum:${IPPROTO_TCP}`), 1);
  assert.equal(h.counters.get('bad-ip-checksum'), 1);
  assert.equal(h.counters.get('tcp-closed-port'), 0);
  assert.equal(g.counters.get('tx-dropped:malformed'), 1);
  assert.equal(ipToString(h.interfaces[0].address), '10.0.0.1');
});

test('a router filter drops what it names and counts it by name', () => {
  const { net, a, r2 } = chain(1, { latencyMs: 1 });
  r2.addFilter('no-udp', (p) => (p.isUdp ? 'drop' : 'pass'));
  a.udpBind().sendTo('10.0.2.10', 9, Uint8Array.of(1));
  const p = a.ping('10.0.2.10');
  net.runUntil(() => p.done, 5000);
  assert.equal(p.received, 1);
  assert.equal(r2.counters.get('filter:no-udp'), 1);
});
