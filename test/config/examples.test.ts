import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipToString } from '../../src/base/address.js';
import { type ConfigResult, formatConfigError, loadConfigFile } from '../../src/config/load.js';
import type { AuthorityModel, RouterModel } from '../../src/config/model.js';
import { DEFAULT_LIMITS, DEFAULT_MTU, DEFAULT_TIMERS, DEFAULT_WAYPORTS } from '../../src/config/model.js';
import { configSummary } from '../../src/config/summary.js';
import { ROOT } from '../../testlib/cli.js';

function load(name: string): AuthorityModel {
  const r: ConfigResult = loadConfigFile(`${ROOT}examples/${name}`);
  assert.ok(r.ok, r.ok ? '' : r.errors.map(formatConfigError).join('\n'));
  assert.deepEqual(r.warnings, []);
  return r.config;
}

function router(c: AuthorityModel, name: string): RouterModel {
  const r = c.routers.find((x) => x.name === name);
  assert.ok(r, `router ${name}`);
  return r;
}

test('figure2.yaml: the authority, its security definitions (Figure 7) and sections', () => {
  const c = load('figure2.yaml');
  assert.equal(c.name, 'example');
  assert.deepEqual(c.security, {
    hmac: { method: 'sha256-128', timeBased: true, scope: 'all' },
    metadataCipher: 'aes-256-cbc',
    curve: 'P-256',
  });
  assert.equal(c.globalTenant, '');
  assert.deepEqual(
    c.tenants.map((t) => t.name),
    ['engineering', 'release.engineering', 'guest'],
  );
  assert.deepEqual(
    c.routers.map((r) => r.name),
    ['east', 'west'],
  );
  const github = c.services.find((s) => s.name === 'github');
  assert.ok(github);
  assert.deepEqual(
    github.prefixes.map((p) => p.text),
    ['172.15.11.23/32'],
  );
  assert.equal(github.protocol, 'tcp');
  assert.deepEqual(github.ports, [{ lo: 22, hi: 22 }]);
  assert.deepEqual(github.access, { allow: ['engineering'], deny: ['release.engineering'] });
  assert.equal(github.servicePolicy, 'interactive');
  assert.equal(github.securityPolicy, 'none');
  const logsvc = c.services.find((s) => s.name === 'logsvc');
  assert.equal(logsvc?.dnsName, 'logsvc.example');
  assert.equal(logsvc?.securityPolicy, 'none', 'default security policy');
  assert.equal(logsvc?.servicePolicy, undefined);
  const p = c.servicePolicies[0];
  assert.equal(p.name, 'interactive');
  assert.equal(p.sla.maxLatencyMs, 40);
  assert.equal(p.sla.minMos, undefined);
  assert.deepEqual(
    [...p.vectorCosts],
    [
      ['mpls', 10],
      ['internet', 10],
      ['lte', 10],
    ],
  );
  assert.equal(p.defaultVectorCost, 0);
  assert.equal(p.loadBalancing, 'best-quality');
  assert.equal(p.bestEffort, false);
  assert.deepEqual(c.securityPolicies, [{ name: 'none', encryption: 'none', rekeySeconds: 0 }]);
});

test('figure2.yaml: east has 5 interfaces, VLAN 2 is engineering (3.7.1.1), wayports and defaults', () => {
  const east = router(load('figure2.yaml'), 'east');
  assert.deepEqual(
    east.interfaces.map((f) => [f.name, f.device, f.vlan, f.role]),
    [
      ['lan', 'lan0', 0, 'lan'],
      ['lan-vlan2', 'lan0', 2, 'lan'],
      ['mpls', 'wan0', 0, 'wan'],
      ['internet', 'wan1', 0, 'wan'],
      ['lte', 'wan2', 0, 'wan'],
    ],
  );
  const vlan2 = east.interfaces.find((f) => f.vlan === 2);
  assert.equal(vlan2?.tenant, 'engineering');
  assert.deepEqual(
    vlan2?.addresses.map((a) => [ipToString(a.address), a.prefix.text]),
    [['10.0.1.254', '10.0.1.0/24']],
  );
  const lan = east.interfaces[0];
  assert.equal(lan.tenant, undefined);
  assert.deepEqual(
    lan.neighborhoods.map((n) => [n.prefix.text, n.tenant]),
    [
      ['10.0.0.0/25', 'engineering'],
      ['10.0.0.128/25', 'release.engineering'],
    ],
  );
  const mpls = east.interfaces[2];
  assert.deepEqual(mpls.wayports, { lo: 8000, hi: 24000 }, '3.7.1.6');
  assert.equal(mpls.sourceNat && ipToString(mpls.sourceNat), '203.0.113.1');
  const internet = east.interfaces[3];
  assert.deepEqual(internet.wayports, DEFAULT_WAYPORTS, 'D-10 default 16385-65533');
  assert.equal(internet.sourceNat, undefined);
  assert.equal(internet.mtu, DEFAULT_MTU);
  assert.deepEqual(east.timers, DEFAULT_TIMERS);
  assert.deepEqual(east.limits, DEFAULT_LIMITS);
});

test("figure2.yaml: east's three paths to west with their vectors and ids 0, 1, 2", () => {
  const east = router(load('figure2.yaml'), 'east');
  assert.equal(east.peers.length, 1);
  assert.equal(east.peers[0].name, 'west');
  assert.deepEqual(
    east.peers[0].paths.map((p) => [
      p.id,
      p.peer,
      p.interface,
      p.remoteAddress && ipToString(p.remoteAddress),
      p.remoteHost,
      p.vector,
      p.weight,
    ]),
    [
      [0, 'west', 'mpls', '203.0.113.89', undefined, 'mpls', 1],
      [1, 'west', 'internet', '198.51.100.8', undefined, 'internet', 1],
      [2, 'west', 'lte', '198.51.100.8', undefined, 'lte', 1],
    ],
  );
  assert.deepEqual(
    east.serviceRoutes.map((s) => [s.service, s.nextHops, s.egress]),
    [
      ['github', [{ kind: 'peer', peer: 'west' }], { kind: 'forward' }],
      ['https', [{ kind: 'peer', peer: 'west' }], { kind: 'forward' }],
      ['ping', [{ kind: 'peer', peer: 'west' }], { kind: 'forward' }],
      ['lab', [{ kind: 'peer', peer: 'west' }], { kind: 'forward' }],
    ],
  );
  assert.deepEqual(
    east.routes.map((r) => [r.prefix.text, r.nextHop && ipToString(r.nextHop), r.interface]),
    [
      ['172.15.11.0/24', '203.0.113.89', undefined],
      ['172.15.11.0/24', '198.51.100.8', undefined],
      ['198.51.100.8/32', '192.0.2.254', 'lte'],
    ],
  );
});

test("figure2.yaml: west's egress actions: forward, DNS, destination NAT pool (3.3)", () => {
  const west = router(load('figure2.yaml'), 'west');
  const by = new Map(west.serviceRoutes.map((s) => [s.service, s]));
  assert.deepEqual(by.get('github')?.egress, { kind: 'forward' });
  assert.deepEqual(by.get('github')?.nextHops, [{ kind: 'local', interface: undefined }]);
  assert.deepEqual(by.get('logsvc')?.egress, { kind: 'dns' });
  const nat = by.get('https')?.egress;
  assert.ok(nat?.kind === 'nat');
  assert.deepEqual(nat.pool.map(ipToString), ['172.15.11.101', '172.15.11.102', '172.15.11.103']);
  assert.equal(nat.loadBalancing, 'round-robin');
  assert.deepEqual(
    west.peers[0].paths.map((p) => [p.id, p.interface, p.vector]),
    [
      [0, 'mpls', 'mpls'],
      [1, 'internet', 'internet'],
      [2, 'internet', 'lte'],
    ],
  );
});

test('chain3.yaml: three routers in a line (3.7.8); path ids count across peers', () => {
  const c = load('chain3.yaml');
  assert.equal(c.name, 'chain');
  assert.deepEqual(
    c.routers.map((r) => r.name),
    ['a', 'b', 'c'],
  );
  assert.equal(c.security.curve, 'P-256', 'default curve');
  const b = router(c, 'b');
  assert.deepEqual(
    b.peers.map((p) => [p.name, p.paths.map((x) => x.id)]),
    [
      ['a', [0]],
      ['c', [1]],
    ],
  );
  assert.deepEqual(
    router(c, 'c').serviceRoutes.map((s) => [s.service, s.nextHops[0].kind]),
    [
      ['web', 'local'],
      ['dns', 'local'],
      ['lab', 'local'],
    ],
  );
  const web = c.services.find((s) => s.name === 'web');
  assert.deepEqual(web?.ports, [
    { lo: 80, hi: 80 },
    { lo: 443, hi: 443 },
  ]);
  assert.deepEqual(
    c.securityPolicies,
    [{ name: 'none', encryption: 'none', rekeySeconds: 0 }],
    'the built-in "none" policy',
  );
  assert.equal(c.servicePolicies.length, 0);
});

test('configSummary: authority, security, counts and per-router interfaces, paths and routes', () => {
  const s = configSummary(load('figure2.yaml'));
  assert.match(s, /^authority example\n/);
  assert.match(s, /hmac: sha256-128 time-based, signing all packets/);
  assert.match(s, /metadata cipher: aes-256-cbc; curve P-256/);
  assert.match(s, /3 tenants, 5 services, 1 service policy, 1 security policy, 2 routers/);
  assert.match(s, /lan-vlan2: lan, device lan0 vlan 2; 10\.0\.1\.254\/24; tenant engineering/);
  assert.match(s, /path 2: lte -> 198\.51\.100\.8, vector lte/);
  assert.match(s, /https -> local; egress nat to 172\.15\.11\.101, 172\.15\.11\.102, 172\.15\.11\.103/);
  assert.match(s, /198\.51\.100\.8\/32 via 192\.0\.2\.254 on lte/);
});

test('diamond.yaml: RTR-A..D, two middle routers each peered with A and D, the primary vector cheaper', () => {
  const c = load('diamond.yaml');
  assert.deepEqual(
    c.routers.map((r) => r.name),
    ['a', 'b', 'c', 'd'],
  );
  assert.deepEqual(
    router(c, 'a').peers.map((p) => [p.name, p.paths[0].vector]),
    [
      ['b', 'backup'],
      ['c', 'primary'],
    ],
  );
  assert.deepEqual(
    [...(c.servicePolicies[0]?.vectorCosts ?? [])],
    [
      ['primary', 10],
      ['backup', 20],
    ],
  );
});
