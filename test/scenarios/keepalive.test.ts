import assert from 'node:assert/strict';
import { test } from 'node:test';
import { figure2 } from '../../src/emu/topologies.js';
import { payloadHasCookie } from '../../src/wire/metadata/insert.js';
import { IpPacket } from '../../src/wire/packet.js';

/** 6.3 "NAT Keep Alive" on the emulated Figure 2. */
test('[R-2.11-a] 6.3 NAT keep-alive: an idle session on a path behind a NAT gets a keep-alive every 20 s in its own five-tuple; the peer consumes it', () => {
  const f = figure2({ seed: 41 });
  const cap = f.net.capture(f.segments.mpls);
  const rx = f.logsvc.udpBind(514);
  let delivered = 0;
  rx.onMessage = () => {
    delivered++;
  };
  const tx = f.client.udpBind(40600);
  tx.sendTo('172.15.11.20', 514, new Uint8Array(50));
  f.net.run(1000);
  assert.equal(delivered, 1);
  const row = f.east.sessions().find((r) => r.direction === 'forward');
  assert.ok(row?.path.startsWith('mpls'), row?.path);
  // BFD found a NAT on MPLS (5.1.2; test/scenarios/peering.test.ts shows the detection itself).
  const mpls = f.east.dataPlane.ctx.paths.paths.find((p) => p?.model.vector === 'mpls');
  assert.ok(mpls);
  mpls.natDetected = true;
  const sentBefore = f.east.dataPlane.ctx.stats.controlSent;
  f.net.run(19_000);
  assert.equal(f.east.dataPlane.ctx.stats.controlSent, sentBefore, 'nothing before 20 s idle');
  f.net.run(42_000);
  const sent = f.east.dataPlane.ctx.stats.controlSent - sentBefore;
  assert.ok(sent >= 2 && sent <= 3, `${sent} keep-alives in 61 s idle`);
  assert.equal(f.west.dataPlane.ctx.stats.controlReceived, sent, 'West consumed each one');
  assert.equal(delivered, 1, 'none reached the server (4.2.4)');
  assert.deepEqual(f.west.dataPlane.ctx.drops.snapshot(), {});
  // On the wire: the session's own waypoint five-tuple, UDP, with metadata.
  const q = new IpPacket();
  const ka = cap.packets.filter((p) => {
    q.parse(p.data, 0, p.data.length);
    return q.isUdp && q.udp.dstPort !== 1280 && q.udp.srcPort !== 1280 && payloadHasCookie(q);
  });
  assert.ok(ka.length >= sent + 1, `${ka.length} metadata packets on MPLS`);
});
