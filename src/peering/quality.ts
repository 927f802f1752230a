import type { PathQuality } from '../policy/path-selection.js';

/**
 * Path quality from BFD MeasureData bursts (5.1.5): each request is answered by the peer; the
 * round trips of a window of recent bursts give latency (sum of RTTs / 2n), jitter (standard
 * deviation of the RTTs) and loss (requests without an answer in time), and from those a MOS.
 */

export interface QualityFigures extends PathQuality {
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly lossPercent: number;
  readonly mos: number;
  /** Requests the figures cover. */
  readonly samples: number;
}

interface Burst {
  sent: number;
  rtts: number[];
}

export class QualityMeter {
  private readonly bursts: Burst[] = [];
  private readonly inFlight = new Map<number, { sentAt: number; burst: Burst }>();
  /** Since the path came up, for `show peers` and tests. */
  sentTotal = 0;
  answeredTotal = 0;

  constructor(
    private readonly windowBursts: number,
    private readonly timeoutMs: number,
  ) {}

  /** A new burst: the oldest beyond the window is forgotten. */
  beginBurst(): void {
    this.bursts.push({ sent: 0, rtts: [] });
    while (this.bursts.length > this.windowBursts) this.bursts.shift();
  }

  sent(transId: number, now: number): void {
    const burst = this.bursts[this.bursts.length - 1];
    if (!burst) return;
    burst.sent++;
    this.sentTotal++;
    this.inFlight.set(transId, { sentAt: now, burst });
  }

  /** A response to `transId`: false when no such request is in flight (late or never sent). */
  answered(transId: number, now: number): boolean {
    const f = this.inFlight.get(transId);
    if (!f) return false;
    this.inFlight.delete(transId);
    if (now - f.sentAt > this.timeoutMs) return false;
    f.burst.rtts.push(now - f.sentAt);
    this.answeredTotal++;
    return true;
  }

  /** Forget requests older than the timeout: they count as lost. */
  expire(now: number): void {
    for (const [id, f] of this.inFlight) if (now - f.sentAt > this.timeoutMs) this.inFlight.delete(id);
  }

  /** Drop everything (the path went down: old figures say nothing about the new one). */
  reset(): void {
    this.bursts.length = 0;
    this.inFlight.clear();
  }

  /** Figures over the window's requests that are no longer in flight, or undefined if none. */
  figures(): QualityFigures | undefined {
    let sent = 0;
    const rtts: number[] = [];
    const pending = new Map<Burst, number>();
    for (const f of this.inFlight.values()) pending.set(f.burst, (pending.get(f.burst) ?? 0) + 1);
    for (const b of this.bursts) {
      sent += b.sent - (pending.get(b) ?? 0);
      for (const r of b.rtts) rtts.push(r);
    }
    if (sent <= 0) return undefined;
    const lossPercent = (100 * (sent - rtts.length)) / sent;
    if (rtts.length === 0) return { latencyMs: 0, jitterMs: 0, lossPercent, mos: 1, samples: sent };
    let sum = 0;
    for (const r of rtts) sum += r;
    const mean = sum / rtts.length;
    let sq = 0;
    for (const r of rtts) sq += (r - mean) ** 2;
    // 5.1.5: latency = sum of RTTs / 2n; jitter = standard deviation of the RTTs.
    const latencyMs = sum / (2 * rtts.length);
    const jitterMs = Math.sqrt(sq / rtts.length);
    return {
      latencyMs,
      jitterMs,
      lossPercent,
      mos: meanOpinionScore(latencyMs, jitterMs, lossPercent),
      samples: sent,
    };
  }
}

/**
 * MOS from latency, jitter and loss (5.1.5 "MoS scores can be computed once latency,
 * packetloss, and jitter are known"): the simplified ITU-T G.107 E-model that voice monitoring
 * tools use. Effective latency counts jitter twice (a jitter buffer) plus 10 ms of coding; the
 * R factor falls with it and with 2.5 points per percent of loss; MOS maps R to 1..4.5.
 */
export function meanOpinionScore(latencyMs: number, jitterMs: number, lossPercent: number): number {
  const effective = latencyMs + 2 * jitterMs + 10;
  let r = effective < 160 ? 93.2 - effective / 40 : 93.2 - (effective - 120) / 10;
  r -= 2.5 * lossPercent;
  if (r <= 0) return 1;
  const mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
  return Math.max(1, Math.min(4.5, mos));
}
