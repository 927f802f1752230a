import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerPathModel } from '../../src/config/model.js';
import { Flag } from '../../src/dataplane/context.js';
import { REPROBE_MS } from '../../src/dataplane/tcp-probe.js';
import { SYN_WITH_PAYLOAD } from '../../src/emu/middlebox.js';
import type { Segment } from '../../src/emu/segment.js';
import { echoServer } from '../../src/emu/servers.js';
import { chain3, exampleConfig, figure2 } from '../../src/emu/topologies.js';
import { inspectPacket } from '../../src/inspect/packet.js';
import type { SvrRouter } from '../../src/router/router.js';
import { BfdState } from '../../src/wire/bfd.js';
import { decodeMetadata, findTlv, hasCookie } from '../../src/wire/metadata/block.js';
import { TlvType } from '../../src/wire/metadata/tlv.js';
import { IpPacket } from '../../src/wire/packet.js';
import { carriedTcpPayload } from '../../src/wire/tcp-udp-transform.js';
import { echoThrough, steadyUpload } from '../../testlib/transfers.js';

/**
 * 2.4, 4.2.7, 4.6.3 on the emulator: a firewall on a peer link drops TCP SYNs that carry payload
 * (where SVR puts metadata). The routers' probes find it, and TCP sessions cross that link as
 * UDP, every packet both ways, restored to TCP on the other side.
 */

const BFD = 1280;

/** Session packets on a link: not BFD, not the probes (TCP SYNs with metadata). */
function sessionPackets(seg: { packets: { data: Uint8Array }[] }) {
  const q = new IpPacket();
  const out: { protocol: number; carriedMetadata: boolean; frame: Uint8Array }[] = [];
  for (const p of seg.packets) {
    if (q.parse(p.data, 0, p.data.length)) continue;
    if (!q.isTcp && !q.isUdp) continue;
    if (q.srcPort === BFD || q.dstPort === BFD) continue;
    if (q.isTcp && q.tcp.syn && q.payloadLength > 0) continue;
    const at = carriedTcpPayload(q);
    out.push({ protocol: q.protocol, carriedMetadata: at >= 0 && hasCookie(q.b, at, q.end), frame: p.data });
  }
  return out;
}

/** TLV 12 in a packet that crossed as UDP (metadata after the TCP header it carries, clear TLVs). */
function hasTlv12(frame: Uint8Array): boolean {
  const q = new IpPacket();
  if (q.parse(frame, 0, frame.length)) return false;
  const at = carriedTcpPayload(q);
  const md = at >= 0 ? decodeMetadata(q.b, at, q.end, undefined) : undefined;
  return md !== undefined && typeof md !== 'number' && findTlv(md, TlvType.TcpSynPacket) !== undefined;
}

const path = (r: SvrRouter, vector: string) => {
  const p = r.dataPlane.ctx.paths.paths.find((x) => x?.model.vector === vector);
  assert.ok(p, vector);
  return p;
};

test('[R-4.2.7-a] [R-4.6.3-a] [R-4.6.3-b] 2.4 "Pathway Obstructions": the probes find the MPLS firewall; an echo crosses it as UDP both ways with TLV 12 and arrives byte for byte', () => {
  const f = figure2({ seed: 61, middlebox: true, encryptMetadata: false });
  f.net.run(5000); // three probes a second apart, then the verdict
  assert.equal(path(f.east, 'mpls').tcpToUdp, true, 'East: MPLS obstructed');
  assert.equal(path(f.west, 'mpls').tcpToUdp, true, 'West: MPLS obstructed');
  assert.equal(path(f.east, 'internet').tcpToUdp, false, 'the Internet path is clean');
  assert.equal(f.east.dataPlane.ctx.events.count('middlebox-detected'), 1);
  const probesDropped = f.segments.mpls.counters.get(`dropped:filter:${SYN_WITH_PAYLOAD}`);
  assert.equal(probesDropped, 6, 'three probes from each side');

  const cap = f.net.capture(f.segments.mpls);
  const data = new Uint8Array(200_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 9)) & 0xff;
  echoThrough(f, [data]);

  const east = f.east.dataPlane.ctx;
  const west = f.west.dataPlane.ctx;
  const [id] = east.sessions.ids();
  assert.ok(f.east.sessions().some((r) => r.direction === 'forward' && r.path.startsWith('mpls')));
  assert.equal(east.sessions.flags(id) & Flag.TcpAsUdpForward, Flag.TcpAsUdpForward);
  const [wid] = west.sessions.ids();
  assert.equal(west.sessions.flags(wid) & Flag.TcpAsUdpReverse, Flag.TcpAsUdpReverse, 'TLV 12 came in');
  // On the wire: nothing of the session as TCP; metadata inside the carried TCP header, with TLV 12.
  const wire = sessionPackets(cap);
  assert.ok(wire.length > 100, `${wire.length} session packets on MPLS`);
  assert.deepEqual(new Set(wire.map((p) => p.protocol)), new Set([17]));
  const withMd = wire.filter((p) => p.carriedMetadata);
  assert.ok(withMd.length >= 2, 'forward and reverse metadata');
  assert.ok(
    withMd.every((p) => hasTlv12(p.frame)),
    'TLV 12 in every metadata block',
  );
  // `svr packet` reads such a datagram: the metadata after the carried header, TCP restored.
  const shown = inspectPacket(withMd[0].frame);
  assert.ok(shown.metadata && shown.restoredTcp, JSON.stringify(shown.error));
  assert.equal(
    f.segments.mpls.counters.get(`dropped:filter:${SYN_WITH_PAYLOAD}`),
    probesDropped,
    "the firewall dropped none of the session's packets",
  );
  assert.deepEqual(east.drops.snapshot(), {});
  assert.deepEqual(west.drops.snapshot(), {});
});

test('[R-4.6.3-c] [R-4.6.3-d] 4.2.7 per path: in chain3 with a firewall between B and C, A-B carries TCP, B-C carries UDP, and the server sees TCP', () => {
  const f = chain3({ seed: 62, middlebox: true });
  f.net.run(5000);
  const toPeer = (r: SvrRouter, peer: string) =>
    r.dataPlane.ctx.paths.paths.find((p) => p?.model.peer === peer);
  assert.equal(toPeer(f.b, 'c')?.tcpToUdp, true, 'B-C obstructed');
  assert.equal(toPeer(f.b, 'a')?.tcpToUdp, false, 'A-B clean');
  assert.equal(toPeer(f.a, 'b')?.tcpToUdp, false);
  const ab = f.net.capture(f.segments.ab);
  const bc = f.net.capture(f.segments.bc);
  const srv = f.net.capture(f.segments.servers);
  echoServer(f.server, 80);
  const c = f.client.tcpConnect('172.16.30.80', 80);
  const data = new Uint8Array(60_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  c.send(data);
  assert.ok(
    f.net.runUntil(() => c.bytesReceived === data.length, 30_000),
    `${c.bytesReceived} bytes back`,
  );
  assert.ok(Buffer.from(c.received()).equals(Buffer.from(data)));
  assert.deepEqual(new Set(sessionPackets(ab).map((p) => p.protocol)), new Set([6]), 'A-B: TCP');
  assert.deepEqual(new Set(sessionPackets(bc).map((p) => p.protocol)), new Set([17]), 'B-C: UDP');
  assert.deepEqual(new Set(sessionPackets(srv).map((p) => p.protocol)), new Set([6]), 'restored at C');
  const b = f.b.dataPlane.ctx;
  const [id] = b.sessions.ids();
  assert.equal(b.sessions.flags(id) & (Flag.TcpAsUdpForward | Flag.TcpAsUdpReverse), Flag.TcpAsUdpForward);
  for (const r of [f.a, f.b, f.c]) assert.deepEqual(r.dataPlane.ctx.drops.snapshot(), {}, r.name);
});

test('[R-4.2.7-a] 2.4 configuration: tcpToUdp "always" transforms without a middlebox, "never" keeps TCP even where the probe would not', () => {
  const authority = structuredClone(exampleConfig('figure2'));
  const set = (router: string, vector: string, mode: PeerPathModel['tcpToUdp']) => {
    const r = authority.routers.find((x) => x.name === router);
    for (const peer of r?.peers ?? [])
      for (const p of peer.paths) if (p.vector === vector) (p as { tcpToUdp: string }).tcpToUdp = mode;
  };
  set('east', 'mpls', 'always');
  set('east', 'internet', 'never');
  const f = figure2({ seed: 63, authority });
  f.net.run(5000);
  assert.equal(path(f.east, 'mpls').tcpToUdp, true);
  assert.equal(path(f.east, 'internet').tcpToUdp, false);
  assert.equal(path(f.west, 'mpls').tcpToUdp, false, "West's probe finds MPLS clean");
  const cap = f.net.capture(f.segments.mpls);
  const up = steadyUpload(f, { chunks: 50 });
  assert.ok(f.net.runUntil(() => up.done(), 20_000));
  up.check();
  assert.deepEqual(new Set(sessionPackets(cap).map((p) => p.protocol)), new Set([17]));
});

test('[R-4.6.3-b] 6.1 with 4.2.7: a transfer crossing MPLS as UDP moves to the clean Internet path as TCP when MPLS is cut, with no reset', () => {
  const f = figure2({ seed: 64, middlebox: true });
  f.net.run(5000);
  const up = steadyUpload(f, { chunks: 300 });
  assert.ok(f.net.runUntil(() => up.sink.totalBytes() > 50_000, 20_000));
  const east = f.east.dataPlane.ctx;
  const west = f.west.dataPlane.ctx;
  const [id] = east.sessions.ids();
  assert.ok(east.sessions.flags(id) & Flag.TcpAsUdpForward);
  const inet = f.net.capture(f.segments.internet);
  f.segments.mpls.set({ up: false });
  const bfdDown = () => f.east.peering?.status().find((p) => p.vector === 'mpls')?.bfd === BfdState.Down;
  assert.ok(f.net.runUntil(bfdDown, 10_000));
  assert.ok(
    f.net.runUntil(() => up.done(), 60_000),
    `${up.sink.totalBytes()} bytes`,
  );
  up.check();
  assert.equal(east.sessions.flags(id) & Flag.TcpAsUdpForward, 0, 'East: TCP on the Internet path');
  const wid = west.sessions.byUuid(east.sessions.uuid(id));
  assert.equal(west.sessions.flags(wid) & Flag.TcpAsUdpReverse, 0, 'West: TCP back');
  const after = sessionPackets(inet);
  assert.ok(after.length > 50);
  assert.deepEqual(new Set(after.map((p) => p.protocol)), new Set([6]));
});

test('2.4 re-probing: when the firewall goes away, the next round finds the path clean and new sessions cross as TCP again', () => {
  const f = figure2({ seed: 65, middlebox: true });
  f.net.run(5000);
  const mpls = path(f.east, 'mpls');
  assert.equal(mpls.tcpToUdp, true);
  (f.segments.mpls as Segment).unfilter(SYN_WITH_PAYLOAD);
  f.net.run(REPROBE_MS + 2000);
  assert.equal(mpls.tcpToUdp, false);
  assert.equal(f.east.dataPlane.ctx.events.count('middlebox-cleared'), 1);
  const up = steadyUpload(f, { chunks: 20 });
  assert.ok(f.net.runUntil(() => up.done(), 20_000));
  up.check();
  const [id] = f.east.dataPlane.ctx.sessions.ids();
  assert.equal(f.east.dataPlane.ctx.sessions.flags(id) & Flag.TcpAsUdpForward, 0);
});

test('[R-2.10-a] 2.10 with 4.2.7: West loses state while a TCP session crosses MPLS as UDP; it asks for metadata, East sends it in the carried form, the upload goes on', () => {
  const f = figure2({ seed: 66, middlebox: true });
  f.net.run(5000);
  const up = steadyUpload(f, { chunks: 300, mul: 5 });
  assert.ok(f.net.runUntil(() => up.sink.totalBytes() > 50_000, 20_000));
  const ws = f.west.dataPlane.ctx.sessions;
  for (const id of ws.ids()) ws.remove(id);
  assert.ok(
    f.net.runUntil(() => up.done(), 60_000),
    `${up.sink.totalBytes()} bytes; west ${JSON.stringify(f.west.dataPlane.ctx.drops.snapshot())}`,
  );
  up.check();
  assert.ok(f.west.events.recent('session').some((e) => e.code === 'metadata-requested'));
  const [wid] = ws.ids();
  assert.equal(ws.flags(wid) & Flag.TcpAsUdpReverse, Flag.TcpAsUdpReverse, 'recreated as crossing as UDP');
});
