import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Network } from '../../src/emu/network.js';
import { echoServer } from '../../src/emu/servers.js';
import { buildPacket } from '../../src/wire/builder.js';
import { TCP_ACK, TCP_SYN } from '../../src/wire/tcp.js';
import { pattern } from './helpers.js';

/** a - mb - b, with the middlebox of draft section 2.4 in the middle. */
function path() {
  const net = new Network({ seed: 1 });
  const left = net.segment('left', { latencyMs: 2 });
  const right = net.segment('right', { latencyMs: 2 });
  const a = net.host('a', { interfaces: [{ segment: left, address: '10.1.0.10/24', gateway: '10.1.0.1' }] });
  const mb = net.middlebox('mb', {
    interfaces: [
      { segment: left, address: '10.1.0.1/24' },
      { segment: right, address: '10.2.0.1/24' },
    ],
  });
  const b = net.host('b', { interfaces: [{ segment: right, address: '10.2.0.10/24', gateway: '10.2.0.1' }] });
  return { net, a, mb, b };
}

function syn(payload?: Uint8Array): Uint8Array {
  return buildPacket({
    src: '10.1.0.10',
    dst: '10.2.0.10',
    l4: { protocol: 'tcp', srcPort: 6969, dstPort: 22, seq: 1000, flags: TCP_SYN },
    payload,
  });
}

test('[2.4] the middlebox drops a SYN carrying payload (where SVR metadata goes) and counts it', () => {
  const { net, a, mb, b } = path();
  const seen: number[] = [];
  b.onPacket = (p) => seen.push(p.payloadLength);
  a.send(syn(pattern(178))); // the size of the draft's forward metadata block
  net.run(100);
  assert.deepEqual(seen, []);
  assert.equal(mb.counters.get('filter:syn-with-payload'), 1);
  // The same SYN without payload passes (b, with port 22 closed, answers RST).
  a.send(syn());
  net.run(100);
  assert.deepEqual(seen, [0]);
  assert.equal(b.counters.get('tcp-closed-port'), 1);
  assert.equal(mb.counters.get('filter:syn-with-payload'), 1);
});

test('[2.4] an ordinary handshake and data after it pass the middlebox', () => {
  const { net, a, mb, b } = path();
  echoServer(b, 7);
  const c = a.tcpConnect('10.2.0.10', 7);
  const data = pattern(20_000, 2);
  c.send(data);
  assert.ok(net.runUntil(() => c.bytesReceived === data.length, 10_000));
  assert.deepEqual(c.received(), data);
  assert.equal(mb.counters.get('filter:syn-with-payload'), 0);
  // A data segment with ACK and no SYN is not the middlebox's business.
  a.send(
    buildPacket({
      src: '10.1.0.10',
      dst: '10.2.0.10',
      l4: { protocol: 'tcp', srcPort: 1, dstPort: 2, flags: TCP_ACK },
      payload: pattern(10),
    }),
  );
  net.run(100);
  assert.equal(mb.counters.get('filter:syn-with-payload'), 0);
});
