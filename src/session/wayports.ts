import type { Clock } from '../base/clock.js';
import type { Random } from '../base/random.js';
import type { PortRange } from '../config/model.js';

/**
 * Waypoint ports of one peer path (2.8, 4.2.3). The router that starts a session picks both
 * ports: an even one for its own side (source) and an odd one for the peer's (destination), so
 * sessions either router starts can never collide on the wire, with no negotiation. Allocation
 * hands out pairs: pair k is (firstEven + 2k, firstOdd + 2k), which for 8000-24000 starts with
 * the draft's 8000/8001 (3.7.1.6).
 *
 * A pair in use is never handed out again (R-4.2.3-c); a released pair waits out the guard time
 * before reuse (R-4.2.3-e), so stray packets of an old session cannot land in a new one.
 * Free pairs are kept in a shuffled queue so ports are hard to predict; released pairs queue in
 * release order, which is also the order their guards end, so both operations are O(1).
 */
export class WayportAllocator {
  readonly pairs: number;
  readonly firstEven: number;
  readonly firstOdd: number;
  /** 0 free, 1 in use, 2 in guard. */
  private readonly state: Uint8Array;
  private readonly free: Int32Array;
  private freeHead = 0;
  private freeCount: number;
  private readonly guard: Int32Array;
  private readonly guardUntil: Float64Array;
  private guardHead = 0;
  private guardCount = 0;
  private inUseCount = 0;

  constructor(
    readonly range: PortRange,
    private readonly guardMs: number,
    private readonly clock: Clock,
    random: Random,
  ) {
    this.firstEven = range.lo % 2 === 0 ? range.lo : range.lo + 1;
    this.firstOdd = range.lo % 2 === 1 ? range.lo : range.lo + 1;
    const evens = this.firstEven > range.hi ? 0 : Math.floor((range.hi - this.firstEven) / 2) + 1;
    const odds = this.firstOdd > range.hi ? 0 : Math.floor((range.hi - this.firstOdd) / 2) + 1;
    this.pairs = Math.min(evens, odds);
    this.state = new Uint8Array(this.pairs);
    this.free = new Int32Array(this.pairs);
    this.guard = new Int32Array(this.pairs);
    this.guardUntil = new Float64Array(this.pairs);
    for (let i = 0; i < this.pairs; i++) this.free[i] = i;
    // Fisher-Yates with the injected source: reproducible in the emulator, unpredictable live.
    for (let i = this.pairs - 1; i > 0; i--) {
      const j = random.u32() % (i + 1);
      const t = this.free[i];
      this.free[i] = this.free[j];
      this.free[j] = t;
    }
    this.freeCount = this.pairs;
  }

  get inUse(): number {
    return this.inUseCount;
  }

  get inGuard(): number {
    return this.guardCount;
  }

  /** Pairs that could be handed out now (after guards that have ended). */
  available(): number {
    this.reclaim();
    return this.freeCount;
  }

  /** A free pair index, or -1 when every pair is in use or in guard (exhaustion). */
  allocate(): number {
    if (this.freeCount === 0) this.reclaim();
    if (this.freeCount === 0) return -1;
    const pair = this.free[this.freeHead];
    this.freeHead = (this.freeHead + 1) % this.pairs;
    this.freeCount--;
    this.state[pair] = 1;
    this.inUseCount++;
    return pair;
  }

  /**
   * Take a specific pair (for a session whose ports are already known, e.g. restored state);
   * false when it is in use or in guard.
   */
  claim(pair: number): boolean {
    if (pair < 0 || pair >= this.pairs) return false;
    this.reclaim();
    if (this.state[pair] !== 0) return false;
    // Remove it from the free queue: rare (recovery only), so a linear pass is fine.
    const n = this.freeCount;
    for (let i = 0, at = this.freeHead; i < n; i++, at = (at + 1) % this.pairs) {
      if (this.free[at] !== pair) continue;
      this.free[at] = this.free[this.freeHead];
      this.freeHead = (this.freeHead + 1) % this.pairs;
      this.freeCount--;
      this.state[pair] = 1;
      this.inUseCount++;
      return true;
    }
    return false;
  }

  /** Give a pair back: it is unallocated now (R-4.2.3-d) and reusable after the guard. */
  release(pair: number): void {
    if (pair < 0 || pair >= this.pairs || this.state[pair] !== 1)
      throw new RangeError(`pair ${pair} is not in use`);
    this.state[pair] = 2;
    this.inUseCount--;
    const at = (this.guardHead + this.guardCount) % this.pairs;
    this.guard[at] = pair;
    this.guardUntil[at] = this.clock.now() + this.guardMs;
    this.guardCount++;
  }

  isInUse(pair: number): boolean {
    return this.state[pair] === 1;
  }

  evenPort(pair: number): number {
    return this.firstEven + 2 * pair;
  }

  oddPort(pair: number): number {
    return this.firstOdd + 2 * pair;
  }

  /** The pair whose even port this is, or -1. */
  pairOfEvenPort(port: number): number {
    const k = (port - this.firstEven) / 2;
    return Number.isInteger(k) && k >= 0 && k < this.pairs ? k : -1;
  }

  /** Move pairs whose guard has ended to the back of the free queue. */
  private reclaim(): void {
    const now = this.clock.now();
    while (this.guardCount > 0 && this.guardUntil[this.guardHead] <= now) {
      const pair = this.guard[this.guardHead];
      this.guardHead = (this.guardHead + 1) % this.pairs;
      this.guardCount--;
      this.state[pair] = 0;
      this.free[(this.freeHead + this.freeCount) % this.pairs] = pair;
      this.freeCount++;
    }
  }
}

/**
 * The wayport allocators of one router: one per peer path, each over the range of the path's
 * local interface, with the router's port guard time (D-10). Sessions give their pairs back
 * through it when they end.
 */
export class WayportPool {
  private readonly byPath = new Map<number, WayportAllocator>();

  constructor(
    paths: readonly { readonly id: number; readonly range: PortRange }[],
    guardSeconds: number,
    clock: Clock,
    random: Random,
  ) {
    for (const p of paths)
      this.byPath.set(p.id, new WayportAllocator(p.range, guardSeconds * 1000, clock, random));
  }

  allocator(path: number): WayportAllocator | undefined {
    return this.byPath.get(path);
  }

  /** A pair on the path, or -1 when the path is unknown or exhausted. */
  allocate(path: number): number {
    return this.byPath.get(path)?.allocate() ?? -1;
  }

  release(path: number, pair: number): void {
    this.byPath.get(path)?.release(pair);
  }
}
