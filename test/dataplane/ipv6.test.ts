import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv6ToString } from '../../src/base/address.js';
import { buildPacket } from '../../src/wire/builder.js';
import { ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST } from '../../src/wire/icmp.js';
import { Ipv4Reassembly } from '../../src/wire/ip4-reassembly.js';
import { payloadHasCookie } from '../../src/wire/metadata/insert.js';
import { IpPacket } from '../../src/wire/packet.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import { lab, parsed } from '../../testlib/dataplane-harness.js';

const V6 = `
authority: { name: six }
tenants: [{ name: eng }]
services:
  - { name: web6, addresses: ["2001:db8:20::/48"], protocol: tcp, ports: ["443"], access: { allow: [eng] } }
  - { name: ping6, addresses: ["2001:db8:20::/48"], protocol: icmp, access: { allow: [eng] } }
  - { name: log6, addresses: ["2001:db8:20::/48"], protocol: udp, ports: ["514"], access: { allow: [eng] } }
routers:
  - name: east
    interfaces:
      - { name: lan, role: lan, addresses: ["2001:db8:10::1/64"], tenant: eng }
      - { name: wan, role: wan, addresses: ["2001:db8:ff::1/64"] }
    peers: [{ name: west, paths: [{ interface: wan, address: "2001:db8:ff::2", vector: core }] }]
    serviceRoutes: [{ service: web6, peer: west }, { service: ping6, peer: west }, { service: log6, peer: west }]
  - name: west
    interfaces:
      - { name: wan, role: wan, addresses: ["2001:db8:ff::2/64"] }
      - { name: servers, role: lan, addresses: ["2001:db8:20::1/64"] }
    peers: [{ name: east, paths: [{ interface: wan, address: "2001:db8:ff::1", vector: core }] }]
    serviceRoutes: [{ service: web6, local: true }, { service: ping6, local: true }, { service: log6, local: true }]
`;

test('IPv6: a TCP session across two routers, waypoints on the wire, original addresses restored, fast path after', () => {
  const l = lab(V6);
  const east = l.routers.get('east');
  const west = l.routers.get('west');
  assert.ok(east && west);
  const C = '2001:db8:10::5';
  const S = '2001:db8:20::80';
  const t = (src: string, dst: string, sp: number, dp: number, flags: number, payload?: Uint8Array) =>
    buildPacket({
      src,
      dst,
      l4: { protocol: 'tcp', srcPort: sp, dstPort: dp, flags, seq: 1, ack: 1 },
      payload,
    });
  east.driver.deliver(0, t(C, S, 5555, 443, TCP_SYN));
  const [syn] = east.driver.take();
  assert.ok(syn, JSON.stringify(east.router.dataPlane.ctx.drops.snapshot()));
  const w = parsed(syn.bytes);
  assert.equal(ipv6ToString(w.ip6.srcBytes()), '2001:db8:ff::1');
  assert.equal(ipv6ToString(w.ip6.dstBytes()), '2001:db8:ff::2');
  assert.ok(payloadHasCookie(w) && w.l4ChecksumValid());
  west.driver.deliver(0, syn.bytes);
  const [atServer] = west.driver.take();
  assert.ok(atServer, JSON.stringify(west.router.dataPlane.ctx.drops.snapshot()));
  const s = parsed(atServer.bytes);
  assert.deepEqual(
    [ipv6ToString(s.ip6.srcBytes()), ipv6ToString(s.ip6.dstBytes()), s.srcPort, s.dstPort],
    [C, S, 5555, 443],
  );
  assert.equal(s.ip6.hopLimit, 62, 'two router hops');
  assert.ok(s.l4ChecksumValid());
  west.driver.deliver(1, t(S, C, 443, 5555, TCP_SYN | TCP_ACK));
  east.driver.deliver(1, west.driver.take()[0].bytes);
  const [back] = east.driver.take();
  const b = parsed(back.bytes);
  assert.deepEqual(
    [ipv6ToString(b.ip6.srcBytes()), ipv6ToString(b.ip6.dstBytes()), b.srcPort, b.dstPort],
    [S, C, 443, 5555],
  );
  const data = new TextEncoder().encode('v6 payload');
  east.driver.deliver(0, t(C, S, 5555, 443, TCP_ACK | TCP_PSH, data));
  const [fast] = east.driver.take();
  assert.ok(!payloadHasCookie(parsed(fast.bytes)));
  assert.ok(parsed(fast.bytes).l4ChecksumValid(), 'IPv6 fast path: the saved delta covers the addresses');
  west.driver.deliver(0, fast.bytes);
  const d = parsed(west.driver.take()[0].bytes);
  assert.deepEqual(d.b.slice(d.payloadOffset, d.end), data);
  assert.ok(d.l4ChecksumValid());
});

test('IPv6: ICMPv6 echo crosses as UDP and comes back', () => {
  const l = lab(V6);
  const east = l.routers.get('east');
  const west = l.routers.get('west');
  assert.ok(east && west);
  east.driver.deliver(
    0,
    buildPacket({
      src: '2001:db8:10::5',
      dst: '2001:db8:20::80',
      l4: { protocol: 'icmp', type: ICMP6_ECHO_REQUEST, identifier: 9, sequence: 1 },
      payload: new Uint8Array(8),
    }),
  );
  const [u] = east.driver.take();
  assert.ok(parsed(u.bytes).isUdp);
  west.driver.deliver(0, u.bytes);
  const [req] = west.driver.take();
  const r = parsed(req.bytes);
  assert.ok(
    r.isIcmp && r.icmp.isEchoRequest && r.l4ChecksumValid(),
    JSON.stringify(west.router.dataPlane.ctx.drops.snapshot()),
  );
  west.driver.deliver(
    1,
    buildPacket({
      src: '2001:db8:20::80',
      dst: '2001:db8:10::5',
      l4: { protocol: 'icmp', type: ICMP6_ECHO_REPLY, identifier: 9, sequence: 1 },
      payload: new Uint8Array(8),
    }),
  );
  east.driver.deliver(1, west.driver.take()[0].bytes);
  const rep = parsed(east.driver.take()[0].bytes);
  assert.ok(rep.isIcmp && rep.icmp.type === ICMP6_ECHO_REPLY && rep.l4ChecksumValid());
});

test('IPv6: 3.7.7 a one-way UDP flow: West makes the TLV 18 control packet on the IPv6 waypoints and East consumes it', () => {
  const l = lab(V6);
  const east = l.routers.get('east');
  const west = l.routers.get('west');
  assert.ok(east && west);
  const control: Uint8Array[] = [];
  for (let i = 0; i < 11; i++) {
    east.driver.deliver(
      0,
      buildPacket({
        src: '2001:db8:10::5',
        dst: '2001:db8:20::80',
        l4: { protocol: 'udp', srcPort: 4000, dstPort: 514 },
        payload: new Uint8Array(30),
      }),
    );
    for (const p of east.driver.take()) west.driver.deliver(0, p.bytes);
    for (const p of west.driver.take()) if (p.iface === 0) control.push(p.bytes);
  }
  assert.equal(control.length, 1, 'one control packet back to East');
  const c = parsed(control[0]);
  assert.equal(c.version, 6);
  assert.equal(ipv6ToString(c.ip6.srcBytes()), '2001:db8:ff::2');
  assert.equal(ipv6ToString(c.ip6.dstBytes()), '2001:db8:ff::1');
  assert.ok(c.isUdp && payloadHasCookie(c) && c.l4ChecksumValid());
  east.driver.deliver(1, control[0]);
  assert.equal(east.router.dataPlane.ctx.stats.controlReceived, 1);
  assert.deepEqual(east.router.dataPlane.ctx.drops.snapshot(), {});
});

test("[R-6.6-a] IPv6: 6.6 a packet whose hop limit runs out at West: the time exceeded goes back to East in TLV 21 and reaches the client from West's waypoint, quoting what it sent", () => {
  const l = lab(V6);
  const east = l.routers.get('east');
  const west = l.routers.get('west');
  assert.ok(east && west);
  const C = '2001:db8:10::5';
  east.driver.deliver(
    0,
    buildPacket({
      src: C,
      dst: '2001:db8:20::80',
      ttl: 2,
      l4: { protocol: 'udp', srcPort: 4001, dstPort: 514 },
      payload: new Uint8Array(8),
    }),
  );
  const [toWest] = east.driver.take();
  assert.ok(toWest);
  west.driver.deliver(0, toWest.bytes);
  const [carrier] = west.driver.take();
  assert.ok(carrier, JSON.stringify(west.router.dataPlane.ctx.drops.snapshot()));
  assert.equal(west.router.dataPlane.ctx.stats.icmpRelayed, 1);
  east.driver.deliver(1, carrier.bytes);
  const [err] = east.driver.take();
  assert.ok(err, JSON.stringify(east.router.dataPlane.ctx.drops.snapshot()));
  const e = parsed(err.bytes);
  assert.ok(e.isIcmp && e.icmp.isError && e.l4ChecksumValid());
  assert.equal(e.icmp.type, 3, 'ICMPv6 time exceeded');
  assert.equal(ipv6ToString(e.ip6.srcBytes()), '2001:db8:ff::2');
  assert.equal(ipv6ToString(e.ip6.dstBytes()), C);
  const q = new IpPacket();
  assert.equal(q.parse(err.bytes, e.icmp.quotedOffset, err.bytes.length - e.icmp.quotedOffset, true), 0);
  assert.equal(ipv6ToString(q.ip6.srcBytes()), C);
  assert.equal(q.srcPort, 4001);
  assert.equal(q.dstPort, 514);
});

test('6.5 IPv6: a 3000-byte datagram the client sent in IPv6 fragments is reassembled by East, crosses in pieces, and leaves West in fragments no larger than it came, byte for byte', () => {
  const l = lab(V6);
  const east = l.routers.get('east');
  const west = l.routers.get('west');
  assert.ok(east && west);
  const payload = new Uint8Array(3000).map((_, i) => (i * 17) & 0xff);
  const whole = buildPacket({
    src: '2001:db8:10::5',
    dst: '2001:db8:20::80',
    l4: { protocol: 'udp', srcPort: 4002, dstPort: 514 },
    payload,
  });
  // RFC 8200 4.5 by hand: a Fragment header after the IPv6 header, 1232 bytes of data a piece.
  const data = whole.subarray(40);
  const frags: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += 1232) {
    const n = Math.min(1232, data.length - at);
    const f = new Uint8Array(48 + n);
    f.set(whole.subarray(0, 40));
    f[6] = 44;
    f[4] = (8 + n) >> 8;
    f[5] = (8 + n) & 0xff;
    f[40] = 17;
    const word = at | (at + n < data.length ? 1 : 0);
    f[42] = word >> 8;
    f[43] = word & 0xff;
    f[47] = 9; // identification 9
    f.set(data.subarray(at, at + n), 48);
    frags.push(f);
  }
  for (const f of [frags[2], frags[0], frags[1]]) east.driver.deliver(0, f);
  const pieces = east.driver.take();
  assert.ok(pieces.length >= 3, `${pieces.length} pieces from East`);
  for (const p of pieces) west.driver.deliver(0, p.bytes);
  const out = west.driver.take().filter((p) => p.iface === 1);
  assert.ok(
    out.length >= 3 && out.every((p) => p.bytes.length <= 1280),
    out.map((p) => p.bytes.length).join(' '),
  );
  const table = new Ipv4Reassembly();
  let done: Uint8Array | undefined;
  for (const p of out) {
    const r = table.add(p.bytes, 0, p.bytes.length, 0);
    if (r.kind === 'complete') done = r.datagram.packet;
  }
  assert.ok(done, 'the fragments West sent make the datagram again');
  const q = parsed(done);
  assert.equal(ipv6ToString(q.ip6.srcBytes()), '2001:db8:10::5');
  assert.equal(q.dstPort, 514);
  assert.ok(Buffer.from(done.subarray(q.payloadOffset, q.end)).equals(Buffer.from(payload)));
  assert.deepEqual(east.router.dataPlane.ctx.drops.snapshot(), {});
  assert.deepEqual(west.router.dataPlane.ctx.drops.snapshot(), {});
});
