import { DropReason, dropReasonInfo } from './drop-reason.js';

/**
 * Structured events a router reports: security events the draft asks to be noted (bad HMAC,
 * unknown source on a waypoint, bad metadata: 4.5.2, 4.6.1, 4.6.2), refusals an operator must
 * know about (wayports exhausted, access denied, screens), and session and peering milestones.
 * Kept in a bounded ring for the API and demo, and handed to a sink (a log line) as they come.
 *
 * Security events and refusals are rate-limited per code, so a flood of attack packets cannot
 * fill a disk: at most `perSecond` lines a second per code; the rest are counted, and the next
 * line of that code (or `flush()`, called by the router once a second) says how many were
 * suppressed. `count()` counts every occurrence, logged or not.
 */
export interface RouterEvent {
  readonly timeMs: number;
  readonly router: string;
  readonly kind: 'security' | 'refusal' | 'session' | 'info';
  readonly code: string;
  readonly message: string;
  readonly detail?: Record<string, string | number>;
}

/** Lines a second per security or refusal code (the rest are counted, not logged). */
export const EVENT_LINES_PER_SECOND = 3;

interface Limit {
  windowStart: number;
  lines: number;
  suppressed: number;
  kind: RouterEvent['kind'];
  message: string;
}

export class EventLog {
  private readonly ring: RouterEvent[] = [];
  private readonly counts = new Map<string, number>();
  private readonly limits = new Map<string, Limit>();

  constructor(
    readonly router: string,
    private readonly capacity = 1000,
    private readonly sink?: (e: RouterEvent) => void,
    private readonly perSecond = EVENT_LINES_PER_SECOND,
  ) {}

  emit(
    timeMs: number,
    kind: RouterEvent['kind'],
    code: string,
    message: string,
    detail?: RouterEvent['detail'],
  ): void {
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    this.push(timeMs, kind, code, message, detail);
  }

  /** A drop the draft calls a security event (rate-limited per reason). */
  security(timeMs: number, reason: DropReason, detail?: RouterEvent['detail']): void {
    this.limited(timeMs, 'security', reason, detail);
  }

  /** A refusal an operator must know about, not an attack (rate-limited per reason). */
  refusal(timeMs: number, reason: DropReason, detail?: RouterEvent['detail']): void {
    this.limited(timeMs, 'refusal', reason, detail);
  }

  /** Report what was suppressed in windows that have ended (the router calls this each second). */
  flush(timeMs: number): void {
    for (const [code, l] of this.limits) {
      if (l.suppressed === 0 || timeMs - l.windowStart < 1000) continue;
      const n = l.suppressed;
      l.suppressed = 0;
      l.windowStart = timeMs;
      l.lines = 1;
      this.push(timeMs, l.kind, code, `${l.message}: ${n} more suppressed`, { suppressed: n });
    }
  }

  recent(kind?: RouterEvent['kind']): readonly RouterEvent[] {
    return kind ? this.ring.filter((e) => e.kind === kind) : this.ring;
  }

  /** Occurrences of a code, including those whose lines were suppressed. */
  count(code: string): number {
    return this.counts.get(code) ?? 0;
  }

  /** Lines of a code not written (yet) because of the rate limit. */
  suppressed(code: string): number {
    return this.limits.get(code)?.suppressed ?? 0;
  }

  private limited(
    timeMs: number,
    kind: RouterEvent['kind'],
    reason: DropReason,
    detail: RouterEvent['detail'] | undefined,
  ): void {
    const i = dropReasonInfo(reason);
    this.counts.set(i.code, (this.counts.get(i.code) ?? 0) + 1);
    const message = `${i.text} (draft ${i.section})`;
    let l = this.limits.get(i.code);
    if (!l) {
      l = { windowStart: timeMs, lines: 0, suppressed: 0, kind, message };
      this.limits.set(i.code, l);
    }
    if (timeMs - l.windowStart >= 1000) {
      l.windowStart = timeMs;
      l.lines = 0;
    }
    if (l.lines >= this.perSecond) {
      l.suppressed++;
      return;
    }
    l.lines++;
    const n = l.suppressed;
    l.suppressed = 0;
    this.push(timeMs, kind, i.code, message, n > 0 ? { ...detail, suppressed: n } : detail);
  }

  private push(
    timeMs: number,
    kind: RouterEvent['kind'],
    code: string,
    message: string,
    detail: RouterEvent['detail'] | undefined,
  ): void {
    const e: RouterEvent = detail
      ? { timeMs, router: this.router, kind, code, message, detail }
      : { timeMs, router: this.router, kind, code, message };
    if (this.ring.length >= this.capacity) this.ring.shift();
    this.ring.push(e);
    this.sink?.(e);
  }
}

export { DropReason };
