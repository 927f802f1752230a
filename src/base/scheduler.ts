import type { Clock } from './clock.js';

/** A pending timer; cancel it with the scheduler that made it. */
export interface TimerHandle {
  readonly id: number;
}

/**
 * Time and timers as an input. The emulator runs them on virtual time (an hour of protocol in
 * well under a second), Linux on real time; the router cannot tell which.
 */
export interface Scheduler extends Clock {
  /** Run `fn` at `atMs` (on the clock's time line), or as soon as possible if that has passed. */
  at(atMs: number, fn: () => void): TimerHandle;
  cancel(h: TimerHandle): void;
}

/** `Scheduler` on the wall clock with Node's timers. */
export class RealScheduler implements Scheduler {
  private next = 1;
  private readonly timers = new Map<number, NodeJS.Timeout>();

  now(): number {
    return Date.now();
  }

  at(atMs: number, fn: () => void): TimerHandle {
    const id = this.next++;
    const t = setTimeout(
      () => {
        this.timers.delete(id);
        fn();
      },
      Math.max(0, atMs - Date.now()),
    );
    this.timers.set(id, t);
    return { id };
  }

  cancel(h: TimerHandle): void {
    const t = this.timers.get(h.id);
    if (t) clearTimeout(t);
    this.timers.delete(h.id);
  }
}
