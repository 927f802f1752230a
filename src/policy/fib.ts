import { type IpAddress, ipToString, sameAddress } from '../base/address.js';
import { DropReason } from '../base/drop-reason.js';
import { type Prefix, prefixContains } from '../base/prefix.js';
import type {
  AuthorityModel,
  EgressAction,
  PeerPathModel,
  PortRange,
  RouterModel,
  ServiceModel,
  ServicePolicyModel,
} from '../config/model.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocol.js';
import { AccessPolicy } from './access.js';
import { LpmTable } from './lpm.js';
import { DEFAULT_SERVICE_POLICY } from './path-selection.js';
import type { TenantTable } from './tenant.js';

/**
 * One router's forwarding information base (3.2, 3.3): services matched by longest prefix on the
 * destination plus exact protocol and port, each with its next hops, ahead of generic routes
 * (static and connected) matched by longest prefix alone. "SVR will always match a named route
 * first, and fall through to the generic routes second" (3.3).
 *
 * A lookup walks the prefixes containing the destination from the longest out, and at each takes
 * the first service whose protocol and port match and whose access policy admits the tenant, as
 * SSR's per-tenant FIB does: a tenant a longer service refuses may still match a shorter one. A
 * destination that matches services which all refuse the tenant is dropped (access-denied),
 * never routed around the policy; one that matches no service goes to the generic routes, and
 * then nowhere (no-route).
 */

/** Where a session goes next. */
export type NextHop =
  /** Over SVR to a peer router on one of these paths (chosen per session by the service policy). */
  | { readonly kind: 'peer'; readonly peer: string; readonly paths: readonly PeerPathModel[] }
  /** To a gateway as ordinary IP. */
  | { readonly kind: 'gateway'; readonly address: IpAddress; readonly interface: string | undefined }
  /** Delivered on a connected network: the destination is the next hop. */
  | { readonly kind: 'local'; readonly interface: string | undefined };

export interface FibService {
  readonly index: number;
  readonly model: ServiceModel;
  /** Protocol numbers the service matches (ICMP has two, v4 and v6); 0 for any protocol. */
  readonly protocolA: number;
  readonly protocolB: number;
  readonly ports: readonly PortRange[];
  readonly access: AccessPolicy;
  readonly policy: ServicePolicyModel;
}

/** A service on one of its prefixes, with what this router does with it. */
export interface FibEntry {
  readonly service: FibService;
  readonly prefix: Prefix;
  readonly nextHops: readonly NextHop[];
  readonly egress: EgressAction;
  /** True when a service route names the service on this router; false when derived from routes. */
  readonly named: boolean;
}

export interface RouteEntry {
  readonly prefix: Prefix;
  readonly nextHops: readonly NextHop[];
  readonly connected: boolean;
}

export type FibResult =
  | { readonly kind: 'service'; readonly entry: FibEntry }
  | { readonly kind: 'route'; readonly route: RouteEntry }
  | { readonly kind: 'drop'; readonly reason: DropReason };

function protocolsOf(p: ServiceModel['protocol']): [number, number] {
  switch (p) {
    case 'tcp':
      return [IPPROTO_TCP, IPPROTO_TCP];
    case 'udp':
      return [IPPROTO_UDP, IPPROTO_UDP];
    case 'icmp':
      return [IPPROTO_ICMP, IPPROTO_ICMPV6];
    default:
      return [0, 0];
  }
}

function portsCount(ports: readonly PortRange[]): number {
  return ports.length === 0 ? 65536 : ports.reduce((n, r) => n + r.hi - r.lo + 1, 0);
}

const DROP_ACCESS: FibResult = { kind: 'drop', reason: DropReason.AccessDenied };
const DROP_NO_ROUTE: FibResult = { kind: 'drop', reason: DropReason.NoRoute };

export class Fib {
  readonly services: readonly FibService[];
  private readonly serviceTable = new LpmTable<FibEntry>();
  private readonly routeTable = new LpmTable<RouteEntry>();

  // What a lookup reads, flattened into typed arrays: at 100 000 prefixes, walking JS objects
  // (values array, entry, service, access cache) costs a cache miss per hop and about 1 us per
  // lookup; these arrays cost one or two. Rows are the FibEntries of each prefix in match order.
  private rowFirst = new Int32Array(0);
  private rowCount = new Int32Array(0);
  private rowProtoA = new Uint8Array(0);
  private rowProtoB = new Uint8Array(0);
  private rowPortFirst = new Int32Array(0);
  private rowPortCount = new Int32Array(0);
  private rowService = new Int32Array(0);
  private portLo = new Uint16Array(0);
  private portHi = new Uint16Array(0);
  /** Preallocated results, so a lookup allocates nothing. */
  private rowResult: FibResult[] = [];
  private routeResult: FibResult[] = [];
  /** Per tenant id, per service: 0 not yet decided, 1 allowed, 2 denied. */
  private decisions: (Uint8Array | undefined)[] = [];

  constructor(
    readonly authority: AuthorityModel,
    readonly router: RouterModel,
    tenants: TenantTable,
  ) {
    const policies = new Map(authority.servicePolicies.map((p) => [p.name, p]));
    this.services = authority.services.map((s, index) => ({
      index,
      model: s,
      protocolA: protocolsOf(s.protocol)[0],
      protocolB: protocolsOf(s.protocol)[1],
      ports: s.protocol === 'tcp' || s.protocol === 'udp' ? s.ports : [],
      access: new AccessPolicy(s.access.allow, s.access.deny, tenants),
      policy: (s.servicePolicy && policies.get(s.servicePolicy)) || DEFAULT_SERVICE_POLICY,
    }));

    // Generic routes: connected networks, then static routes (Figure 4).
    const routes = new Map<string, { prefix: Prefix; hops: NextHop[]; connected: boolean }>();
    for (const ifc of router.interfaces)
      for (const a of ifc.addresses) {
        const r = routes.get(a.prefix.text) ?? { prefix: a.prefix, hops: [], connected: true };
        r.hops.push({ kind: 'local', interface: ifc.name });
        routes.set(a.prefix.text, r);
      }
    for (const s of router.routes) {
      const r = routes.get(s.prefix.text) ?? { prefix: s.prefix, hops: [], connected: false };
      r.hops.push(
        s.nextHop
          ? { kind: 'gateway', address: s.nextHop, interface: s.interface }
          : { kind: 'local', interface: s.interface },
      );
      routes.set(s.prefix.text, r);
    }
    for (const r of routes.values())
      this.routeTable.add(r.prefix, { prefix: r.prefix, nextHops: r.hops, connected: r.connected });
    this.routeTable.build();

    // Services: named routes where the router has them, else next hops from the generic routes.
    for (const svc of this.services) {
      const named = router.serviceRoutes.filter((r) => r.service === svc.model.name);
      for (const prefix of svc.model.prefixes) {
        const nextHops =
          named.length > 0
            ? named.flatMap((r) => this.resolveNamed(r.nextHops))
            : this.resolveByRoute(prefix);
        const egress = named.find((r) => r.egress.kind !== 'forward')?.egress ?? { kind: 'forward' };
        this.serviceTable.add(prefix, { service: svc, prefix, nextHops, egress, named: named.length > 0 });
      }
    }
    // At one prefix, specific protocols before "any" and narrow port sets before wide ones.
    this.serviceTable.build();
    for (const e of this.serviceTable.entries()) {
      const v = this.serviceTable.values(e) as FibEntry[];
      v.sort(
        (a, b) =>
          Number(a.service.protocolA === 0) - Number(b.service.protocolA === 0) ||
          portsCount(a.service.ports) - portsCount(b.service.ports) ||
          a.service.index - b.service.index,
      );
    }
    this.flatten();
    for (const e of this.routeTable.entries())
      this.routeResult[e] = { kind: 'route', route: this.routeTable.values(e)[0] };
  }

  private flatten(): void {
    const entries = this.serviceTable.entries();
    const rows: FibEntry[] = [];
    this.rowFirst = new Int32Array(entries.length);
    this.rowCount = new Int32Array(entries.length);
    for (const e of entries) {
      this.rowFirst[e] = rows.length;
      this.rowCount[e] = this.serviceTable.values(e).length;
      rows.push(...this.serviceTable.values(e));
    }
    const n = rows.length;
    this.rowProtoA = new Uint8Array(n);
    this.rowProtoB = new Uint8Array(n);
    this.rowPortFirst = new Int32Array(n);
    this.rowPortCount = new Int32Array(n);
    this.rowService = new Int32Array(n);
    const lo: number[] = [];
    const hi: number[] = [];
    rows.forEach((r, i) => {
      this.rowProtoA[i] = r.service.protocolA;
      this.rowProtoB[i] = r.service.protocolB;
      this.rowService[i] = r.service.index;
      this.rowPortFirst[i] = lo.length;
      this.rowPortCount[i] = r.service.ports.length;
      for (const p of r.service.ports) {
        lo.push(p.lo);
        hi.push(p.hi);
      }
    });
    this.portLo = Uint16Array.from(lo);
    this.portHi = Uint16Array.from(hi);
    this.rowResult = rows.map((entry) => ({ kind: 'service', entry }));
  }

  private allowed(tenant: number, service: number): boolean {
    let d = this.decisions[tenant];
    if (d === undefined) {
      d = new Uint8Array(this.services.length);
      this.decisions[tenant] = d;
    }
    let v = d[service];
    if (v === 0) {
      v = this.services[service].access.allows(tenant) ? 1 : 2;
      d[service] = v;
    }
    return v === 1;
  }

  private resolveNamed(specs: RouterModel['serviceRoutes'][number]['nextHops']): NextHop[] {
    return specs.map((h): NextHop => {
      if (h.kind === 'peer') {
        const peer = this.router.peers.find((p) => p.name === h.peer);
        return { kind: 'peer', peer: h.peer, paths: peer?.paths ?? [] };
      }
      return h;
    });
  }

  /**
   * 3.2: a route's next hop that is a peer's waypoint makes the peer the next hop, on every
   * path to that waypoint ("three of its peer pathways have an exact match").
   */
  private resolveByRoute(prefix: Prefix): NextHop[] {
    const e = this.routeTable.lookup(prefix.bytes);
    if (e < 0) return [];
    const out: NextHop[] = [];
    const byPeer = new Map<string, PeerPathModel[]>();
    for (const route of this.routeTable.values(e))
      for (const h of route.nextHops) {
        const gw = h.kind === 'gateway' ? h.address : undefined;
        const paths = gw
          ? this.router.peers.flatMap((p) =>
              p.paths.filter((x) => x.remoteAddress && sameAddress(x.remoteAddress, gw)),
            )
          : [];
        if (paths.length === 0) {
          out.push(h);
          continue;
        }
        for (const p of paths) {
          const list = byPeer.get(p.peer) ?? [];
          if (!list.includes(p)) list.push(p);
          byPeer.set(p.peer, list);
        }
      }
    for (const [peer, paths] of byPeer)
      out.unshift({ kind: 'peer', peer, paths: paths.sort((a, b) => a.id - b.id) });
    return out;
  }

  /** Walk the prefixes from entry `e` out; see the class comment for the order. */
  private walk(e: number, tenant: number, protocol: number, port: number): FibResult | undefined {
    let refused = false;
    while (e >= 0) {
      const end = this.rowFirst[e] + this.rowCount[e];
      for (let r = this.rowFirst[e]; r < end; r++) {
        const a = this.rowProtoA[r];
        if (a !== 0 && a !== protocol && this.rowProtoB[r] !== protocol) continue;
        const pn = this.rowPortCount[r];
        if (pn > 0) {
          let ok = false;
          for (let k = this.rowPortFirst[r], kEnd = k + pn; k < kEnd && !ok; k++)
            ok = port >= this.portLo[k] && port <= this.portHi[k];
          if (!ok) continue;
        }
        if (this.allowed(tenant, this.rowService[r])) return this.rowResult[r];
        refused = true;
      }
      e = this.serviceTable.parent(e);
    }
    return refused ? DROP_ACCESS : undefined;
  }

  /** The service (or route) for a first packet; see the class comment for the order. */
  lookup(tenant: number, dst: Uint8Array, protocol: number, port: number): FibResult {
    const hit = this.walk(this.serviceTable.lookup(dst), tenant, protocol, port);
    if (hit) return hit;
    const r = this.routeTable.lookup(dst);
    return r >= 0 ? this.routeResult[r] : DROP_NO_ROUTE;
  }

  lookupV4(tenant: number, dst: number, protocol: number, port: number): FibResult {
    const hit = this.walk(this.serviceTable.lookupV4(dst), tenant, protocol, port);
    if (hit) return hit;
    const r = this.routeTable.lookupV4(dst);
    return r >= 0 ? this.routeResult[r] : DROP_NO_ROUTE;
  }

  /**
   * The entry of a named service for a destination, for a router that learned the service from
   * metadata (3.7.2.4): the service's prefix containing the destination, else its first one
   * (a destination resolved by DNS need not be in the service's prefixes).
   */
  entryForService(service: number, dst: Uint8Array | undefined): FibEntry | undefined {
    let first: FibEntry | undefined;
    for (let r = 0; r < this.rowResult.length; r++) {
      const res = this.rowResult[r];
      if (res.kind !== 'service' || res.entry.service.index !== service) continue;
      first ??= res.entry;
      if (dst && dst.length === res.entry.prefix.bytes.length && prefixContains(res.entry.prefix, dst))
        return res.entry;
    }
    return first;
  }

  /** Generic routes only (for waypoints and plain IP traffic). */
  route(dst: Uint8Array): RouteEntry | undefined {
    const r = this.routeTable.lookup(dst);
    return r >= 0 ? this.routeTable.values(r)[0] : undefined;
  }

  /** Every row of the table, like SSR's `show fib`. */
  rows(): FibRow[] {
    const out: FibRow[] = [];
    for (const e of this.serviceTable.entries()) {
      for (const entry of this.serviceTable.values(e)) {
        const s = entry.service;
        const ports =
          s.ports.length === 0
            ? '<any>'
            : s.ports.map((r) => (r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`)).join(',');
        const tenants =
          s.model.access.allow.length === 0
            ? ['<none>']
            : s.model.access.allow.map((t) => (t === '*' ? '<all>' : t === '' ? '<global>' : t));
        for (const tenant of tenants)
          out.push({
            prefix: entry.prefix.text,
            ports,
            protocol: s.model.protocol,
            tenant,
            service: s.model.name,
            nextHops: entry.nextHops.map(describeNextHop),
            action: describeEgress(entry.egress),
          });
      }
    }
    for (const e of this.routeTable.entries())
      for (const r of this.routeTable.values(e))
        out.push({
          prefix: r.prefix.text,
          ports: '',
          protocol: '',
          tenant: '',
          service: '',
          nextHops: r.nextHops.map(describeNextHop),
          action: r.connected ? 'connected' : 'route',
        });
    return out;
  }
}

export interface FibRow {
  prefix: string;
  ports: string;
  protocol: string;
  tenant: string;
  service: string;
  nextHops: string[];
  action: string;
}

export function describeNextHop(h: NextHop): string {
  switch (h.kind) {
    case 'peer':
      return `${h.peer} via ${h.paths.map((p) => `${p.vector} ${p.remoteAddress ? ipToString(p.remoteAddress) : p.remoteHost}`).join(', ') || 'no paths'}`;
    case 'gateway':
      return `gateway ${ipToString(h.address)}${h.interface ? ` (${h.interface})` : ''}`;
    default:
      return `local${h.interface ? ` (${h.interface})` : ''}`;
  }
}

export function describeEgress(a: EgressAction): string {
  if (a.kind === 'dns') return 'dns';
  if (a.kind === 'nat') return `dest-nat ${a.pool.map(ipToString).join(' ')} (${a.loadBalancing})`;
  return 'forward';
}

/** The FIB as aligned text columns. */
export function formatFib(rows: readonly FibRow[]): string {
  const head = ['Prefix', 'Port', 'Protocol', 'Tenant', 'Service', 'Action', 'Next Hops'];
  const cells = rows.map((r) => [
    r.prefix,
    r.ports,
    r.protocol,
    r.tenant,
    r.service,
    r.action,
    r.nextHops.join('; '),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => (i === c.length - 1 ? x : x.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...cells.map(line)].join('\n');
}
