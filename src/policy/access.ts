import { type TenantTable, tenantMatch } from './tenant.js';

/**
 * Access policy of a service (4.6.5.1, 4.6.5.2): tenants allowed and tenants denied, deny by
 * default (R-4.6.5.2-c). Names match tenants right to left in whole segments and the most
 * specific entry decides, so "allow engineering, deny release.engineering" lets
 * "dev.engineering" in and keeps "release.engineering" (and "x.release.engineering") out; on a
 * tie between an allow and a deny, deny wins.
 *
 * Decisions are cached per tenant id, so a first packet pays for the string matching once per
 * tenant and service, not once per session.
 */
export class AccessPolicy {
  /** 0 unknown, 1 allowed, 2 denied; indexed by tenant id. */
  private cache = new Uint8Array(16);

  constructor(
    readonly allow: readonly string[],
    readonly deny: readonly string[],
    private readonly tenants: TenantTable,
  ) {}

  /** Decide for a tenant name, uncached. */
  static decide(allow: readonly string[], deny: readonly string[], tenant: string): boolean {
    let a = -1;
    for (const n of allow) a = Math.max(a, tenantMatch(n, tenant));
    if (a < 0) return false;
    let d = -1;
    for (const n of deny) d = Math.max(d, tenantMatch(n, tenant));
    return d < a;
  }

  allows(tenantId: number): boolean {
    if (tenantId >= this.cache.length) {
      let n = this.cache.length;
      while (n <= tenantId) n *= 2;
      const c = new Uint8Array(n);
      c.set(this.cache);
      this.cache = c;
    }
    let v = this.cache[tenantId];
    if (v === 0) {
      v = AccessPolicy.decide(this.allow, this.deny, this.tenants.name(tenantId)) ? 1 : 2;
      this.cache[tenantId] = v;
    }
    return v === 1;
  }

  /** Tenants named by the allow list, for display ("*" shown as given). */
  allowedNames(): readonly string[] {
    return this.allow;
  }
}
