import { readU32 } from '../base/bytes.js';
import { type Prefix, prefixOf } from '../base/prefix.js';

/**
 * Longest-prefix match for IPv4 and IPv6, the core of the FIB and of neighborhood lookups.
 *
 * Design: build() flattens each family's prefix set into sorted, disjoint address intervals, each
 * carrying the entry of its longest covering prefix (-1 for none). One sweep over the prefixes
 * sorted by (address, length) with a stack of the currently open, nested prefixes produces them:
 * a prefix opens an interval at its start, and when it closes its parent (the new stack top)
 * takes over from its end + 1. The same stack gives each entry its parent, so walking parent()
 * from a lookup visits every covering prefix, longest first, with no search at all.
 *
 * Intervals live in one Uint32Array per family, a row per interval holding its start address
 * (1 or 4 words) and its entry, so a table of n prefixes costs about 2n rows of 8 (IPv4) or 20
 * (IPv6) bytes, with no per-node objects and none of the 256-slot node arrays a multibit trie
 * spends on sparse random tables. A lookup is a binary search for the last interval starting at
 * or before the address, narrowed first by an index of 2^k buckets (about one per interval, k at
 * most 20, so small tables stay small) over the k address bits that follow the bits all interval
 * boundaries share: a table inside 10.0.0.0/8 or 2001:db8::/32 spreads over every bucket instead
 * of falling into one. Addresses outside that shared prefix lie before the first boundary or
 * after the last and need no search. The search is then one or two steps, allocation-free, and
 * in a big table costs about two cache misses: the bucket, then the rows (the entry sits beside
 * the start it follows). IPv4 and IPv6 have separate structures, so the families never match.
 *
 * Entries are numbered in (family, address, length) order, IPv4 first, by each build(); indexes
 * from an earlier build() are not valid after the next one.
 */

/** Max index bits: 2^20 buckets is 4 MiB, 4 bytes a prefix at a million prefixes. */
const MAX_INDEX_BITS = 20;

/** One family's frozen intervals and bucket index. */
class Intervals {
  constructor(
    /**
     * One row per interval, ascending: its start address (1 or 4 words; the first is always 0)
     * then its longest covering entry as u32 (-1 for none). The entry shares the cache line of
     * the start the search last read, which saves a cache miss per lookup in a big table.
     */
    readonly rows: Uint32Array,
    readonly count: number,
    /** Entries of the first and last intervals, for addresses outside the shared bits. */
    readonly first: number,
    readonly last: number,
    /** First candidate interval per bucket; one extra slot holds the last interval. */
    readonly index: Int32Array,
    /** Address bits every interval boundary shares (the bucket bits follow them). */
    readonly shift: number,
    /** 32 - bucket bits: turns the 32 bits after `shift` into a bucket number. */
    readonly bucketShift: number,
    /** Masks for the shared bits in words 0 and 1, and their values. */
    readonly mask0: number,
    readonly mask1: number,
    readonly common0: number,
    readonly common1: number,
  ) {}
}

/** Words of an address with the bits past `length` cleared. */
function maskedWords(bytes: Uint8Array, length: number, out: Uint32Array, off: number): void {
  const words = bytes.length >> 2;
  for (let w = 0; w < words; w++) {
    const bits = Math.max(0, Math.min(32, length - 32 * w));
    // A shift by 32 is a shift by 0 in JS, so no bits is its own case.
    out[off + w] = bits === 0 ? 0 : (readU32(bytes, 4 * w) & (0xffffffff << (32 - bits))) >>> 0;
  }
}

/** Last address of the prefix at keys[off..], into out. */
function endOf(keys: Uint32Array, off: number, length: number, words: number, out: Uint32Array): void {
  for (let w = 0; w < words; w++) {
    const bits = Math.max(0, Math.min(32, length - 32 * w));
    out[w] = (keys[off + w] | (bits === 32 ? 0 : 0xffffffff >>> bits)) >>> 0;
  }
}

/** out += 1; false when it wraps past the top of the address space. */
function increment(out: Uint32Array, words: number): boolean {
  for (let w = words - 1; w >= 0; w--) {
    out[w] = (out[w] + 1) >>> 0;
    if (out[w] !== 0) return true;
  }
  return false;
}

function compareWords(a: Uint32Array, ao: number, b: Uint32Array, bo: number, words: number): number {
  for (let w = 0; w < words; w++) if (a[ao + w] !== b[bo + w]) return a[ao + w] < b[bo + w] ? -1 : 1;
  return 0;
}

/**
 * The intervals of one family's entries, `count` of them from entry `base` on, sorted, distinct,
 * with start addresses at keys[4j..4j+words) for the j-th; fills parent[] for them.
 */
function buildIntervals(
  keys: Uint32Array,
  lengths: Uint8Array,
  base: number,
  count: number,
  words: number,
  parent: Int32Array,
): Intervals {
  const cap = 2 * count + 1;
  const starts = new Uint32Array(cap * words);
  const ents = new Int32Array(cap);
  let n = 0;
  // Owner changes at `src` to `entry`; a later change at the same address replaces an earlier one,
  // and a change to the owner already in force is no change, so intervals come out minimal.
  const emit = (src: Uint32Array, so: number, entry: number): void => {
    if (n > 0 && compareWords(starts, (n - 1) * words, src, so, words) === 0) {
      ents[n - 1] = entry;
      if (n > 1 && ents[n - 2] === entry) n--;
      return;
    }
    if (n > 0 && ents[n - 1] === entry) return;
    for (let w = 0; w < words; w++) starts[n * words + w] = src[so + w];
    ents[n++] = entry;
  };
  const end = new Uint32Array(words);
  // Open prefixes, outermost first; nesting is at most one per prefix length.
  const stack = new Int32Array(32 * words + 1);
  let sp = 0;
  const close = (): void => {
    const t = stack[--sp];
    endOf(keys, 4 * (base + t), lengths[base + t], words, end);
    if (increment(end, words)) emit(end, 0, sp > 0 ? base + stack[sp - 1] : -1);
  };
  emit(new Uint32Array(words), 0, -1);
  for (let j = 0; j < count; j++) {
    const k = 4 * (base + j);
    while (sp > 0) {
      const t = stack[sp - 1];
      endOf(keys, 4 * (base + t), lengths[base + t], words, end);
      // Sorted by start then length, an open prefix that reaches this start contains it.
      if (compareWords(end, 0, keys, k, words) >= 0) break;
      close();
    }
    parent[base + j] = sp > 0 ? base + stack[sp - 1] : -1;
    emit(keys, k, base + j);
    stack[sp++] = j;
  }
  while (sp > 0) close();

  // Bucket index over the bits after those all boundaries (starts[1..]) share, kept in words 0-1.
  const maxBits = words === 1 ? 32 : 64;
  // About one bucket per interval: 4-8 bytes an interval, and a search of one or two steps. Half
  // that measured 20% slower at 100k prefixes, where the index is 1 MiB.
  const k = Math.max(1, Math.min(MAX_INDEX_BITS, Math.ceil(Math.log2(n))));
  let common = 0;
  if (n >= 2) {
    common = 32 * words;
    for (let w = 0; w < words; w++) {
      const x = starts[words + w] ^ starts[(n - 1) * words + w];
      if (x !== 0) {
        common = 32 * w + Math.clz32(x);
        break;
      }
    }
  }
  const s = Math.min(common, maxBits - k);
  const mask0 = s === 0 ? 0 : s >= 32 ? 0xffffffff : ~(0xffffffff >>> s) >>> 0;
  const mask1 = s <= 32 ? 0 : ~(0xffffffff >>> (s - 32)) >>> 0;
  const c0 = n >= 2 ? (starts[words] & mask0) >>> 0 : 0;
  const c1 = n >= 2 && words > 1 ? (starts[words + 1] & mask1) >>> 0 : 0;
  const buckets = 1 << k;
  const index = new Int32Array(buckets + 1);
  let i = 0;
  for (let b = 0; b < buckets; b++) {
    // The bucket's first address: the shared bits, then b, then zeros.
    let x0 = c0;
    let x1 = c1;
    if (s + k <= 32) x0 = (c0 | (b << (32 - s - k))) >>> 0;
    else if (s >= 32) x1 = (c1 | (b << (64 - s - k))) >>> 0;
    else {
      x0 = (c0 | (b >>> (s + k - 32))) >>> 0;
      x1 = (b << (64 - s - k)) >>> 0;
    }
    while (i + 1 < n) {
      const o = (i + 1) * words;
      const a0 = starts[o];
      const le =
        words === 1
          ? a0 <= x0
          : a0 < x0 ||
            (a0 === x0 &&
              (starts[o + 1] < x1 || (starts[o + 1] === x1 && starts[o + 2] === 0 && starts[o + 3] === 0)));
      if (!le) break;
      i++;
    }
    index[b] = i;
  }
  index[buckets] = n - 1;
  const stride = words + 1;
  const rows = new Uint32Array(n * stride);
  for (let r = 0; r < n; r++) {
    for (let w = 0; w < words; w++) rows[r * stride + w] = starts[r * words + w];
    rows[r * stride + words] = ents[r];
  }
  return new Intervals(rows, n, ents[0], ents[n - 1], index, s, 32 - k, mask0, mask1, c0, c1);
}

/** Items a build() can number in the 26 bits left beside an IPv4 length in a sort key. */
const ITEM_MASK = (1 << 26) - 1;
/** Which u32 half of a u64 holds its low bits on this machine. */
const LO = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

function notBuilt(): Error {
  return new Error('LpmTable: add() since the last build(); call build() before reading');
}

const EMPTY_KEYS = new Uint32Array(0);

export class LpmTable<T> {
  /** Built entries, in (family, address, length) order. */
  private prefixes: Prefix[] = [];
  private vals: T[][] = [];
  private parents = new Int32Array(0);
  private v4: Intervals;
  private v6: Intervals;
  /** add()s since the last build(). */
  private addedPrefixes: Prefix[] = [];
  private addedValues: T[] = [];
  private built = true;

  constructor() {
    this.v4 = buildIntervals(EMPTY_KEYS, new Uint8Array(0), 0, 0, 1, this.parents);
    this.v6 = buildIntervals(EMPTY_KEYS, new Uint8Array(0), 0, 0, 4, this.parents);
  }

  /** Add a value under a prefix; adding the same prefix again appends to its values. Invalidates a previous build(). */
  add(prefix: Prefix, value: T): void {
    const n = prefix.bytes.length;
    if (
      !((prefix.family === 4 && n === 4) || (prefix.family === 6 && n === 16)) ||
      !Number.isInteger(prefix.length) ||
      prefix.length < 0 ||
      prefix.length > 8 * n
    )
      throw new RangeError(`LpmTable: not a valid prefix: ${prefix.text}`);
    this.addedPrefixes.push(prefix);
    this.addedValues.push(value);
    this.built = false;
  }

  /** Freeze into the lookup structure. Must be called after the last add() and before lookups; may be called again after more adds. */
  build(): void {
    if (this.built) return;
    const old = this.prefixes.length;
    const total = old + this.addedPrefixes.length;
    // Items are the built entries followed by the new adds; sorting ties by item number keeps
    // values in the order they were added.
    const items = this.prefixes.concat(this.addedPrefixes);
    const keys = new Uint32Array(4 * total);
    const lengths = new Uint8Array(total);
    const family = new Uint8Array(total);
    for (let i = 0; i < total; i++) {
      const p = items[i];
      maskedWords(p.bytes, p.length, keys, 4 * i);
      lengths[i] = p.length;
      family[i] = p.family;
      // Stored prefixes must be network addresses; normalise one with host bits set.
      if (i >= old)
        for (let w = 0; w < p.bytes.length >> 2; w++)
          if (keys[4 * i + w] !== readU32(p.bytes, 4 * w)) {
            items[i] = prefixOf(p.bytes, p.length);
            break;
          }
    }
    if (total > ITEM_MASK) throw new RangeError(`LpmTable: more than ${ITEM_MASK} prefixes`);
    let n4 = 0;
    for (let i = 0; i < total; i++) if (family[i] === 4) n4++;
    // IPv4 sorts as u64 (address, length, item) natively, several times faster than a comparator.
    const packed = new BigUint64Array(n4);
    const halves = new Uint32Array(packed.buffer);
    for (let i = 0, j = 0; i < total; i++)
      if (family[i] === 4) {
        halves[2 * j + HI] = keys[4 * i];
        halves[2 * j + LO] = ((lengths[i] << 26) | i) >>> 0;
        j++;
      }
    packed.sort();
    const order = new Uint32Array(total);
    for (let j = 0; j < n4; j++) order[j] = halves[2 * j + LO] & ITEM_MASK;
    const six = new Uint32Array(total - n4);
    for (let i = 0, j = 0; i < total; i++) if (family[i] === 6) six[j++] = i;
    six.sort((a, b) => compareWords(keys, 4 * a, keys, 4 * b, 4) || lengths[a] - lengths[b] || a - b);
    order.set(six, n4);

    const prefixes: Prefix[] = [];
    const vals: T[][] = [];
    const sortedKeys = new Uint32Array(4 * total);
    const sortedLengths = new Uint8Array(total);
    let m = 0;
    let v4 = 0;
    let last = -1;
    for (let r = 0; r < total; r++) {
      const i = order[r];
      const same =
        last >= 0 &&
        family[i] === family[last] &&
        lengths[i] === lengths[last] &&
        compareWords(keys, 4 * i, keys, 4 * last, 4) === 0;
      // Built entries are distinct and sort first among equals, so a duplicate is always a new add.
      if (same) {
        vals[m - 1].push(this.addedValues[i - old]);
        continue;
      }
      last = i;
      prefixes.push(items[i]);
      vals.push(i < old ? this.vals[i] : [this.addedValues[i - old]]);
      for (let w = 0; w < 4; w++) sortedKeys[4 * m + w] = keys[4 * i + w];
      sortedLengths[m] = lengths[i];
      if (family[i] === 4) v4++;
      m++;
    }
    const parents = new Int32Array(m);
    this.v4 = buildIntervals(sortedKeys, sortedLengths, 0, v4, 1, parents);
    this.v6 = buildIntervals(sortedKeys, sortedLengths, v4, m - v4, 4, parents);
    this.prefixes = prefixes;
    this.vals = vals;
    this.parents = parents;
    this.addedPrefixes = [];
    this.addedValues = [];
    this.built = true;
  }

  /** Number of distinct prefixes. */
  get size(): number {
    if (!this.built) throw notBuilt();
    return this.prefixes.length;
  }

  /** Longest prefix containing the IPv4 address (u32), as an entry index, or -1. Allocation-free. */
  lookupV4(addr: number): number {
    if (!this.built) throw notBuilt();
    const t = this.v4;
    const a = addr >>> 0;
    const hi = (a & t.mask0) >>> 0;
    if (hi !== t.common0) return hi < t.common0 ? t.first : t.last;
    const b = (a << t.shift) >>> t.bucketShift;
    const rows = t.rows;
    let lo = t.index[b];
    let up = t.index[b + 1];
    while (lo < up) {
      const mid = (lo + up + 1) >>> 1;
      if (rows[mid << 1] <= a) lo = mid;
      else up = mid - 1;
    }
    return rows[(lo << 1) + 1] | 0;
  }

  /** Longest prefix containing the IPv6 address at bytes[off..off+16), or -1. Allocation-free. */
  lookupV6(bytes: Uint8Array, off: number): number {
    if (!this.built) throw notBuilt();
    const t = this.v6;
    const w0 = readU32(bytes, off);
    const w1 = readU32(bytes, off + 4);
    const h0 = (w0 & t.mask0) >>> 0;
    if (h0 !== t.common0) return h0 < t.common0 ? t.first : t.last;
    const h1 = (w1 & t.mask1) >>> 0;
    if (h1 !== t.common1) return h1 < t.common1 ? t.first : t.last;
    const s = t.shift;
    const x = s === 0 ? w0 : s < 32 ? (w0 << s) | (w1 >>> (32 - s)) : w1 << (s - 32);
    const b = x >>> t.bucketShift;
    const w2 = readU32(bytes, off + 8);
    const w3 = readU32(bytes, off + 12);
    const st = t.rows;
    let lo = t.index[b];
    let up = t.index[b + 1];
    while (lo < up) {
      const mid = (lo + up + 1) >>> 1;
      const o = mid * 5;
      let y = st[o];
      let le = y < w0;
      if (y === w0) {
        y = st[o + 1];
        le = y < w1;
        if (y === w1) {
          y = st[o + 2];
          le = y < w2 || (y === w2 && st[o + 3] <= w3);
        }
      }
      if (le) lo = mid;
      else up = mid - 1;
    }
    return st[lo * 5 + 4] | 0;
  }

  /** Either family: 4 bytes or 16 bytes. */
  lookup(addr: Uint8Array): number {
    if (addr.length === 4) return this.lookupV4(readU32(addr, 0));
    if (addr.length === 16) return this.lookupV6(addr, 0);
    return -1;
  }

  /** The next shorter prefix that covers this entry's prefix (same family), or -1: walking parents from lookup() visits every covering prefix, longest first. */
  parent(entry: number): number {
    return this.parents[entry];
  }

  prefix(entry: number): Prefix {
    return this.prefixes[entry];
  }

  /** The values added under the entry's prefix, in the order added. */
  values(entry: number): readonly T[] {
    return this.vals[entry];
  }

  /** Entries in a stable order (family, then address, then length), for display. */
  entries(): number[] {
    if (!this.built) throw notBuilt();
    return Array.from({ length: this.prefixes.length }, (_, i) => i);
  }

  /** Intervals per family, for tests and sizing. */
  get intervalCounts(): { v4: number; v6: number } {
    return { v4: this.v4.count, v6: this.v6.count };
  }
}
