import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_TIMERS } from '../../src/config/model.js';
import { TcpState, tcpNewSynEndsSession, tcpNext, tcpTimeoutSeconds } from '../../src/session/tcp-state.js';
import { TimerWheel } from '../../src/session/timer-wheel.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';

test('timer wheel fires each item at its deadline, never early, across many turns', () => {
  const w = new TimerWheel(100, 64, 16, 0);
  const fired: [number, number][] = [];
  const deadlines = [50, 100, 150, 6_399, 6_400, 12_345, 1_900_000];
  for (const [i, d] of deadlines.entries()) w.schedule(i, d);
  for (let now = 0; now <= 2_000_000; now += 37) {
    w.advance(now, (item, d) => {
      assert.ok(d <= now, 'not early');
      assert.ok(now - d < 137, `late by ${now - d} ms`);
      fired.push([item, now]);
    });
  }
  assert.deepEqual(fired.map(([i]) => i).sort(), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(w.size, 0);
});

test('timer wheel: cancel, reschedule from inside a firing, and a long jump of the clock', () => {
  const w = new TimerWheel(100, 32, 8, 0);
  w.schedule(1, 500);
  w.schedule(2, 500);
  w.cancel(2);
  let count = 0;
  w.advance(600, (item) => {
    count++;
    if (count === 1) w.schedule(item, 900); // rescheduled while firing
  });
  assert.equal(count, 1);
  assert.ok(w.isScheduled(1));
  w.schedule(3, 1_000_000);
  w.ensureCapacity(20);
  w.schedule(15, 5_000);
  // One advance far past every deadline fires all of them once.
  const seen: number[] = [];
  w.advance(10_000_000, (item) => seen.push(item));
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    [1, 3, 15],
  );
});

test('3.7.6: TCP is tracked from SYN to established to FIN/FIN-ACK with the close guard', () => {
  let s = TcpState.None;
  s = tcpNext(s, 0, TCP_SYN);
  assert.equal(s, TcpState.SynSent);
  assert.equal(tcpTimeoutSeconds(s, DEFAULT_TIMERS), 10, 'D-10: TCP not yet established');
  assert.equal(tcpNext(s, 0, TCP_SYN), TcpState.SynSent, 'retransmitted SYN');
  s = tcpNext(s, 1, TCP_SYN | TCP_ACK);
  assert.equal(s, TcpState.SynReceived);
  s = tcpNext(s, 0, TCP_ACK);
  assert.equal(s, TcpState.Established);
  assert.equal(tcpTimeoutSeconds(s, DEFAULT_TIMERS), 1900, 'D-10: TCP idle');
  s = tcpNext(s, 0, TCP_FIN | TCP_ACK);
  assert.equal(s, TcpState.FinForward);
  s = tcpNext(s, 0, TCP_ACK);
  assert.equal(s, TcpState.FinForward);
  s = tcpNext(s, 1, TCP_FIN | TCP_ACK);
  assert.equal(s, TcpState.Closed);
  assert.equal(tcpTimeoutSeconds(s, DEFAULT_TIMERS), 5, 'D-10: close guard');
  assert.ok(tcpNewSynEndsSession(s, TCP_SYN));
  assert.ok(!tcpNewSynEndsSession(s, TCP_SYN | TCP_ACK));
  assert.ok(!tcpNewSynEndsSession(TcpState.Established, TCP_SYN));
});

test('3.7.6: RST from any state starts the close guard; the responder may close first', () => {
  for (const st of [
    TcpState.None,
    TcpState.SynSent,
    TcpState.SynReceived,
    TcpState.Established,
    TcpState.FinReverse,
  ])
    assert.equal(tcpNext(st, 1, TCP_RST), TcpState.Reset);
  assert.equal(tcpNext(TcpState.Established, 1, TCP_FIN), TcpState.FinReverse);
  assert.equal(tcpNext(TcpState.FinReverse, 0, TCP_FIN | TCP_ACK), TcpState.Closed);
  // A SYN/ACK from the initiator's side does not advance the handshake.
  assert.equal(tcpNext(TcpState.SynSent, 0, TCP_SYN | TCP_ACK), TcpState.SynSent);
});
