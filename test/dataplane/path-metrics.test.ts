import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PathMetrics, previousColour } from '../../src/dataplane/path-metrics.js';
import { pathMetricsCodec } from '../../src/wire/metadata/tlvs/path-metrics.js';

/** 7.3.7 alternate marking between two PathMetrics, packets and TLVs passed by hand. */

/** A sends `n` packets to B of which `lost` never arrive. */
function send(a: PathMetrics, b: PathMetrics, n: number, lost = 0): void {
  a.sent[a.txColor] += n;
  b.rxCount += n - lost;
}

test('7.3.7 colours cycle 1..15, never 0 (SD-46)', () => {
  const m = new PathMetrics(100);
  const seen: number[] = [];
  for (let i = 0; i < 16; i++) {
    m.newColourDue = true;
    seen.push(m.mark(i * 100, false).txColor);
  }
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 1]);
  assert.equal(previousColour(1), 15);
  assert.equal(previousColour(7), 6);
});

test('7.3.7 round trip from the time values: the peer holding the answer does not count', () => {
  const a = new PathMetrics(1000);
  const b = new PathMetrics(1000);
  a.newColourDue = true;
  const t1 = a.mark(10_000, false); // A starts colour 1 at 10 000
  assert.equal(t1.txTime, 0);
  assert.equal(b.received(t1, 10_020), true, 'a new colour: an answer is due');
  assert.equal(b.replyDue, true);
  // B answers 300 ms later; the wire back takes 20 ms.
  const t2 = b.mark(10_320, false);
  assert.equal(t2.rxColor, 1);
  assert.equal(t2.rxTime, 300);
  assert.equal(b.replyDue, false);
  assert.equal(a.received(t2, 10_340), false, 'an answer is not answered');
  const f = a.figures();
  assert.equal(f?.latencyMs, 20);
  assert.equal(f?.rttSamples, 1);
  // The bytes on the wire say the same.
  const buf = new Uint8Array(10);
  pathMetricsCodec.write(t2, buf, 0);
  assert.deepEqual(pathMetricsCodec.read(t2.type, buf, 0, 10), t2);
});

test("7.3.7 loss per colour block (RFC 8321): sent minus the peer's count of the previous colour, only when the peer saw that colour start", () => {
  const a = new PathMetrics(1000);
  const b = new PathMetrics(1000);
  let now = 0;
  const step = (n: number, lost: number) => {
    a.newColourDue = true;
    const t = a.mark(now, false);
    send(a, b, n, lost); // the marked packet is the colour's first
    b.received(t, now + 10);
    a.received(b.mark(now + 20, false), now + 30);
    now += 1000;
  };
  step(100, 0); // colour 1: its start acknowledged, no block before it
  assert.equal(a.figures()?.lossPercent, undefined);
  step(100, 5); // colour 2: block 1 (100 sent, all arrived) is measured
  step(100, 10); // colour 3: block 2 lost 5
  step(100, 0); // colour 4: block 3 lost 10
  const f = a.figures();
  assert.equal(f?.lossPackets, 300);
  assert.equal(f?.lossPercent, 5);
});

test('7.3.7 a lost colour mark: the blocks it merges are not measured', () => {
  const a = new PathMetrics(1000);
  const b = new PathMetrics(1000);
  a.newColourDue = true;
  const t1 = a.mark(0, false);
  send(a, b, 50);
  b.received(t1, 10);
  a.received(b.mark(20, false), 30);
  // Colour 2's marked packet is lost: B counts its packets in colour 1.
  a.newColourDue = true;
  a.mark(1000, false);
  send(a, b, 50, 1);
  // Colour 3 arrives: B's count of "the previous colour" spans 1 and 2.
  a.newColourDue = true;
  const t3 = a.mark(2000, false);
  send(a, b, 50);
  b.received(t3, 2010);
  a.received(b.mark(2020, false), 2030);
  assert.equal(a.figures()?.lossPackets, 0, 'no block measured');
});

test("7.3.7 blend (SD-48): fresh in-line figures replace BFD's; stale ones leave BFD's", () => {
  const a = new PathMetrics(1000);
  const b = new PathMetrics(1000);
  const bfd = { latencyMs: 5, lossPercent: 0, jitterMs: 1, mos: 4.4 };
  assert.deepEqual(a.blend(bfd, 0), bfd, 'nothing measured');
  a.newColourDue = true;
  const t = a.mark(0, false);
  b.received(t, 30);
  a.received(b.mark(30, false), 60);
  const q = a.blend(bfd, 100);
  assert.equal(q.latencyMs, 30);
  assert.equal(q.lossPercent, 0, "not enough packets for loss: BFD's");
  assert.equal(q.jitterMs, 1, "one sample: BFD's jitter");
  assert.ok(q.mos !== undefined && q.mos < 4.5);
  assert.deepEqual(a.blend(bfd, 60 + 3001), bfd, 'stale after 3 periods');
  assert.deepEqual(new PathMetrics(0).blend(bfd, 0), bfd, 'off');
});
