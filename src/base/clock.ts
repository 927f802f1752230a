/**
 * Time is an input. Every component that needs "now" takes a Clock, so the emulator and tests can
 * run hours of protocol time in milliseconds, and a run replays exactly.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (wall time: time-based HMAC windows depend on it, 4.5.1). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private ms = 0) {}

  now(): number {
    return this.ms;
  }

  set(ms: number): void {
    this.ms = ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
