import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeU16 } from '../../src/base/bytes.js';
import { toAddress } from '../../src/emu/addresses.js';
import type { NetInterface } from '../../src/emu/node.js';
import { figure2 } from '../../src/emu/topologies.js';
import { checksum } from '../../src/wire/checksum.js';
import { fragmentIpv4 } from '../../src/wire/fragment.js';
import { IpPacket } from '../../src/wire/packet.js';

/** An IPv4/UDP datagram from the client to the syslog service (UDP checksum 0: RFC 768 allows it). */
function syslogDatagram(id: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(28 + payload.length);
  b[0] = 0x45;
  writeU16(b, 2, b.length);
  writeU16(b, 4, id);
  b[8] = 64;
  b[9] = 17;
  b.set([10, 0, 1, 1, 172, 15, 11, 20], 12);
  writeU16(b, 10, checksum(b, 0, 20));
  writeU16(b, 20, 5140);
  writeU16(b, 22, 514);
  writeU16(b, 24, 8 + payload.length);
  b.set(payload, 28);
  return b;
}

function bytes(n: number, seed: number): Uint8Array {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = (i * 131 + seed) & 0xff;
  return d;
}

function reassemblyDrops(f: ReturnType<typeof figure2>): Record<string, number> {
  const all: Record<string, number> = f.east.dataPlane.ctx.drops.snapshot();
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith('reassembly')));
}

test('6.5: UDP datagrams the client fragments (in and out of order) are reassembled by East before SVR and arrive byte-exact', () => {
  const f = figure2({ seed: 21 });
  const lan = f.client.interfaces[0] as { mtu: number } & NetInterface;
  lan.mtu = 576;
  const rx = f.logsvc.udpBind(514);
  const tx = f.client.udpBind(5140);
  const mpls = f.net.capture(f.segments.mpls);
  const sent = [bytes(1200, 1), bytes(1000, 2), bytes(1300, 3)];
  for (const d of sent.slice(0, 2)) tx.sendTo('172.15.11.20', 514, d);
  // Out of order: the last fragment first.
  const frags = fragmentIpv4(syslogDatagram(0x4242, sent[2]), 0, 1328, 576) ?? [];
  assert.ok(frags.length === 3);
  for (const fr of [frags[2], frags[0], frags[1]]) f.client.transmit(lan, fr, toAddress('10.0.1.254'));
  assert.ok(
    f.net.runUntil(() => rx.received.length === 3, 10_000),
    `received ${rx.received.length}; east drops ${JSON.stringify(f.east.dataPlane.ctx.drops.snapshot())} west ${JSON.stringify(f.west.dataPlane.ctx.drops.snapshot())} east stats ${JSON.stringify(f.east.dataPlane.ctx.stats)}`,
  );
  // UDP may reorder (the first packet waits for its session); each arrives whole and intact.
  const bySize = (a: Uint8Array, b: Uint8Array) => a.length - b.length;
  assert.deepEqual(rx.received.map((m) => m.data).sort(bySize), [...sent].sort(bySize));
  // Whole packets between the routers: East reassembled before session lookup and metadata.
  const p = new IpPacket();
  for (const c of mpls.packets) {
    assert.equal(p.parse(c.data, 0, c.data.length), 0);
    assert.equal(p.isFragment, false);
  }
  assert.deepEqual(reassemblyDrops(f), {});
  assert.equal(f.east.dataPlane.ctx.reassembly.pending, 0);
  assert.equal(f.east.dataPlane.ctx.reassembly.bytes, 0);
});

test('6.5: overlapping fragments drop the whole datagram and are counted; nothing is delivered', () => {
  const f = figure2({ seed: 22 });
  const lan = f.client.interfaces[0];
  const rx = f.logsvc.udpBind(514);
  const frags = fragmentIpv4(syslogDatagram(0x77, bytes(1200, 9)), 0, 1228, 576) ?? [];
  for (const fr of [frags[0], frags[0], frags[1], frags[2]])
    f.client.transmit(lan, fr, toAddress('10.0.1.254'));
  f.net.runUntil(() => false, 2_000);
  assert.equal(rx.received.length, 0);
  assert.equal(reassemblyDrops(f)['reassembly-overlap'], 1);
  // The later pieces wait for a first fragment that never comes, then time out (30 s).
  assert.equal(f.east.dataPlane.ctx.reassembly.pending, 1);
  f.net.runUntil(() => false, 31_000);
  f.east.dataPlane.ctx.reassembly.expire(f.net.sim.now());
  assert.equal(f.east.dataPlane.ctx.reassembly.pending, 0);
  assert.equal(f.east.dataPlane.ctx.reassembly.bytes, 0);
  assert.equal(f.east.dataPlane.ctx.reassembly.drops.get('reassembly-timeout'), 1);
});
