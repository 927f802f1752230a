import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DropReason } from '../../src/base/drop-reason.js';
import { EventLog, type RouterEvent } from '../../src/base/events.js';

test('[R-8.4-a] a flood of security events writes a few lines a second per reason, and counts the rest', () => {
  const lines: RouterEvent[] = [];
  const log = new EventLog('east', 1000, (e) => lines.push(e), 3);
  // 10 000 forged packets in 2 s: 5 000 a second.
  for (let i = 0; i < 10_000; i++)
    log.security(Math.floor(i / 5), DropReason.HmacMismatch, { source: '203.0.113.200', interface: 'mpls' });
  assert.equal(log.count('hmac-mismatch'), 10_000);
  assert.equal(lines.length, 6, 'three lines in each of the two seconds');
  assert.equal(lines[0].detail?.source, '203.0.113.200');
  // The first line of the second window says what the first window suppressed.
  assert.equal(lines[3].detail?.suppressed, 10_000 / 2 - 3);
  log.flush(2500);
  assert.equal(lines.length, 7);
  assert.equal(lines[6].detail?.suppressed, 10_000 / 2 - 3);
  assert.match(lines[6].message, /4997 more suppressed/);
  log.flush(4000);
  assert.equal(lines.length, 7, 'nothing left to report');
});

test('refusals an operator must know about are logged as rate-limited refusal events; other codes are not limited', () => {
  const lines: RouterEvent[] = [];
  const log = new EventLog('east', 1000, (e) => lines.push(e), 2);
  for (let i = 0; i < 5; i++)
    log.refusal(0, DropReason.WayportsExhausted, { interface: 'lan', source: '10.0.1.9' });
  for (let i = 0; i < 5; i++)
    log.refusal(0, DropReason.AccessDenied, { interface: 'lan', source: '10.0.1.9' });
  for (let i = 0; i < 5; i++) log.emit(0, 'info', 'bfd-state', 'up');
  assert.deepEqual(
    lines.map((e) => `${e.kind}:${e.code}`),
    [
      'refusal:wayports-exhausted',
      'refusal:wayports-exhausted',
      'refusal:access-denied',
      'refusal:access-denied',
      ...Array(5).fill('info:bfd-state'),
    ],
  );
  assert.equal(log.suppressed('wayports-exhausted'), 3);
  assert.equal(log.count('access-denied'), 5);
});
