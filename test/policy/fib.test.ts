import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIpv4, parseIpv6 } from '../../src/base/address.js';
import { DropReason } from '../../src/base/drop-reason.js';
import { parsePrefix, prefixContains } from '../../src/base/prefix.js';
import { loadConfigFile, loadConfigText } from '../../src/config/load.js';
import {
  type AuthorityModel,
  DEFAULT_LIMITS,
  DEFAULT_PEERING,
  DEFAULT_TIMERS,
  type RouterModel,
  type ServiceModel,
} from '../../src/config/model.js';
import { Fib, type FibResult } from '../../src/policy/fib.js';
import { TenantTable } from '../../src/policy/tenant.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/protocol.js';
import { svr } from '../../testlib/cli.js';

function figure2(): AuthorityModel {
  const r = loadConfigFile('examples/figure2.yaml');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function fibFor(a: AuthorityModel, router: string): { fib: Fib; tenants: TenantTable } {
  const tenants = new TenantTable(a.tenants.map((t) => t.name));
  const rm = a.routers.find((x) => x.name === router);
  if (!rm) throw new Error(router);
  return { fib: new Fib(a, rm, tenants), tenants };
}

const ip = (s: string) => parseIpv4(s) ?? 0;

function serviceName(r: FibResult): string {
  if (r.kind === 'service') return r.entry.service.model.name;
  if (r.kind === 'route') return `route ${r.route.prefix.text}`;
  return `drop ${r.reason}`;
}

test('3.3 / Figure 6: named services by prefix, protocol and port, each with its next hops', () => {
  const a = figure2();
  const { fib, tenants } = fibFor(a, 'east');
  const eng = tenants.idOf('engineering');
  const gh = fib.lookupV4(eng, ip('172.15.11.23'), IPPROTO_TCP, 22);
  assert.equal(serviceName(gh), 'github');
  assert.ok(gh.kind === 'service');
  const hops = gh.entry.nextHops;
  assert.equal(hops.length, 1);
  assert.ok(hops[0].kind === 'peer' && hops[0].peer === 'west');
  assert.deepEqual(hops[0].kind === 'peer' ? hops[0].paths.map((p) => p.vector) : [], [
    'mpls',
    'internet',
    'lte',
  ]);
  assert.ok(gh.entry.named);
  assert.equal(serviceName(fib.lookupV4(eng, ip('172.15.11.20'), IPPROTO_UDP, 514)), 'logsvc');
  assert.equal(
    serviceName(fib.lookupV4(tenants.idOf('guest'), ip('172.15.11.24'), IPPROTO_TCP, 443)),
    'https',
  );
});

test('3.2: a service without a named route takes its next hops from the generic routes, matched to peer waypoints', () => {
  const { fib, tenants } = fibFor(figure2(), 'east');
  const r = fib.lookupV4(tenants.idOf('engineering'), ip('172.15.11.20'), IPPROTO_UDP, 514);
  assert.ok(r.kind === 'service' && !r.entry.named);
  // Figure 4's two next hops match three of East's paths (3.2: "three of its peer pathways").
  const h = r.kind === 'service' ? r.entry.nextHops[0] : undefined;
  assert.ok(h?.kind === 'peer');
  assert.deepEqual(h.kind === 'peer' ? h.paths.map((p) => p.id) : [], [0, 1, 2]);
});

test('[R-4.6.5-b] [R-4.6.5.2-c] a denied or unlisted tenant is dropped, not routed around its policy', () => {
  const { fib, tenants } = fibFor(figure2(), 'east');
  const r = fib.lookupV4(tenants.idOf('release.engineering'), ip('172.15.11.23'), IPPROTO_TCP, 22);
  assert.deepEqual(r, { kind: 'drop', reason: DropReason.AccessDenied });
  assert.deepEqual(fib.lookupV4(tenants.idOf('guest'), ip('172.15.11.23'), IPPROTO_TCP, 22), {
    kind: 'drop',
    reason: DropReason.AccessDenied,
  });
  assert.deepEqual(fib.lookupV4(tenants.intern(''), ip('172.15.11.20'), IPPROTO_UDP, 514), {
    kind: 'drop',
    reason: DropReason.AccessDenied,
  });
});

test('[R-4.1-b] [R-4.6-a] traffic no service matches falls through to the generic routes as plain IP, else no-route', () => {
  const { fib, tenants } = fibFor(figure2(), 'east');
  const eng = tenants.idOf('engineering');
  assert.equal(serviceName(fib.lookupV4(eng, ip('172.15.11.23'), IPPROTO_TCP, 80)), 'route 172.15.11.0/24');
  assert.equal(serviceName(fib.lookupV4(eng, ip('172.15.11.99'), IPPROTO_UDP, 53)), 'route 172.15.11.0/24');
  assert.equal(serviceName(fib.lookupV4(eng, ip('10.0.3.3'), IPPROTO_TCP, 22)), 'route 10.0.0.0/16');
  assert.deepEqual(fib.lookupV4(eng, ip('8.8.8.8'), IPPROTO_UDP, 53), {
    kind: 'drop',
    reason: DropReason.NoRoute,
  });
  const west = fibFor(figure2(), 'west');
  const w = west.fib.lookupV4(west.tenants.idOf('engineering'), ip('172.15.11.24'), IPPROTO_TCP, 443);
  assert.ok(w.kind === 'service' && w.entry.egress.kind === 'nat' && w.entry.egress.pool.length === 3);
  const dns = west.fib.lookupV4(west.tenants.idOf('engineering'), ip('172.15.11.20'), IPPROTO_UDP, 514);
  assert.ok(
    dns.kind === 'service' && dns.entry.egress.kind === 'dns' && dns.entry.nextHops[0].kind === 'local',
  );
});

test('IPv6 services and routes match by longest prefix, protocol and port like IPv4 ones', () => {
  const r = loadConfigText(
    `authority: { name: v6 }
tenants: [{ name: eng }]
services:
  - { name: wide, addresses: ["2001:db8:5::/48"], protocol: any, access: { allow: [eng] } }
  - { name: web6, addresses: ["2001:db8:5:1::/64"], protocol: tcp, ports: ["443"], access: { allow: [eng] } }
routers:
  - name: r
    interfaces:
      - { name: lan, role: lan, addresses: ["2001:db8:1::1/64"], tenant: eng }
    routes:
      - { prefix: "2001:db8::/32", nextHop: "2001:db8:1::fe" }
`,
    'v6.yaml',
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const { fib, tenants } = fibFor(r.config, 'r');
  const eng = tenants.idOf('eng');
  const at = (a: string) => parseIpv6(a) ?? new Uint8Array(16);
  assert.equal(serviceName(fib.lookup(eng, at('2001:db8:5:1::80'), IPPROTO_TCP, 443)), 'web6');
  assert.equal(serviceName(fib.lookup(eng, at('2001:db8:5:1::80'), IPPROTO_TCP, 80)), 'wide');
  assert.equal(serviceName(fib.lookup(eng, at('2001:db8:5:2::1'), IPPROTO_UDP, 53)), 'wide');
  assert.equal(serviceName(fib.lookup(eng, at('2001:db8:9::1'), IPPROTO_UDP, 53)), 'route 2001:db8::/32');
  assert.equal(serviceName(fib.lookup(eng, at('2001:db8:1::7'), IPPROTO_UDP, 53)), 'route 2001:db8:1::/64');
  assert.deepEqual(fib.lookup(eng, at('2001:dead::1'), IPPROTO_UDP, 53), {
    kind: 'drop',
    reason: DropReason.NoRoute,
  });
});

// ---- A property test against the documented semantics ----

const TENANTS = ['a', 'b.a', 'c'];

function mkService(
  i: number,
  prefix: string,
  protocol: ServiceModel['protocol'],
  ports: [number, number][],
  allow: string[],
  deny: string[],
): ServiceModel {
  const p = parsePrefix(prefix);
  if (typeof p === 'string') throw new Error(p);
  return {
    name: `s${i}`,
    description: undefined,
    prefixes: [p],
    protocol,
    ports: ports.map(([lo, hi]) => ({ lo, hi })),
    access: { allow, deny },
    servicePolicy: undefined,
    securityPolicy: 'none',
    dnsName: undefined,
  };
}

function authority(services: ServiceModel[], routes: string[]): AuthorityModel {
  const router: RouterModel = {
    name: 'r',
    interfaces: [],
    peers: [],
    serviceRoutes: [],
    routes: routes.map((r) => {
      const p = parsePrefix(r);
      if (typeof p === 'string') throw new Error(p);
      return { prefix: p, nextHop: { version: 4, v4: 0xc0000201 }, interface: undefined };
    }),
    timers: DEFAULT_TIMERS,
    limits: DEFAULT_LIMITS,
    peering: DEFAULT_PEERING,
    pki: undefined,
  };
  return {
    name: 'prop',
    security: {
      hmac: { method: 'sha256-128', timeBased: true, scope: 'all' },
      metadataCipher: 'aes-256-cbc',
      curve: 'P-256',
    },
    globalTenant: '',
    tenants: TENANTS.map((name) => ({ name, description: undefined })),
    services,
    servicePolicies: [],
    securityPolicies: [{ name: 'none', encryption: 'none', rekeySeconds: 0 }],
    routers: [router],
  };
}

/** Brute force: longest prefix first, then specific protocol, fewer ports, index; first admitting wins. */
function oracle(
  services: ServiceModel[],
  routes: string[],
  tenant: string,
  dst: number,
  proto: number,
  port: number,
): string {
  const b = Uint8Array.of(dst >>> 24, (dst >>> 16) & 255, (dst >>> 8) & 255, dst & 255);
  const count = (s: ServiceModel) =>
    s.ports.length === 0 || s.protocol === 'any' ? 65536 : s.ports.reduce((n, r) => n + r.hi - r.lo + 1, 0);
  const cands = services
    .map((s, i) => ({ s, i }))
    .filter(({ s }) => prefixContains(s.prefixes[0], b))
    .filter(
      ({ s }) =>
        s.protocol === 'any' || (s.protocol === 'tcp' ? proto === IPPROTO_TCP : proto === IPPROTO_UDP),
    )
    .filter(
      ({ s }) =>
        s.protocol === 'any' || s.ports.length === 0 || s.ports.some((r) => port >= r.lo && port <= r.hi),
    )
    .sort(
      (x, y) =>
        y.s.prefixes[0].length - x.s.prefixes[0].length ||
        Number(x.s.protocol === 'any') - Number(y.s.protocol === 'any') ||
        count(x.s) - count(y.s) ||
        x.i - y.i,
    );
  const admits = (s: ServiceModel) => {
    const m = (n: string) =>
      n === '*' ? 0 : n === tenant || tenant.endsWith(`.${n}`) ? n.split('.').length : -1;
    const al = Math.max(-1, ...s.access.allow.map(m));
    const de = Math.max(-1, ...s.access.deny.map(m));
    return al >= 0 && de < al;
  };
  const hit = cands.find(({ s }) => admits(s));
  if (hit) return hit.s.name;
  if (cands.length > 0) return `drop ${DropReason.AccessDenied}`;
  const rs = routes
    .map((r) => parsePrefix(r))
    .filter((p): p is Exclude<typeof p, string> => typeof p !== 'string' && prefixContains(p, b))
    .sort((x, y) => y.length - x.length);
  return rs.length > 0 ? `route ${rs[0].text}` : `drop ${DropReason.NoRoute}`;
}

test('FIB lookups agree with a brute-force reading of the rules on random tables', () => {
  const octet = fc.integer({ min: 0, max: 3 });
  const prefixArb = fc
    .tuple(octet, octet, octet, fc.constantFrom(8, 16, 24, 30, 32))
    .map(([x, y, z, len]) => {
      const p = parsePrefix(`10.${x}.${y}.${z * 4}/32`);
      if (typeof p === 'string') throw new Error(p);
      const bits = p.bytes;
      const masked =
        ((((bits[0] << 24) | (bits[1] << 16) | (bits[2] << 8) | bits[3]) >>> 0) &
          ((0xffffffff << (32 - len)) >>> 0)) >>>
        0;
      return `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`;
    });
  const svcArb = fc.record({
    prefix: prefixArb,
    protocol: fc.constantFrom('tcp', 'udp', 'any' as const),
    ports: fc.array(
      fc
        .tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 20 }))
        .map(([lo, w]): [number, number] => [lo, lo + w]),
      { maxLength: 2 },
    ),
    allow: fc.subarray([...TENANTS, '*']),
    deny: fc.subarray(TENANTS),
  });
  fc.assert(
    fc.property(
      fc.array(svcArb, { maxLength: 12 }),
      fc.array(prefixArb, { maxLength: 3 }),
      (specs, routes) => {
        const services = specs.map((s, i) =>
          mkService(i, s.prefix, s.protocol, s.protocol === 'any' ? [] : s.ports, s.allow, s.deny),
        );
        const a = authority(services, routes);
        const tenants = new TenantTable(TENANTS);
        const fib = new Fib(a, a.routers[0], tenants);
        for (let q = 0; q < 60; q++) {
          const dst = (0x0a000000 | ((q * 2654435761) & 0x0003030f)) >>> 0;
          const proto = q % 3 === 0 ? IPPROTO_UDP : IPPROTO_TCP;
          const port = 1 + ((q * 7) % 120);
          for (const t of [...TENANTS, 'x.b.a']) {
            const got = serviceName(fib.lookupV4(tenants.intern(t), dst, proto, port));
            const want = oracle(services, routes, t, dst, proto, port);
            if (got !== want)
              throw new Error(
                `tenant ${t} dst ${dst.toString(16)} proto ${proto} port ${port}: got ${got}, want ${want}`,
              );
          }
        }
        return true;
      },
    ),
    { numRuns: 200 },
  );
});

test('svr fib prints the table like `show fib` and exits 2 on a bad router name', () => {
  const r = svr(['fib', '--config', 'examples/figure2.yaml', '--router', 'east']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Prefix\s+Port\s+Protocol\s+Tenant\s+Service\s+Action\s+Next Hops/);
  assert.match(
    r.stdout,
    /172\.15\.11\.23\/32\s+22\s+tcp\s+engineering\s+github\s+forward\s+west via mpls 203\.0\.113\.89, internet 198\.51\.100\.8, lte 198\.51\.100\.8/,
  );
  const j = svr(['fib', '--config', 'examples/figure2.yaml', '--router', 'west', '--json']);
  const rows = JSON.parse(j.stdout).rows as { service: string; action: string }[];
  assert.ok(rows.some((x) => x.service === 'https' && x.action.startsWith('dest-nat')));
  const bad = svr(['fib', '--config', 'examples/figure2.yaml', '--router', 'north']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no router "north".*routers: east, west/);
});
