import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Network } from '../../src/emu/network.js';
import { bannerServer, echoServer, sinkServer } from '../../src/emu/servers.js';
import type { TcpConnection } from '../../src/emu/tcp.js';
import { TCP_SYN } from '../../src/wire/tcp.js';
import { chain, pattern } from './helpers.js';

const MB = 1_000_000;

interface Transfer {
  readonly doneMs: number;
  readonly wallMs: number;
  readonly received: Uint8Array;
  readonly client: TcpConnection;
  readonly stats: Record<string, number>;
}

/** a sends `data` to b's sink over the chain and closes; returns when b has all of it and both sides closed. */
function transfer(seed: number, data: Uint8Array, props: Parameters<typeof chain>[1], v6 = false): Transfer {
  const { net, a, b } = chain(seed, props);
  const sink = sinkServer(b, 5001);
  const t0 = performance.now();
  const c = a.tcpConnect(v6 ? '2001:db8:2::10' : '10.0.2.10', 5001);
  c.send(data);
  c.close();
  let doneMs = -1;
  const ok = net.runUntil(() => {
    const s = sink.connections[0];
    if (doneMs < 0 && s && s.bytes === data.length) doneMs = net.sim.elapsedMs;
    return doneMs >= 0 && c.state === 'CLOSED' && s?.conn.state === 'CLOSED';
  }, 600_000);
  const wallMs = performance.now() - t0;
  assert.ok(
    ok,
    `transfer did not finish: client ${c.state} ${c.error}, ${sink.connections[0]?.bytes} bytes at the sink`,
  );
  assert.equal(c.error, undefined);
  return { doneMs, wallMs, received: sink.connections[0].conn.received(), client: c, stats: { ...c.stats } };
}

test('1 MB over two IpRouters with 20 ms latency, 5 ms jitter and 2 % loss arrives byte for byte', () => {
  const data = pattern(MB, 11);
  const props = { latencyMs: 20, jitterMs: 5, lossRate: 0.02 };
  const one = transfer(2026, data, props);
  assert.equal(one.received.length, MB);
  assert.deepEqual(one.received, data);
  assert.ok(one.stats.retransmits > 0, 'a lossy path needs retransmissions');
  // The same seed: the same virtual completion time and the same work, exactly.
  const two = transfer(2026, data, props);
  assert.equal(two.doneMs, one.doneMs);
  assert.deepEqual(two.stats, one.stats);
  const other = transfer(2027, data, props);
  assert.deepEqual(other.received, data);
  assert.notEqual(other.doneMs, one.doneMs);
  console.log(
    `1 MB lossy transfer: ${(one.doneMs / 1000).toFixed(2)} s virtual, ${one.wallMs.toFixed(0)} ms wall; ` +
      `seed 2027: ${(other.doneMs / 1000).toFixed(2)} s virtual, ${other.wallMs.toFixed(0)} ms wall; stats ${JSON.stringify(one.stats)}`,
  );
});

test('TCP over IPv6 across the same lossy path', () => {
  const data = pattern(200_000, 3);
  const r = transfer(5, data, { latencyMs: 10, jitterMs: 5, lossRate: 0.02 }, true);
  assert.deepEqual(r.received, data);
});

test('bandwidth: 1 MB over a 10 Mbit/s link takes about 0.8 s of virtual time', () => {
  const net = new Network({ seed: 1 });
  const link = net.segment('wan', { bandwidthBps: 10_000_000, latencyMs: 1 });
  const a = net.host('a', { interfaces: [{ segment: link, address: '10.0.0.1/24' }] });
  const b = net.host('b', { interfaces: [{ segment: link, address: '10.0.0.2/24' }] });
  const sink = sinkServer(b, 9);
  const c = a.tcpConnect('10.0.0.2', 9);
  c.send(pattern(MB));
  const start = net.sim.elapsedMs;
  assert.ok(net.runUntil(() => sink.connections[0]?.bytes === MB, 60_000));
  const secs = (net.sim.elapsedMs - start) / 1000;
  // 1 MB of payload is 0.8 s; headers add 40 bytes per 1460 and the handshake one round trip.
  assert.ok(secs >= 0.8 && secs < 0.86, `took ${secs} s`);
  assert.equal(link.counters.get('dropped:queue-full'), 0);
  assert.equal(c.stats.retransmits, 0);
});

test('echo server: data comes back, then both sides close with FIN through TIME-WAIT', () => {
  const { net, a, b } = chain(3, { latencyMs: 5, jitterMs: 2, lossRate: 0.01 });
  echoServer(b, 7);
  const c = a.tcpConnect('10.0.2.10', 7);
  const states: string[] = [];
  let connected = false;
  c.onConnect = () => {
    connected = true;
  };
  const msg = pattern(100_000, 4);
  c.send(msg);
  assert.ok(net.runUntil(() => c.bytesReceived === msg.length, 60_000));
  assert.ok(connected);
  assert.deepEqual(c.received(), msg);
  c.onClose = (e) => states.push(`closed:${e}`);
  c.close();
  assert.ok(
    net.runUntil(() => c.state === 'TIME_WAIT', 10_000),
    c.state,
  );
  const t = net.sim.elapsedMs;
  assert.ok(net.runUntil(() => c.state === 'CLOSED', 10_000));
  assert.ok(net.sim.elapsedMs - t <= 2000);
  assert.deepEqual(states, ['closed:undefined']);
  assert.equal(b.tcp.connections().length, 0);
  assert.equal(a.tcp.connections().length, 0);
});

test('banner server: the server speaks first and closes; the client sees data, then the end', () => {
  const { net, a, b } = chain(3, { latencyMs: 2 });
  bannerServer(b, 21, new TextEncoder().encode('220 hello\r\n'));
  const c = a.tcpConnect('10.0.2.10', 21, { localPort: 3333 });
  let ended = false;
  c.onEnd = () => {
    ended = true;
    c.close();
  };
  assert.ok(net.runUntil(() => c.state === 'CLOSED', 10_000));
  assert.ok(ended);
  assert.equal(new TextDecoder().decode(c.received()), '220 hello\r\n');
  assert.equal(c.localPort, 3333);
  assert.equal(c.error, undefined);
});

test('abort sends RST: the peer fails with "connection reset"', () => {
  const { net, a, b } = chain(3, { latencyMs: 2 });
  let server: TcpConnection | undefined;
  b.tcpListen(80, (conn) => {
    server = conn;
  });
  const c = a.tcpConnect('10.0.2.10', 80);
  assert.ok(net.runUntil(() => server?.state === 'ESTABLISHED', 5000));
  c.abort();
  assert.equal(c.state, 'CLOSED');
  assert.equal(c.error, 'aborted');
  assert.ok(net.runUntil(() => server?.state === 'CLOSED', 5000));
  assert.equal(server?.error, 'connection reset');
});

test('with the path cut, retransmissions back off and the connection gives up with an error', () => {
  const { net, a, b, links } = chain(3, { latencyMs: 2 });
  sinkServer(b, 9);
  const c = a.tcpConnect('10.0.2.10', 9);
  assert.ok(net.runUntil(() => c.state === 'ESTABLISHED', 5000));
  links[1].set({ up: false });
  const sendAt = net.sim.elapsedMs;
  c.send(pattern(5000));
  let error: string | undefined;
  c.onClose = (e) => {
    error = e;
  };
  assert.ok(net.runUntil(() => c.state === 'CLOSED', 120_000));
  assert.equal(error, 'connection timed out');
  assert.equal(c.stats.timeouts, 11);
  const took = net.sim.elapsedMs - sendAt;
  // 200 ms floor doubling to the 5 s cap: about 30-45 s to give up.
  assert.ok(took > 20_000 && took < 60_000, `gave up after ${took} ms`);
});

test('a SYN that never gets an answer is retried and times out', () => {
  const { net, a, links } = chain(3, { latencyMs: 2 });
  links[2].set({ lossRate: 1 });
  const syns: number[] = [];
  links[0].tap((t, f) => {
    if (f[9] === 6 && f[33] & TCP_SYN) syns.push(t);
  });
  const c = a.tcpConnect('10.0.2.10', 9, { maxRetries: 3 });
  assert.ok(net.runUntil(() => c.state === 'CLOSED', 60_000));
  assert.equal(c.error, 'connection timed out');
  const gaps = syns.slice(1).map((t, i) => t - syns[i]);
  assert.deepEqual(gaps, [1000, 2000, 4000]); // initial RTO 1 s (RFC 6298), doubling
});

test('path MTU discovery: DF segments too big for a link shrink to fit and the transfer completes', () => {
  const { net, a, b } = chain(3, { latencyMs: 5 }, { mtu: 1000 });
  const sink = sinkServer(b, 9);
  const c = a.tcpConnect('10.0.2.10', 9);
  const data = pattern(300_000, 8);
  c.send(data);
  assert.ok(net.runUntil(() => sink.connections[0]?.bytes === data.length, 60_000));
  assert.deepEqual(sink.connections[0].conn.received(), data);
  assert.equal(c.mss, 960);
  assert.equal(c.stats.pathMtuUpdates, 1);
  assert.equal(a.icmpErrors[0].mtu, 1000);
});

test('no route to the destination: connect fails asynchronously', () => {
  const net = new Network({ seed: 1 });
  const lan = net.segment('lan');
  const a = net.host('a', { interfaces: [{ segment: lan, address: '10.0.0.1/24' }] });
  const c = a.tcpConnect('192.0.2.1', 80);
  let err: string | undefined;
  c.onClose = (e) => {
    err = e;
  };
  net.run(1);
  assert.equal(err, 'no route to host');
});

test('simultaneous close: both sides pass through CLOSING and TIME-WAIT without error', () => {
  const { net, a, b } = chain(4, { latencyMs: 10, jitterMs: 3, lossRate: 0.05 });
  let s: TcpConnection | undefined;
  b.tcpListen(80, (conn) => {
    s = conn;
  });
  const c = a.tcpConnect('10.0.2.10', 80);
  assert.ok(net.runUntil(() => s?.state === 'ESTABLISHED' && c.state === 'ESTABLISHED', 60_000));
  const seen = new Set<string>();
  c.close();
  s?.close();
  assert.ok(
    net.runUntil(() => {
      seen.add(c.state);
      return c.state === 'CLOSED' && s?.state === 'CLOSED';
    }, 120_000),
  );
  assert.ok(seen.has('CLOSING') && seen.has('TIME_WAIT'), [...seen].join(','));
  assert.equal(c.error, undefined);
  assert.equal(s?.error, undefined);
});
