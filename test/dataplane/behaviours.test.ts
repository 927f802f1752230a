import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ipv4ToString } from '../../src/base/address.js';
import { DropReason } from '../../src/base/drop-reason.js';
import { SeededRandom } from '../../src/base/random.js';
import { StaticPeerKeys } from '../../src/crypto/peer-keys.js';
import { Flag } from '../../src/dataplane/context.js';
import { controlPacket } from '../../src/dataplane/generated.js';
import { keyAddress } from '../../src/session/session-table.js';
import { buildPacket } from '../../src/wire/builder.js';
import { ICMP4_ECHO_REPLY, ICMP4_ECHO_REQUEST } from '../../src/wire/icmp.js';
import { decodeMetadata, findTlv, METADATA_COOKIE } from '../../src/wire/metadata/block.js';
import { insertMetadata, payloadHasCookie } from '../../src/wire/metadata/insert.js';
import { ControlReason, type Tlv, TlvType } from '../../src/wire/metadata/tlv.js';
import { IPPROTO_UDP } from '../../src/wire/protocol.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { lab, parsed, SECRET, tcp, udp } from '../../testlib/dataplane-harness.js';

const CLIENT = '10.0.1.1';
const SERVER = '172.15.11.23';

function figure2() {
  const l = lab('examples/figure2.yaml', undefined, { 'logsvc.example': '172.15.11.20' });
  const east = l.routers.get('east');
  const west = l.routers.get('west');
  if (!east || !west) throw new Error('routers');
  return {
    l,
    east,
    west,
    lan2: l.iface('east', 'lan-vlan2'),
    lan: l.iface('east', 'lan'),
    eMpls: l.iface('east', 'mpls'),
    wMpls: l.iface('west', 'mpls'),
    wLan: l.iface('west', 'servers'),
  };
}

test('[R-4.3.1-a] [R-3.7-a] forward metadata carries the 4.3.1 TLVs, encrypted, with the tenant and service found at ingress', () => {
  const f = figure2();
  f.east.driver.deliver(f.lan2, tcp(CLIENT, SERVER, 7000, 22, TCP_SYN, 1, 0));
  const [syn] = f.east.driver.take();
  const p = parsed(syn.bytes);
  const keys = new StaticPeerKeys(SECRET, 'west', f.l.authority.security, new SeededRandom(9));
  const key = keys.current('east');
  assert.ok(key?.cipher && key.hmac);
  // The last 16 bytes are the HMAC (Figure 7: sha256-128 on all packets); the block precedes them.
  const md = decodeMetadata(p.b.slice(0, p.end - 16), p.payloadOffset, p.end - 16, key.cipher);
  assert.ok(typeof md === 'object', `metadata: ${md}`);
  assert.ok(md.encrypted);
  assert.equal(findTlv(md, TlvType.TenantName)?.name, 'engineering');
  assert.equal(findTlv(md, TlvType.ServiceName)?.name, 'github');
  assert.equal(findTlv(md, TlvType.SourceRouterName)?.name, 'east');
  assert.equal(findTlv(md, TlvType.PeerPathwayId)?.name, '203.0.113.1');
  assert.equal(findTlv(md, TlvType.SecurityPolicy)?.name, 'none');
  assert.equal(ipv4ToString(findTlv(md, TlvType.SourceNatV4)?.address ?? 0), '203.0.113.1');
  const ctx = findTlv(md, TlvType.ForwardContextV4);
  assert.deepEqual(
    [
      ipv4ToString(ctx?.source ?? 0),
      ipv4ToString(ctx?.destination ?? 0),
      ctx?.sourcePort,
      ctx?.destinationPort,
      ctx?.protocol,
    ],
    [CLIENT, SERVER, 7000, 22, 6],
  );
  const uuid = findTlv(md, TlvType.SessionUuid)?.uuid;
  assert.ok(uuid && uuid[6] >> 4 === 4 && (uuid[8] & 0xc0) === 0x80, 'RFC 4122 v4 (R-7.4.5-a)');
});

test('[R-4.6.5.2-c] a denied tenant and unknown traffic: drops with reasons; non-service traffic goes as plain IP', () => {
  const f = figure2();
  // 10.0.0.200 is release.engineering by neighborhood: denied github.
  f.east.driver.deliver(f.lan, tcp('10.0.0.200', SERVER, 7001, 22, TCP_SYN, 1, 0));
  assert.equal(f.east.driver.take().length, 0);
  assert.equal(f.east.router.dataPlane.ctx.drops.get(DropReason.AccessDenied), 1);
  // TCP 80 to the server: no service; the generic route (Figure 4) carries it as plain IP.
  f.east.driver.deliver(f.lan2, tcp(CLIENT, SERVER, 7002, 80, TCP_SYN, 1, 0));
  const [plain] = f.east.driver.take();
  const p = parsed(plain.bytes);
  assert.equal(ipv4ToString(p.ip4.dst), SERVER, 'addresses untouched');
  assert.equal(p.ip4.ttl, 63);
  assert.ok(!payloadHasCookie(p) && p.ip4.checksumValid());
  assert.equal(
    ipv4ToString(plain.nextHop?.version === 4 ? plain.nextHop.v4 : 0),
    '203.0.113.89',
    'next hop from the route',
  );
  // Nowhere to go: no route.
  f.east.driver.deliver(f.lan2, udp(CLIENT, '8.8.8.8', 5000, 53, new Uint8Array(4)));
  assert.equal(f.east.router.dataPlane.ctx.drops.get(DropReason.NoRoute), 1);
  // A reset, or anything else that is neither a SYN nor a mid-stream segment (2.10's pickup),
  // cannot start a service session.
  f.east.driver.deliver(f.lan2, tcp(CLIENT, SERVER, 7003, 22, TCP_RST | TCP_ACK, 1, 1));
  assert.equal(f.east.router.dataPlane.ctx.drops.get(DropReason.TcpNotSyn), 1);
});

test('[R-4.6.5-b] [R-4.6.5.1-a] metadata naming a service the peer does not have: dropped and counted, no session', () => {
  // East runs a configuration where github is called "gitlab"; West keeps the original. Both
  // share the authority secret, so West verifies and decrypts East's packet, then finds no service.
  const renamed = readFileSync('examples/figure2.yaml', 'utf8').replaceAll('github', 'gitlab');
  const other = lab(renamed);
  const east = other.routers.get('east');
  assert.ok(east);
  east.driver.deliver(other.iface('east', 'lan-vlan2'), tcp(CLIENT, SERVER, 7050, 22, TCP_SYN, 1, 0));
  const [syn] = east.driver.take();
  const p = parsed(syn.bytes);
  const md = decodeMetadata(
    p.b.slice(0, p.end - 16),
    p.payloadOffset,
    p.end - 16,
    new StaticPeerKeys(SECRET, 'west', other.authority.security, new SeededRandom(1)).current('east')?.cipher,
  );
  assert.ok(typeof md === 'object');
  assert.equal(findTlv(md, TlvType.ServiceName)?.name, 'gitlab');
  const f = figure2();
  f.west.driver.deliver(f.wMpls, syn.bytes);
  assert.equal(f.west.driver.take().length, 0);
  const wctx = f.west.router.dataPlane.ctx;
  assert.equal(wctx.drops.get(DropReason.UnknownService), 1);
  assert.equal(wctx.sessions.size, 0);
});

test('3.7.7: a one-way UDP flow carries metadata on 11 packets; West then sends Disable Forward Metadata, consumed by East', () => {
  const f = figure2();
  const withMd: boolean[] = [];
  let control = 0;
  for (let i = 0; i < 15; i++) {
    f.east.driver.deliver(
      f.lan2,
      udp(CLIENT, '172.15.11.20', 5140, 514, new TextEncoder().encode(`log line ${i}`)),
    );
    const [out] = f.east.driver.take();
    withMd.push(payloadHasCookie(parsed(out.bytes)));
    f.west.driver.deliver(f.wMpls, out.bytes);
    for (const w of f.west.driver.take()) {
      if (w.iface === f.wMpls) {
        control++;
        f.east.driver.deliver(f.eMpls, w.bytes); // the control packet back to East
        assert.equal(f.east.driver.take().length, 0, 'consumed and dropped by the adjacent peer (R-4.2.4-b)');
      } else {
        const d = parsed(w.bytes);
        assert.equal(new TextDecoder().decode(d.b.slice(d.payloadOffset, d.end)), `log line ${i}`);
      }
    }
  }
  assert.deepEqual(withMd, [...new Array(11).fill(true), ...new Array(4).fill(false)]);
  assert.equal(control, 1);
  assert.equal(f.east.router.dataPlane.ctx.stats.controlReceived, 1);
});

test('3.3: DNS egress resolves the service name; a NAT pool spreads sessions round robin', () => {
  const f = figure2();
  f.east.driver.deliver(f.lan2, udp(CLIENT, '172.15.11.20', 5141, 514, new Uint8Array(8)));
  f.west.driver.deliver(f.wMpls, f.east.driver.take()[0].bytes);
  const [dns] = f.west.driver.take();
  assert.equal(ipv4ToString(parsed(dns.bytes).ip4.dst), '172.15.11.20', 'resolved logsvc.example');
  const targets: string[] = [];
  for (let i = 0; i < 6; i++) {
    f.east.driver.deliver(f.lan2, tcp(CLIENT, '172.15.11.24', 8000 + i, 443, TCP_SYN, 1, 0));
    f.west.driver.deliver(f.wMpls, f.east.driver.take()[0].bytes);
    targets.push(ipv4ToString(parsed(f.west.driver.take()[0].bytes).ip4.dst));
  }
  assert.deepEqual(targets, [
    '172.15.11.101',
    '172.15.11.102',
    '172.15.11.103',
    '172.15.11.101',
    '172.15.11.102',
    '172.15.11.103',
  ]);
});

test('6.6: ping crosses SVR as UDP with metadata and comes back as ICMP', () => {
  const l = lab('examples/figure2.yaml', (a) => ({
    ...a,
    services: [...a.services, { ...a.services[0], name: 'ping', protocol: 'icmp', ports: [] }],
    routers: a.routers.map((r) => ({
      ...r,
      serviceRoutes: [
        ...r.serviceRoutes,
        {
          service: 'ping',
          nextHops:
            r.name === 'east' ? [{ kind: 'peer', peer: 'west' }] : [{ kind: 'local', interface: undefined }],
          egress: { kind: 'forward' },
        },
      ],
    })),
  }));
  const east = l.routers.get('east');
  const west = l.routers.get('west');
  assert.ok(east && west);
  const req = buildPacket({
    src: CLIENT,
    dst: SERVER,
    l4: { protocol: 'icmp', type: ICMP4_ECHO_REQUEST, identifier: 77, sequence: 1 },
    payload: new Uint8Array(32).fill(9),
  });
  east.driver.deliver(l.iface('east', 'lan-vlan2'), req);
  const [wire] = east.driver.take();
  const w = parsed(wire.bytes);
  assert.ok(w.isUdp && payloadHasCookie(w), 'ICMP inside UDP with metadata');
  west.driver.deliver(l.iface('west', 'mpls'), wire.bytes);
  const [atServer] = west.driver.take();
  const s = parsed(atServer.bytes);
  assert.ok(
    s.isIcmp && s.icmp.isEchoRequest && s.icmp.identifier === 77,
    `an echo request again: ${JSON.stringify(west.router.dataPlane.ctx.drops.snapshot())}`,
  );
  assert.ok(s.l4ChecksumValid() && s.ip4.checksumValid());
  const reply = buildPacket({
    src: SERVER,
    dst: ipv4ToString(s.ip4.src),
    l4: { protocol: 'icmp', type: ICMP4_ECHO_REPLY, identifier: 77, sequence: 1 },
    payload: new Uint8Array(32).fill(9),
  });
  west.driver.deliver(l.iface('west', 'servers'), reply);
  const [back] = west.driver.take();
  assert.ok(parsed(back.bytes).isUdp, 'the reply crosses as UDP too');
  east.driver.deliver(l.iface('east', 'mpls'), back.bytes);
  const [atClient] = east.driver.take();
  const c = parsed(atClient.bytes);
  assert.ok(c.isIcmp && c.icmp.type === ICMP4_ECHO_REPLY && c.icmp.identifier === 77);
  assert.equal(ipv4ToString(c.ip4.dst), CLIENT);
  assert.ok(c.l4ChecksumValid());
});

test('[R-4.6.1-e] [R-2.10-b] [R-4.5.2-a] forged and stray packets on a waypoint are dropped as security events', () => {
  const f = figure2();
  const wctx = f.west.router.dataPlane.ctx;
  // From a peer's waypoint, no metadata, no session.
  f.west.driver.deliver(f.wMpls, udp('203.0.113.1', '203.0.113.89', 8000, 8001, new Uint8Array(10)));
  assert.equal(wctx.drops.get(DropReason.NoSessionOnWaypoint), 1);
  // From an address that is no peer path.
  f.west.driver.deliver(f.wMpls, udp('203.0.113.77', '203.0.113.89', 8000, 8001, new Uint8Array(10)));
  assert.equal(wctx.drops.get(DropReason.UnknownPeer), 1);
  // A real first packet with one byte of its metadata flipped: the HMAC catches it.
  f.east.driver.deliver(f.lan2, tcp(CLIENT, SERVER, 7100, 22, TCP_SYN, 1, 0));
  const [syn] = f.east.driver.take();
  const forged = syn.bytes.slice();
  forged[60] ^= 0x01;
  f.west.driver.deliver(f.wMpls, forged);
  assert.equal(f.west.driver.take().length, 0);
  assert.equal(wctx.drops.get(DropReason.HmacMismatch), 1);
  assert.ok(wctx.events.recent('security').length >= 3);
  // The genuine one still goes through.
  f.west.driver.deliver(f.wMpls, syn.bytes);
  assert.equal(f.west.driver.take().length, 1);
  // [R-3.7.2.5-a] replayed later under another port pair (same UUID): a loop, dropped.
  f.west.driver.deliver(f.wMpls, syn.bytes);
  assert.equal(f.west.driver.take().length, 1, 'the same wing again is the same session (a retransmission)');
});

test('[R-4.2.6-b] mid-session payloads that start with the cookie get a false-positive header, removed by the peer', () => {
  const f = figure2();
  f.east.driver.deliver(f.lan2, tcp(CLIENT, SERVER, 7200, 22, TCP_SYN, 1, 0));
  f.west.driver.deliver(f.wMpls, f.east.driver.take()[0].bytes);
  const natPort = parsed(f.west.driver.take()[0].bytes).srcPort;
  f.west.driver.deliver(f.wLan, tcp(SERVER, '203.0.113.1', 22, natPort, TCP_SYN | TCP_ACK, 9, 2));
  f.east.driver.deliver(f.eMpls, f.west.driver.take()[0].bytes);
  f.east.driver.take();
  const tricky = new Uint8Array(40);
  tricky.set(METADATA_COOKIE);
  f.east.driver.deliver(f.lan2, tcp(CLIENT, SERVER, 7200, 22, TCP_ACK | TCP_PSH, 2, 10, tricky));
  const [out] = f.east.driver.take();
  const p = parsed(out.bytes);
  assert.equal(p.payloadLength, 12 + 40 + 16, 'empty header + payload + HMAC');
  f.west.driver.deliver(f.wMpls, out.bytes);
  const [d] = f.west.driver.take();
  const q = parsed(d.bytes);
  assert.deepEqual(
    q.b.slice(q.payloadOffset, q.end),
    tricky,
    'the application gets its bytes back (R-2.5-a)',
  );
});

test('3.7.6: FIN both ways ends the session after the close guard; its wayport pair is released', () => {
  const f = figure2();
  f.east.driver.deliver(f.lan2, tcp(CLIENT, SERVER, 7300, 22, TCP_SYN, 1, 0));
  const syn = f.east.driver.take()[0].bytes;
  f.west.driver.deliver(f.wMpls, syn);
  const natPort = parsed(f.west.driver.take()[0].bytes).srcPort;
  f.west.driver.deliver(f.wLan, tcp(SERVER, '203.0.113.1', 22, natPort, TCP_SYN | TCP_ACK, 9, 2));
  f.east.driver.deliver(f.eMpls, f.west.driver.take()[0].bytes);
  f.east.driver.take();
  const ectx = f.east.router.dataPlane.ctx;
  const pathId = ectx.paths.paths.find((p) => p?.model.vector === 'mpls')?.model.id ?? -1;
  assert.equal(ectx.wayports.allocator(pathId)?.inUse, 1);
  f.east.driver.deliver(f.lan2, tcp(CLIENT, SERVER, 7300, 22, TCP_FIN | TCP_ACK, 2, 10));
  f.west.driver.deliver(f.wMpls, f.east.driver.take()[0].bytes);
  f.west.driver.take();
  f.west.driver.deliver(f.wLan, tcp(SERVER, '203.0.113.1', 22, natPort, TCP_FIN | TCP_ACK, 10, 3));
  f.east.driver.deliver(f.eMpls, f.west.driver.take()[0].bytes);
  f.east.driver.take();
  assert.equal(ectx.sessions.size, 1);
  f.l.scheduler.run(6_500);
  assert.equal(ectx.sessions.size, 0, 'ended after the 5 s guard');
  assert.equal(f.west.router.dataPlane.ctx.sessions.size, 0);
  assert.equal(ectx.wayports.allocator(pathId)?.inUse, 0, 'R-4.2.3-d');
  assert.equal(ectx.wayports.allocator(pathId)?.inGuard, 1, 'R-4.2.3-e');
});

test('3.7.8: three routers in a chain: one UUID end to end, metadata per hop, reverse metadata back', () => {
  const l = lab('examples/chain3.yaml');
  const a = l.routers.get('a');
  const b = l.routers.get('b');
  const c = l.routers.get('c');
  assert.ok(a && b && c);
  a.driver.deliver(l.iface('a', 'clients'), tcp('172.16.10.5', '172.16.30.80', 40000, 80, TCP_SYN, 1, 0));
  const [md1] = a.driver.take();
  b.driver.deliver(l.iface('b', 'ab'), md1.bytes);
  const [md2] = b.driver.take();
  assert.ok(md2, `b dropped: ${JSON.stringify(b.router.dataPlane.ctx.drops.snapshot())}`);
  const p2 = parsed(md2.bytes);
  assert.equal(ipv4ToString(p2.ip4.src), '203.0.113.5');
  assert.equal(ipv4ToString(p2.ip4.dst), '203.0.113.6');
  assert.ok(payloadHasCookie(p2), 'MD2: B re-encrypts for its own hop');
  c.driver.deliver(l.iface('c', 'bc'), md2.bytes);
  const [toServer] = c.driver.take();
  assert.ok(toServer, `c dropped: ${JSON.stringify(c.router.dataPlane.ctx.drops.snapshot())}`);
  const s = parsed(toServer.bytes);
  assert.deepEqual(
    [ipv4ToString(s.ip4.src), ipv4ToString(s.ip4.dst), s.srcPort, s.dstPort],
    ['172.16.10.5', '172.16.30.80', 40000, 80],
  );
  const uuids = [a, b, c].map((r) => {
    const ids = r.router.dataPlane.ctx.sessions.ids();
    return Buffer.from(r.router.dataPlane.ctx.sessions.uuid(ids[0])).toString('hex');
  });
  assert.equal(new Set(uuids).size, 1, 'the same UUID at every hop');
  // The reply: RMD2 then RMD1.
  c.driver.deliver(
    l.iface('c', 'servers'),
    tcp('172.16.30.80', '172.16.10.5', 80, 40000, TCP_SYN | TCP_ACK, 7, 2),
  );
  const [rmd2] = c.driver.take();
  assert.ok(payloadHasCookie(parsed(rmd2.bytes)));
  b.driver.deliver(l.iface('b', 'bc'), rmd2.bytes);
  const [rmd1] = b.driver.take();
  assert.ok(
    rmd1 && payloadHasCookie(parsed(rmd1.bytes)),
    `b: ${JSON.stringify(b.router.dataPlane.ctx.drops.snapshot())}`,
  );
  a.driver.deliver(l.iface('a', 'ab'), rmd1.bytes);
  const [toClient] = a.driver.take();
  const r = parsed(toClient.bytes);
  assert.deepEqual(
    [ipv4ToString(r.ip4.src), ipv4ToString(r.ip4.dst), r.srcPort, r.dstPort],
    ['172.16.30.80', '172.16.10.5', 80, 40000],
  );
});

const TRIANGLE = `
authority: { name: loop }
tenants: [{ name: users }]
services:
  - { name: web, addresses: [172.16.30.0/24], protocol: tcp, ports: ["80"], access: { allow: [users] } }
routers:
  - name: a
    interfaces:
      - { name: clients, role: lan, addresses: [172.16.10.1/24], tenant: users }
      - { name: ab, role: wan, addresses: [203.0.113.1/30] }
      - { name: ca, role: wan, addresses: [203.0.113.10/30] }
    peers:
      - { name: b, paths: [{ interface: ab, address: 203.0.113.2 }] }
      - { name: c, paths: [{ interface: ca, address: 203.0.113.9 }] }
    serviceRoutes: [{ service: web, peer: b }]
  - name: b
    interfaces:
      - { name: ab, role: wan, addresses: [203.0.113.2/30] }
      - { name: bc, role: wan, addresses: [203.0.113.5/30] }
    peers:
      - { name: a, paths: [{ interface: ab, address: 203.0.113.1 }] }
      - { name: c, paths: [{ interface: bc, address: 203.0.113.6 }] }
    serviceRoutes: [{ service: web, peer: c }]
  - name: c
    interfaces:
      - { name: bc, role: wan, addresses: [203.0.113.6/30] }
      - { name: ca, role: wan, addresses: [203.0.113.9/30] }
    peers:
      - { name: b, paths: [{ interface: bc, address: 203.0.113.5 }] }
      - { name: a, paths: [{ interface: ca, address: 203.0.113.10 }] }
    serviceRoutes: [{ service: web, peer: a }]
`;

test('[R-3.7.2.5-a] a first packet that comes round to a router that already has its UUID is dropped as a loop', () => {
  const l = lab(TRIANGLE);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => l.routers.get(n));
  assert.ok(a && b && c);
  a.driver.deliver(l.iface('a', 'clients'), tcp('172.16.10.5', '172.16.30.80', 40001, 80, TCP_SYN, 1, 0));
  b.driver.deliver(l.iface('b', 'ab'), a.driver.take()[0].bytes);
  c.driver.deliver(l.iface('c', 'bc'), b.driver.take()[0].bytes);
  const [back] = c.driver.take();
  assert.ok(back, `c: ${JSON.stringify(c.router.dataPlane.ctx.drops.snapshot())}`);
  a.driver.deliver(l.iface('a', 'ca'), back.bytes);
  assert.equal(a.driver.take().length, 0);
  assert.equal(a.router.dataPlane.ctx.drops.get(DropReason.SessionLoop), 1);
});

test('7.3.6 "Turn Off Metadata": TLV 24 reason 3 on a session\'s five-tuple stops the metadata owed on it; the peer consumes the packet', () => {
  const f = figure2();
  f.east.driver.deliver(f.lan2, udp(CLIENT, '172.15.11.20', 5150, 514, new TextEncoder().encode('one')));
  const [out] = f.east.driver.take();
  f.west.driver.deliver(f.wMpls, out.bytes);
  f.west.driver.take();
  const ectx = f.east.router.dataPlane.ctx;
  const [id] = ectx.sessions.ids();
  assert.ok(ectx.sessions.flags(id) & Flag.ForwardMetadata, 'East still owes forward metadata');
  // West makes the control packet: the session's reverse wire five-tuple, TLV 16 and TLV 24 reason 3.
  const wdp = f.west.router.dataPlane;
  const [wid] = wdp.ctx.sessions.ids();
  const k = new Uint32Array(10);
  const kw = wdp.ctx.sessions.wingOutput(wid * 2 + 1, k, 0);
  const c = controlPacket(
    keyAddress(k, 0, 4),
    keyAddress(k, 1, 4),
    IPPROTO_UDP,
    k[kw - 2] >>> 16,
    k[kw - 2] & 0xffff,
  );
  assert.ok(c);
  const keyId = wdp.ctx.sessions.outKeyId(wid * 2 + 1);
  const tlvs: Tlv[] = [
    { type: TlvType.SecurityIdentifier, securityId: keyId },
    { type: TlvType.ControlMessage, reason: ControlReason.DisableMetadata },
  ];
  assert.equal(insertMetadata(c.pb, c.pkt, { tlvs }), 0);
  assert.equal(wdp.sign(c.pb, c.pkt, wdp.ctx.sessions.outPath(wid * 2 + 1), keyId, true), 0);
  f.east.driver.deliver(f.eMpls, c.pb.copy());
  assert.equal(f.east.driver.take().length, 0, 'consumed (R-4.2.4-b)');
  assert.equal(ectx.sessions.flags(id) & Flag.ForwardMetadata, 0, 'no metadata owed any more');
  assert.equal(ectx.stats.controlReceived, 1);
  f.east.driver.deliver(f.lan2, udp(CLIENT, '172.15.11.20', 5150, 514, new TextEncoder().encode('two')));
  const [next] = f.east.driver.take();
  assert.equal(payloadHasCookie(parsed(next.bytes)), false, 'the next datagram goes without metadata');
});
