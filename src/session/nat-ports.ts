/**
 * Source ports for the source NAT an egress router applies (3.7.1.5, TLV 25): sessions from
 * many clients leave with one address, each with its own port. A client's own port is kept
 * when free (fewer surprises in logs), else the next free one from a rotating position.
 */
export class NatPortPool {
  private readonly used = new Map<number, Uint8Array>();
  private cursor = 1024;

  constructor(
    private readonly lo = 1024,
    private readonly hi = 65535,
  ) {}

  private bits(address: number): Uint8Array {
    let b = this.used.get(address);
    if (!b) {
      b = new Uint8Array(65536);
      this.used.set(address, b);
    }
    return b;
  }

  /** A free port on `address` (IPv4 as u32), preferring `wanted`; -1 when all are taken. */
  allocate(address: number, wanted: number): number {
    const b = this.bits(address);
    if (wanted >= this.lo && wanted <= this.hi && !b[wanted]) {
      b[wanted] = 1;
      return wanted;
    }
    const span = this.hi - this.lo + 1;
    for (let i = 0; i < span; i++) {
      const p = this.lo + ((this.cursor - this.lo + i) % span);
      if (!b[p]) {
        b[p] = 1;
        this.cursor = p + 1;
        return p;
      }
    }
    return -1;
  }

  release(address: number, port: number): void {
    const b = this.used.get(address);
    if (b) b[port] = 0;
  }

  inUse(address: number, port: number): boolean {
    return this.used.get(address)?.[port] === 1;
  }
}
