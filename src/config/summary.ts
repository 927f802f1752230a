import { ipToString } from '../base/address.js';
import {
  type AuthorityModel,
  DEFAULT_LIMITS,
  DEFAULT_MTU,
  DEFAULT_TIMERS,
  type EgressAction,
  type InterfaceModel,
  type NextHopSpec,
  type RouterModel,
} from './model.js';

/** What `svr config check` prints for a valid file: enough to see the file says what was meant. */

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function interfaceLine(f: InterfaceModel): string {
  const parts = [
    `${f.name}: ${f.role}, device ${f.device}${f.vlan === 0 ? '' : ` vlan ${f.vlan}`}`,
    f.addresses.length === 0
      ? 'no addresses'
      : f.addresses.map((a) => `${ipToString(a.address)}/${a.prefix.length}`).join(', '),
  ];
  if (f.tenant !== undefined) parts.push(`tenant ${f.tenant}`);
  for (const n of f.neighborhoods) parts.push(`${n.prefix.text} -> ${n.tenant}`);
  if (f.role === 'wan') parts.push(`wayports ${f.wayports.lo}-${f.wayports.hi}`);
  if (f.sourceNat) parts.push(`source NAT ${ipToString(f.sourceNat)}`);
  if (f.mtu !== DEFAULT_MTU) parts.push(`mtu ${f.mtu}`);
  return parts.join('; ');
}

function hopText(h: NextHopSpec): string {
  const via = (i: string | undefined) => (i === undefined ? '' : ` on ${i}`);
  if (h.kind === 'peer') return `peer ${h.peer}`;
  if (h.kind === 'gateway') return `gateway ${ipToString(h.address)}${via(h.interface)}`;
  return `local${via(h.interface)}`;
}

function egressText(e: EgressAction): string {
  if (e.kind !== 'nat') return e.kind;
  return `nat to ${e.pool.map(ipToString).join(', ')} (${e.loadBalancing})`;
}

function routerLines(r: RouterModel): string[] {
  const out = [`router ${r.name}`, `  interfaces (${r.interfaces.length}):`];
  for (const f of r.interfaces) out.push(`    ${interfaceLine(f)}`);
  out.push(`  peers (${r.peers.length}):`);
  for (const p of r.peers) {
    out.push(`    ${p.name}:`);
    for (const path of p.paths) {
      const remote = path.remoteAddress ? ipToString(path.remoteAddress) : (path.remoteHost ?? '?');
      const weight = path.weight === 1 ? '' : `, weight ${path.weight}`;
      out.push(`      path ${path.id}: ${path.interface} -> ${remote}, vector ${path.vector}${weight}`);
    }
  }
  if (r.serviceRoutes.length > 0) {
    out.push(`  service routes (${r.serviceRoutes.length}):`);
    for (const s of r.serviceRoutes)
      out.push(`    ${s.service} -> ${s.nextHops.map(hopText).join(', ')}; egress ${egressText(s.egress)}`);
  }
  if (r.routes.length > 0) {
    out.push(`  routes (${r.routes.length}):`);
    for (const rt of r.routes) {
      const via = [
        rt.nextHop ? `via ${ipToString(rt.nextHop)}` : '',
        rt.interface ? `on ${rt.interface}` : '',
      ]
        .filter((s) => s !== '')
        .join(' ');
      out.push(`    ${rt.prefix.text} ${via}`);
    }
  }
  const timers = (Object.keys(DEFAULT_TIMERS) as (keyof typeof DEFAULT_TIMERS)[]).filter(
    (k) => r.timers[k] !== DEFAULT_TIMERS[k],
  );
  if (timers.length > 0) out.push(`  timers: ${timers.map((k) => `${k} ${r.timers[k]}`).join(', ')}`);
  if (
    r.limits.maxSessions !== DEFAULT_LIMITS.maxSessions ||
    r.limits.maxSessionsPerTenant !== DEFAULT_LIMITS.maxSessionsPerTenant
  )
    out.push(`  limits: ${r.limits.maxSessions} sessions, ${r.limits.maxSessionsPerTenant} per tenant`);
  return out;
}

export function configSummary(c: AuthorityModel): string {
  const h = c.security.hmac;
  const lines = [
    `authority ${c.name}`,
    `  hmac: ${h.method}${h.timeBased ? ' time-based' : ''}, signing ${h.scope === 'all' ? 'all packets' : h.scope === 'metadata' ? 'packets with metadata' : 'no packets'}`,
    `  metadata cipher: ${c.security.metadataCipher}; curve ${c.security.curve}`,
    `  global tenant: ${c.globalTenant === '' ? '(none)' : c.globalTenant}`,
    `  ${count(c.tenants.length, 'tenant')}, ${count(c.services.length, 'service')}, ${count(c.servicePolicies.length, 'service policy', 'service policies')}, ${count(c.securityPolicies.length, 'security policy', 'security policies')}, ${count(c.routers.length, 'router')}`,
  ];
  for (const r of c.routers) lines.push(...routerLines(r));
  return `${lines.join('\n')}\n`;
}
