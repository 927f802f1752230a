import { prefixOf } from '../base/prefix.js';
import type { AuthorityModel, InterfaceModel, RouterModel } from '../config/model.js';
import { LpmTable } from './lpm.js';

/**
 * Tenants (3.7.1.1, 4.6.5.2): dotted hierarchies like "release.engineering", matched by policy
 * right to left in whole segments, the longest match winning. A packet's tenant comes, in the
 * SSR walkthrough's order, from SVR metadata, else its network interface (device + VLAN), else
 * the longest neighborhood prefix containing its source address, else the global tenant.
 */

/** Policy entry matching every tenant, the global one included. */
export const ANY_TENANT = '*';

/**
 * How specifically a policy name matches a tenant: the number of segments matched right to left
 * ("engineering" matches "release.engineering" with 1), 0 for "*", or -1 for no match.
 */
export function tenantMatch(policyName: string, tenant: string): number {
  if (policyName === ANY_TENANT) return 0;
  if (policyName === '' || tenant === '') return policyName === tenant ? 0 : -1;
  if (tenant === policyName || tenant.endsWith(`.${policyName}`)) return segments(policyName);
  return -1;
}

function segments(name: string): number {
  let n = 1;
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) === 0x2e) n++;
  return n;
}

/**
 * Every tenant name a router meets, interned to a small integer (id 0 is the global tenant ""),
 * so sessions and per-tenant caches store numbers. Names learned from metadata that no config
 * defines get ids too: policy still applies to them by hierarchy.
 */
export class TenantTable {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];

  constructor(known: readonly string[] = []) {
    this.intern('');
    for (const n of known) this.intern(n);
  }

  intern(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push(name);
    }
    return id;
  }

  /** The id of a name, or -1 if never interned. */
  idOf(name: string): number {
    return this.ids.get(name) ?? -1;
  }

  name(id: number): string {
    return this.names[id] ?? '';
  }

  get size(): number {
    return this.names.length;
  }
}

/** Where a packet's tenant came from (for logs and `show sessions`). */
export type TenantSource = 'metadata' | 'interface' | 'neighborhood' | 'global';

export interface TenantResult {
  tenant: number;
  source: TenantSource;
}

/** Tenant assignment for one router's interfaces. */
export class TenantResolver {
  private readonly byInterface: (number | undefined)[] = [];
  private readonly neighborhoods: (LpmTable<number> | undefined)[] = [];
  private readonly global: number;
  private readonly scratch = new Uint8Array(4);

  constructor(
    readonly interfaces: readonly InterfaceModel[],
    globalTenant: string,
    readonly tenants: TenantTable,
  ) {
    this.global = tenants.intern(globalTenant);
    interfaces.forEach((ifc, i) => {
      this.byInterface[i] = ifc.tenant === undefined ? undefined : tenants.intern(ifc.tenant);
      if (ifc.neighborhoods.length > 0) {
        const t = new LpmTable<number>();
        for (const n of ifc.neighborhoods) t.add(n.prefix, tenants.intern(n.tenant));
        t.build();
        this.neighborhoods[i] = t;
      }
    });
  }

  static forRouter(a: AuthorityModel, r: RouterModel, tenants: TenantTable): TenantResolver {
    return new TenantResolver(r.interfaces, a.globalTenant, tenants);
  }

  /**
   * The tenant of a first packet: `metadataTenant` from SVR metadata (R-4.6.5.2-e), else the
   * interface's tenant (R-4.6.5.2-c), else its neighborhoods by longest prefix (R-4.6.5.2-d),
   * else global. `iface` indexes `interfaces`; `src` is 4 or 16 address bytes.
   */
  resolve(metadataTenant: string | undefined, iface: number, src: Uint8Array): TenantResult {
    if (metadataTenant !== undefined)
      return { tenant: this.tenants.intern(metadataTenant), source: 'metadata' };
    const direct = this.byInterface[iface];
    if (direct !== undefined) return { tenant: direct, source: 'interface' };
    const n = this.neighborhoods[iface];
    if (n) {
      const e = n.lookup(src);
      if (e >= 0) return { tenant: n.values(e)[0], source: 'neighborhood' };
    }
    return { tenant: this.global, source: 'global' };
  }

  /** `resolve` for an IPv4 source given as a number (the hot form). */
  resolveV4(metadataTenant: string | undefined, iface: number, src: number): TenantResult {
    const s = this.scratch;
    s[0] = src >>> 24;
    s[1] = src >>> 16;
    s[2] = src >>> 8;
    s[3] = src;
    return this.resolve(metadataTenant, iface, s);
  }

  /** For tests and display: the prefix that would assign a tenant to this source, if any. */
  neighborhoodOf(iface: number, src: Uint8Array): string | undefined {
    const n = this.neighborhoods[iface];
    const e = n ? n.lookup(src) : -1;
    return n && e >= 0 ? prefixOf(n.prefix(e).bytes, n.prefix(e).length).text : undefined;
  }
}
