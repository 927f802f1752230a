import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sinkServer } from '../../src/emu/servers.js';
import { diamond } from '../../src/emu/topologies.js';
import type { SvrRouter } from '../../src/router/router.js';

/**
 * 6.1 "Ladder Diagram for Existing Session Reroute with Metadata" on examples/diamond.yaml: a TCP
 * transfer from behind RTR-A to a server behind RTR-D goes by RTR-C; RTR-C fails; the next packet
 * carries metadata MD1 to RTR-B, which never had the session and creates it with the same UUID,
 * MD2 on to RTR-D, which accepts the move because its path from RTR-C is down; reverse metadata
 * RMD2, RMD1 confirms, and the transfer goes on with no reset.
 */

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
const uuids = (r: SvrRouter) => {
  const s = r.dataPlane.ctx.sessions;
  return s.ids().map((id) => hex(s.uuid(id)));
};

test('[R-2.5-b] [R-3.7.2.5-a] 6.1 RTR-A..D: RTR-C fails under a TCP transfer; A moves the session to B with the same UUID, B takes on its state, D accepts the move; every byte arrives, no reset', () => {
  const f = diamond({ seed: 81 });
  const sink = sinkServer(f.server, 80);
  const conn = f.client.tcpConnect('172.16.30.80', 80);
  let error: string | undefined = 'open';
  conn.onClose = (e) => {
    error = e;
  };
  const chunks = 400;
  const size = 1000;
  let sent = 0;
  const chunk = new Uint8Array(size);
  conn.onConnect = () => {
    error = undefined;
    const tick = () => {
      if (sent >= chunks) return;
      for (let i = 0; i < size; i++) chunk[i] = (sent * 13 + i) & 0xff;
      conn.send(chunk);
      sent++;
      f.net.sim.at(f.net.sim.now() + 20, tick);
    };
    tick();
  };
  assert.ok(f.net.runUntil(() => sink.totalBytes() > 50_000, 20_000));
  const [uuid] = uuids(f.a);
  assert.deepEqual(uuids(f.c), [uuid], 'the session goes by RTR-C (the primary vector)');
  assert.deepEqual(uuids(f.b), [], 'RTR-B has never seen it');
  assert.deepEqual(uuids(f.d), [uuid]);

  // RTR-C fails: both its links go dark; BFD at A and D takes the paths through it out of service.
  f.segments.ac.set({ up: false });
  f.segments.cd.set({ up: false });
  assert.ok(
    f.net.runUntil(() => sink.totalBytes() === chunks * size, 60_000),
    `${sink.totalBytes()} bytes; drops a ${JSON.stringify(f.a.dataPlane.ctx.drops.snapshot())} b ${JSON.stringify(f.b.dataPlane.ctx.drops.snapshot())} d ${JSON.stringify(f.d.dataPlane.ctx.drops.snapshot())}`,
  );
  assert.equal(error, undefined, 'no reset, no error');
  const got = sink.connections[0].conn.received();
  for (let k = 0; k < chunks; k++)
    for (let i = 0; i < size; i += 97) assert.equal(got[k * size + i], (k * 13 + i) & 0xff);
  assert.equal(sink.connections.length, 1, 'one connection at the server throughout');

  // One UUID end to end, now through RTR-B, which built its state from MD1.
  assert.deepEqual(uuids(f.a), [uuid]);
  assert.deepEqual(uuids(f.b), [uuid]);
  assert.deepEqual(uuids(f.d), [uuid]);
  assert.equal(f.a.dataPlane.ctx.stats.sessionsMoved, 1, 'A moved it');
  assert.equal(f.d.dataPlane.ctx.stats.sessionsMoved, 1, 'D accepted the move');
  assert.ok(
    f.a.sessions().some((r) => r.direction === 'forward' && r.path.includes('backup')),
    JSON.stringify(f.a.sessions()),
  );
  assert.equal(f.d.dataPlane.ctx.drops.snapshot()['session-loop'] ?? 0, 0, 'not taken for a loop');
});
