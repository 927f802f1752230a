import { DropReason, dropReasonInfo } from './drop-reason.js';

/**
 * Structured events a router reports: security events the draft asks to be noted (bad HMAC,
 * unknown source on a waypoint, bad metadata: 4.5.2, 4.6.1, 4.6.2) and session milestones.
 * Kept in a bounded ring for the API and demo, and handed to a sink (a log line) as they come.
 */
export interface RouterEvent {
  readonly timeMs: number;
  readonly router: string;
  readonly kind: 'security' | 'session' | 'info';
  readonly code: string;
  readonly message: string;
  readonly detail?: Record<string, string | number>;
}

export class EventLog {
  private readonly ring: RouterEvent[] = [];
  private readonly counts = new Map<string, number>();

  constructor(
    readonly router: string,
    private readonly capacity = 1000,
    private readonly sink?: (e: RouterEvent) => void,
  ) {}

  emit(
    timeMs: number,
    kind: RouterEvent['kind'],
    code: string,
    message: string,
    detail?: RouterEvent['detail'],
  ): void {
    const e: RouterEvent = detail
      ? { timeMs, router: this.router, kind, code, message, detail }
      : { timeMs, router: this.router, kind, code, message };
    if (this.ring.length >= this.capacity) this.ring.shift();
    this.ring.push(e);
    this.counts.set(code, (this.counts.get(code) ?? 0) + 1);
    this.sink?.(e);
  }

  /** A drop the draft calls a security event. */
  security(timeMs: number, reason: DropReason, detail?: RouterEvent['detail']): void {
    const i = dropReasonInfo(reason);
    this.emit(timeMs, 'security', i.code, `${i.text} (draft ${i.section})`, detail);
  }

  recent(kind?: RouterEvent['kind']): readonly RouterEvent[] {
    return kind ? this.ring.filter((e) => e.kind === kind) : this.ring;
  }

  count(code: string): number {
    return this.counts.get(code) ?? 0;
  }
}

export { DropReason };
