import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipToString } from '../../src/base/address.js';
import type { AuthorityModel } from '../../src/config/model.js';
import type { PathState } from '../../src/dataplane/paths.js';
import { exampleConfig, type Figure2, figure2 } from '../../src/emu/topologies.js';
import type { SvrRouter } from '../../src/router/router.js';
import { decodeMetadata, findTlv } from '../../src/wire/metadata/block.js';
import { payloadHasCookie } from '../../src/wire/metadata/insert.js';
import { type PathMetricsTlv, TlvType } from '../../src/wire/metadata/tlv.js';
import { IpPacket, packetSource } from '../../src/wire/packet.js';
import { steadyUpload } from '../../testlib/transfers.js';

/** 7.3.7 in-line path metrics (TLV 26, RFC 8321 alternate marking) on the emulated Figure 2. */

/** Figure 2's authority with a 500 ms colour period and, optionally, a loss SLA on "interactive". */
function authority(o: { maxLossPercent?: number } = {}): AuthorityModel {
  const a = exampleConfig('figure2');
  return {
    ...a,
    servicePolicies: a.servicePolicies.map((p) =>
      p.name === 'interactive' && o.maxLossPercent !== undefined
        ? { ...p, sla: { ...p.sla, maxLossPercent: o.maxLossPercent } }
        : p,
    ),
    routers: a.routers.map((r) => ({ ...r, timers: { ...r.timers, pathMetricsColorMs: 500 } })),
  };
}

function path(r: SvrRouter, vector: string): PathState {
  const p = r.dataPlane.ctx.paths.paths.find((x) => x?.model.vector === vector);
  assert.ok(p, vector);
  return p;
}

/** TLV 26 in the packets of a capture, with the packet's source address. */
function tlv26(packets: readonly { data: Uint8Array }[]): { src: string; t: PathMetricsTlv }[] {
  const q = new IpPacket();
  const out: { src: string; t: PathMetricsTlv }[] = [];
  for (const p of packets) {
    if (q.parse(p.data, 0, p.data.length) || !payloadHasCookie(q)) continue;
    const md = decodeMetadata(q.b, q.payloadOffset, q.end);
    if (typeof md === 'number') continue; // handshake metadata, encrypted: not this test's
    const t = findTlv(md, TlvType.PathMetrics);
    if (t) out.push({ src: ipToString(packetSource(q)), t });
  }
  return out;
}

function cookies(packets: readonly { data: Uint8Array }[]): number {
  const q = new IpPacket();
  return packets.filter((p) => !q.parse(p.data, 0, p.data.length) && payloadHasCookie(q)).length;
}

test('7.3.7 in-line metrics: TLV 26 both ways on the active path only, latency and jitter from live traffic, no loss, bytes intact and nothing reaches a host', () => {
  const f = figure2({ seed: 71, authority: authority() });
  const caps = {
    mpls: f.net.capture(f.segments.mpls),
    internet: f.net.capture(f.segments.internet),
    lte: f.net.capture(f.segments.lte),
    clientLan: f.net.capture(f.segments.clientLan),
    serverLan: f.net.capture(f.segments.serverLan),
  };
  const t = steadyUpload(f, { chunks: 300, size: 1000, everyMs: 20 });
  assert.ok(f.net.runUntil(t.done, 30_000), `${t.sink.totalBytes()} bytes`);
  t.check();
  const onMpls = tlv26(caps.mpls.packets);
  const senders = new Set(onMpls.map((x) => x.src));
  assert.equal(senders.size, 2, `TLV 26 from both routers on MPLS: ${[...senders].join(', ')}`);
  assert.ok(onMpls.length >= 20, `${onMpls.length} TLV 26 on MPLS in 6 s of 500 ms colours`);
  assert.ok(
    onMpls.every((x) => x.t.txColor >= 1 && x.t.txColor <= 15),
    'colours 1..15 (SD-46)',
  );
  assert.equal(tlv26(caps.internet.packets).length, 0, 'nothing on the Internet path');
  assert.equal(tlv26(caps.lte.packets).length, 0, 'nothing on LTE');
  assert.equal(cookies(caps.clientLan.packets), 0, 'no metadata reaches the client');
  assert.equal(cookies(caps.serverLan.packets), 0, 'no metadata reaches the server');
  for (const r of [f.east, f.west]) {
    const m = path(r, 'mpls').metrics;
    const fig = m.figures();
    assert.ok(fig, `${r.name}: figures`);
    // MPLS: 19.5 ms plus uniform [0, 1) ms each way.
    assert.ok(
      fig.latencyMs !== undefined && fig.latencyMs >= 19.5 && fig.latencyMs <= 21,
      `${r.name}: latency ${fig.latencyMs}`,
    );
    assert.ok(fig.jitterMs !== undefined && fig.jitterMs < 2, `${r.name}: jitter ${fig.jitterMs}`);
    assert.ok(fig.rttSamples >= 5, `${r.name}: ${fig.rttSamples} RTT samples`);
    assert.deepEqual(r.dataPlane.ctx.drops.snapshot(), {}, `${r.name}: no drops`);
    assert.equal(
      path(r, 'internet').metrics.figures(),
      undefined,
      `${r.name}: nothing measured on the Internet path`,
    );
  }
  // East sends the data: its loss figure rests on enough packets, and the path lost none.
  const east = path(f.east, 'mpls').metrics.figures();
  assert.equal(east?.lossPercent, 0, `east loss ${east?.lossPercent} over ${east?.lossPackets} packets`);
});

/** A one-way UDP flow (syslog, default policy: MPLS, the lowest latency) every `everyMs`. */
function syslogFlow(f: Figure2, count: number, everyMs: number) {
  const rx = f.logsvc.udpBind(514);
  const got: Uint8Array[] = [];
  rx.onMessage = (m) => {
    got.push(m.data);
  };
  const tx = f.client.udpBind(40700);
  let k = 0;
  const tick = () => {
    if (k >= count) return;
    const b = new Uint8Array(200);
    for (let i = 0; i < b.length; i++) b[i] = (k * 13 + i) & 0xff;
    tx.sendTo('172.15.11.20', 514, b);
    k++;
    f.net.sim.at(f.net.sim.now() + everyMs, tick);
  };
  tick();
  return got;
}

test('7.3.7 a one-way flow on a lossy path: the receiver answers with D-bit packets it never forwards; the sender measures the loss; new sessions avoid the path whose in-line loss misses the SLA', () => {
  // Static peering: no BFD, so every figure beyond the configured ones is in-line (SD-48).
  const f = figure2({ seed: 72, peering: 'static', authority: authority({ maxLossPercent: 2 }) });
  f.segments.mpls.set({ lossRate: 0.1 });
  const serverLan = f.net.capture(f.segments.serverLan);
  const mplsCap = f.net.capture(f.segments.mpls);
  const got = syslogFlow(f, 2000, 4);
  f.net.run(9000);
  const row = f.east.sessions().find((r) => r.direction === 'forward');
  assert.ok(row?.path.startsWith('mpls'), row?.path);
  // Byte-exact delivery of what arrived: every datagram is one of ours, whole.
  assert.ok(got.length > 1600 && got.length < 1950, `${got.length} of 2000 datagrams arrived`);
  for (const d of got) {
    assert.equal(d.length, 200);
    for (let i = 0; i < d.length; i++) assert.equal(d[i], (d[0] + i) & 0xff);
  }
  const west = path(f.west, 'mpls').metrics;
  assert.ok(west.probesSent >= 5, `${west.probesSent} D-bit answers from West`);
  const dBits = tlv26(mplsCap.packets).filter((x) => x.t.drop);
  assert.ok(dBits.length >= 5, `${dBits.length} D-bit packets on MPLS`);
  assert.ok(
    dBits.every((x) => x.src === '203.0.113.89'),
    'D-bit packets come from West',
  );
  assert.equal(cookies(serverLan.packets), 0, 'no metadata, no D-bit packet reaches the server');
  assert.deepEqual(f.east.dataPlane.ctx.drops.snapshot(), {}, 'East consumed the D-bit packets');
  const fig = path(f.east, 'mpls').metrics.figures();
  assert.ok(fig?.lossPercent !== undefined, 'loss measured');
  assert.ok(fig.lossPercent >= 5 && fig.lossPercent <= 15, `loss ${fig.lossPercent}% (10% configured)`);
  assert.ok(fig.latencyMs !== undefined && fig.latencyMs >= 19.5 && fig.latencyMs <= 21, `${fig.latencyMs}`);
  // The blend East chooses paths by: in-line loss in place of the configured 0%.
  const q = path(f.east, 'mpls').metrics.blend(path(f.east, 'mpls').quality, f.net.sim.now());
  assert.equal(q.lossPercent, fig.lossPercent);
  // "interactive" allows 2% loss: a new SSH session goes on the Internet path, not MPLS.
  const t = steadyUpload(f, { chunks: 20, size: 500, everyMs: 10 });
  assert.ok(f.net.runUntil(t.done, 10_000), `${t.sink.totalBytes()} bytes`);
  t.check();
  const ssh = f.east.sessions().find((r) => r.direction === 'forward' && r.path.startsWith('internet'));
  assert.ok(
    ssh,
    f.east
      .sessions()
      .map((r) => r.path)
      .join(', '),
  );
});

test('7.3.7 a session on a path whose in-line loss grows past its SLA moves to a path that meets it (6.1, SD-48)', () => {
  const f = figure2({ seed: 73, peering: 'static', authority: authority({ maxLossPercent: 2 }) });
  const t = steadyUpload(f, { chunks: 600, size: 1000, everyMs: 20 });
  assert.ok(f.net.runUntil(() => t.sink.totalBytes() > 50_000, 10_000));
  const forward = () => f.east.sessions().find((r) => r.direction === 'forward')?.path ?? '';
  assert.ok(forward().startsWith('mpls'), forward());
  f.segments.mpls.set({ lossRate: 0.1 });
  assert.ok(
    f.net.runUntil(() => forward().startsWith('internet'), 20_000),
    `on ${forward()}; east mpls ${JSON.stringify(path(f.east, 'mpls').metrics.figures())}`,
  );
  assert.equal(f.east.dataPlane.ctx.stats.sessionsMoved, 1);
  assert.ok(f.net.runUntil(t.done, 60_000), `${t.sink.totalBytes()} bytes`);
  t.check();
});
