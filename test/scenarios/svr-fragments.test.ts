import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSvrPiece } from '../../src/dataplane/svr-fragments.js';
import type { Segment } from '../../src/emu/segment.js';
import { chain3, figure2 } from '../../src/emu/topologies.js';
import { decodeMetadata, findTlv } from '../../src/wire/metadata/block.js';
import { TlvType } from '../../src/wire/metadata/tlv.js';
import { IpPacket } from '../../src/wire/packet.js';

/**
 * 6.5 "Ladder Diagram Fragmented Packets" on the emulator: datagrams bigger than a peer path are
 * reassembled at the ingress, sent between routers as pieces that each carry the session's
 * waypoints and wayports and TLV 1, put together again at the next router (which checks the one
 * signature on the whole packet) and fragmented for the LAN on the way out.
 */

function pattern(n: number, seed: number): Uint8Array {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = (i * 7 + seed + (i >> 8)) & 0xff;
  return d;
}

/** UDP packets on a link that are not BFD. */
function sessionPackets(seg: { packets: { data: Uint8Array }[] }): IpPacket[] {
  const out: IpPacket[] = [];
  for (const p of seg.packets) {
    const q = new IpPacket();
    if (q.parse(p.data, 0, p.data.length) || !q.isUdp || q.srcPort === 1280 || q.dstPort === 1280) continue;
    out.push(q);
  }
  return out;
}

test('6.5 "Fragmented Packets": 4000- and 9000-byte datagrams the client fragments cross East and West as pieces with TLV 1 and the session\'s own five-tuple, and arrive byte for byte; so does a 6000-byte answer', () => {
  const f = figure2({ seed: 101, encryptMetadata: false });
  const cap = f.net.capture(f.segments.mpls);
  const rx = f.logsvc.udpBind(514);
  const tx = f.client.udpBind(5141);
  const sent = [pattern(4000, 1), pattern(9000, 2)];
  for (const d of sent) tx.sendTo('172.15.11.20', 514, d);
  assert.ok(
    f.net.runUntil(() => rx.received.length === 2, 10_000),
    `${rx.received.length} received`,
  );
  const got = rx.received.map((m) => m.data).sort((a, b) => a.length - b.length);
  assert.ok(
    Buffer.from(got[0]).equals(Buffer.from(sent[0])) && Buffer.from(got[1]).equals(Buffer.from(sent[1])),
  );
  // The answer: from logsvc back to the client, through the same session.
  const from = rx.received[0];
  rx.sendTo(from.fromAddress, from.port, pattern(6000, 3));
  assert.ok(f.net.runUntil(() => tx.received.length === 1, 10_000));
  assert.ok(Buffer.from(tx.received[0].data).equals(Buffer.from(pattern(6000, 3))));
  // On MPLS: no IP fragment, every piece in the session's five-tuple, TLV 1 first.
  const wire = sessionPackets(cap);
  const pieces = wire.filter(isSvrPiece);
  assert.ok(pieces.length >= 3 + 7 + 5, `${pieces.length} pieces`);
  assert.ok(
    wire.every((p) => !p.isFragment && p.length <= 1500),
    'whole packets, none above the MTU',
  );
  const tuples = new Set(
    wire.map((p) => {
      const [a, b] = [`${p.ip4.src}:${p.srcPort}`, `${p.ip4.dst}:${p.dstPort}`].sort();
      return `${a}-${b}`;
    }),
  );
  assert.equal(tuples.size, 1, `one five-tuple on the wire: ${[...tuples].join(' ')}`);
  const first = pieces.filter((p) => {
    const md = decodeMetadata(p.b, p.payloadOffset, p.end);
    return typeof md !== 'number' && findTlv(md, TlvType.Fragment)?.fragmentOffset === 0;
  });
  assert.equal(first.length, 3, 'one first piece per packet');
  for (const p of first) {
    const md = decodeMetadata(p.b, p.payloadOffset, p.end);
    assert.ok(typeof md !== 'number' && findTlv(md, TlvType.SecurityIdentifier), 'TLV 16 on the first piece');
  }
  const east = f.east.dataPlane.ctx;
  const west = f.west.dataPlane.ctx;
  assert.ok(east.stats.piecesSent > 0 && west.stats.piecesReceived === east.stats.piecesSent);
  assert.ok(west.stats.piecesSent > 0 && east.stats.piecesReceived === west.stats.piecesSent);
  assert.deepEqual(east.drops.snapshot(), {});
  assert.deepEqual(west.drops.snapshot(), {});
  assert.equal(west.svrReassembly.pending + east.svrReassembly.pending, 0);
});

test('6.5: a first datagram that fits the path alone but not with its metadata goes in pieces, metadata in the first, and arrives', () => {
  const f = figure2({ seed: 102 });
  const rx = f.logsvc.udpBind(514);
  const tx = f.client.udpBind(5142);
  const d = pattern(1400, 4);
  tx.sendTo('172.15.11.20', 514, d);
  assert.ok(
    f.net.runUntil(() => rx.received.length === 1, 5000),
    JSON.stringify(f.west.dataPlane.ctx.drops.snapshot()),
  );
  assert.ok(Buffer.from(rx.received[0].data).equals(Buffer.from(d)));
  assert.equal(f.east.dataPlane.ctx.stats.piecesSent, 2);
  assert.equal(f.east.dataPlane.ctx.stats.controlSent, 0, 'no metadata-alone control packet for a datagram');
});

test("6.5: a piece altered on the way fails the whole packet's signature at West: nothing is delivered, the drop is a security event", () => {
  const f = figure2({ seed: 103 });
  const rx = f.logsvc.udpBind(514);
  const tx = f.client.udpBind(5143);
  tx.sendTo('172.15.11.20', 514, pattern(100, 5)); // the session first
  assert.ok(f.net.runUntil(() => rx.received.length === 1, 5000));
  const q = new IpPacket();
  let altered = 0;
  (f.segments.mpls as Segment).filter('tamper', (fr) => {
    if (!q.parse(fr, 0, fr.length) && isSvrPiece(q) && altered === 0) {
      fr[fr.length - 40] ^= 0x01; // a data byte of the first piece
      altered++;
    }
    return false;
  });
  tx.sendTo('172.15.11.20', 514, pattern(5000, 6));
  f.net.run(2000);
  assert.equal(altered, 1);
  assert.equal(rx.received.length, 1, 'the altered packet is not delivered');
  const west = f.west.dataPlane.ctx;
  assert.equal(west.drops.snapshot()['hmac-mismatch'], 1);
  assert.equal(west.events.count('hmac-mismatch'), 1);
});

test('6.5 multi-hop: in chain3 a 5000-byte datagram is put together and cut again at B, and arrives at the server byte for byte', () => {
  const f = chain3({ seed: 104 });
  const rx = f.server.udpBind(9000);
  const tx = f.client.udpBind(5144);
  const d = pattern(5000, 7);
  tx.sendTo('172.16.30.80', 9000, d);
  assert.ok(
    f.net.runUntil(() => rx.received.length === 1, 5000),
    `b ${JSON.stringify(f.b.dataPlane.ctx.drops.snapshot())} c ${JSON.stringify(f.c.dataPlane.ctx.drops.snapshot())}`,
  );
  assert.ok(Buffer.from(rx.received[0].data).equals(Buffer.from(d)));
  const b = f.b.dataPlane.ctx.stats;
  assert.ok(b.piecesReceived >= 4 && b.piecesSent >= 4, JSON.stringify(b));
  assert.equal(f.c.dataPlane.ctx.stats.piecesReceived, b.piecesSent);
});

test('6.5 "largest fragment seen": a client on a 576-byte link: pieces between the routers and fragments to the server are no larger than 576 bytes', () => {
  const f = figure2({ seed: 105 });
  const lan = f.client.interfaces[0] as { mtu: number };
  lan.mtu = 576;
  const mpls = f.net.capture(f.segments.mpls);
  const servers = f.net.capture(f.segments.serverLan);
  const rx = f.logsvc.udpBind(514);
  const d = pattern(3000, 8);
  f.client.udpBind(5145).sendTo('172.15.11.20', 514, d);
  assert.ok(f.net.runUntil(() => rx.received.length === 1, 5000));
  assert.ok(Buffer.from(rx.received[0].data).equals(Buffer.from(d)));
  const pieces = sessionPackets(mpls).filter(isSvrPiece);
  assert.ok(
    pieces.length >= 6 && pieces.every((p) => p.length <= 576),
    pieces.map((p) => p.length).join(' '),
  );
  const md = decodeMetadata(pieces[0].b, pieces[0].payloadOffset, pieces[0].end);
  assert.ok(typeof md !== 'number');
  // The client's fragments are 20 + 552 bytes (data in 8-byte units): 572 is the largest seen.
  assert.equal(findTlv(md, TlvType.Fragment)?.largestSeenFragment, 572, 'TLV 1 tells West');
  const q = new IpPacket();
  const toServer = servers.packets.filter((p) => !q.parse(p.data, 0, p.data.length) && q.isFragment);
  assert.ok(toServer.length >= 6, `${toServer.length} fragments to the server`);
  assert.ok(
    toServer.every((p) => p.data.length <= 576),
    toServer.map((p) => p.data.length).join(' '),
  );
});
