import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DropReason } from '../../src/base/drop-reason.js';
import { SeededRandom } from '../../src/base/random.js';
import { Simulator } from '../../src/emu/sim.js';
import {
  type BfdEvent,
  BfdSession,
  type BfdSessionOptions,
  TRANSITIONS,
  transition,
} from '../../src/peering/bfd-session.js';
import {
  BFD_CONTROL_LENGTH,
  BfdControl,
  type BfdControlFields,
  BfdDiag,
  BfdState,
  writeBfdControl,
} from '../../src/wire/bfd.js';

const { AdminDown, Down, Init, Up } = BfdState;
const STATES = [AdminDown, Down, Init, Up];
const EVENTS: BfdEvent[] = [
  'rx-AdminDown',
  'rx-Down',
  'rx-Init',
  'rx-Up',
  'detect-timeout',
  'admin-down',
  'admin-up',
];

/** D-6 defaults. */
const D6 = { desiredMinTxMs: 1000, requiredMinRxMs: 500, detectMult: 3 };

interface Sent {
  at: number;
  f: BfdControlFields;
}
interface Change {
  at: number;
  from: BfdState;
  to: BfdState;
  diag: BfdDiag;
}

type Tuning = Partial<Pick<BfdSessionOptions, 'desiredMinTxMs' | 'requiredMinRxMs' | 'detectMult'>>;

/** One session whose packets are only recorded. */
function lone(tuning: Tuning = {}, seed = 1) {
  const sim = new Simulator(0);
  const sent: Sent[] = [];
  const changes: Change[] = [];
  const s = new BfdSession({
    scheduler: sim,
    random: new SeededRandom(seed),
    ...D6,
    ...tuning,
    send: (f) => sent.push({ at: sim.now(), f: { ...f } }),
    onStateChange: (from, to, diag) => changes.push({ at: sim.now(), from, to, diag }),
  });
  return { sim, s, sent, changes };
}

/** A packet from a made-up remote, as fields. */
function remote(state: BfdState, your: number, more: Partial<BfdControlFields> = {}): BfdControlFields {
  return {
    diag: BfdDiag.None,
    state,
    poll: false,
    final: false,
    detectMult: 3,
    myDiscriminator: 0xabc,
    yourDiscriminator: your,
    desiredMinTxUs: 1_000_000,
    requiredMinRxUs: 500_000,
    requiredMinEchoRxUs: 0,
    ...more,
  };
}

/**
 * Two sessions back to back through the simulator: packets go through the wire format (write,
 * parse) with a one-way delay, and are lost while the link is cut (checked on arrival).
 */
function pair(o: { delayMs?: number; a?: Tuning; b?: Tuning; seed?: number } = {}) {
  const sim = new Simulator(0);
  const random = new SeededRandom(o.seed ?? 7);
  const link = { up: true, delayMs: o.delayMs ?? 10 };
  const view = new BfdControl();
  const side = (name: 'a' | 'b', tuning: Tuning = {}) => {
    const rec = {
      sent: [] as Sent[],
      changes: [] as Change[],
      drops: [] as DropReason[],
      lastRx: -1,
      session: undefined as unknown as BfdSession,
    };
    rec.session = new BfdSession({
      scheduler: sim,
      random,
      ...D6,
      ...tuning,
      send: (f) => {
        rec.sent.push({ at: sim.now(), f: { ...f } });
        const buf = new Uint8Array(BFD_CONTROL_LENGTH);
        writeBfdControl(buf, 0, f, 0);
        sim.at(sim.now() + link.delayMs, () => {
          if (!link.up) return;
          const peer = name === 'a' ? b : a;
          assert.equal(view.parse(buf, 0, buf.length), DropReason.None);
          const r = peer.session.receive(view);
          if (r) peer.drops.push(r);
          else peer.lastRx = sim.now();
        });
      },
      onStateChange: (from, to, diag) => rec.changes.push({ at: sim.now(), from, to, diag }),
    });
    return rec;
  };
  const a = side('a', o.a);
  const b = side('b', o.b);
  const bothUp = () => a.session.state === Up && b.session.state === Up;
  return { sim, link, a, b, bothUp };
}

test('RFC 5880 6.2: Down -> Init -> Up three-way handshake', () => {
  const { sim, a, b, bothUp } = pair({ delayMs: 25 });
  a.session.start();
  b.session.start();
  assert.equal(a.session.state, Down);
  assert.ok(sim.runUntil(bothUp, 10_000));
  // Both start Down at once: each hears Down (-> Init), then Init (-> Up): two one-way trips.
  assert.equal(sim.now(), 50);
  for (const s of [a, b]) {
    assert.deepEqual(
      s.changes.map((c) => [c.from, c.to, c.diag]),
      [
        [Down, Init, BfdDiag.None],
        [Init, Up, BfdDiag.None],
      ],
    );
  }
  assert.equal(a.session.remoteDiscriminator, b.session.localDiscriminator);
  assert.equal(b.session.remoteDiscriminator, a.session.localDiscriminator);
  // 6.8.1: discriminators are random and nonzero.
  assert.notEqual(a.session.localDiscriminator, 0);
  assert.notEqual(a.session.localDiscriminator, b.session.localDiscriminator);
  // The first packet carries Your Discriminator 0 and state Down (6.8.7).
  assert.equal(a.sent[0].at, 0);
  assert.equal(a.sent[0].f.state, Down);
  assert.equal(a.sent[0].f.yourDiscriminator, 0);
});

test('RFC 5880 6.2: a late starter is brought Up too (Down -> Up on hearing Init)', () => {
  const { sim, a, b, bothUp } = pair({ delayMs: 5 });
  a.session.start();
  sim.run(2500);
  assert.equal(a.session.state, Down);
  b.session.start();
  assert.ok(sim.runUntil(bothUp, 5000));
  assert.ok(sim.now() < 2500 + 1100);
  assert.deepEqual([...a.changes, ...b.changes].map((c) => c.to).sort(), [Init, Up, Up].sort());
});

test('D-6 / RFC 5880 6.8.4: a cut link takes both sides Down after detectMult x the negotiated interval, diag 1', () => {
  const { sim, link, a, b, bothUp } = pair({ delayMs: 10 });
  a.session.start();
  b.session.start();
  assert.ok(sim.runUntil(bothUp, 5000));
  sim.run(20_000);
  assert.ok(bothUp());
  // D-6 defaults: 3 x max(500 ms local RequiredMinRx, 1000 ms remote DesiredMinTx).
  assert.equal(a.session.detectionTimeMs, 3000);
  assert.equal(b.session.detectionTimeMs, 3000);
  assert.equal(a.session.txIntervalMs, 1000);
  const cutAt = sim.now();
  link.up = false;
  assert.ok(sim.runUntil(() => a.session.state === Down && b.session.state === Down, 10_000));
  for (const s of [a, b]) {
    const down = s.changes[s.changes.length - 1];
    assert.equal(down.from, Up);
    assert.equal(down.to, Down);
    assert.equal(down.diag, BfdDiag.ControlDetectionTimeExpired);
    assert.equal(s.session.diag, BfdDiag.ControlDetectionTimeExpired);
    // Exactly one Detection Time after the last packet, and never later than one after the cut.
    assert.equal(down.at, s.lastRx + 3000);
    assert.ok(down.at - cutAt <= 3000, `down ${down.at - cutAt} ms after the cut`);
    assert.ok(down.at - cutAt > 3000 - 1000 - 10);
    // 6.8.1: the remote discriminator is forgotten.
    assert.equal(s.session.remoteDiscriminator, 0);
  }
  // Down, the sessions go on sending Down with Your Discriminator 0, at most once a second.
  const last = a.sent[a.sent.length - 1].f;
  assert.equal(last.state, Down);
  assert.equal(last.yourDiscriminator, 0);
  assert.equal(last.diag, BfdDiag.ControlDetectionTimeExpired);

  // Heal: Up again within one slow interval and three trips.
  sim.run(5000);
  const healAt = sim.now();
  link.up = true;
  assert.ok(sim.runUntil(bothUp, 10_000));
  assert.ok(sim.now() - healAt <= 1000 + 3 * 10, `up ${sim.now() - healAt} ms after healing`);
  assert.equal(a.session.diag, BfdDiag.None);
  assert.equal(b.session.diag, BfdDiag.None);
});

test('RFC 5880 6.8.4: the detection time is armed only once a packet was received', () => {
  const { sim, s, changes } = lone();
  s.start();
  sim.run(60_000);
  assert.equal(s.state, Down);
  assert.equal(changes.length, 0);
  assert.equal(s.detectionTimeMs, 0);
  // One packet arms it: remote DetectMult x max(our RequiredMinRx, remote DesiredMinTx).
  s.receive(remote(Down, 0, { detectMult: 5, desiredMinTxUs: 200_000 }));
  assert.equal(s.state, Init);
  assert.equal(s.detectionTimeMs, 5 * 500);
  s.receive(remote(Init, s.localDiscriminator, { detectMult: 2, desiredMinTxUs: 2_000_000 }));
  assert.equal(s.detectionTimeMs, 2 * 2000);
  const t0 = sim.now();
  assert.ok(sim.runUntil(() => s.state === Down, 10_000));
  assert.equal(sim.now() - t0, 4000);
  assert.equal(s.diag, BfdDiag.ControlDetectionTimeExpired);
});

test('RFC 5880 6.8.3 / 6.5: Poll/Final interval change', () => {
  const { sim, a, b, bothUp } = pair({
    delayMs: 20,
    a: { requiredMinRxMs: 2000 },
    b: { requiredMinRxMs: 100 },
  });
  a.session.start();
  b.session.start();
  assert.ok(sim.runUntil(bothUp, 5000));
  sim.run(5000);
  assert.equal(a.session.pollInProgress, false);
  assert.equal(a.session.txIntervalMs, 1000);
  // a's own detection: 3 x max(2000 RequiredMinRx, 1000 remote TX).
  assert.equal(a.session.detectionTimeMs, 6000);

  // Faster TX and a shorter RX.
  let mark = a.sent.length;
  a.session.changeIntervals(200, 100);
  const poll = a.sent[mark];
  assert.ok(poll, 'the Poll goes out at once');
  assert.equal(poll.at, sim.now());
  assert.equal(poll.f.poll, true);
  assert.equal(poll.f.final, false);
  assert.equal(poll.f.desiredMinTxUs, 200_000);
  assert.equal(poll.f.requiredMinRxUs, 100_000);
  assert.equal(a.session.pollInProgress, true);
  // A faster TX applies at once; a shorter RX only after the Final (6.8.3).
  assert.equal(a.session.txIntervalMs, 200);
  assert.equal(a.session.detectionTimeMs, 6000);
  const bMark = b.sent.length;
  sim.run(40);
  const fin = b.sent.slice(bMark).find((s) => s.f.final);
  assert.ok(fin, 'b answers with a Final');
  assert.equal(fin.at, poll.at + 20, 'the Final is immediate (6.8.7)');
  assert.equal(fin.f.poll, false);
  assert.equal(a.session.pollInProgress, false);
  assert.equal(a.session.detectionTimeMs, 3000);
  assert.equal(b.session.detectionTimeMs, 3 * 200);
  // Every packet of the sequence had P set, none after.
  sim.run(3000);
  for (const s of a.sent.slice(mark)) assert.equal(s.f.poll, s.at < fin.at + 20, `P at ${s.at}`);
  assert.ok(bothUp());

  // A slower TX waits for the Final before it is used (6.8.3).
  mark = a.sent.length;
  a.session.changeIntervals(1500, 100);
  assert.equal(a.session.txIntervalMs, 200);
  assert.equal(a.sent[mark].f.desiredMinTxUs, 1_500_000);
  sim.run(40);
  assert.equal(a.session.pollInProgress, false);
  assert.equal(a.session.txIntervalMs, 1500);
  assert.equal(b.session.detectionTimeMs, 3 * 1500);
  sim.run(20_000);
  assert.ok(bothUp());
  const gaps = a.sent.slice(-10).map((s, i, all) => (i ? s.at - all[i - 1].at : 1500));
  for (const g of gaps) assert.ok(g >= 1125 && g <= 1500, `gap ${g}`);
});

test('RFC 5880 6.8.3: while not Up, transmit no faster than once a second; going Up polls the faster rate', () => {
  const { sim, a, b, bothUp } = pair({
    delayMs: 5,
    a: { desiredMinTxMs: 100, requiredMinRxMs: 100 },
    b: { desiredMinTxMs: 100, requiredMinRxMs: 100 },
  });
  a.session.start();
  sim.run(10_000);
  // Alone: slow rate, and the slow rate advertised.
  for (const s of a.sent) assert.equal(s.f.desiredMinTxUs, 1_000_000);
  for (let i = 1; i < a.sent.length; i++) assert.ok(a.sent[i].at - a.sent[i - 1].at >= 750);
  b.session.start();
  assert.ok(sim.runUntil(bothUp, 5000));
  sim.run(100);
  assert.equal(a.session.txIntervalMs, 100);
  assert.ok(a.sent.some((s) => s.f.poll && s.f.desiredMinTxUs === 100_000));
  sim.run(2000);
  assert.equal(a.session.pollInProgress, false);
  assert.equal(b.session.detectionTimeMs, 300);
  const tail = a.sent.slice(-10);
  for (let i = 1; i < tail.length; i++) assert.ok(tail[i].at - tail[i - 1].at < 100);
});

test('RFC 5880 6.8.16: admin down sends AdminDown and the peer goes Down with diag 3', () => {
  const { sim, a, b, bothUp } = pair({ delayMs: 10 });
  a.session.start();
  b.session.start();
  assert.ok(sim.runUntil(bothUp, 5000));
  sim.run(3000);
  const mark = a.sent.length;
  a.session.setAdminDown(true);
  assert.equal(a.session.state, AdminDown);
  assert.equal(a.session.diag, BfdDiag.AdministrativelyDown);
  assert.deepEqual(a.changes.at(-1), {
    at: sim.now(),
    from: Up,
    to: AdminDown,
    diag: BfdDiag.AdministrativelyDown,
  });
  const adm = a.sent[mark];
  assert.equal(adm.at, sim.now(), 'sent at once');
  assert.equal(adm.f.state, AdminDown);
  assert.equal(adm.f.diag, BfdDiag.AdministrativelyDown);
  sim.run(10);
  assert.equal(b.session.state, Down);
  assert.equal(b.session.diag, BfdDiag.NeighborSignaledSessionDown);
  // b's packets are discarded while AdminDown; AdminDown packets keep b from timing out.
  sim.run(30_000);
  assert.equal(a.session.state, AdminDown);
  assert.equal(b.session.state, Down);
  assert.equal(b.session.diag, BfdDiag.NeighborSignaledSessionDown);
  assert.ok(a.drops.length > 10 && a.drops.every((d) => d === DropReason.BfdAdminDown));
  assert.ok(a.sent.slice(mark).every((s) => s.f.state === AdminDown));
  // Back in service.
  a.session.setAdminDown(false);
  assert.equal(a.session.state, Down);
  assert.ok(sim.runUntil(bothUp, 5000));
  assert.equal(a.session.diag, BfdDiag.None);
});

test('RFC 5880 6.8.6: a remote Down while Up takes the session Down with diag 3', () => {
  const { s, changes } = lone();
  s.start();
  s.receive(remote(Down, 0));
  s.receive(remote(Up, s.localDiscriminator));
  assert.equal(s.state, Up);
  // The peer restarted: Down, Your Discriminator 0.
  assert.equal(s.receive(remote(Down, 0, { myDiscriminator: 0xdef })), DropReason.None);
  assert.equal(s.state, Down);
  assert.equal(s.diag, BfdDiag.NeighborSignaledSessionDown);
  assert.equal(s.remoteDiscriminator, 0xdef);
  assert.deepEqual(
    changes.map((c) => c.to),
    [Init, Up, Down],
  );
});

test('RFC 5880 6.8.6: session checks on reception', () => {
  const { s } = lone();
  s.start();
  const other = (s.localDiscriminator ^ 1) >>> 0 || 2;
  assert.equal(s.receive(remote(Up, other)), DropReason.BfdBadYourDiscriminator);
  assert.equal(s.receive(remote(Init, 0)), DropReason.BfdBadYourDiscriminator);
  assert.equal(s.receive(remote(Up, 0)), DropReason.BfdBadYourDiscriminator);
  assert.equal(s.receive(remote(Down, 0, { myDiscriminator: 0 })), DropReason.BfdBadMyDiscriminator);
  assert.equal(s.receive(remote(Down, 0, { detectMult: 0 })), DropReason.BfdBadDetectMult);
  assert.equal(s.state, Down);
  assert.equal(s.remoteDiscriminator, 0, 'refused packets change nothing');
  assert.equal(s.receive(remote(Down, 0)), DropReason.None);
  assert.equal(s.remoteDiscriminator, 0xabc);
  assert.equal(s.receive(remote(Init, s.localDiscriminator)), DropReason.None);
  assert.equal(s.state, Up);
});

test('RFC 5880 6.8.6 / 6.8.7: a Poll is answered at once with Final set and Poll clear', () => {
  const { sim, s, sent } = lone();
  s.start();
  sim.run(100);
  const mark = sent.length;
  s.receive(remote(Down, 0, { poll: true }));
  assert.equal(sent.length, mark + 1, 'one packet: the Final carries the new state too');
  assert.equal(sent[mark].at, sim.now());
  assert.equal(sent[mark].f.final, true);
  assert.equal(sent[mark].f.poll, false);
  assert.equal(sent[mark].f.state, Init);
  // A Final with no Poll of ours in progress is harmless.
  s.receive(remote(Init, s.localDiscriminator, { final: true }));
  assert.equal(s.state, Up);
});

test('RFC 5880 6.8.7: no packet while the remote RequiredMinRx is 0', () => {
  const { sim, s, sent } = lone();
  s.start();
  s.receive(remote(Down, 0, { requiredMinRxUs: 0 }));
  const mark = sent.length;
  s.sendNow();
  s.receive(remote(Down, 0, { requiredMinRxUs: 0, poll: true }));
  sim.run(10_000);
  assert.equal(sent.length, mark);
  // The remote asks again: packets resume.
  s.receive(remote(Down, 0, { requiredMinRxUs: 300_000 }));
  sim.run(1000);
  assert.ok(sent.length > mark);
});

test('RFC 5880 6.8.7: no periodic packets when the remote is in Demand mode and both are Up', () => {
  const { sim, s, sent } = lone();
  s.start();
  s.receive(remote(Down, 0));
  s.receive(remote(Up, s.localDiscriminator, { demand: true, desiredMinTxUs: 60_000_000 }));
  assert.equal(s.state, Up);
  const mark = sent.length;
  sim.run(30_000);
  assert.equal(sent.length, mark);
  // A Poll is still answered.
  s.receive(remote(Up, s.localDiscriminator, { demand: true, poll: true, desiredMinTxUs: 60_000_000 }));
  assert.equal(sent.length, mark + 1);
  assert.equal(sent[mark].f.final, true);
});

test('RFC 5880 6.8.7: periodic packets are jittered 75-100% of the interval', () => {
  const { sim, s, sent } = lone({}, 99);
  s.start();
  sim.run(1_000_000);
  const gaps = sent.slice(1).map((p, i) => p.at - sent[i].at);
  assert.ok(gaps.length > 1000);
  for (const g of gaps) assert.ok(g >= 750 && g < 1000, `gap ${g}`);
  assert.ok(Math.min(...gaps) < 760 && Math.max(...gaps) > 990, 'the whole range is used');
  assert.equal(sent[0].at, 0, 'the first packet is not delayed');
});

test('RFC 5880 6.8.7: with DetectMult 1 the jitter is 75-90%', () => {
  const { sim, s, sent } = lone({ detectMult: 1 }, 100);
  s.start();
  sim.run(1_000_000);
  const gaps = sent.slice(1).map((p, i) => p.at - sent[i].at);
  assert.ok(gaps.length > 1000);
  for (const g of gaps) assert.ok(g >= 750 && g < 900, `gap ${g}`);
  assert.ok(Math.min(...gaps) < 760 && Math.max(...gaps) > 890);
});

test('RFC 5880 6.8.7: the interval is the larger of our DesiredMinTx and the remote RequiredMinRx', () => {
  const { sim, s, sent } = lone({ desiredMinTxMs: 100 });
  s.start();
  s.receive(remote(Down, 0));
  // A remote that sends once a minute: no detection timeout during the test.
  s.receive(remote(Init, s.localDiscriminator, { requiredMinRxUs: 400_000, desiredMinTxUs: 60_000_000 }));
  assert.equal(s.state, Up);
  assert.equal(s.txIntervalMs, 400);
  sim.run(100);
  const mark = sent.length;
  sim.run(40_000);
  const gaps = sent.slice(mark + 1).map((p, i) => p.at - sent[mark + i].at);
  for (const g of gaps) assert.ok(g >= 300 && g < 400, `gap ${g}`);
});

test('RFC 5880 6.8.7: sendNow adds a packet without disturbing the periodic schedule', () => {
  const plain = lone({}, 5);
  const extra = lone({}, 5);
  plain.s.start();
  extra.s.start();
  for (let t = 0; t < 20_000; t += 333) {
    plain.sim.run(333);
    extra.sim.run(333);
    extra.s.sendNow();
  }
  const periodic = extra.sent.filter((p) => p.at === 0 || plain.sent.some((q) => q.at === p.at));
  assert.deepEqual(
    periodic.map((p) => p.at),
    plain.sent.map((p) => p.at),
  );
  assert.ok(extra.sent.length > plain.sent.length + 50);
});

test('RFC 5880 6.8.1: stop cancels every timer; start resumes', () => {
  const { sim, s, sent } = lone();
  s.start();
  s.receive(remote(Down, 0));
  assert.ok(sim.pending >= 2);
  s.stop();
  assert.equal(sim.pending, 0);
  const mark = sent.length;
  s.sendNow();
  sim.run(10_000);
  assert.equal(sent.length, mark);
  s.start();
  assert.equal(sent.length, mark + 1);
});

test('D-6: the defaults on the wire', () => {
  const { s, sent } = lone();
  s.start();
  const f = sent[0].f;
  assert.equal(f.desiredMinTxUs, 1_000_000);
  assert.equal(f.requiredMinRxUs, 500_000);
  assert.equal(f.detectMult, 3);
  assert.equal(f.requiredMinEchoRxUs, 0);
  assert.equal(f.myDiscriminator, s.localDiscriminator);
  assert.throws(() => lone({ detectMult: 0 }), RangeError);
  assert.throws(() => lone({ desiredMinTxMs: 0 }), RangeError);
  assert.throws(() => lone({ requiredMinRxMs: -1 }), RangeError);
});

// ---- the transition table, entry by entry ----

/** RFC 5880 6.8.6 (and 6.8.4, 6.8.16) written out independently of the implementation. */
const EXPECTED: Record<BfdState, Record<BfdEvent, [BfdState, BfdDiag | undefined]>> = {
  [AdminDown]: {
    'rx-AdminDown': [AdminDown, undefined],
    'rx-Down': [AdminDown, undefined],
    'rx-Init': [AdminDown, undefined],
    'rx-Up': [AdminDown, undefined],
    'detect-timeout': [AdminDown, undefined],
    'admin-down': [AdminDown, undefined],
    'admin-up': [Down, BfdDiag.None],
  },
  [Down]: {
    'rx-AdminDown': [Down, undefined],
    'rx-Down': [Init, undefined],
    'rx-Init': [Up, BfdDiag.None],
    'rx-Up': [Down, undefined],
    'detect-timeout': [Down, undefined],
    'admin-down': [AdminDown, BfdDiag.AdministrativelyDown],
    'admin-up': [Down, undefined],
  },
  [Init]: {
    'rx-AdminDown': [Down, BfdDiag.NeighborSignaledSessionDown],
    'rx-Down': [Init, undefined],
    'rx-Init': [Up, BfdDiag.None],
    'rx-Up': [Up, BfdDiag.None],
    'detect-timeout': [Down, BfdDiag.ControlDetectionTimeExpired],
    'admin-down': [AdminDown, BfdDiag.AdministrativelyDown],
    'admin-up': [Init, undefined],
  },
  [Up]: {
    'rx-AdminDown': [Down, BfdDiag.NeighborSignaledSessionDown],
    'rx-Down': [Down, BfdDiag.NeighborSignaledSessionDown],
    'rx-Init': [Up, undefined],
    'rx-Up': [Up, undefined],
    'detect-timeout': [Down, BfdDiag.ControlDetectionTimeExpired],
    'admin-down': [AdminDown, BfdDiag.AdministrativelyDown],
    'admin-up': [Up, undefined],
  },
};

/** A started session brought into `state` through its public API, with a packet received. */
function sessionIn(state: BfdState) {
  const l = lone();
  const { s } = l;
  s.start();
  // Every state is entered with a packet received, so the detection timer is armed.
  if (state === Down) s.receive(remote(AdminDown, 0));
  if (state === Init || state === Up) s.receive(remote(Down, 0));
  if (state === Up) s.receive(remote(Init, s.localDiscriminator));
  if (state === AdminDown) {
    s.receive(remote(Down, 0));
    s.setAdminDown(true);
  }
  assert.equal(s.state, state);
  l.changes.length = 0;
  return l;
}

for (const state of STATES) {
  for (const event of EVENTS) {
    const [next, diag] = EXPECTED[state][event];
    test(`RFC 5880 6.8.6 transition table: ${BfdState[state]} + ${event} -> ${BfdState[next]}${diag === undefined ? '' : `, diag ${diag}`}`, () => {
      // The pure table.
      assert.deepEqual(transition(state, event), diag === undefined ? { next } : { next, diag });
      assert.equal(TRANSITIONS[state][event], transition(state, event));
      // The same step through a live session.
      const { sim, s, sent, changes } = sessionIn(state);
      const diagBefore = s.diag;
      const mark = sent.length;
      const your = s.localDiscriminator;
      let r = DropReason.None;
      switch (event) {
        case 'rx-AdminDown':
          r = s.receive(remote(AdminDown, 0));
          break;
        case 'rx-Down':
          r = s.receive(remote(Down, 0));
          break;
        case 'rx-Init':
          r = s.receive(remote(Init, your));
          break;
        case 'rx-Up':
          r = s.receive(remote(Up, your));
          break;
        case 'detect-timeout':
          sim.run(3001);
          break;
        case 'admin-down':
          s.setAdminDown(true);
          break;
        case 'admin-up':
          s.setAdminDown(false);
          break;
      }
      // 6.8.6: packets are discarded while AdminDown.
      const discarded = state === AdminDown && event.startsWith('rx-');
      assert.equal(r, discarded ? DropReason.BfdAdminDown : DropReason.None);
      assert.equal(s.state, next);
      assert.equal(s.diag, diag ?? diagBefore);
      if (next !== state) {
        assert.deepEqual(
          changes.map((c) => [c.from, c.to, c.diag]),
          [[state, next, s.diag]],
        );
        // A change is announced at once.
        const announced = sent.slice(mark).find((p) => p.f.state === next);
        assert.equal(announced?.at, changes[0].at);
      } else if (event !== 'detect-timeout') assert.equal(changes.length, 0);
      if (event === 'detect-timeout' && state !== AdminDown) assert.equal(s.remoteDiscriminator, 0);
    });
  }
}
