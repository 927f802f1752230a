import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool, PacketBuffer } from '../../src/base/packet-buffer.js';
import { Coalescer } from '../../src/drivers/linux/gro.js';
import {
  compensateTtl,
  GSO_TCPV4,
  Rx,
  rxFixup,
  txHeader,
  VNET_HDR_LEN,
} from '../../src/drivers/linux/virtio.js';
import { buildPacketBuffer } from '../../src/wire/builder.js';
import {
  applyDelta,
  checksum,
  deltaU32,
  deltaWord,
  fold,
  onesSum,
  pseudoSumV4,
  pseudoSumV6,
} from '../../src/wire/checksum.js';
import { segmentTcp, segmentUdp } from '../../src/wire/gso.js';
import { IpPacket } from '../../src/wire/packet.js';
import { TCP_ACK, TCP_CWR, TCP_FIN, TCP_PSH } from '../../src/wire/tcp.js';

/**
 * The Linux driver's offload arithmetic, without Linux: virtio-net headers on super-packets,
 * software segmentation, and merging written segments. test/linux/ runs them against the kernel.
 */
const payloadOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

function l4Valid(pkt: IpPacket): boolean {
  const len = pkt.end - pkt.l4Offset;
  const ps =
    pkt.version === 4
      ? pseudoSumV4(pkt.ip4.src, pkt.ip4.dst, 6, len)
      : pseudoSumV6(pkt.b, pkt.start + 8, pkt.start + 24, 6, len);
  return fold(onesSum(pkt.b, pkt.l4Offset, len, ps)) === 0xffff;
}

for (const v of [4, 6] as const) {
  test(`segmentTcp (IPv${v}): MSS-sized pieces with advancing sequence numbers, flags on the right pieces, valid checksums`, () => {
    const data = payloadOf(5000);
    const src = v === 4 ? '10.0.0.10' : '2001:db8::10';
    const dst = v === 4 ? '172.15.11.80' : '2001:db8:1::80';
    const pb = buildPacketBuffer({
      src,
      dst,
      l4: {
        protocol: 'tcp',
        srcPort: 40000,
        dstPort: 80,
        seq: 0xfffff000,
        flags: TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR,
      },
      payload: data,
    });
    const pkt = new IpPacket();
    assert.equal(pkt.parse(pb.data, pb.start, pb.length), 0);
    const pool = new BufferPool();
    const out: PacketBuffer[] = [];
    assert.equal(
      segmentTcp(pkt, 1400, () => pool.take(), out),
      0,
    );
    assert.deepEqual(
      out.map((p) => p.length - (v === 4 ? 40 : 60)),
      [1400, 1400, 1400, 800],
    );
    const joined: number[] = [];
    out.forEach((p, i) => {
      const q = new IpPacket();
      assert.equal(q.parse(p.data, p.start, p.length), 0, `piece ${i} parses`);
      assert.ok(l4Valid(q), `piece ${i} TCP checksum`);
      if (v === 4) assert.equal(checksum(p.data, p.start, 20), 0, `piece ${i} IPv4 checksum`);
      if (v === 4) assert.equal(q.ip4.identification, (pkt.ip4.identification + i) & 0xffff);
      assert.equal(q.tcp.seq, (0xfffff000 + 1400 * i) >>> 0, 'sequence wraps like TCP');
      const last = i === out.length - 1;
      assert.equal((q.tcp.flags & (TCP_PSH | TCP_FIN)) !== 0, last, 'PSH and FIN on the last piece');
      assert.equal((q.tcp.flags & TCP_CWR) !== 0, i === 0, 'CWR on the first piece');
      joined.push(...p.data.subarray(q.payloadOffset, q.end));
    });
    assert.deepEqual(Uint8Array.from(joined), data);
  });
}

/** A super-packet as the kernel hands it over: virtio header, partial checksum (pseudo sum). */
function superPacket(len: number): PacketBuffer {
  const pb = buildPacketBuffer({
    src: '10.0.0.10',
    dst: '172.15.11.80',
    l4: { protocol: 'tcp', srcPort: 40000, dstPort: 80, seq: 1000 },
    payload: payloadOf(len),
  });
  const d = pb.data;
  const s = pb.start;
  const p = fold(pseudoSumV4(0x0a00000a, 0xac0f0b50, 6, pb.length - 20));
  d[s + 36] = p >>> 8;
  d[s + 37] = p;
  const h = s - VNET_HDR_LEN;
  d.fill(0, h, s);
  d[h] = 1; // NEEDS_CSUM
  d[h + 1] = GSO_TCPV4;
  d[h + 4] = 1448 & 0xff;
  d[h + 5] = 1448 >> 8;
  d[h + 6] = 20; // csum_start
  d[h + 8] = 16; // csum_offset
  return pb;
}

test('virtio: a super-packet translated with RFC 1624 updates leaves with the pseudo-header sum of its new addresses', () => {
  const pb = superPacket(30_000);
  assert.equal(rxFixup(pb), Rx.Ok);
  assert.equal(pb.gsoSize, 1448);
  // The fast path's translation: new addresses and ports, the L4 checksum patched by a delta.
  const d = pb.data;
  const s = pb.start;
  const [src2, dst2, sp2, dp2] = [0xcb007101, 0xcb007159, 9080, 9081];
  let delta = deltaU32(0, 0x0a00000a, src2);
  delta = deltaU32(delta, 0xac0f0b50, dst2);
  delta = deltaWord(deltaWord(delta, 40000, sp2), 80, dp2);
  const field = (d[s + 36] << 8) | d[s + 37];
  const patched = applyDelta(field, delta);
  d[s + 36] = patched >>> 8;
  d[s + 37] = patched;
  new DataView(d.buffer, d.byteOffset).setUint32(s + 12, src2);
  new DataView(d.buffer, d.byteOffset).setUint32(s + 16, dst2);
  new DataView(d.buffer, d.byteOffset).setUint16(s + 20, sp2);
  new DataView(d.buffer, d.byteOffset).setUint16(s + 22, dp2);
  const hdr = new Uint8Array(VNET_HDR_LEN);
  assert.equal(txHeader(pb, hdr), true);
  assert.equal((d[s + 36] << 8) | d[s + 37], fold(pseudoSumV4(src2, dst2, 6, pb.length - 20)));
  assert.deepEqual([...hdr], [1, GSO_TCPV4, 40, 0, 1448 & 0xff, 1448 >> 8, 20, 0, 16, 0]);
});

test('virtio: a small packet whose checksum the kernel left to us gets it completed', () => {
  const pb = superPacket(100);
  pb.data[pb.start - VNET_HDR_LEN + 1] = 0; // not GSO
  assert.equal(rxFixup(pb), Rx.Ok);
  assert.equal(pb.gsoSize, 0);
  const pkt = new IpPacket();
  assert.equal(pkt.parse(pb.data, pb.start, pb.length), 0);
  assert.ok(l4Valid(pkt));
});

test('virtio: a super-packet whose type and checksum offset disagree is refused, not mangled', () => {
  const pb = superPacket(3000);
  pb.data[pb.start - VNET_HDR_LEN + 1] = 5; // UDP_L4 on a TCP packet (checksum at 16, not 6)
  assert.equal(rxFixup(pb), Rx.Unsupported);
});

test('compensateTtl adds the hop the kernel takes back, with a valid IPv4 checksum', () => {
  const pb = buildPacketBuffer({
    src: '10.0.0.1',
    dst: '10.0.0.2',
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
    ttl: 63,
  });
  compensateTtl(pb);
  assert.equal(pb.data[pb.start + 8], 64);
  assert.equal(checksum(pb.data, pb.start, 20), 0);
});

test('Coalescer: in-order segments of one flow become one super-packet the kernel can split again', () => {
  const big = superPacket(4000);
  // Start from complete segments, as the data plane writes them.
  big.data[big.start + 36] = 0;
  big.data[big.start + 37] = 0;
  const pkt = new IpPacket();
  pkt.parse(big.data, big.start, big.length);
  const pool = new BufferPool(70_000, 512, 8);
  const segs: PacketBuffer[] = [];
  assert.equal(
    segmentTcp(pkt, 1448, () => new BufferPool().take(), segs),
    0,
  );
  const given: PacketBuffer[] = [];
  const c = new Coalescer(
    () => pool.take(),
    (p) => given.push(p),
  );
  assert.equal(c.start(segs[0]), true);
  assert.equal(c.add(segs[2]), false, 'out of order');
  assert.equal(c.add(segs[1]), true);
  assert.equal(c.add(segs[2]), true);
  assert.equal(c.count, 3);
  const hdr = new Uint8Array(VNET_HDR_LEN);
  const g = c.finish(hdr);
  assert.ok(g);
  assert.equal(g.length, 40 + 4000);
  assert.equal(hdr[1], GSO_TCPV4);
  assert.equal(hdr[4] | (hdr[5] << 8), 1448);
  const q = new IpPacket();
  assert.equal(q.parse(g.data, g.start, g.length), 0);
  assert.deepEqual(g.data.subarray(q.payloadOffset, q.end), payloadOf(4000));
  assert.equal(checksum(g.data, g.start, 20), 0);
  assert.equal(given.length, 1, 'the first segment was copied once and given back');
  // A single segment goes out as it came.
  const one = new PacketBuffer(segs[0].data.slice(), segs[0].start, segs[0].end);
  assert.equal(c.start(one), true);
  assert.equal(c.finish(hdr), one);
  assert.equal(hdr[1], 0);
});

test('Coalescer: datagrams of one UDP flow become one USO super-packet; a shorter one ends the group', () => {
  const pool = new BufferPool(70_000, 512, 8);
  const small = new BufferPool();
  const dgram = (n: number, id: number) => {
    const pb = buildPacketBuffer({
      src: '10.0.0.10',
      dst: '172.15.11.80',
      l4: { protocol: 'udp', srcPort: 5000, dstPort: 5201 },
      payload: payloadOf(n).map((b) => b ^ id),
      identification: id,
    });
    const q = small.take();
    q.data.set(pb.bytes(), q.start);
    q.end = q.start + pb.length;
    return q;
  };
  const c = new Coalescer(
    () => pool.take(),
    () => {},
  );
  assert.equal(c.start(dgram(64, 1)), true);
  assert.equal(c.add(dgram(64, 2)), true);
  assert.equal(c.add(dgram(65, 3)), false, 'longer than the first: cannot be split back');
  assert.equal(c.add(dgram(30, 4)), true);
  assert.equal(c.add(dgram(30, 5)), false, 'closed by the short one');
  const hdr = new Uint8Array(VNET_HDR_LEN);
  const g = c.finish(hdr);
  assert.ok(g);
  assert.equal(g.length, 28 + 64 + 64 + 30);
  assert.deepEqual([...hdr], [1, 5, 28, 0, 64, 0, 20, 0, 6, 0]);
  assert.equal((g.data[g.start + 24] << 8) | g.data[g.start + 25], 8 + 158, 'UDP length of the whole');
  assert.equal(
    (g.data[g.start + 26] << 8) | g.data[g.start + 27],
    fold(pseudoSumV4(0x0a00000a, 0xac0f0b50, 17, 8 + 158)),
    'partial checksum',
  );
  assert.deepEqual(
    g.data.subarray(g.start + 28 + 64, g.start + 28 + 128),
    payloadOf(64).map((b) => b ^ 2),
  );
});

test('segmentUdp and virtio: a UDP super-packet splits into datagrams of gso_size with valid checksums', () => {
  const pb = buildPacketBuffer({
    src: '10.0.0.10',
    dst: '172.15.11.80',
    l4: { protocol: 'udp', srcPort: 5000, dstPort: 5201 },
    payload: payloadOf(64 * 5 + 10),
  });
  const pkt = new IpPacket();
  assert.equal(pkt.parse(pb.data, pb.start, pb.length), 0);
  const out: PacketBuffer[] = [];
  assert.equal(
    segmentUdp(pkt, 64, () => new BufferPool().take(), out),
    0,
  );
  assert.deepEqual(
    out.map((p) => p.length),
    [92, 92, 92, 92, 92, 38],
  );
  const joined: number[] = [];
  for (const p of out) {
    const q = new IpPacket();
    assert.equal(q.parse(p.data, p.start, p.length), 0);
    assert.equal(q.udp.length, p.length - 20);
    const ps = pseudoSumV4(q.ip4.src, q.ip4.dst, 17, q.udp.length);
    assert.equal(fold(onesSum(p.data, q.l4Offset, q.udp.length, ps)), 0xffff, 'UDP checksum');
    assert.equal(checksum(p.data, p.start, 20), 0, 'IPv4 checksum');
    joined.push(...p.data.subarray(q.payloadOffset, q.end));
  }
  assert.deepEqual(Uint8Array.from(joined), payloadOf(64 * 5 + 10));
  // A USO super-packet from the kernel is taken (partial checksum folded), and given back.
  const h = pb.start - VNET_HDR_LEN;
  pb.data.fill(0, h, pb.start);
  pb.data[h] = 1;
  pb.data[h + 1] = 5;
  pb.data[h + 4] = 64;
  pb.data[h + 6] = 20;
  pb.data[h + 8] = 6;
  const p0 = fold(pseudoSumV4(0x0a00000a, 0xac0f0b50, 17, pb.length - 20));
  pb.data[pb.start + 26] = p0 >>> 8;
  pb.data[pb.start + 27] = p0;
  assert.equal(rxFixup(pb), Rx.Ok);
  assert.equal(pb.gsoSize, 64);
  const hdr = new Uint8Array(VNET_HDR_LEN);
  assert.equal(txHeader(pb, hdr), true);
  assert.equal((pb.data[pb.start + 26] << 8) | pb.data[pb.start + 27], p0);
  assert.deepEqual([...hdr], [1, 5, 28, 0, 64, 0, 20, 0, 6, 0]);
});
