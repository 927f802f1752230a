import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfigText } from '../../src/config/load.js';
import { ICMP_ERRORS_PER_SECOND } from '../../src/dataplane/icmp-errors.js';
import { icmpErrorPacket } from '../../src/emu/icmp.js';
import { chain3, figure2 } from '../../src/emu/topologies.js';
import { payloadHasCookie } from '../../src/wire/metadata/insert.js';
import { IpPacket } from '../../src/wire/packet.js';
import { ROOT } from '../../testlib/cli.js';

/**
 * 6.6 "ICMP over SVR for Network Failures": ICMP errors about a session's packets go back along
 * the session, carried between routers in UDP with TLV 20, and are made again at the first router
 * from the address where the error arose, quoting the packet as the client sent it.
 */

/**
 * chain3 with a network beyond C: service "far" (198.18.0.0/16) leaves C through r1
 * (172.16.30.254), an ordinary IP router with 198.18.0.0/24 (a host at 198.18.0.10) and a route
 * back to the clients, nothing else.
 */
function chainWithFarNetwork(seed: number) {
  const yaml = readFileSync(`${ROOT}examples/chain3.yaml`, 'utf8')
    .replace(
      'routers:\n',
      `  - name: far
    addresses: [198.18.0.0/16]
    protocol: any
    access:
      allow: [users]

routers:
`,
    )
    .replace(
      '      - { service: lab, peer: b }\n',
      '      - { service: lab, peer: b }\n      - { service: far, peer: b }\n',
    )
    .replace(
      '      - { service: lab, peer: c }\n',
      '      - { service: lab, peer: c }\n      - { service: far, peer: c }\n',
    )
    .replace(
      '      - { service: lab, local: true }\n',
      '      - { service: lab, local: true }\n      - { service: far, nextHop: 172.16.30.254 }\n',
    );
  const loaded = loadConfigText(yaml, 'chain3-far.yaml');
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.errors.map((e) => e.message).join('; '));
  const f = chain3({ seed, authority: loaded.config });
  const far = f.net.segment('far', { latencyMs: 1 });
  const r1 = f.net.ipRouter('r1', {
    interfaces: [
      { segment: f.segments.servers, address: '172.16.30.254/24' },
      { segment: far, address: '198.18.0.1/24' },
    ],
    routes: [{ prefix: '172.16.10.0/24', via: '172.16.30.1' }],
  });
  const host = f.net.host('far', {
    interfaces: [{ segment: far, address: '198.18.0.10/24', gateway: '198.18.0.1' }],
  });
  return { ...f, r1, host };
}

test('[R-6.6-a] 6.6 traceroute through three svr routers shows every hop: A, B and C by the waypoint the probe came in on, then r1 and the host beyond the egress', () => {
  const f = chainWithFarNetwork(71);
  f.net.run(3000);
  const sock = f.client.udpBind(45000);
  const hops: string[] = [];
  for (let ttl = 1; ttl <= 6; ttl++) {
    const before = f.client.icmpErrors.length;
    sock.sendTo('198.18.0.10', 33434 + ttl, new Uint8Array(32), { ttl });
    f.net.run(500);
    const e = f.client.icmpErrors[before];
    hops.push(e ? `${e.from} ${e.type}/${e.code}` : '*');
    if (e?.type === 3) break;
    // The error quotes the probe as the client sent it, so the client's stack can match it.
    assert.equal(e?.quoted?.src, '172.16.10.5');
    assert.equal(e?.quoted?.dst, '198.18.0.10');
    assert.equal(e?.quoted?.srcPort, 45000);
    assert.equal(e?.quoted?.dstPort, 33434 + ttl);
  }
  assert.deepEqual(hops, [
    '172.16.10.1 11/0', // A: the first packet's TTL ran out at the ingress
    '203.0.113.2 11/0', // B, on the waypoint the probe reached it by (RFC 1812 4.3.2.4)
    '203.0.113.6 11/0', // C
    '172.16.30.254 11/0', // r1, beyond the egress: carried back from C to B to A
    '198.18.0.10 3/3', // the host: port unreachable
  ]);
  assert.ok(f.c.dataPlane.ctx.stats.icmpRelayed >= 2, 'C carried r1 and the host back');
  assert.ok(f.b.dataPlane.ctx.stats.icmpRelayed >= 3, 'B carried its own, C and beyond');
  for (const r of [f.a, f.b, f.c]) {
    const d = r.dataPlane.ctx.drops.snapshot();
    delete d['ttl-expired'];
    assert.deepEqual(d, {}, r.name);
  }
});

test('[R-6.6-a] 6.6 "No Network Found": a TCP SYN to a network r1 has no route for; its net-unreachable crosses the three routers and reaches the client quoting the SYN', () => {
  const f = chainWithFarNetwork(72);
  f.net.run(3000);
  f.client.tcpConnect('198.18.5.5', 80);
  f.net.run(500);
  const e = f.client.icmpErrors.at(-1);
  assert.ok(e, 'an ICMP error reached the client');
  assert.deepEqual([e.from, e.type, e.code], ['172.16.30.254', 3, 0]);
  assert.equal(e.quoted?.protocol, 6);
  assert.equal(e.quoted?.src, '172.16.10.5');
  assert.equal(e.quoted?.dst, '198.18.5.5');
  assert.equal(e.quoted?.dstPort, 80);
  assert.equal(f.r1.counters.get('no-route'), 1);
});

test("[R-6.6-a] 6.6 in Figure 2 with source NAT at West: a closed UDP port on logsvc is reported to the client from logsvc, quoting the datagram with the client's own addresses", () => {
  const f = figure2({ seed: 73 });
  const cap = f.net.capture(f.segments.mpls);
  const sock = f.client.udpBind(40700);
  sock.sendTo('172.15.11.20', 514, new Uint8Array(40));
  f.net.run(1000);
  const e = f.client.icmpErrors.at(-1);
  assert.ok(e, 'the client got the error');
  assert.deepEqual([e.from, e.type, e.code], ['172.15.11.20', 3, 3]);
  assert.deepEqual(e.quoted, {
    src: '10.0.1.1',
    dst: '172.15.11.20',
    protocol: 17,
    srcPort: 40700,
    dstPort: 514,
  });
  assert.equal(f.west.dataPlane.ctx.stats.icmpRelayed, 1);
  // Between the routers: a UDP packet of the session's own waypoints and wayports (6.6 layout).
  const q = new IpPacket();
  const carriers = cap.packets.filter((p) => {
    q.parse(p.data, 0, p.data.length);
    // From West's waypoint 203.0.113.89, metadata right after the UDP header.
    return q.isUdp && q.srcPort !== 1280 && q.ip4.src === 0xcb007159 && payloadHasCookie(q);
  });
  assert.equal(carriers.length, 1, 'one carrier');
  assert.deepEqual(f.east.dataPlane.ctx.drops.snapshot(), {});
});

test('[R-6.6-a] 6.6 an error raised between the routers (the LTE carrier) about a session packet on the peer path reaches the client from the carrier', () => {
  const f = figure2({ seed: 74 });
  f.segments.mpls.set({ up: false });
  // East's own Internet path cut (the LTE path crosses the same link from the carrier).
  const q = new IpPacket();
  const east = 0xc6336402; // 198.51.100.2
  f.segments.internet.filter(
    'cut',
    (fr) => !q.parse(fr, 0, fr.length) && (q.ip4.src === east || q.ip4.dst === east),
  );
  f.net.run(5000); // BFD takes MPLS and Internet out of service: sessions go by LTE
  const hops: string[] = [];
  for (let ttl = 1; ttl <= 5; ttl++) {
    const sock = f.client.udpBind(41000 + ttl); // a new session per probe, as traceroute's are
    const before = f.client.icmpErrors.length;
    sock.sendTo('172.15.11.20', 514, new Uint8Array(20), { ttl });
    f.net.run(1000);
    const e = f.client.icmpErrors[before];
    hops.push(e ? `${e.from} ${e.type}/${e.code}` : '*');
    if (e?.type === 3) break;
  }
  assert.deepEqual(hops, [
    '10.0.1.254 11/0', // East
    '192.0.2.254 11/0', // the carrier router on the LTE path: East gives it to the client itself
    '198.51.100.8 11/0', // West, by its waypoint on the path
    '172.15.11.20 3/3', // logsvc: nothing listens on 514
  ]);
  assert.equal(f.carrier.counters.get('ttl-expired'), 1);
});

test('6.6, RFC 1812 4.3.2.8: a flood of ICMP errors quoting a session is carried back at most 1000 a second; the rest are counted drops', () => {
  const f = figure2({ seed: 75 });
  let seen: IpPacket | undefined;
  f.logsvc.onPacket = (p) => {
    if (p.isUdp && !seen) {
      seen = new IpPacket();
      seen.parse(p.b.slice(p.start, p.end), 0, p.end - p.start);
    }
  };
  const rx = f.logsvc.udpBind(514); // listening: no error of its own
  rx.onMessage = () => {};
  f.client.udpBind(40900).sendTo('172.15.11.20', 514, new Uint8Array(20));
  f.net.run(500);
  assert.ok(seen, 'logsvc got the datagram');
  const err = icmpErrorPacket(seen, { version: 4, v4: 0xac0f0b14 }, 'port-unreachable');
  assert.ok(err);
  const before = f.client.icmpErrors.length;
  for (let i = 0; i < 1500; i++) f.logsvc.send(err);
  f.net.run(500);
  const west = f.west.dataPlane.ctx;
  assert.equal(west.stats.icmpRelayed, ICMP_ERRORS_PER_SECOND);
  assert.equal(west.drops.snapshot()['icmp-rate-limited'], 500);
  assert.equal(f.client.icmpErrors.length - before, ICMP_ERRORS_PER_SECOND);
});
