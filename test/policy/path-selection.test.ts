import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DropReason } from '../../src/base/drop-reason.js';
import type { ServicePolicyModel } from '../../src/config/model.js';
import {
  DEFAULT_SERVICE_POLICY,
  flowHash,
  type PathCandidate,
  type PathChoice,
  selectPath,
} from '../../src/policy/path-selection.js';

/** Figure 3: East's three paths to West with their measured quality. */
const FIGURE3: PathCandidate[] = [
  {
    id: 0,
    vector: 'mpls',
    up: true,
    weight: 1,
    activeSessions: 0,
    quality: { latencyMs: 20, lossPercent: 0, jitterMs: 2 },
  },
  {
    id: 1,
    vector: 'internet',
    up: true,
    weight: 1,
    activeSessions: 0,
    quality: { latencyMs: 30, lossPercent: 0, jitterMs: 3 },
  },
  {
    id: 2,
    vector: 'lte',
    up: true,
    weight: 1,
    activeSessions: 0,
    quality: { latencyMs: 50, lossPercent: 0, jitterMs: 15 },
  },
];

function policy(over: Partial<ServicePolicyModel>): ServicePolicyModel {
  return { ...DEFAULT_SERVICE_POLICY, name: 'p', ...over };
}

function chosen(c: PathChoice): number {
  if ('reason' in c) throw new Error(`no path: ${c.reason}`);
  return c.index;
}

const sla40 = { maxLatencyMs: 40, maxLossPercent: undefined, maxJitterMs: undefined, minMos: undefined };

test('3.7.1.4: with the draft figures, latency < 40 ms rules out LTE and MPLS wins on latency', () => {
  const p = policy({ sla: sla40 });
  const c = selectPath(FIGURE3, p, 0, { next: 0 });
  assert.equal(chosen(c), 0);
  assert.ok(!('reason' in c) && c.withinSla);
  // LTE is never chosen while another path meets the SLA, whatever the balancing.
  for (const lb of ['round-robin', 'least-busy', 'proportional', 'source-hash'] as const) {
    const state = { next: 0 };
    for (let h = 0; h < 50; h++)
      assert.notEqual(
        chosen(selectPath(FIGURE3, policy({ sla: sla40, loadBalancing: lb }), h * 7919, state)),
        2,
        lb,
      );
  }
});

test('vector costs set path preference: the cheapest vector wins before quality is compared', () => {
  const p = policy({
    vectorCosts: new Map([
      ['mpls', 100],
      ['internet', 10],
      ['lte', 10],
    ]),
  });
  assert.equal(chosen(selectPath(FIGURE3, p, 0, { next: 0 })), 1, 'internet: cheap and better than lte');
  const never = policy({
    vectorCosts: new Map<string, number | 'never'>([
      ['mpls', 'never'],
      ['internet', 'never'],
    ]),
  });
  assert.equal(chosen(selectPath(FIGURE3, never, 0, { next: 0 })), 2, "'never' excludes a vector");
});

test('a path that is down never gets a new session; none up is a drop', () => {
  const down = FIGURE3.map((c) => (c.id === 0 ? { ...c, up: false } : c));
  assert.equal(chosen(selectPath(down, policy({ sla: sla40 }), 0, { next: 0 })), 1);
  const allDown = FIGURE3.map((c) => ({ ...c, up: false }));
  assert.deepEqual(selectPath(allDown, DEFAULT_SERVICE_POLICY, 0, { next: 0 }), {
    reason: DropReason.NoPeerPath,
  });
});

test('no path meets the SLA: best effort takes the best usable one, otherwise the session is refused', () => {
  const tight = { ...sla40, maxLatencyMs: 10 };
  const be = selectPath(FIGURE3, policy({ sla: tight, bestEffort: true }), 0, { next: 0 });
  assert.ok(!('reason' in be) && be.index === 0 && !be.withinSla);
  assert.deepEqual(selectPath(FIGURE3, policy({ sla: tight, bestEffort: false }), 0, { next: 0 }), {
    reason: DropReason.SlaNotMet,
  });
  // Loss, jitter and MOS limits filter too.
  const lossy = FIGURE3.map((c) => (c.id === 0 ? { ...c, quality: { ...c.quality, lossPercent: 5 } } : c));
  assert.equal(
    chosen(selectPath(lossy, policy({ sla: { ...sla40, maxLossPercent: 1 } }), 0, { next: 0 })),
    1,
  );
  const jittery = FIGURE3.map((c) => (c.id === 0 ? { ...c, quality: { ...c.quality, jitterMs: 40 } } : c));
  assert.equal(
    chosen(selectPath(jittery, policy({ sla: { ...sla40, maxJitterMs: 10 } }), 0, { next: 0 })),
    1,
  );
  const poorMos = FIGURE3.map((c) => ({ ...c, quality: { ...c.quality, mos: c.id === 1 ? 4.2 : 3.0 } }));
  assert.equal(
    chosen(
      selectPath(poorMos, policy({ sla: { ...sla40, maxLatencyMs: undefined, minMos: 4 } }), 0, { next: 0 }),
    ),
    1,
  );
});

test('load balancing among equal paths: round robin, least busy, proportional, source hash', () => {
  const equal = FIGURE3.slice(0, 2).map((c) => ({ ...c, quality: {} }));
  const rr = { next: 0 };
  const rrSeq = Array.from({ length: 6 }, () =>
    chosen(selectPath(equal, policy({ loadBalancing: 'round-robin' }), 0, rr)),
  );
  assert.deepEqual(rrSeq, [0, 1, 0, 1, 0, 1]);
  const busy = [
    { ...equal[0], activeSessions: 10 },
    { ...equal[1], activeSessions: 3 },
  ];
  assert.equal(chosen(selectPath(busy, policy({ loadBalancing: 'least-busy' }), 0, { next: 0 })), 1);
  const weighted = [
    { ...equal[0], weight: 3 },
    { ...equal[1], weight: 1 },
  ];
  const counts = [0, 0];
  for (let i = 0; i < 4000; i++)
    counts[
      chosen(
        selectPath(
          weighted,
          policy({ loadBalancing: 'proportional' }),
          flowHash(Uint8Array.of(i >> 8, i & 255, 7, 9)),
          { next: 0 },
        ),
      )
    ]++;
  assert.ok(counts[0] > 2700 && counts[0] < 3300, `3:1 split, got ${counts}`);
  const h = flowHash(Uint8Array.of(10, 0, 1, 1));
  const a = chosen(selectPath(equal, policy({ loadBalancing: 'source-hash' }), h, { next: 0 }));
  for (let i = 0; i < 5; i++)
    assert.equal(
      chosen(selectPath(equal, policy({ loadBalancing: 'source-hash' }), h, { next: 5 })),
      a,
      'same source, same path',
    );
});

test('unknown quality counts as meeting the SLA but loses to known good quality', () => {
  const unknown = [{ ...FIGURE3[2], id: 5, quality: {} }, FIGURE3[1]];
  assert.equal(chosen(selectPath(unknown, policy({ sla: sla40 }), 0, { next: 0 })), 1);
  assert.equal(
    chosen(selectPath([unknown[0]], policy({ sla: sla40, bestEffort: false }), 0, { next: 0 })),
    0,
  );
});
