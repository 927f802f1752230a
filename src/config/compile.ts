import { type IpAddress, ipToString } from '../base/address.js';
import {
  type AuthorityModel,
  DEFAULT_LIMITS,
  DEFAULT_PEERING,
  DEFAULT_TIMERS,
  type EgressAction,
  type InterfaceModel,
  type Limits,
  type NextHopSpec,
  type Peering,
  type PeerModel,
  type PeerPathModel,
  type PortRange,
  type Prefix,
  type RouterModel,
  type SecurityPolicyModel,
  type ServiceModel,
  type ServicePolicyModel,
  type ServiceRouteModel,
  type StaticRouteModel,
  type TenantModel,
  type Timers,
} from './model.js';
import type { RawConfig, RawInterface, RawRouter, RawServiceRoute } from './schema.js';
import type { ConfigPath } from './source.js';
import {
  parseAddress,
  parseInterfaceAddress,
  parseIpv4Address,
  parseNetwork,
  parsePortRange,
  parseWayports,
} from './values.js';

/**
 * The second pass over a file the schema accepted: references between sections (tenants,
 * policies, routers, peers, interfaces), uniqueness and consistency, then conversion to the
 * model (config/model.ts) with every default applied. Problems go to the reporter with the path
 * of the offending value; the result is only meaningful when no error was reported.
 */

export interface Reporter {
  error(path: ConfigPath, message: string): void;
  warning(path: ConfigPath, message: string): void;
  /** Where a path is written, for messages that point at a first occurrence ("line 12"). */
  where(path: ConfigPath): string;
}

/** The security policy every authority has, configured or not: no payload encryption (4.6.6). */
export const BUILTIN_SECURITY_POLICY: SecurityPolicyModel = {
  name: 'none',
  encryption: 'none',
  rekeySeconds: 0,
};

/** Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`: typos of keys and names. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** ` (did you mean "x"?)` when one known name is close, else the known names when few. */
export function suggestion(got: string, known: Iterable<string>): string {
  const names = [...known];
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of names) {
    const d = editDistance(got.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  // About one edit in three characters is a typo; more is another name (and a 1-letter name has no typo).
  if (best !== undefined && bestD <= Math.floor((got.length + 1) / 3)) return ` (did you mean "${best}"?)`;
  if (names.length === 0) return ' (none defined)';
  if (names.length <= 8) return ` (defined: ${names.join(', ')})`;
  return '';
}

/** Names seen so far in one list, to report the second of two equal names. */
class UniqueNames {
  private readonly seen = new Map<string, ConfigPath>();
  constructor(
    private readonly r: Reporter,
    private readonly what: string,
    private readonly label = '',
  ) {}

  /** False (and an error at `path`) when `name` was seen before. */
  add(name: string, path: ConfigPath, shown = `"${name}"`): boolean {
    const first = this.seen.get(name);
    if (first) {
      this.r.error(
        path,
        `${this.label}expected a unique ${this.what}, got ${shown} again (first at ${this.r.where(first)})`,
      );
      return false;
    }
    this.seen.set(name, path);
    return true;
  }

  has(name: string): boolean {
    return this.seen.has(name);
  }

  names(): string[] {
    return [...this.seen.keys()];
  }
}

/** Pass a value the schema already checked through its parser; a failure is reported. */
function conv<T>(r: Reporter, path: ConfigPath, v: T | string, fallback: T): T {
  if (typeof v !== 'string') return v;
  r.error(path, v);
  return fallback;
}

// Placeholders after a reported error: a result with errors is never used.
const NO_ADDRESS: IpAddress = { version: 4, v4: 0 };
const NO_PREFIX: Prefix = { family: 4, bytes: new Uint8Array(4), length: 0, text: '0.0.0.0/0' };
const NO_RANGE: PortRange = { lo: 1, hi: 65535 };

/** Defined fields of `over` replace those of `base` (absent or undefined fields do not). */
function overlay<T extends object>(base: T, over: Partial<T> | undefined): T {
  if (!over) return base;
  const out: T = { ...base };
  for (const k of Object.keys(over) as (keyof T)[]) {
    const v = over[k];
    if (v !== undefined) out[k] = v as T[keyof T];
  }
  return out;
}

function egressOf(e: RawServiceRoute['egress'], r: Reporter, path: ConfigPath): EgressAction {
  if (e === 'forward' || e === 'dns') return { kind: e };
  return {
    kind: 'nat',
    pool: e.nat.pool.map((a, i) => conv(r, [...path, 'nat', 'pool', i], parseAddress(a), NO_ADDRESS)),
    loadBalancing: e.nat.loadBalancing,
  };
}

function egressText(e: RawServiceRoute['egress']): string {
  if (typeof e === 'string') return `"${e}"`;
  return `nat to ${e.nat.pool.join(', ')} (${e.nat.loadBalancing})`;
}

export function compileConfig(raw: RawConfig, r: Reporter): AuthorityModel {
  // Tenants first: every other section names them (3.7.1.1, 4.6.5.2).
  const tenants = new UniqueNames(r, 'tenant name');
  const tenantModels: TenantModel[] = [];
  raw.tenants.forEach((t, i) => {
    if (tenants.add(t.name, ['tenants', i, 'name']))
      tenantModels.push({ name: t.name, description: t.description });
  });
  const tenantRef = (name: string, path: ConfigPath): void => {
    if (!tenants.has(name))
      r.error(path, `expected a defined tenant, got "${name}"${suggestion(name, tenants.names())}`);
  };
  if (raw.authority.globalTenant !== '') tenantRef(raw.authority.globalTenant, ['authority', 'globalTenant']);

  const servicePolicyNames = new UniqueNames(r, 'service policy name');
  const servicePolicies: ServicePolicyModel[] = [];
  raw.servicePolicies.forEach((p, i) => {
    if (!servicePolicyNames.add(p.name, ['servicePolicies', i, 'name'])) return;
    servicePolicies.push({
      name: p.name,
      sla: {
        maxLatencyMs: p.sla.maxLatencyMs,
        maxLossPercent: p.sla.maxLossPercent,
        maxJitterMs: p.sla.maxJitterMs,
        minMos: p.sla.minMos,
      },
      vectorCosts: new Map(Object.entries(p.vectors)),
      defaultVectorCost: p.defaultVectorCost,
      loadBalancing: p.loadBalancing,
      bestEffort: p.bestEffort,
      revertible: p.revertible,
    });
  });

  const securityPolicyNames = new UniqueNames(r, 'security policy name');
  const securityPolicies: SecurityPolicyModel[] = [];
  raw.securityPolicies.forEach((p, i) => {
    if (!securityPolicyNames.add(p.name, ['securityPolicies', i, 'name'])) return;
    if (p.name === BUILTIN_SECURITY_POLICY.name && p.encryption !== BUILTIN_SECURITY_POLICY.encryption)
      r.error(
        ['securityPolicies', i, 'encryption'],
        `expected encryption "none" for the built-in security policy "none", got "${p.encryption}"`,
      );
    securityPolicies.push({ name: p.name, encryption: p.encryption, rekeySeconds: p.rekeySeconds });
  });
  if (!securityPolicyNames.has(BUILTIN_SECURITY_POLICY.name)) {
    securityPolicyNames.add(BUILTIN_SECURITY_POLICY.name, ['securityPolicies']);
    securityPolicies.push(BUILTIN_SECURITY_POLICY);
  }

  const serviceNames = new UniqueNames(r, 'service name');
  const services: ServiceModel[] = [];
  raw.services.forEach((s, i) => {
    const at = (...p: PropertyKey[]): ConfigPath => ['services', i, ...p];
    const unique = serviceNames.add(s.name, at('name'));
    s.access.allow.forEach((t, j) => {
      if (t !== '*') tenantRef(t, at('access', 'allow', j));
    });
    s.access.deny.forEach((t, j) => {
      tenantRef(t, at('access', 'deny', j));
    });
    if (s.access.allow.length === 0)
      r.warning(
        at('access'),
        `service "${s.name}" has no access.allow, so no tenant can use it (deny by default, 4.6.5.2)`,
      );
    if (s.servicePolicy !== undefined && !servicePolicyNames.has(s.servicePolicy))
      r.error(
        at('servicePolicy'),
        `expected a defined service policy, got "${s.servicePolicy}"${suggestion(s.servicePolicy, servicePolicyNames.names())}`,
      );
    if (!securityPolicyNames.has(s.securityPolicy))
      r.error(
        at('securityPolicy'),
        `expected a defined security policy, got "${s.securityPolicy}"${suggestion(s.securityPolicy, securityPolicyNames.names())}`,
      );
    // 4.6.6, 7.4.15: the session key travels in metadata, which must then be encrypted.
    const enc = securityPolicies.find((p) => p.name === s.securityPolicy)?.encryption ?? 'none';
    if (enc !== 'none' && raw.authority.security.metadataCipher === 'none')
      r.error(
        at('securityPolicy'),
        `security policy "${s.securityPolicy}" encrypts payload, whose key travels in metadata: expected authority.security.metadataCipher other than none`,
      );
    // Ports belong to TCP and UDP (4.6.5.1); ICMP has none and "any" would mix both meanings.
    if (s.ports.length > 0 && (s.protocol === 'icmp' || s.protocol === 'any'))
      r.error(
        at('ports'),
        `expected no ports with protocol ${s.protocol} (ports need tcp or udp), got ${s.ports.map((p) => `"${p}"`).join(', ')}`,
      );
    if (!unique) return;
    services.push({
      name: s.name,
      description: s.description,
      prefixes: s.addresses.map((a, j) => conv(r, at('addresses', j), parseNetwork(a), NO_PREFIX)),
      protocol: s.protocol,
      ports: s.ports.map((p, j) => conv(r, at('ports', j), parsePortRange(p), NO_RANGE)),
      access: { allow: [...s.access.allow], deny: [...s.access.deny] },
      servicePolicy: s.servicePolicy,
      securityPolicy: s.securityPolicy,
      dnsName: s.dnsName,
    });
  });
  const serviceByName = new Map(services.map((s) => [s.name, s]));

  const routerNames = new UniqueNames(r, 'router name');
  raw.routers.forEach((rt, i) => {
    routerNames.add(rt.name, ['routers', i, 'name']);
  });
  const routers = raw.routers.map((rt, i) =>
    compileRouter(rt, ['routers', i], raw, { r, tenantRef, routerNames, serviceByName }),
  );

  // A peer relationship needs both ends (3.1); one side alone is likely a forgotten entry.
  const peersOf = new Map<string, Set<string>>();
  for (const rt of raw.routers) peersOf.set(rt.name, new Set(rt.peers.map((p) => p.name)));
  raw.routers.forEach((rt, i) => {
    rt.peers.forEach((p, j) => {
      const back = peersOf.get(p.name);
      if (back && p.name !== rt.name && !back.has(rt.name))
        r.warning(
          ['routers', i, 'peers', j, 'name'],
          `router "${p.name}" does not peer back with "${rt.name}": expected a peers entry for "${rt.name}" in router "${p.name}"`,
        );
    });
  });

  return {
    name: raw.authority.name,
    security: {
      hmac: {
        method: raw.authority.security.hmac.method,
        timeBased: raw.authority.security.hmac.timeBased,
        scope: raw.authority.security.hmac.scope,
      },
      metadataCipher: raw.authority.security.metadataCipher,
      curve: raw.authority.security.curve,
    },
    globalTenant: raw.authority.globalTenant,
    tenants: tenantModels,
    services,
    servicePolicies,
    securityPolicies,
    routers,
  };
}

interface Context {
  readonly r: Reporter;
  readonly tenantRef: (name: string, path: ConfigPath) => void;
  readonly routerNames: UniqueNames;
  readonly serviceByName: ReadonlyMap<string, ServiceModel>;
}

function compileInterfaces(rt: RawRouter, base: ConfigPath, cx: Context): InterfaceModel[] {
  const { r } = cx;
  const names = new UniqueNames(r, 'interface name in the router');
  const ports = new UniqueNames(r, 'device and VLAN in the router');
  const addresses = new UniqueNames(r, 'interface address in the router');
  const out: InterfaceModel[] = [];
  rt.interfaces.forEach((f: RawInterface, i) => {
    const at = (...p: PropertyKey[]): ConfigPath => [...base, 'interfaces', i, ...p];
    const unique = names.add(f.name, at('name'));
    const device = f.device ?? f.name;
    // Point at what makes the pair equal: the vlan if written, else the device (or the name it defaults to).
    const portPath = f.vlan !== 0 ? at('vlan') : f.device !== undefined ? at('device') : at('name');
    ports.add(`${device}\u0000${f.vlan}`, portPath, `device "${device}" VLAN ${f.vlan}`);
    const addrs = f.addresses.map((a, j) => {
      const ia = conv(r, at('addresses', j), parseInterfaceAddress(a), {
        address: NO_ADDRESS,
        prefix: NO_PREFIX,
      });
      const text = ipToString(ia.address);
      addresses.add(text, at('addresses', j), text);
      return ia;
    });
    if (f.tenant !== undefined) cx.tenantRef(f.tenant, at('tenant'));
    // One tenant per source prefix: with two, the longest match (4.6.5.2) would be ambiguous.
    const hoods = new UniqueNames(r, 'source prefix on the interface', 'overlapping neighborhood: ');
    const neighborhoods = f.neighborhoods.map((n, j) => {
      const prefix = conv(r, at('neighborhoods', j, 'prefix'), parseNetwork(n.prefix), NO_PREFIX);
      hoods.add(prefix.text, at('neighborhoods', j, 'prefix'), prefix.text);
      cx.tenantRef(n.tenant, at('neighborhoods', j, 'tenant'));
      return { prefix, tenant: n.tenant };
    });
    if (!unique) return;
    out.push({
      name: f.name,
      device,
      vlan: f.vlan,
      role: f.role,
      addresses: addrs,
      tenant: f.tenant,
      neighborhoods,
      wayports: conv(r, at('wayports'), parseWayports(f.wayports), NO_RANGE),
      sourceNat:
        f.sourceNat === undefined
          ? undefined
          : conv(r, at('sourceNat'), parseIpv4Address(f.sourceNat), NO_ADDRESS),
      mtu: f.mtu,
    });
  });
  return out;
}

function compilePeers(
  rt: RawRouter,
  base: ConfigPath,
  ifaces: Map<string, InterfaceModel>,
  cx: Context,
): PeerModel[] {
  const { r } = cx;
  const names = new UniqueNames(r, 'peer in the router');
  const out: PeerModel[] = [];
  let nextId = 0;
  rt.peers.forEach((p, i) => {
    const at = (...s: PropertyKey[]): ConfigPath => [...base, 'peers', i, ...s];
    const unique = names.add(p.name, at('name'));
    if (p.name === rt.name)
      r.error(at('name'), `expected another router, got "${p.name}", this router itself`);
    else if (!cx.routerNames.has(p.name))
      r.error(
        at('name'),
        `expected a router of the authority, got "${p.name}"${suggestion(p.name, cx.routerNames.names())}`,
      );
    const paths: PeerPathModel[] = [];
    p.paths.forEach((path, j) => {
      const pat = (...s: PropertyKey[]): ConfigPath => at('paths', j, ...s);
      const f = ifaces.get(path.interface);
      if (!f)
        r.error(
          pat('interface'),
          `expected an interface of router "${rt.name}", got "${path.interface}"${suggestion(path.interface, ifaces.keys())}`,
        );
      else if (f.role !== 'wan')
        r.error(
          pat('interface'),
          `expected a WAN interface for a peer path, got "${path.interface}" (role ${f.role})`,
        );
      if (path.address !== undefined && path.host !== undefined)
        r.error(pat('host'), 'expected address or host, got both');
      else if (path.address === undefined && path.host === undefined)
        r.error(pat(), "missing: expected address or host (the peer's waypoint)");
      // Ids count every path of the router in document order: per-path state is indexed by them.
      paths.push({
        id: nextId++,
        peer: p.name,
        interface: path.interface,
        remoteAddress:
          path.address === undefined
            ? undefined
            : conv(r, pat('address'), parseAddress(path.address), NO_ADDRESS),
        remoteHost: path.host,
        vector: path.vector,
        weight: path.weight,
        tcpToUdp: path.tcpToUdp,
      });
    });
    if (unique) out.push({ name: p.name, paths });
  });
  return out;
}

function compileServiceRoutes(
  rt: RawRouter,
  base: ConfigPath,
  ifaces: Map<string, InterfaceModel>,
  peers: readonly PeerModel[],
  cx: Context,
): ServiceRouteModel[] {
  const { r } = cx;
  const peerNames = peers.map((p) => p.name);
  const groups = new Map<
    string,
    { first: number; egress: EgressAction; raw: RawServiceRoute; hops: NextHopSpec[] }
  >();
  rt.serviceRoutes.forEach((sr, i) => {
    const at = (...s: PropertyKey[]): ConfigPath => [...base, 'serviceRoutes', i, ...s];
    const service = cx.serviceByName.get(sr.service);
    if (!service)
      r.error(
        at('service'),
        `expected a defined service, got "${sr.service}"${suggestion(sr.service, cx.serviceByName.keys())}`,
      );
    const kinds = (['peer', 'nextHop', 'local'] as const).filter((k) => sr[k] !== undefined);
    if (kinds.length === 0) r.error(at(), 'missing: expected one of peer, nextHop or local');
    else if (kinds.length > 1)
      r.error(at(kinds[1]), `expected one of peer, nextHop or local, got ${kinds.join(' and ')}`);
    if (sr.peer !== undefined && !peerNames.includes(sr.peer))
      r.error(
        at('peer'),
        `expected a peer of router "${rt.name}", got "${sr.peer}"${suggestion(sr.peer, peerNames)}`,
      );
    if (sr.interface !== undefined) {
      if (sr.peer !== undefined)
        r.error(
          at('interface'),
          `expected no interface with peer (its paths choose one), got "${sr.interface}"`,
        );
      else if (!ifaces.has(sr.interface))
        r.error(
          at('interface'),
          `expected an interface of router "${rt.name}", got "${sr.interface}"${suggestion(sr.interface, ifaces.keys())}`,
        );
    }
    if (sr.egress === 'dns' && service && service.dnsName === undefined)
      r.error(
        at('egress'),
        `expected a service with a dnsName for egress dns, got service "${sr.service}" without one`,
      );
    const egress = egressOf(sr.egress, r, at('egress'));
    let hop: NextHopSpec | undefined;
    if (sr.peer !== undefined) hop = { kind: 'peer', peer: sr.peer };
    else if (sr.nextHop !== undefined)
      hop = {
        kind: 'gateway',
        address: conv(r, at('nextHop'), parseAddress(sr.nextHop), NO_ADDRESS),
        interface: sr.interface,
      };
    else if (sr.local !== undefined) hop = { kind: 'local', interface: sr.interface };
    const g = groups.get(sr.service);
    if (!g) {
      groups.set(sr.service, { first: i, egress, raw: sr, hops: hop ? [hop] : [] });
      return;
    }
    // Entries for one service combine their next hops; what leaves SVR must not depend on which (3.3).
    if (egressText(g.raw.egress) !== egressText(sr.egress))
      r.error(
        at('egress'),
        `expected the egress of the first route for service "${sr.service}" (${cx.r.where([...base, 'serviceRoutes', g.first])}), ${egressText(g.raw.egress)}, got ${egressText(sr.egress)}`,
      );
    if (hop) g.hops.push(hop);
  });
  return [...groups].map(([service, g]) => ({ service, nextHops: g.hops, egress: g.egress }));
}

function compileRouter(rt: RawRouter, base: ConfigPath, raw: RawConfig, cx: Context): RouterModel {
  const { r } = cx;
  const interfaces = compileInterfaces(rt, base, cx);
  const ifaces = new Map(interfaces.map((f) => [f.name, f]));
  const peers = compilePeers(rt, base, ifaces, cx);
  const serviceRoutes = compileServiceRoutes(rt, base, ifaces, peers, cx);
  const routes: StaticRouteModel[] = rt.routes.map((rr, i) => {
    const at = (...s: PropertyKey[]): ConfigPath => [...base, 'routes', i, ...s];
    if (rr.nextHop === undefined && rr.interface === undefined)
      r.error(at(), 'missing: expected nextHop, interface or both');
    if (rr.interface !== undefined && !ifaces.has(rr.interface))
      r.error(
        at('interface'),
        `expected an interface of router "${rt.name}", got "${rr.interface}"${suggestion(rr.interface, ifaces.keys())}`,
      );
    return {
      prefix: conv(r, at('prefix'), parseNetwork(rr.prefix), NO_PREFIX),
      nextHop:
        rr.nextHop === undefined ? undefined : conv(r, at('nextHop'), parseAddress(rr.nextHop), NO_ADDRESS),
      interface: rr.interface,
    };
  });
  // D-10: model defaults, then the authority's timers, then the router's, field by field.
  const timers: Timers = overlay(overlay(DEFAULT_TIMERS, raw.authority.timers), rt.timers);
  const limits: Limits = overlay(DEFAULT_LIMITS, rt.limits);
  const peering: Peering = overlay(overlay(DEFAULT_PEERING, raw.authority.peering), rt.peering);
  return { name: rt.name, interfaces, peers, serviceRoutes, routes, timers, limits, peering, pki: rt.pki };
}
