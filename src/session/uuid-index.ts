/**
 * Session UUID to session id (R-3.7.2.5-a: never two sessions with one UUID). Slots hold only
 * the id; the UUID itself lives once, in the session table's records, and is compared there.
 * Used on first packets only, so the extra memory read per probe costs nothing that matters,
 * and a million sessions cost about 6 bytes each here instead of 28 with the key inline.
 *
 * Open addressing, linear probing, backward-shift deletion, 70 % load.
 */
export class UuidIndex {
  private slots: Int32Array;
  private cap: number;
  private used = 0;

  constructor(initialCapacity = 1024) {
    this.cap = Math.max(16, initialCapacity);
    this.slots = new Int32Array(this.cap);
  }

  get size(): number {
    return this.used;
  }

  get byteLength(): number {
    return this.slots.byteLength;
  }

  private home(w: Uint32Array, off: number): number {
    let h = Math.imul(w[off] ^ 0x27d4eb2f, 0x85ebca6b);
    h = Math.imul(h ^ w[off + 1] ^ (h >>> 15), 0xc2b2ae35);
    h = Math.imul(h ^ w[off + 2] ^ (h >>> 13), 0x85ebca6b);
    h = Math.imul(h ^ w[off + 3] ^ (h >>> 16), 0xc2b2ae35);
    h ^= h >>> 15;
    return Math.floor(((h >>> 0) * this.cap) / 4294967296);
  }

  private static same(a: Uint32Array, ao: number, b: Uint32Array, bo: number): boolean {
    return a[ao] === b[bo] && a[ao + 1] === b[bo + 1] && a[ao + 2] === b[bo + 2] && a[ao + 3] === b[bo + 3];
  }

  /** The id whose UUID (4 words at records[id * 4]) equals key[off..off+4), or -1. */
  find(key: Uint32Array, off: number, records: Uint32Array): number {
    let i = this.home(key, off);
    for (;;) {
      const v = this.slots[i];
      if (v === 0) return -1;
      if (UuidIndex.same(records, (v - 1) * 4, key, off)) return v - 1;
      if (++i === this.cap) i = 0;
    }
  }

  /** Add `id`, whose UUID is already in records[id * 4..]. */
  insert(id: number, records: Uint32Array): void {
    if ((this.used + 1) * 10 > this.cap * 7) this.grow(records);
    let i = this.home(records, id * 4);
    while (this.slots[i] !== 0) if (++i === this.cap) i = 0;
    this.slots[i] = id + 1;
    this.used++;
  }

  remove(id: number, records: Uint32Array): void {
    let i = this.home(records, id * 4);
    for (;;) {
      const v = this.slots[i];
      if (v === 0) return;
      if (v === id + 1) break;
      if (++i === this.cap) i = 0;
    }
    let hole = i;
    for (;;) {
      if (++i === this.cap) i = 0;
      const v = this.slots[i];
      if (v === 0) break;
      const h = this.home(records, (v - 1) * 4);
      if (hole <= i ? h <= hole || h > i : h <= hole && h > i) {
        this.slots[hole] = v;
        hole = i;
      }
    }
    this.slots[hole] = 0;
    this.used--;
  }

  private grow(records: Uint32Array): void {
    const old = this.slots;
    this.cap *= 2;
    this.slots = new Int32Array(this.cap);
    this.used = 0;
    for (const v of old) if (v !== 0) this.insert(v - 1, records);
  }
}
