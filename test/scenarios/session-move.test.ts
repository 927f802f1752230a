import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Flag } from '../../src/dataplane/context.js';
import { sinkServer } from '../../src/emu/servers.js';
import { figure2 } from '../../src/emu/topologies.js';
import { BfdState } from '../../src/wire/bfd.js';

/**
 * 6.1 on the emulated Figure 2: sessions move off a peer path that leaves service, with the same
 * UUID, metadata on the next packet and reverse metadata back, and the transfer goes on.
 */
const pathOf = (r: ReturnType<typeof figure2>['east'], vector: string) => {
  const p = r.peering?.status().find((x) => x.vector === vector);
  assert.ok(p, vector);
  return p;
};

test('[R-2.5-b] 6.1 "Session Reroute Between Peers": MPLS cut under a TCP transfer; the session moves to the Internet path, same UUID, every byte arrives, no reset', () => {
  const f = figure2({ seed: 21 });
  const sink = sinkServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  let error: string | undefined = 'open';
  c.onClose = (e) => {
    error = e;
  };
  const total = 400;
  const chunk = new Uint8Array(1000);
  let sent = 0;
  c.onConnect = () => {
    error = undefined;
    const tick = () => {
      if (sent >= total) return;
      for (let i = 0; i < chunk.length; i++) chunk[i] = (sent * 7 + i) & 0xff;
      c.send(chunk);
      sent++;
      f.net.sim.at(f.net.sim.now() + 20, tick);
    };
    tick();
  };
  assert.ok(f.net.runUntil(() => sink.totalBytes() > 50_000, 20_000));
  const east = f.east.dataPlane.ctx;
  const west = f.west.dataPlane.ctx;
  const [id] = east.sessions.ids();
  const uuid = Buffer.from(east.sessions.uuid(id)).toString('hex');
  assert.ok(
    f.east.sessions().some((r) => r.path.startsWith('mpls')),
    'the session starts on MPLS (SLA, cost)',
  );
  f.segments.mpls.set({ up: false });
  assert.ok(f.net.runUntil(() => pathOf(f.east, 'mpls').bfd === BfdState.Down, 10_000));
  assert.ok(
    f.net.runUntil(() => sink.totalBytes() === total * 1000, 60_000),
    `${sink.totalBytes()} bytes; east drops ${JSON.stringify(east.drops.snapshot())}; west ${JSON.stringify(west.drops.snapshot())}`,
  );
  assert.equal(error, undefined, 'no reset, no error');
  const got = sink.connections[0].conn.received();
  for (let k = 0; k < total; k++)
    for (let i = 0; i < 1000; i += 101) assert.equal(got[k * 1000 + i], (k * 7 + i) & 0xff);
  // The same session, with the same UUID, on the Internet path at both routers.
  assert.deepEqual(east.sessions.ids(), [id]);
  assert.equal(Buffer.from(east.sessions.uuid(id)).toString('hex'), uuid);
  assert.equal(west.sessions.byUuid(east.sessions.uuid(id)) >= 0, true);
  assert.ok(
    f.east.sessions().some((r) => r.direction === 'forward' && r.path.startsWith('internet')),
    JSON.stringify(f.east.sessions()),
  );
  assert.ok(
    f.west.sessions().some((r) => r.direction === 'reverse' && r.path.startsWith('internet')),
    JSON.stringify(f.west.sessions()),
  );
  assert.equal(east.stats.sessionsMoved, 1);
  assert.equal(west.stats.sessionsMoved, 1);
  assert.equal(
    east.sessions.flags(id) & (Flag.MovePending | Flag.ForwardMetadata),
    0,
    'reverse metadata confirmed the move',
  );
});
