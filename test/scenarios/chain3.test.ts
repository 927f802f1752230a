import assert from 'node:assert/strict';
import { test } from 'node:test';
import { echoServer, sinkServer } from '../../src/emu/servers.js';
import { chain3 } from '../../src/emu/topologies.js';
import { payloadHasCookie } from '../../src/wire/metadata/insert.js';
import { IpPacket } from '../../src/wire/packet.js';

test('3.7.8: a TCP session across three routers: one UUID, metadata per hop, data intact', () => {
  const c = chain3({ seed: 3 });
  const ab = c.net.capture(c.segments.ab);
  const bc = c.net.capture(c.segments.bc);
  const sink = sinkServer(c.server, 80);
  const conn = c.client.tcpConnect('172.16.30.80', 80);
  const data = new Uint8Array(50_000).map((_, i) => (i * 7) & 0xff);
  conn.onConnect = () => conn.send(data);
  assert.ok(
    c.net.runUntil(() => sink.totalBytes() === data.length, 20_000),
    `got ${sink.totalBytes()}; b drops ${JSON.stringify(c.b.dataPlane.ctx.drops.snapshot())}`,
  );
  assert.deepEqual(sink.connections[0].conn.received(), data);
  assert.equal(sink.connections[0].remote, '172.16.10.5', 'no NAT in this chain: the client address arrives');
  const uuids = [c.a, c.b, c.c].map((r) => r.sessions()[0]?.uuid);
  assert.equal(new Set(uuids).size, 1);
  assert.ok(uuids[0]);
  const md = (cap: typeof ab) =>
    cap.packets.filter((p) => {
      const q = new IpPacket();
      q.parse(p.data, 0, p.data.length);
      return payloadHasCookie(q);
    }).length;
  assert.equal(md(ab), 2, 'MD1 and RMD1');
  assert.equal(md(bc), 2, 'MD2 and RMD2');
});

test('3.7.6 on the emulator: a client that reuses its port at once gets its new connection at the first SYN, at every router', () => {
  const f = chain3({ seed: 16 });
  echoServer(f.server, 80);
  const once = (): number => {
    const c = f.client.tcpConnect('172.16.30.80', 80, { localPort: 40022 });
    const t0 = f.net.sim.now();
    let connected = -1;
    let closed = false;
    c.onConnect = () => {
      connected = f.net.sim.now() - t0;
      c.send(new TextEncoder().encode('bye'));
    };
    c.onData = () => c.close();
    c.onClose = () => {
      closed = true;
    };
    assert.ok(f.net.runUntil(() => closed, 10_000));
    return connected;
  };
  assert.ok(once() < 500, 'first connection');
  // Within the close guard: the sessions of the first connection are still there.
  assert.equal(f.c.dataPlane.ctx.sessions.size, 1);
  const second = once();
  assert.ok(
    second > 0 && second < 500,
    `second connection from the same port in ${second} ms, no SYN retransmission (1 s)`,
  );
  for (const r of [f.a, f.b, f.c])
    assert.equal(r.dataPlane.ctx.drops.snapshot()['session-key-in-use'] ?? 0, 0, r.name);
});
