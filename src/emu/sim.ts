import type { Scheduler, TimerHandle } from '../base/scheduler.js';

/** 2026-01-01T00:00:00Z: time-based HMAC windows (D-1) see a plausible date, not 1970. */
export const SIM_EPOCH_MS = Date.UTC(2026, 0, 1);

/** One scheduled callback; its id is also its place among events due at the same time. */
class SimEvent implements TimerHandle {
  constructor(
    readonly id: number,
    readonly time: number,
    public fn: (() => void) | undefined,
  ) {}
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.id < b.id);
}

/**
 * The discrete-event core: virtual time that jumps from event to event, so an idle hour costs
 * nothing and a seed replays a run exactly. Events due at the same time run in the order they
 * were scheduled (ids grow monotonically and break ties in the heap).
 *
 * Cancelled events stay in the heap with no callback and are skipped when they surface: cheaper
 * than removing from the middle of a heap, and timers that are mostly re-armed (TCP's) rarely
 * cancel at all.
 */
export class Simulator implements Scheduler {
  private t: number;
  private readonly heap: SimEvent[] = [];
  private nextId = 1;
  private live = 0;
  private ran = 0;
  private running = false;
  /** Called before each event runs, with its time and id: a trace for determinism checks. */
  onEvent: ((timeMs: number, id: number) => void) | undefined;

  constructor(readonly startMs = SIM_EPOCH_MS) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  /** Milliseconds of virtual time since the start. */
  get elapsedMs(): number {
    return this.t - this.startMs;
  }

  at(atMs: number, fn: () => void): TimerHandle {
    // NaN would corrupt the heap order silently: a bug in the caller, so fail loudly.
    if (Number.isNaN(atMs)) throw new TypeError('Simulator.at: time is NaN');
    const ev = new SimEvent(this.nextId++, Math.max(atMs, this.t), fn);
    this.push(ev);
    this.live++;
    return ev;
  }

  /** `at(now + delayMs, fn)`. */
  after(delayMs: number, fn: () => void): TimerHandle {
    return this.at(this.t + delayMs, fn);
  }

  cancel(h: TimerHandle): void {
    if (h instanceof SimEvent && h.fn) {
      h.fn = undefined;
      this.live--;
    }
  }

  /** Events scheduled and not yet run or cancelled. */
  get pending(): number {
    return this.live;
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.ran;
  }

  /** Time of the next live event, or undefined when nothing is scheduled. */
  nextEventTime(): number | undefined {
    this.dropCancelled();
    return this.heap.length > 0 ? this.heap[0].time : undefined;
  }

  /** Process every event due up to now + durationMs, then leave the clock there. */
  run(durationMs: number): void {
    const end = this.t + durationMs;
    this.enter();
    try {
      while (this.runNext(end)) {}
    } finally {
      this.running = false;
    }
    if (end > this.t) this.t = end;
  }

  /**
   * Process events until `pred()` holds after one of them (checked first too), or until
   * now + maxMs. Returns whether it held; on success the clock stays at that event's time.
   */
  runUntil(pred: () => boolean, maxMs: number): boolean {
    if (pred()) return true;
    const end = this.t + maxMs;
    this.enter();
    try {
      while (this.runNext(end)) if (pred()) return true;
    } finally {
      this.running = false;
    }
    if (end > this.t) this.t = end;
    return pred();
  }

  private enter(): void {
    // Running the loop from inside an event would reorder time: a bug in the caller.
    if (this.running) throw new Error('Simulator: run() called from inside an event');
    this.running = true;
  }

  /** Run the next live event if it is due by `end`; false when there is none. */
  private runNext(end: number): boolean {
    this.dropCancelled();
    const top = this.heap[0];
    if (top === undefined || top.time > end) return false;
    this.pop();
    const fn = top.fn;
    top.fn = undefined;
    this.live--;
    this.t = top.time;
    this.ran++;
    this.onEvent?.(top.time, top.id);
    fn?.();
    return true;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0].fn === undefined) this.pop();
  }

  private push(ev: SimEvent): void {
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(ev, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = ev;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r], h[l]) ? r : l;
      if (!before(h[c], last)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
  }
}
