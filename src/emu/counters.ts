/**
 * Named counters for a segment, node or driver: what tests assert on and the demo prints. A Map
 * rather than fixed fields, so each component names its own events (`filter:syn-with-payload`,
 * `nat-no-mapping`) without a shared enum.
 */
export class Counters {
  private readonly map = new Map<string, number>();

  add(name: string, n = 1): void {
    this.map.set(name, (this.map.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.map.get(name) ?? 0;
  }

  /** Sum of every counter whose name starts with `prefix`. */
  sum(prefix: string): number {
    let t = 0;
    for (const [k, v] of this.map) if (k.startsWith(prefix)) t += v;
    return t;
  }

  /** Non-zero counters in name order, for printing and comparing runs. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.map.keys()].sort()) out[k] = this.map.get(k) ?? 0;
    return out;
  }
}
