import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipToString } from '../../src/base/address.js';
import type { RxBatch } from '../../src/drivers/driver.js';
import { toAddress } from '../../src/emu/addresses.js';
import { Network } from '../../src/emu/network.js';
import { buildPacket } from '../../src/wire/builder.js';
import { ICMP4_ECHO_REPLY, ICMP4_ECHO_REQUEST } from '../../src/wire/icmp.js';
import { IpPacket } from '../../src/wire/packet.js';

/** h (10.0.1.10) - lan - [svr router via EmulatedDriver: 10.0.1.1 | 10.0.2.1] - wan - g (10.0.2.10). */
function setup() {
  const net = new Network({ seed: 1 });
  const lan = net.segment('lan', { latencyMs: 5 });
  const wan = net.segment('wan', { latencyMs: 5 });
  const h = net.host('h', { interfaces: [{ segment: lan, address: '10.0.1.10/24', gateway: '10.0.1.1' }] });
  const g = net.host('g', { interfaces: [{ segment: wan, address: '10.0.2.10/24', gateway: '10.0.2.1' }] });
  const driver = net.attachDriver('svr1', [
    { segment: lan, addresses: ['10.0.1.1/24'] },
    { segment: wan, addresses: ['10.0.2.1'] },
  ]);
  /** Each batch as [iface, source, destination, ICMP type or -1] per packet. */
  const batches: { t: number; packets: [number, string, string, number][] }[] = [];
  const p = new IpPacket();
  return { net, lan, wan, h, g, driver, batches, p };
}

function describe(p: IpPacket, batch: RxBatch, i: number): [number, string, string, number] {
  const pb = batch.packets[i];
  assert.equal(p.parse(pb.data, pb.start, pb.length), 0);
  return [
    batch.iface[i],
    ipToString({ version: 4, v4: p.ip4.src }),
    ipToString({ version: 4, v4: p.ip4.dst }),
    p.isIcmp ? p.icmp.type : -1,
  ];
}

test('the driver sends a packet onto a segment and the echo reply arrives in a batch', () => {
  const { net, h, driver, batches, p } = setup();
  driver.start((batch) => {
    const got: [number, string, string, number][] = [];
    for (let i = 0; i < batch.count; i++) {
      got.push(describe(p, batch, i));
      driver.release(batch.packets[i]);
    }
    batches.push({ t: net.sim.elapsedMs, packets: got });
  });
  const pb = driver.allocate();
  assert.ok(pb.headroom >= 128, 'buffers have headroom for metadata');
  const req = buildPacket({
    src: '10.0.1.1',
    dst: '10.0.1.10',
    l4: { protocol: 'icmp', type: ICMP4_ECHO_REQUEST, identifier: 9, sequence: 1 },
  });
  pb.data.set(req, pb.start);
  pb.end = pb.start + req.length;
  driver.send(0, pb, undefined);
  net.run(100);
  assert.deepEqual(batches, [{ t: 10, packets: [[0, '10.0.1.10', '10.0.1.1', ICMP4_ECHO_REPLY]] }]);
  assert.equal(h.counters.get('icmp-echo-answered'), 1);
  assert.deepEqual(
    { ...driver.counters },
    { rxPackets: 1, rxBatches: 1, rxDropped: 0, txPackets: 1, txDropped: 0, allocated: 1, released: 1 },
  );
});

test('packets arriving at the same virtual time come in one batch; packets via the router as gateway are delivered too', () => {
  const { net, h, g, driver, batches, p } = setup();
  driver.start((batch) => {
    const got: [number, string, string, number][] = [];
    for (let i = 0; i < batch.count; i++) got.push(describe(p, batch, i));
    batches.push({ t: net.sim.elapsedMs, packets: got });
    // Act as a router: forward what is not for us by destination, drop the rest.
    for (let i = 0; i < batch.count; i++) {
      const pb = batch.packets[i];
      p.parse(pb.data, pb.start, pb.length);
      const dst = p.ip4.dst;
      if (dst === toV4('10.0.1.1') || dst === toV4('10.0.2.1')) driver.release(pb);
      else driver.send(dst >>> 8 === toV4('10.0.2.0') >>> 8 ? 1 : 0, pb, undefined);
    }
  });
  h.ping('10.0.1.1');
  g.ping('10.0.2.1');
  const rx = g.udpBind(53);
  h.udpBind(1000).sendTo('10.0.2.10', 53, Uint8Array.of(42));
  net.run(100);
  assert.deepEqual(batches, [
    {
      t: 5,
      // In arrival order: the datagram was sent at once, the pings from their scheduled events.
      packets: [
        [0, '10.0.1.10', '10.0.2.10', -1],
        [0, '10.0.1.10', '10.0.1.1', ICMP4_ECHO_REQUEST],
        [1, '10.0.2.10', '10.0.2.1', ICMP4_ECHO_REQUEST],
      ],
    },
  ]);
  assert.deepEqual(
    rx.received.map((d) => [d.from, d.data[0]]),
    [['10.0.1.10', 42]],
  );
  assert.equal(driver.counters.rxBatches, 1);
  assert.equal(driver.counters.txPackets, 1);
});

test('buffers return to the pool; a stopped driver drops and counts what arrives; bad sends are counted', () => {
  const { net, h, driver } = setup();
  let delivered = 0;
  driver.start((batch) => {
    delivered += batch.count;
    for (let i = 0; i < batch.count; i++) driver.release(batch.packets[i]);
  });
  const first = driver.allocate();
  driver.release(first);
  assert.equal(driver.allocate(), first, 'the pool hands back the released buffer');
  h.ping('10.0.1.1', { count: 2, intervalMs: 10 });
  net.run(8);
  driver.stop();
  net.run(100);
  assert.equal(delivered, 1);
  assert.equal(driver.counters.rxDropped, 1);
  const pb = driver.allocate();
  const pkt = buildPacket({
    src: '10.0.1.1',
    dst: '10.0.1.99',
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
  });
  pb.data.set(pkt, pb.start);
  pb.end = pb.start + pkt.length;
  driver.send(0, pb, undefined); // nobody owns 10.0.1.99
  driver.send(7, driver.allocate(), toAddress('10.0.1.10')); // no such interface
  assert.equal(driver.counters.txDropped, 2);
});

function toV4(s: string): number {
  const a = toAddress(s);
  return a.version === 4 ? a.v4 : 0;
}
