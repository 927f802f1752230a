import { DropReason } from '../base/drop-reason.js';
import type { ServicePolicyModel } from '../config/model.js';

/**
 * Picking a peer path for a new session (3.7.1.4) from the paths to the next-hop peer and their
 * live quality: a pure function of its inputs, so the same figures always give the same choice.
 *
 * 1. Paths that are down (BFD, issue 5) or priced 'never' are out; none left: no-peer-path.
 * 2. Paths that miss the service policy's SLA are out (limits are inclusive; unknown figures
 *    count as meeting them);
 *    none left: every usable path when the policy allows best effort, else sla-not-met.
 * 3. The lowest vector cost wins (path preference by cost, as SSR's service policies do).
 * 4. Ties are broken by the policy's load balancing: best quality (lowest latency, then loss,
 *    then jitter), round robin, least busy, proportional to path weight, or a source hash.
 */

export interface PathQuality {
  readonly latencyMs?: number;
  readonly lossPercent?: number;
  readonly jitterMs?: number;
  /** Mean opinion score 1-5. */
  readonly mos?: number;
}

export interface PathCandidate {
  /** Peer path id (RouterModel paths). */
  readonly id: number;
  readonly vector: string;
  readonly up: boolean;
  readonly weight: number;
  readonly quality: PathQuality;
  /** Sessions currently on the path, for least-busy. */
  readonly activeSessions: number;
}

/** State kept between choices: the round-robin position, per policy and candidate set. */
export interface SelectionState {
  next: number;
}

/** Choice: the index into `candidates` and whether it meets the SLA, or a drop reason. */
export type PathChoice =
  | { readonly index: number; readonly withinSla: boolean }
  | { readonly reason: DropReason };

/** The policy used when a service names none: no SLA, every vector equal, best quality. */
export const DEFAULT_SERVICE_POLICY: ServicePolicyModel = {
  name: 'default',
  sla: { maxLatencyMs: undefined, maxLossPercent: undefined, maxJitterMs: undefined, minMos: undefined },
  vectorCosts: new Map(),
  defaultVectorCost: 0,
  loadBalancing: 'best-quality',
  bestEffort: true,
  revertible: false,
};

export function vectorCost(policy: ServicePolicyModel, vector: string): number | 'never' {
  return policy.vectorCosts.get(vector) ?? policy.defaultVectorCost;
}

export function meetsSla(policy: ServicePolicyModel, q: PathQuality): boolean {
  const s = policy.sla;
  if (s.maxLatencyMs !== undefined && q.latencyMs !== undefined && q.latencyMs > s.maxLatencyMs) return false;
  if (s.maxLossPercent !== undefined && q.lossPercent !== undefined && q.lossPercent > s.maxLossPercent)
    return false;
  if (s.maxJitterMs !== undefined && q.jitterMs !== undefined && q.jitterMs > s.maxJitterMs) return false;
  if (s.minMos !== undefined && q.mos !== undefined && q.mos < s.minMos) return false;
  return true;
}

/**
 * Better quality first: latency, loss, jitter (unknown counts as worst; two unknowns compare
 * NaN, which `||` passes over to the next figure), then lower id.
 */
function compareQuality(a: PathCandidate, b: PathCandidate): number {
  const k = (x: number | undefined) => (x === undefined ? Number.POSITIVE_INFINITY : x);
  return (
    k(a.quality.latencyMs) - k(b.quality.latencyMs) ||
    k(a.quality.lossPercent) - k(b.quality.lossPercent) ||
    k(a.quality.jitterMs) - k(b.quality.jitterMs) ||
    a.id - b.id
  );
}

/**
 * Choose a path. `flowHash` (e.g. a hash of the source address) drives source-hash and
 * proportional choices so a flow's sessions land consistently; `state` carries round robin.
 */
export function selectPath(
  candidates: readonly PathCandidate[],
  policy: ServicePolicyModel,
  flowHash: number,
  state: SelectionState,
): PathChoice {
  const usable: number[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    if (c.up && vectorCost(policy, c.vector) !== 'never') usable.push(i);
  }
  if (usable.length === 0) return { reason: DropReason.NoPeerPath };
  const meeting = usable.filter((i) => meetsSla(policy, candidates[i].quality));
  let pool = meeting;
  const withinSla = meeting.length > 0;
  if (!withinSla) {
    if (!policy.bestEffort) return { reason: DropReason.SlaNotMet };
    pool = usable;
  }
  let min = Number.POSITIVE_INFINITY;
  for (const i of pool) min = Math.min(min, vectorCost(policy, candidates[i].vector) as number);
  const tier = pool
    .filter((i) => vectorCost(policy, candidates[i].vector) === min)
    .sort((a, b) => candidates[a].id - candidates[b].id);
  let index: number;
  switch (policy.loadBalancing) {
    case 'round-robin':
      index = tier[state.next++ % tier.length];
      break;
    case 'least-busy':
      index = tier.reduce((best, i) => {
        const d = candidates[i].activeSessions - candidates[best].activeSessions;
        return d < 0 || (d === 0 && compareQuality(candidates[i], candidates[best]) < 0) ? i : best;
      });
      break;
    case 'proportional': {
      const total = tier.reduce((s, i) => s + Math.max(0, candidates[i].weight), 0);
      if (total <= 0) {
        index = tier[0];
        break;
      }
      let point = ((flowHash >>> 0) % 10007) * (total / 10007);
      index = tier[tier.length - 1];
      for (const i of tier) {
        point -= Math.max(0, candidates[i].weight);
        if (point < 0) {
          index = i;
          break;
        }
      }
      break;
    }
    case 'source-hash':
      index = tier[(flowHash >>> 0) % tier.length];
      break;
    default:
      index = tier.reduce((best, i) => (compareQuality(candidates[i], candidates[best]) < 0 ? i : best));
  }
  return { index, withinSla };
}

/** A 32-bit hash of address bytes for source-hash and proportional balancing. */
export function flowHash(bytes: Uint8Array, off = 0, len = bytes.length - off): number {
  let h = 0x811c9dc5;
  for (let i = off; i < off + len; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}
