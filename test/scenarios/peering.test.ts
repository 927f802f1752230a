import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ipToString } from '../../src/base/address.js';
import { loadConfigText } from '../../src/config/load.js';
import type { AuthorityModel, Peering } from '../../src/config/model.js';
import {
  createCaCertificate,
  generateP256KeyPair,
  issueRouterCertificate,
} from '../../src/crypto/certificates.js';
import { Flag } from '../../src/dataplane/context.js';
import { Network } from '../../src/emu/network.js';
import { sinkServer } from '../../src/emu/servers.js';
import { attachSvrRouters, settlePeering } from '../../src/emu/svr-network.js';
import { exampleConfig, figure2 } from '../../src/emu/topologies.js';
import { decodeBfdMetadata } from '../../src/peering/bfd-metadata.js';
import type { SvrRouter } from '../../src/router/router.js';
import { BFD_CONTROL_LENGTH, BfdState } from '../../src/wire/bfd.js';
import { IpPacket } from '../../src/wire/packet.js';

/** Figure 2 with peering settings changed for every router. */
function withPeering(a: AuthorityModel, p: Partial<Peering>): AuthorityModel {
  return { ...a, routers: a.routers.map((r) => ({ ...r, peering: { ...r.peering, ...p } })) };
}

function pathOf(r: SvrRouter, vector: string) {
  const s = r.peering?.status().find((p) => p.vector === vector);
  assert.ok(s, `${r.name} has a ${vector} path`);
  return s;
}

const DAY = 86_400_000;

test('[R-5.1-a] 3.1: East and West authenticate over three paths and compute one key', () => {
  const f = figure2({ seed: 3 });
  for (const r of [f.east, f.west]) {
    const st = r.peering?.status() ?? [];
    assert.equal(st.length, 3);
    for (const p of st) {
      assert.equal(p.bfd, BfdState.Up, `${r.name} ${p.vector} BFD up`);
      assert.ok(p.authenticated && p.usable, `${r.name} ${p.vector} in service`);
    }
    assert.ok(r.peering?.inService(r.name === 'east' ? 'west' : 'east'));
  }
  // 5.1.8: one key for every path, the same security id on both sides, the same bytes.
  const e = f.east.peering?.keys.current('west');
  const w = f.west.peering?.keys.current('east');
  assert.ok(e && w);
  assert.equal(e.securityId, w.securityId);
  const data = new TextEncoder().encode('same key on both ends');
  const sig = (k: typeof e) => {
    const out = new Uint8Array(32);
    k.hmac?.sign(data, 0, data.length, undefined, out, 0);
    return out;
  };
  assert.deepEqual(sig(e), sig(w));
  for (const r of [f.east, f.west])
    for (const p of r.dataPlane.ctx.paths.paths) if (p) assert.equal(p.keyId, e.securityId);
  // Sessions run over the authenticated paths.
  const sink = sinkServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  let up = false;
  c.onConnect = () => {
    up = true;
    c.send(new Uint8Array(1000).fill(7));
  };
  assert.ok(f.net.runUntil(() => up && sink.totalBytes() === 1000, 5000));
});

test('[R-5.1.7-a] the certificate rides on every BFD packet until the peer has validated it', () => {
  const f = figure2({ seed: 4, settle: false });
  // MPLS is down for the first seconds: East's certificate cannot reach West, nor West's East.
  f.segments.mpls.set({ up: false });
  const cap = f.net.capture(f.segments.mpls);
  f.net.run(3000);
  f.segments.mpls.set({ up: true });
  f.net.run(20_000);
  const pkt = new IpPacket();
  const fromEast: boolean[] = [];
  for (const c of cap.packets) {
    assert.equal(pkt.parse(c.data, 0, c.data.length), 0);
    if (!pkt.isUdp || pkt.dstPort !== 1280 || ipToString({ version: 4, v4: pkt.ip4.src }) !== '203.0.113.1')
      continue;
    const md = decodeBfdMetadata(
      pkt.b,
      pkt.payloadOffset + BFD_CONTROL_LENGTH,
      pkt.end - pkt.payloadOffset - BFD_CONTROL_LENGTH,
    );
    assert.notEqual(typeof md, 'number');
    if (typeof md !== 'number' && md.measure === undefined) fromEast.push(md.peerAuth !== undefined);
  }
  assert.ok(fromEast.length > 10);
  const firstWithout = fromEast.indexOf(false);
  assert.ok(firstWithout >= 1, 'the first packets carry the certificate');
  assert.ok(fromEast.slice(0, firstWithout).every((x) => x));
  assert.ok(
    fromEast.slice(firstWithout + 2).every((x) => !x),
    'once both sides validated, no more certificates',
  );
});

test('[R-2.5-b] 5.1.7: a router with a certificate from another CA is refused, and the refusal is logged', () => {
  const events: string[] = [];
  const f = figure2({
    seed: 5,
    settle: false,
    onEvent: (e) => {
      if (e.kind === 'security' && e.code === 'peer-certificate-refused')
        events.push(`${e.router}: ${e.detail?.reason}`);
    },
    credentials: (router, issued) => {
      if (router !== 'west') return issued;
      // West's certificate comes from a CA of its own making.
      const caKeys = generateP256KeyPair();
      const ca = createCaCertificate({
        authority: 'example',
        keys: caKeys,
        notBefore: new Date(Date.UTC(2025, 0, 1)),
        notAfter: new Date(Date.UTC(2030, 0, 1)),
        serial: new Uint8Array([1]),
      });
      const keys = generateP256KeyPair();
      const certificatePem = issueRouterCertificate({
        caCertificatePem: ca,
        caPrivateKey: caKeys.privateKey,
        name: 'west/example',
        publicKey: keys.publicKey,
        notBefore: new Date(Date.UTC(2025, 0, 1)),
        notAfter: new Date(Date.UTC(2030, 0, 1)),
        serial: new Uint8Array([2]),
      });
      return { ...issued, certificatePem, privateKey: keys.privateKey };
    },
  });
  f.net.run(15_000);
  for (const p of f.east.peering?.status() ?? []) assert.ok(!p.usable && !p.authenticated);
  assert.ok(!f.east.peering?.inService('west'));
  assert.ok(
    events.some((e) => e.startsWith('east:') && /CA/.test(e)),
    events.join('\n'),
  );
  // Logged once per path, counted on every packet.
  assert.ok(events.filter((e) => e.startsWith('east:')).length <= 3);
  assert.ok((f.east.dataPlane.ctx.drops.snapshot()['peer-certificate-refused'] ?? 0) > 3);
  // 2.5: no metadata to a peer that is not in service: the session is refused at East.
  sinkServer(f.github, 22);
  f.client.tcpConnect('172.15.11.23', 22);
  f.net.run(2000);
  assert.ok((f.east.dataPlane.ctx.drops.snapshot()['no-peer-path'] ?? 0) >= 1);
});

test('5.1.7: an expired certificate and a name not in the configuration are refused', () => {
  for (const [name, when, reason] of [
    ['west/example', -400, /expired/],
    ['mallory/example', 0, /mallory/],
  ] as const) {
    const events: string[] = [];
    const f = figure2({
      seed: 6,
      settle: false,
      onEvent: (e) => {
        if (e.kind === 'security' && e.router === 'east') events.push(String(e.detail?.reason));
      },
      credentials: (router, issued, ca) => {
        if (router !== 'west') return issued;
        const keys = generateP256KeyPair();
        const start = Date.UTC(2026, 0, 1) + when * DAY;
        const certificatePem = issueRouterCertificate({
          caCertificatePem: ca.caCertificatePem,
          caPrivateKey: ca.caPrivateKey,
          name,
          publicKey: keys.publicKey,
          notBefore: new Date(start - DAY),
          notAfter: new Date(start + 30 * DAY),
          serial: new Uint8Array([9]),
        });
        return { ...issued, certificatePem, privateKey: keys.privateKey };
      },
    });
    f.net.run(10_000);
    assert.ok(!f.east.peering?.inService('west'), name);
    assert.ok(
      events.some((e) => reason.test(e)),
      `${name}: ${events.join(' | ')}`,
    );
  }
});

test('RFC 5880 6.8.4: a cut link is detected within multiplier x interval; new sessions avoid it; it heals', () => {
  const f = figure2({ seed: 9 });
  const mpls = pathOf(f.east, 'mpls');
  assert.ok(mpls.usable);
  // A session on MPLS before the cut is marked for a move (6.1) when the path leaves service.
  const sink = sinkServer(f.github, 22);
  const before = f.client.tcpConnect('172.15.11.23', 22);
  let first = false;
  before.onConnect = () => {
    first = true;
  };
  assert.ok(f.net.runUntil(() => first, 5000));
  const onMpls = f.east.dataPlane.ctx.sessions.ids();
  assert.equal(onMpls.length, 1);
  const cutAt = f.net.sim.now();
  f.segments.mpls.set({ up: false });
  assert.ok(f.net.runUntil(() => pathOf(f.east, 'mpls').bfd === BfdState.Down, 10_000));
  const detected = f.net.sim.now() - cutAt;
  // D-6: TX 1000 ms, RX 500 ms, multiplier 3: detection time 3 x max(500, 1000) = 3 s.
  assert.ok(detected <= 3000 + 1, `detected after ${detected} ms`);
  assert.ok(detected >= 2000, `not before the detection time (${detected} ms)`);
  assert.equal(f.east.dataPlane.ctx.paths.paths[mpls.id]?.up, false);
  assert.ok(f.east.dataPlane.ctx.sessions.flags(onMpls[0]) & Flag.MovePending, 'marked for a move');
  // A new session goes on the Internet path (latency 30 ms, within the 40 ms SLA).
  const c = f.client.tcpConnect('172.15.11.23', 22);
  let up = false;
  c.onConnect = () => {
    up = true;
  };
  assert.ok(
    f.net.runUntil(() => up && sink.connections.length >= 1, 5000),
    `up ${up} conns ${sink.connections.length} ${JSON.stringify(f.east.dataPlane.ctx.drops.snapshot())}`,
  );
  assert.ok(f.east.sessions().some((r) => r.path.startsWith('internet')));
  // Healed: Up again and back in service.
  f.segments.mpls.set({ up: true });
  assert.ok(f.net.runUntil(() => pathOf(f.east, 'mpls').usable && pathOf(f.west, 'mpls').usable, 10_000));
});

/**
 * Figure 2 with East's Internet interface behind a home NAT: East 192.168.50.2 -> NAT
 * (192.168.50.1 | 198.51.100.2) -> Internet. West still knows East's Internet waypoint as
 * 198.51.100.2, the NAT's address.
 */
function natted(seed: number) {
  const text = exampleConfigText()
    .replace(
      '        addresses: [198.51.100.2/24]\n      - name: lte',
      '        addresses: [192.168.50.2/24]\n      - name: lte',
    )
    .replace(
      '      - { prefix: 198.51.100.8/32, nextHop: 192.0.2.254, interface: lte }',
      '      - { prefix: 198.51.100.8/32, nextHop: 192.0.2.254, interface: lte }\n      - { prefix: 198.51.100.0/24, nextHop: 192.168.50.1, interface: internet }',
    );
  const r = loadConfigText(text, 'natted.yaml');
  assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('; '));
  const authority = r.config;
  const net = new Network({ seed });
  const clientLan = net.segment('client-lan', { latencyMs: 0.1 });
  const serverLan = net.segment('server-lan', { latencyMs: 0.1 });
  const mpls = net.segment('mpls', { latencyMs: 20 });
  const internet = net.segment('internet', { latencyMs: 30 });
  const home = net.segment('home', { latencyMs: 1 });
  const lte = net.segment('lte', { latencyMs: 20 });
  const nat = net.nat('nat', {
    inside: { segment: home, address: '192.168.50.1/24' },
    outside: { segment: internet, address: '198.51.100.2/24' },
    gateway: '198.51.100.254',
  });
  net.ipRouter('carrier', {
    interfaces: [
      { segment: lte, address: '192.0.2.254/24' },
      { segment: internet, address: '198.51.100.254/24' },
    ],
  });
  const routers = attachSvrRouters(net, {
    authority,
    links: {
      'east.lan': clientLan,
      'east.lan-vlan2': clientLan,
      'east.mpls': mpls,
      'east.internet': home,
      'east.lte': lte,
      'west.servers': serverLan,
      'west.mpls': mpls,
      'west.internet': internet,
    },
  });
  return { net, nat, east: routers.get('east') as SvrRouter, west: routers.get('west') as SvrRouter };
}

function exampleConfigText(): string {
  return readFileSync(fileURLToPath(new URL('../../../examples/figure2.yaml', import.meta.url)), 'utf8');
}

test('5.1.2: a NAT on the Internet path is detected by both routers; the path still comes up', () => {
  const n = natted(11);
  assert.ok(settlePeering(n.net, [n.east, n.west]));
  assert.ok(pathOf(n.west, 'internet').natDetected, 'West sees East behind 198.51.100.2, not 192.168.50.2');
  assert.ok(pathOf(n.east, 'internet').natDetected, 'East learns West sees another address');
  assert.equal(pathOf(n.east, 'mpls').natDetected, false);
  assert.equal(pathOf(n.west, 'mpls').natDetected, false);
  // West answers through the NAT's mapping, which is why the path is up at all.
  assert.equal(n.nat.mappings().filter((m) => m.insidePort === 1280).length, 1);
  assert.equal(ipToString(pathOf(n.west, 'internet').remote ?? { version: 4, v4: 0 }), '198.51.100.2');
  assert.ok(n.east.dataPlane.ctx.paths.paths[pathOf(n.east, 'internet').id]?.natDetected);
});

test('[R-2.11-a] 5.1.3: a peer whose address changes (its NAT renumbered) is followed', () => {
  const n = natted(12);
  assert.ok(settlePeering(n.net, [n.east, n.west]));
  const before = pathOf(n.west, 'internet');
  assert.equal(before.remote && ipToString(before.remote), '198.51.100.2');
  const events: string[] = [];
  // The ISP gives the NAT a new public address; its mappings are gone with the old one.
  n.nat.renumber('outside', '198.51.100.3');
  assert.ok(
    n.net.runUntil(() => {
      const p = pathOf(n.west, 'internet');
      return p.remote !== undefined && ipToString(p.remote) === '198.51.100.3' && p.usable;
    }, 20_000),
    JSON.stringify(pathOf(n.west, 'internet')),
  );
  for (const e of n.west.events.recent()) if (e.code === 'peer-address-changed') events.push(e.message);
  assert.ok(events.length >= 1);
  assert.equal(
    ipToString(n.west.dataPlane.ctx.paths.paths[before.id]?.remoteAddress ?? { version: 4, v4: 0 }),
    '198.51.100.3',
  );
});

test('5.1.4: MTU discovery finds a path with a lower MTU', () => {
  const f = figure2({ seed: 13, settle: false });
  f.segments.internet.set({ mtu: 1400 });
  assert.ok(settlePeering(f.net, [f.east, f.west]));
  assert.ok(
    f.net.runUntil(() => pathOf(f.east, 'internet').mtu > 0 && pathOf(f.east, 'mpls').mtu > 0, 10_000),
  );
  assert.equal(pathOf(f.east, 'internet').mtu, 1400);
  assert.equal(pathOf(f.east, 'mpls').mtu, 1500);
  assert.equal(f.east.dataPlane.ctx.paths.paths[pathOf(f.east, 'internet').id]?.mtu, 1400);
});

test('5.1.5: measured latency and loss are within 10 % of the emulated links', () => {
  const f = figure2({ seed: 16, settle: false });
  // One-way loss of 5 % each way: a probe and its answer both survive 0.95^2 of the time.
  f.segments.mpls.set({ lossRate: 0.05, jitterMs: 0, latencyMs: 20 });
  f.segments.internet.set({ jitterMs: 0, latencyMs: 30 });
  f.net.run(2_000_000); // 2000 s: 200 bursts of 10 probes per path
  const mpls = pathOf(f.east, 'mpls');
  const internet = pathOf(f.east, 'internet');
  assert.ok(mpls.quality && internet.quality);
  assert.ok(Math.abs(mpls.quality.latencyMs - 20) <= 2, `mpls latency ${mpls.quality.latencyMs}`);
  assert.ok(Math.abs(internet.quality.latencyMs - 30) <= 3, `internet latency ${internet.quality.latencyMs}`);
  const expected = 100 * (1 - 0.95 * 0.95);
  const measured = (100 * (mpls.probesSent - mpls.probesAnswered)) / mpls.probesSent;
  assert.ok(mpls.probesSent >= 1000, `${mpls.probesSent} probes`);
  assert.ok(
    Math.abs(measured - expected) <= expected * 0.1,
    `loss ${measured.toFixed(2)} % vs ${expected.toFixed(2)} %`,
  );
  assert.equal(internet.probesSent, internet.probesAnswered);
  assert.ok(internet.quality.mos > 4 && mpls.quality.mos < internet.quality.mos);
  // The live figures feed path choice: the service policy's SLA sees them.
  assert.deepEqual(f.east.dataPlane.ctx.paths.paths[mpls.id]?.quality, mpls.quality);
});

test('[R-3.6-a] 5.1.8: rekeying every few seconds under steady traffic loses no packet', () => {
  const authority = withPeering(exampleConfig('figure2'), { rekeyIntervalSeconds: 3, keyGuardSeconds: 5 });
  const f = figure2({ seed: 15, authority });
  const first = f.east.peering?.keys.current('west')?.securityId ?? 0;
  const sink = sinkServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  const chunk = new Uint8Array(1000);
  let sent = 0;
  c.onConnect = () => {
    const tick = () => {
      if (sent >= 300) return;
      for (let i = 0; i < chunk.length; i++) chunk[i] = (sent + i) & 0xff;
      c.send(chunk);
      sent++;
      f.net.sim.at(f.net.sim.now() + 100, tick);
    };
    tick();
  };
  assert.ok(
    f.net.runUntil(() => sink.totalBytes() === 300_000, 60_000),
    `${sink.totalBytes()} bytes`,
  );
  const last = f.east.peering?.keys.current('west')?.securityId ?? 0;
  assert.ok(last - first >= 5, `rekeyed ${last - first} times`);
  for (const r of [f.east, f.west])
    assert.deepEqual(r.dataPlane.ctx.drops.snapshot(), {}, `${r.name} dropped nothing`);
  const got = sink.connections[0].conn.received();
  for (let k = 0; k < 300; k++)
    for (let i = 0; i < 1000; i += 97) assert.equal(got[k * 1000 + i], (k + i) & 0xff);
  // Old keys retire after the guard time.
  assert.ok((f.east.peering?.keys.usableIds('west').length ?? 0) <= 3);
});
