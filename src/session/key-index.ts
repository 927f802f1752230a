/**
 * A hash index from fixed-width keys (u32 words) to u32 values, for the session table's wings.
 *
 * Open addressing with linear probing; each slot holds the key words inline followed by the
 * value plus one (0 marks an empty slot), so a probe reads one stretch of memory and a hit costs
 * one cache miss at most. Deletion shifts later entries back instead of leaving tombstones, so
 * lookups stay short under constant churn. The table grows by doubling at 70 % load.
 *
 * Whoever owns the values may want to know where each lives (to read a wing's key back without
 * storing it twice): `positions`, when given, is kept so that positions[value] is the slot of
 * that value's entry through inserts, moves and growth.
 */
export class KeyIndex {
  readonly keyWords: number;
  private readonly stride: number;
  private slots: Uint32Array;
  private cap: number;
  private used = 0;
  private positions: Int32Array | undefined;

  constructor(keyWords: number, initialCapacity = 1024, positions?: Int32Array) {
    this.keyWords = keyWords;
    this.stride = keyWords + 1;
    this.cap = Math.max(16, initialCapacity);
    this.slots = new Uint32Array(this.cap * this.stride);
    this.positions = positions;
  }

  get size(): number {
    return this.used;
  }

  get capacity(): number {
    return this.cap;
  }

  /** Bytes held by the slot array. */
  get byteLength(): number {
    return this.slots.byteLength;
  }

  /** Replace the positions array (the owner grew it); entries are re-recorded. */
  setPositions(p: Int32Array): void {
    this.positions = p;
    const s = this.slots;
    const st = this.stride;
    const vw = this.keyWords;
    for (let i = 0; i < this.cap; i++) {
      const v = s[i * st + vw];
      if (v !== 0) p[v - 1] = i;
    }
  }

  /** Home slot of the key at k[off..off+keyWords). */
  home(k: Uint32Array, off: number): number {
    let h = 0x9e3779b9;
    for (let i = 0; i < this.keyWords; i++) {
      h = Math.imul(h ^ k[off + i], 0x85ebca6b);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    // Multiply-shift range reduction: any capacity, no power of two needed (saves memory).
    return Math.floor(((h >>> 0) * this.cap) / 4294967296);
  }

  /** The value stored under the key, or -1. */
  find(k: Uint32Array, off: number): number {
    return this.probe(k, off, this.home(k, off));
  }

  /**
   * Look up `n` keys laid out back to back in `keys` and write each value (or -1) to `out`.
   * All home slots are computed and touched first, so the CPU has many independent cache misses
   * in flight at once instead of one after another (what VPP does with prefetch).
   */
  findBatch(keys: Uint32Array, n: number, homes: Int32Array, out: Int32Array): void {
    const s = this.slots;
    const st = this.stride;
    const kw = this.keyWords;
    for (let q = 0; q < n; q++) homes[q] = this.home(keys, q * kw) * st;
    // A loop of nothing but independent loads: as many cache and TLB misses in flight as the
    // core allows, so the probes below find their slots cached. Both ends of each slot are
    // touched: a slot of 5 or 11 words often straddles two cache lines.
    let touch = 0;
    for (let q = 0; q < n; q++) {
      const b = homes[q];
      touch += s[b] + s[b + kw];
    }
    this.sink = touch;
    for (let q = 0; q < n; q++) homes[q] /= st;
    for (let q = 0; q < n; q++) out[q] = this.probe(keys, q * kw, homes[q]);
  }

  /** Keeps the touching loads of findBatch from being optimised away. */
  sink = 0;

  /** Walk the cluster from `home` to the key or an empty slot. */
  private probe(k: Uint32Array, off: number, home: number): number {
    const s = this.slots;
    const st = this.stride;
    const kw = this.keyWords;
    const cap = this.cap;
    let i = home;
    for (;;) {
      const base = i * st;
      const v = s[base + kw];
      if (v === 0) return -1;
      let j = 0;
      while (j < kw && s[base + j] === k[off + j]) j++;
      if (j === kw) return v - 1;
      if (++i === cap) i = 0;
    }
  }

  /** Insert; false (and nothing changed) when the key is already present. */
  insert(k: Uint32Array, off: number, value: number): boolean {
    if ((this.used + 1) * 10 > this.cap * 7) this.grow();
    const s = this.slots;
    const st = this.stride;
    const kw = this.keyWords;
    let i = this.home(k, off);
    for (;;) {
      const base = i * st;
      const v = s[base + kw];
      if (v === 0) {
        for (let j = 0; j < kw; j++) s[base + j] = k[off + j];
        s[base + kw] = value + 1;
        if (this.positions) this.positions[value] = i;
        this.used++;
        return true;
      }
      let j = 0;
      while (j < kw && s[base + j] === k[off + j]) j++;
      if (j === kw) return false;
      if (++i === this.cap) i = 0;
    }
  }

  /** Remove the key; the value it held, or -1 when absent. */
  remove(k: Uint32Array, off: number): number {
    const s = this.slots;
    const st = this.stride;
    const kw = this.keyWords;
    let i = this.home(k, off);
    for (;;) {
      const base = i * st;
      const v = s[base + kw];
      if (v === 0) return -1;
      let j = 0;
      while (j < kw && s[base + j] === k[off + j]) j++;
      if (j === kw) {
        this.removeAt(i);
        return v - 1;
      }
      if (++i === this.cap) i = 0;
    }
  }

  /** Remove the entry at a known slot (from `positions`). */
  removeAt(slot: number): void {
    const s = this.slots;
    const st = this.stride;
    const kw = this.keyWords;
    const cap = this.cap;
    let hole = slot;
    let i = slot;
    // Backward-shift deletion (Knuth 6.4 algorithm R): pull later entries of the cluster into the
    // hole whenever the hole lies on their probe path, so no tombstones are needed.
    for (;;) {
      if (++i === cap) i = 0;
      const base = i * st;
      const v = s[base + kw];
      if (v === 0) break;
      const h = this.home(s, base);
      const between = hole <= i ? h <= hole || h > i : h <= hole && h > i;
      if (between) {
        s.copyWithin(hole * st, base, base + st);
        if (this.positions) this.positions[v - 1] = hole;
        hole = i;
      }
    }
    s.fill(0, hole * st, hole * st + st);
    this.used--;
  }

  /** The key words of the entry at a slot, copied into out[off..]. */
  keyAt(slot: number, out: Uint32Array, off: number): void {
    const base = slot * this.stride;
    for (let j = 0; j < this.keyWords; j++) out[off + j] = this.slots[base + j];
  }

  /** One key word of the entry at a slot, without copying the key. */
  wordAt(slot: number, word: number): number {
    return this.slots[slot * this.stride + word];
  }

  clear(): void {
    this.slots.fill(0);
    this.used = 0;
  }

  private grow(): void {
    const old = this.slots;
    const oldCap = this.cap;
    const st = this.stride;
    const kw = this.keyWords;
    this.cap = oldCap * 2;
    this.slots = new Uint32Array(this.cap * st);
    this.used = 0;
    for (let i = 0; i < oldCap; i++) {
      const v = old[i * st + kw];
      if (v !== 0) this.insert(old, i * st, v - 1);
    }
  }
}
