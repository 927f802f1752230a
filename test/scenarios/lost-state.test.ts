import assert from 'node:assert/strict';
import { test } from 'node:test';
import { echoServer } from '../../src/emu/servers.js';
import { figure2 } from '../../src/emu/topologies.js';
import { steadyUpload } from '../../testlib/transfers.js';

/** 2.10 "SVR Peer Loses State" on the emulated Figure 2. */
const forget = (r: ReturnType<typeof figure2>['west']) => {
  const s = r.dataPlane.ctx.sessions;
  for (const id of s.ids()) s.remove(id);
};

test('[R-2.10-a] 2.10 the peer loses state mid-upload: it asks for metadata (TLV 24 enable metadata), East sends it again, every byte arrives, no reset', () => {
  const f = figure2({ seed: 51 });
  const up = steadyUpload(f, { chunks: 300, mul: 3 });
  const { sink } = up;
  assert.ok(f.net.runUntil(() => sink.totalBytes() > 50_000, 20_000));
  forget(f.west);
  assert.equal(f.west.dataPlane.ctx.sessions.size, 0);
  assert.ok(
    f.net.runUntil(() => up.done(), 60_000),
    `${sink.totalBytes()} bytes; west ${JSON.stringify(f.west.dataPlane.ctx.drops.snapshot())}`,
  );
  up.check();
  assert.ok(f.west.events.recent('session').some((e) => e.code === 'metadata-requested'));
  assert.equal(f.west.dataPlane.ctx.sessions.size, 1, 'West carries the session again');
});

test('2.10 the peer loses state while it sends: the reply direction recovers too (echo both ways)', () => {
  const f = figure2({ seed: 52 });
  echoServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  let back = 0;
  let error: string | undefined = 'open';
  c.onClose = (e) => {
    error = e;
  };
  c.onData = (d) => {
    back += d.length;
  };
  const chunk = new Uint8Array(800);
  let sent = 0;
  c.onConnect = () => {
    error = undefined;
    const tick = () => {
      if (sent >= 200) return;
      c.send(chunk);
      sent++;
      f.net.sim.at(f.net.sim.now() + 25, tick);
    };
    tick();
  };
  assert.ok(f.net.runUntil(() => back > 30_000, 20_000));
  forget(f.west);
  assert.ok(
    f.net.runUntil(() => back === 200 * 800, 60_000),
    `${back} bytes echoed`,
  );
  assert.equal(error, undefined);
});

test('[R-2.10-a] 2.10 the ingress loses state mid-upload: East starts the session again from a mid-stream segment, West merges it into the live session (new UUID, same NAT), every byte arrives', () => {
  const f = figure2({ seed: 53 });
  const up = steadyUpload(f, { chunks: 300, mul: 5 });
  const { sink } = up;
  assert.ok(f.net.runUntil(() => sink.totalBytes() > 50_000, 20_000));
  const west = f.west.dataPlane.ctx.sessions;
  const [wid] = west.ids();
  const before = Buffer.from(west.uuid(wid)).toString('hex');
  forget(f.east);
  assert.ok(
    f.net.runUntil(() => up.done(), 60_000),
    `${sink.totalBytes()} bytes; east ${JSON.stringify(f.east.dataPlane.ctx.drops.snapshot())}`,
  );
  up.check();
  assert.equal(sink.connections.length, 1, 'the server saw one connection throughout (same source NAT port)');
  assert.deepEqual(west.ids(), [wid], 'one session at West, merged');
  const [eid] = f.east.dataPlane.ctx.sessions.ids();
  const after = Buffer.from(west.uuid(wid)).toString('hex');
  assert.notEqual(after, before);
  assert.equal(
    after,
    Buffer.from(f.east.dataPlane.ctx.sessions.uuid(eid)).toString('hex'),
    'the new UUID at both',
  );
  assert.ok(f.west.events.recent('session').some((e) => e.code === 'session-adopted'));
});
