import assert from 'node:assert/strict';
import { echoServer, sinkServer } from '../src/emu/servers.js';
import type { Figure2 } from '../src/emu/topologies.js';

/**
 * A steady upload from Figure 2's client to github (SSH, service policy "interactive"): `chunks`
 * chunks of `size` bytes every `everyMs`, each filled with (k * mul + i) & 0xff so the bytes
 * received can be checked. For scenarios that break something mid-transfer.
 */
export function steadyUpload(
  f: Figure2,
  o: { chunks: number; size?: number; everyMs?: number; mul?: number },
) {
  const size = o.size ?? 1000;
  const mul = o.mul ?? 7;
  const sink = sinkServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  const state = { error: 'open' as string | undefined, sent: 0 };
  c.onClose = (e) => {
    state.error = e;
  };
  const chunk = new Uint8Array(size);
  c.onConnect = () => {
    state.error = undefined;
    const tick = () => {
      if (state.sent >= o.chunks) return;
      for (let i = 0; i < size; i++) chunk[i] = (state.sent * mul + i) & 0xff;
      c.send(chunk);
      state.sent++;
      f.net.sim.at(f.net.sim.now() + (o.everyMs ?? 20), tick);
    };
    tick();
  };
  return {
    sink,
    state,
    done: () => sink.totalBytes() === o.chunks * size,
    /** Every chunk arrived intact, and the connection never failed. */
    check: () => {
      assert.equal(state.error, undefined, 'no reset, no error');
      const got = sink.connections[0].conn.received();
      for (let k = 0; k < o.chunks; k++)
        for (let i = 0; i < size; i += 101) assert.equal(got[k * size + i], (k * mul + i) & 0xff);
    },
  };
}

/**
 * An echo through Figure 2 (client to github, SSH): `parts` sent 300 ms apart, all of it back
 * byte for byte, and the connection never reset.
 */
export function echoThrough(f: Figure2, parts: Uint8Array[]): void {
  echoServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  let closed: string | undefined = 'open';
  c.onClose = (e) => {
    closed = e;
  };
  let total = 0;
  for (const [i, p] of parts.entries()) {
    if (i > 0) f.net.run(300);
    c.send(p);
    total += p.length;
  }
  assert.ok(
    f.net.runUntil(() => c.bytesReceived === total, 30_000),
    `${c.bytesReceived} of ${total} back`,
  );
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  assert.ok(Buffer.from(c.received()).equals(Buffer.from(all)), 'byte for byte');
  assert.equal(closed, 'open', 'no reset');
}
