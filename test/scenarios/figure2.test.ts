import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4ToString } from '../../src/base/address.js';
import { echoServer, sinkServer } from '../../src/emu/servers.js';
import { figure2 } from '../../src/emu/topologies.js';
import { payloadHasCookie } from '../../src/wire/metadata/insert.js';
import { IpPacket } from '../../src/wire/packet.js';

/** Session packets only: BFD (5.1, UDP 1280) runs on every path beside them. */
function sessions(cap: { packets: readonly { data: Uint8Array }[] }): { data: Uint8Array }[] {
  return cap.packets.filter((c) => {
    const p = wire(c.data);
    return !(p.isUdp && (p.dstPort === 1280 || p.srcPort === 1280));
  });
}

function wire(bytes: Uint8Array): IpPacket {
  const p = new IpPacket();
  assert.equal(p.parse(bytes, 0, bytes.length), 0);
  return p;
}

test('[R-3.7-a] Figure 2: an engineer SSHes to github: metadata on SYN and SYN/ACK only, waypoints and wayports on the wire, bytes intact', () => {
  const f = figure2({ seed: 7 });
  const cap = f.net.capture(f.segments.mpls);
  const inet = f.net.capture(f.segments.internet);
  const sink = sinkServer(f.github, 22);
  const conn = f.client.tcpConnect('172.15.11.23', 22);
  const data = new Uint8Array(200_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131) & 0xff;
  let sent = false;
  conn.onConnect = () => {
    conn.send(data);
    sent = true;
  };
  assert.ok(
    f.net.runUntil(() => sent && sink.totalBytes() === data.length, 30_000),
    `transfer: ${sink.totalBytes()} of ${data.length}; east drops ${JSON.stringify(f.east.dataPlane.ctx.drops.snapshot())} west drops ${JSON.stringify(f.west.dataPlane.ctx.drops.snapshot())}`,
  );
  const got = sink.connections[0];
  assert.deepEqual(got.conn.received(), data, 'payload identical end to end');
  // 3.7.1.5: the server sees the source NAT address, not the client's.
  assert.equal(got.remote, '203.0.113.1');
  // On the MPLS path: only waypoints, even source and odd destination ports from East.
  assert.ok(cap.count > 20);
  let withMetadata = 0;
  const tcpFlags: string[] = [];
  for (const c of sessions(cap)) {
    const p = wire(c.data);
    const addrs = [ipv4ToString(p.ip4.src), ipv4ToString(p.ip4.dst)].sort();
    assert.deepEqual(addrs, ['203.0.113.1', '203.0.113.89']);
    const fromEast = ipv4ToString(p.ip4.src) === '203.0.113.1';
    const [local, remote] = fromEast ? [p.srcPort, p.dstPort] : [p.dstPort, p.srcPort];
    assert.equal(local % 2, 0, 'even port on East (R-4.2.3-b)');
    assert.equal(remote % 2, 1, 'odd port on West');
    assert.ok(local >= 8000 && local <= 24000, 'from the provisioned range (3.7.1.6)');
    if (payloadHasCookie(p)) {
      withMetadata++;
      tcpFlags.push(p.tcp.syn ? (p.tcp.ackFlag ? 'SYN/ACK' : 'SYN') : 'other');
    }
  }
  assert.deepEqual(tcpFlags, ['SYN', 'SYN/ACK'], 'metadata only on the first packet each way');
  assert.equal(withMetadata, 2);
  // 3.7.1.4: latency < 40 ms rules out LTE; MPLS wins.
  assert.equal(sessions(inet).length, 0, 'no session packet on the Internet path');
  const rows = f.east.sessions();
  assert.equal(rows.length, 2);
  assert.ok(rows.every((r) => r.service === 'github' && r.tenant === 'engineering'));
});

test('[R-4.6.5.2-c] a denied tenant never reaches the server; other services still work', () => {
  const f = figure2({ seed: 8 });
  const sink = sinkServer(f.github, 22);
  const denied = f.release.tcpConnect('172.15.11.23', 22);
  let closed: string | undefined;
  denied.onClose = (e) => {
    closed = e ?? 'closed';
  };
  f.net.run(20_000);
  assert.equal(sink.connections.length, 0);
  assert.ok(closed === 'connection timed out' || closed === undefined);
  assert.ok(f.east.dataPlane.ctx.drops.snapshot()['access-denied'] >= 1);
  // The engineer on the untagged LAN (by neighborhood) gets through.
  const ok = f.client2.tcpConnect('172.15.11.23', 22);
  let up = false;
  ok.onConnect = () => {
    up = true;
  };
  assert.ok(f.net.runUntil(() => up, 5_000));
});

test('[R-4.1-b] traffic no service covers crosses as plain IP, original addresses on the wire', () => {
  const f = figure2({ seed: 9 });
  echoServer(f.github, 80);
  const cap = f.net.capture(f.segments.mpls);
  const conn = f.client.tcpConnect('172.15.11.23', 80);
  const msg = new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n');
  conn.onConnect = () => conn.send(msg);
  assert.ok(f.net.runUntil(() => conn.bytesReceived === msg.length, 5_000));
  assert.ok(cap.packets.every((c) => !payloadHasCookie(wire(c.data))));
  assert.ok(
    cap.packets.some((c) => ipv4ToString(wire(c.data).ip4.src) === '10.0.1.1'),
    'plain: the client address itself',
  );
  assert.equal(f.east.dataPlane.ctx.sessions.size, 0, 'no session state for plain traffic');
});

test('6.6: ping through SVR from the engineering client', () => {
  const f = figure2({ seed: 10 });
  const r = f.client.ping('172.15.11.23', { count: 5, intervalMs: 200 });
  assert.ok(
    f.net.runUntil(() => r.received === 5, 5_000),
    `ping: ${r.received}/5; drops ${JSON.stringify(f.west.dataPlane.ctx.drops.snapshot())}`,
  );
  assert.ok(
    r.rttMs.every((x) => x >= 39 && x < 50),
    `RTTs ${r.rttMs}`,
  );
  assert.equal(
    f.east.sessions().filter((s) => s.service === 'ping').length,
    2,
    'one session (two wings) for the five echoes',
  );
});

test('3.7.7 on the wire: syslog is one-way: 11 datagrams carry metadata, then none; one control packet comes back', () => {
  const f = figure2({ seed: 11 });
  const cap = f.net.capture(f.segments.mpls);
  const rx = f.logsvc.udpBind(514);
  const tx = f.client.udpBind(5140);
  for (let i = 0; i < 20; i++)
    f.net.sim.at(f.net.sim.now() + i * 100, () =>
      tx.sendTo('172.15.11.20', 514, new TextEncoder().encode(`<13>line ${i}`)),
    );
  assert.ok(f.net.runUntil(() => rx.received.length === 20, 10_000));
  assert.deepEqual(
    rx.received.map((m) => new TextDecoder().decode(m.data)),
    Array.from({ length: 20 }, (_, i) => `<13>line ${i}`),
  );
  const fromEast = sessions(cap)
    .map((c) => wire(c.data))
    .filter((p) => ipv4ToString(p.ip4.src) === '203.0.113.1');
  assert.equal(fromEast.filter(payloadHasCookie).length, 11);
  const fromWest = sessions(cap)
    .map((c) => wire(c.data))
    .filter((p) => ipv4ToString(p.ip4.src) === '203.0.113.89');
  assert.equal(fromWest.length, 1, 'the disable-forward-metadata packet');
  assert.equal(f.east.dataPlane.ctx.stats.controlReceived, 1);
});

test('3.3: https sessions spread over the destination NAT pool; each server sees whole conversations', () => {
  const f = figure2({ seed: 12 });
  const sinks = f.web.map((h) => sinkServer(h, 443));
  const conns = Array.from({ length: 6 }, (_, i) => {
    const c = (i % 2 ? f.client : f.client2).tcpConnect('172.15.11.24', 443);
    c.onConnect = () => c.send(new TextEncoder().encode(`hello ${i}`));
    return c;
  });
  assert.ok(
    f.net.runUntil(
      () =>
        sinks.reduce((n, s) => n + s.connections.length, 0) === 6 && sinks.every((s) => s.totalBytes() >= 14),
      10_000,
    ),
  );
  assert.deepEqual(
    sinks.map((s) => s.connections.length),
    [2, 2, 2],
    'round robin over three servers',
  );
  void conns;
});

test('[R-2.10-b] a stranger on the MPLS link cannot talk to a waypoint: dropped, counted, logged', () => {
  const f = figure2({ seed: 13 });
  const stranger = f.net.host('stranger', {
    interfaces: [{ segment: f.segments.mpls, address: '203.0.113.66/24' }],
  });
  const s = stranger.udpBind(8000);
  s.sendTo(
    '203.0.113.89',
    8001,
    new Uint8Array([0x4c, 0x48, 0xdb, 0xc6, 0xdd, 0xf6, 0x67, 0x0c, 1, 2, 3, 4]),
  );
  f.net.run(1000);
  const w = f.west.dataPlane.ctx;
  assert.equal(w.drops.snapshot()['unknown-peer'], 1);
  assert.equal(w.events.recent('security').length, 1);
  assert.equal(w.events.recent('security')[0].code, 'unknown-peer');
});

test('a lossy MPLS path: SYNs are retransmitted with metadata and the transfer completes byte for byte', () => {
  const f = figure2({ seed: 14 });
  f.segments.mpls.set({ lossRate: 0.05 });
  const sink = sinkServer(f.github, 22);
  const data = new Uint8Array(100_000).map((_, i) => i & 0xff);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  c.onConnect = () => c.send(data);
  assert.ok(
    f.net.runUntil(() => sink.totalBytes() === data.length, 60_000),
    `got ${sink.totalBytes()}`,
  );
  assert.deepEqual(sink.connections[0].conn.received(), data);
});

test('a seed replays the run exactly: the same capture, byte for byte', () => {
  const run = () => {
    const f = figure2({ seed: 99 });
    const cap = f.net.capture(f.segments.mpls);
    const sink = sinkServer(f.github, 22);
    const c = f.client.tcpConnect('172.15.11.23', 22);
    c.onConnect = () => c.send(new Uint8Array(20_000).fill(7));
    f.net.runUntil(() => sink.totalBytes() === 20_000, 10_000);
    return Buffer.from(cap.bytes()).toString('hex');
  };
  assert.equal(run(), run());
});

test('3.7.6 on the emulator: closing both ways ends the sessions after the guard and frees the wayports', () => {
  const f = figure2({ seed: 15 });
  echoServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  let closed = false;
  c.onConnect = () => c.send(new TextEncoder().encode('bye'));
  c.onData = () => c.close();
  c.onClose = () => {
    closed = true;
  };
  assert.ok(f.net.runUntil(() => closed, 10_000));
  assert.equal(f.east.dataPlane.ctx.sessions.size, 1);
  f.net.run(10_000);
  assert.equal(f.east.dataPlane.ctx.sessions.size, 0);
  assert.equal(f.west.dataPlane.ctx.sessions.size, 0);
  const mpls = f.east.dataPlane.ctx.paths.paths.find((p) => p?.model.vector === 'mpls');
  assert.equal(f.east.dataPlane.ctx.wayports.allocator(mpls?.model.id ?? -1)?.inUse, 0);
});
