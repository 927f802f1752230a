import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Flag } from '../../src/dataplane/context.js';
import { sinkServer } from '../../src/emu/servers.js';
import { figure2 } from '../../src/emu/topologies.js';
import { BfdState } from '../../src/wire/bfd.js';
import { steadyUpload } from '../../testlib/transfers.js';

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
  const up = steadyUpload(f, { chunks: 400 });
  const { sink } = up;
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
    f.net.runUntil(() => up.done(), 60_000),
    `${sink.totalBytes()} bytes; east drops ${JSON.stringify(east.drops.snapshot())}; west ${JSON.stringify(west.drops.snapshot())}`,
  );
  up.check();
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

/** A steady transfer from the client to github (SSH, service policy "interactive"). */
function steadyTransfer(f: ReturnType<typeof figure2>, total: number) {
  const sink = sinkServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  const state = { error: 'open' as string | undefined, sent: 0 };
  c.onClose = (e) => {
    state.error = e;
  };
  const chunk = new Uint8Array(500);
  c.onConnect = () => {
    state.error = undefined;
    const tick = () => {
      if (state.sent >= total) return;
      c.send(chunk);
      state.sent++;
      f.net.sim.at(f.net.sim.now() + 50, tick);
    };
    tick();
  };
  return { sink, state, done: () => sink.totalBytes() === total * 500 };
}

const forwardPath = (r: ReturnType<typeof figure2>['east']) =>
  r
    .sessions()
    .find((x) => x.direction === 'forward')
    ?.path.split(' ')[0];

for (const revertible of [false, true])
  test(`6.1 ${revertible ? 'revertible' : 'non-revertible'} service policy: after MPLS heals the moved session ${revertible ? 'goes back to MPLS' : 'stays on the Internet path'}`, () => {
    const base = figure2({ seed: 1, settle: false }).authority;
    const authority = {
      ...base,
      servicePolicies: base.servicePolicies.map((p) => ({ ...p, revertible })),
    };
    const f = figure2({ seed: 22, authority });
    const t = steadyTransfer(f, 1200);
    assert.ok(f.net.runUntil(() => t.sink.totalBytes() > 20_000, 20_000));
    assert.equal(forwardPath(f.east), 'mpls');
    f.segments.mpls.set({ up: false });
    assert.ok(
      f.net.runUntil(() => forwardPath(f.east) === 'internet', 20_000),
      'moved off MPLS',
    );
    f.segments.mpls.set({ up: true });
    assert.ok(
      f.net.runUntil(() => pathOf(f.east, 'mpls').usable, 20_000),
      'MPLS back in service',
    );
    f.net.run(3000);
    assert.equal(forwardPath(f.east), revertible ? 'mpls' : 'internet');
    assert.ok(f.net.runUntil(t.done, 120_000), `${t.sink.totalBytes()} bytes`);
    assert.equal(t.state.error, undefined);
    assert.equal(f.east.dataPlane.ctx.stats.sessionsMoved, revertible ? 2 : 1);
  });

test('6.1 a path that falls below the service policy SLA: the session moves to a path that meets it', () => {
  const f = figure2({ seed: 23 });
  const t = steadyTransfer(f, 2400);
  assert.ok(f.net.runUntil(() => t.sink.totalBytes() > 20_000, 20_000));
  assert.equal(forwardPath(f.east), 'mpls');
  // MPLS now takes 60 ms each way: above "interactive"'s 40 ms once BFD measures it (5.1.5).
  f.segments.mpls.set({ latencyMs: 60 });
  assert.ok(
    f.net.runUntil(() => forwardPath(f.east) === 'internet', 120_000),
    `on ${forwardPath(f.east)}`,
  );
  assert.ok(f.net.runUntil(t.done, 200_000), `${t.sink.totalBytes()} bytes`);
  assert.equal(t.state.error, undefined);
});

/** An established, idle TCP session from the client to github; returns its connection. */
function idleSession(f: ReturnType<typeof figure2>) {
  const sink = sinkServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  let up = false;
  c.onConnect = () => {
    up = true;
    c.send(new Uint8Array(100));
  };
  assert.ok(f.net.runUntil(() => up && sink.totalBytes() === 100, 10_000));
  f.net.run(2000);
  return { c, sink };
}

test('[R-2.5-b] 6.2 "Quiescent Moved Session": an idle session moves by control message, the peer confirms by control message, and traffic later flows on the new path', () => {
  const f = figure2({ seed: 24 });
  const { c, sink } = idleSession(f);
  const east = f.east.dataPlane.ctx;
  const [id] = east.sessions.ids();
  const controlsBefore = f.west.dataPlane.ctx.stats.controlReceived;
  f.segments.mpls.set({ up: false });
  assert.ok(
    f.net.runUntil(() => east.stats.sessionsMoved === 1, 10_000),
    'moved with no packet to carry it',
  );
  assert.ok(
    f.net.runUntil(() => (east.sessions.flags(id) & Flag.ForwardMetadata) === 0, 3000),
    'confirmed',
  );
  assert.equal(f.west.dataPlane.ctx.stats.sessionsMoved, 1);
  assert.ok(
    f.west.dataPlane.ctx.stats.controlReceived > controlsBefore,
    'West consumed the flow-moved message',
  );
  assert.equal(forwardPath(f.east), 'internet');
  c.send(new Uint8Array(3000));
  assert.ok(
    f.net.runUntil(() => sink.totalBytes() === 3100, 10_000),
    `${sink.totalBytes()} bytes`,
  );
});

test('6.2: a move that no reverse metadata confirms within 5 s ends the session', () => {
  const f = figure2({ seed: 25 });
  // An idle UDP session (syslog) on MPLS.
  f.logsvc.udpBind(514);
  f.client.udpBind(40700).sendTo('172.15.11.20', 514, new Uint8Array(40));
  f.net.run(1000);
  const east = f.east.dataPlane.ctx;
  const [id] = east.sessions.ids();
  assert.equal(forwardPath(f.east), 'mpls');
  // West lost the session (a restart): a UDP session's move finds nothing to confirm it.
  const w = f.west.dataPlane.ctx.sessions;
  for (const x of w.ids()) w.remove(x);
  const sentBefore = east.stats.controlSent;
  f.segments.mpls.set({ up: false });
  assert.ok(f.net.runUntil(() => east.stats.sessionsMoved === 1, 10_000));
  const movedAt = f.net.sim.now();
  assert.ok(
    f.net.runUntil(() => !east.sessions.ids().includes(id), 10_000),
    'torn down',
  );
  const after = f.net.sim.now() - movedAt;
  assert.ok(after >= 4000 && after <= 6100, `ended ${after} ms after the move`);
  assert.ok(
    east.stats.controlSent - sentBefore >= 5,
    `${east.stats.controlSent - sentBefore} flow-moved messages`,
  );
  assert.ok(f.east.events.recent('session').some((e) => e.code === 'move-unconfirmed'));
});
