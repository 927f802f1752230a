/**
 * A hashed timer wheel for per-session deadlines on an injected clock (Varghese and Lauck).
 *
 * Items are small integers (session ids). Each slot is a doubly linked list threaded through
 * typed arrays, so scheduling and cancelling are O(1) and allocate nothing. A deadline beyond
 * one turn of the wheel simply stays in its slot until a turn reaches it; `advance()` checks
 * each visited item's own deadline.
 *
 * Idle timeouts do not reschedule on every packet: the owner records activity and, when the
 * wheel fires, pushes the deadline out if the item was active since (lazy expiry).
 */
export class TimerWheel {
  private readonly slots: Int32Array;
  private next: Int32Array;
  private prev: Int32Array;
  private slotOf: Int32Array;
  private deadline: Float64Array;
  private lastTick: number;
  private scheduledCount = 0;

  constructor(
    /** Milliseconds per slot. */
    readonly tickMs = 100,
    readonly slotCount = 4096,
    capacity = 1024,
    startMs = 0,
  ) {
    this.slots = new Int32Array(slotCount).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
    this.slotOf = new Int32Array(capacity).fill(-1);
    this.deadline = new Float64Array(capacity);
    this.lastTick = Math.floor(startMs / tickMs);
  }

  get size(): number {
    return this.scheduledCount;
  }

  /** Make room for items up to `capacity - 1`. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.next.length) return;
    const grow = <T extends Int32Array | Float64Array>(a: T, fill: number): T => {
      const b = new (a.constructor as { new (n: number): T })(capacity);
      b.fill(fill);
      b.set(a);
      return b;
    };
    this.next = grow(this.next, -1);
    this.prev = grow(this.prev, -1);
    this.slotOf = grow(this.slotOf, -1);
    this.deadline = grow(this.deadline, 0);
  }

  isScheduled(item: number): boolean {
    return item < this.slotOf.length && this.slotOf[item] >= 0;
  }

  deadlineOf(item: number): number {
    return this.deadline[item];
  }

  /** Schedule (or move) `item` to fire at `atMs`. */
  schedule(item: number, atMs: number): void {
    if (this.slotOf[item] >= 0) this.unlink(item);
    // Never into the past slot: the earliest a deadline can fire is the next tick processed.
    const tick = Math.max(Math.ceil(atMs / this.tickMs), this.lastTick + 1);
    const slot = tick % this.slotCount;
    const head = this.slots[slot];
    this.next[item] = head;
    this.prev[item] = -1;
    if (head >= 0) this.prev[head] = item;
    this.slots[slot] = item;
    this.slotOf[item] = slot;
    this.deadline[item] = atMs;
    this.scheduledCount++;
  }

  cancel(item: number): void {
    if (item < this.slotOf.length && this.slotOf[item] >= 0) this.unlink(item);
  }

  private unlink(item: number): void {
    const p = this.prev[item];
    const n = this.next[item];
    if (p >= 0) this.next[p] = n;
    else this.slots[this.slotOf[item]] = n;
    if (n >= 0) this.prev[n] = p;
    this.slotOf[item] = -1;
    this.next[item] = -1;
    this.prev[item] = -1;
    this.scheduledCount--;
  }

  /**
   * Fire every item whose deadline is at or before `nowMs`: it is unscheduled, then `fire` is
   * called (and may schedule it again). Returns how many fired.
   */
  advance(nowMs: number, fire: (item: number, deadlineMs: number) => void): number {
    const target = Math.floor(nowMs / this.tickMs);
    let fired = 0;
    // More than a turn behind: one pass over every slot sees everything once.
    const from = target - this.lastTick > this.slotCount ? target - this.slotCount + 1 : this.lastTick + 1;
    for (let t = from; t <= target; t++) {
      const slot = t % this.slotCount;
      let item = this.slots[slot];
      while (item >= 0) {
        const after = this.next[item];
        const d = this.deadline[item];
        if (d <= nowMs) {
          this.unlink(item);
          fired++;
          fire(item, d);
        }
        item = after;
      }
    }
    this.lastTick = Math.max(this.lastTick, target);
    return fired;
  }
}
