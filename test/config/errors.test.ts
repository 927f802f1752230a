import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ConfigError,
  formatConfigError,
  loadConfigFile,
  loadConfigText,
  MAX_ERRORS,
} from '../../src/config/load.js';

/**
 * Every error kind of the loader, each with the exact line and column of the offending value.
 * Each case edits one line of a small valid file; positions are found with `where`, the place
 * of a piece of text in the edited file.
 */

const BASE = `authority:
  name: t
tenants:
  - name: eng
  - name: ops
services:
  - name: web
    addresses: [10.1.0.0/24]
    protocol: tcp
    ports: ["80"]
    access: { allow: [eng] }
routers:
  - name: a
    interfaces:
      - { name: lan, role: lan, addresses: [10.0.0.1/24], tenant: eng }
      - { name: wan, role: wan, addresses: [192.0.2.1/24] }
    peers:
      - name: b
        paths: [{ interface: wan, address: 192.0.2.2 }]
    serviceRoutes:
      - { service: web, peer: b }
  - name: b
    interfaces:
      - { name: wan, role: wan, addresses: [192.0.2.2/24] }
      - { name: srv, role: lan, addresses: [10.1.0.1/24] }
    peers:
      - name: a
        paths: [{ interface: wan, address: 192.0.2.1 }]
    serviceRoutes:
      - { service: web, local: true }
`;

/** BASE with each [from, to] replaced (each `from` must occur). */
function edit(...pairs: [string, string][]): string {
  let t = BASE;
  for (const [from, to] of pairs) {
    assert.ok(t.includes(from), `BASE has ${from}`);
    t = t.replace(from, to);
  }
  return t;
}

/** Line and column (1-based) of the n-th occurrence of `needle` in `text`. */
function where(text: string, needle: string, nth = 1): { line: number; column: number } {
  let i = -1;
  for (let k = 0; k < nth; k++) {
    i = text.indexOf(needle, i + 1);
    assert.ok(i >= 0, `${needle} occurs ${nth} times`);
  }
  const before = text.slice(0, i).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function errorsOf(text: string): ConfigError[] {
  const r = loadConfigText(text, 't.yaml');
  assert.equal(r.ok, false, 'expected errors');
  return r.ok ? [] : r.errors;
}

/** Exactly one error, at the place of `needle` (n-th occurrence), with that path and message. */
function oneError(text: string, needle: string, nth: number, path: string, message: RegExp): void {
  const errors = errorsOf(text);
  assert.equal(errors.length, 1, errors.map(formatConfigError).join('\n'));
  const e = errors[0];
  assert.deepEqual(
    { line: e.line, column: e.column, path: e.path },
    { ...where(text, needle, nth), path },
    formatConfigError(e),
  );
  assert.match(e.message, message);
}

test('the base file is valid', () => {
  const r = loadConfigText(BASE, 't.yaml');
  assert.ok(r.ok, r.ok ? '' : r.errors.map(formatConfigError).join('\n'));
  assert.deepEqual(r.warnings, []);
});

test('a wrong type: FILE:LINE:COL: PATH: expected ..., got ...', () => {
  const t = edit([
    '{ name: wan, role: wan, addresses: [192.0.2.1/24] }',
    '{ name: wan, role: wan, vlan: two }',
  ]);
  const errors = errorsOf(t);
  assert.deepEqual(errors.map(formatConfigError), [
    't.yaml:16:39: routers[0].interfaces[1].vlan: expected an integer 0-4095, got "two"',
  ]);
  oneError(
    edit(['role: wan, addresses: [192.0.2.1/24]', 'role: wan, vlan: 4096']),
    '4096',
    1,
    'routers[0].interfaces[1].vlan',
    /^expected an integer 0-4095, got 4096$/,
  );
});

test('YAML syntax errors have positions', () => {
  assert.deepEqual(errorsOf('authority:\n  name: a: b\n').map(formatConfigError), [
    't.yaml:2:9: invalid YAML: Nested mappings are not allowed in compact mappings',
  ]);
  assert.deepEqual(errorsOf('authority:\n\tname: t\n').map(formatConfigError), [
    't.yaml:2:1: invalid YAML: Tabs are not allowed as indentation',
  ]);
  const dup = errorsOf('authority:\n  name: t\n  name: u\n');
  assert.deepEqual(
    dup.map((e) => [e.line, e.column]),
    [[3, 3]],
  );
  assert.match(dup[0].message, /invalid YAML: Map keys must be unique/);
});

test('an unknown key is an error at the key, with the key meant', () => {
  oneError(
    edit(['{ name: wan, role: wan, addresses: [192.0.2.1/24] }', '{ name: wan, role: wan, vlna: 2 }']),
    'vlna',
    1,
    'routers[0].interfaces[1].vlna',
    /^unknown key "vlna" \(did you mean "vlan"\?\); expected one of: name, device, vlan, role, /,
  );
  oneError(
    edit(['  name: t\n', '  name: t\n  colour: blue\n']),
    'colour',
    1,
    'authority.colour',
    /^unknown key "colour"/,
  );
});

test('a missing required key is reported at the parent mapping', () => {
  oneError(
    edit(['{ name: wan, role: wan, addresses: [192.0.2.1/24] }', '{ name: wan, addresses: [192.0.2.1/24] }']),
    '{ name: wan, addresses',
    1,
    'routers[0].interfaces[1].role',
    /^missing: expected "lan" \| "wan"$/,
  );
  oneError(
    edit(['authority:\n  name: t\n', 'authority:\n  security: {}\n']),
    'security',
    1,
    'authority.name',
    /^missing: /,
  );
});

test('a missing file is one error at line 0', () => {
  const r = loadConfigFile('/nonexistent/svr.yaml');
  assert.equal(r.ok, false);
  assert.deepEqual(r.ok ? [] : r.errors.map(formatConfigError), [
    '/nonexistent/svr.yaml:0:0: expected a readable YAML file, got no such file',
  ]);
});

test('string forms: prefixes with host bits, ports, wayports, addresses', () => {
  oneError(
    edit(['addresses: [10.1.0.0/24]', 'addresses: [10.1.0.1/24]']),
    '10.1.0.1/24',
    1,
    'services[0].addresses[0]',
    /got "10\.1\.0\.1\/24": host bits are set; the network is 10\.1\.0\.0\/24$/,
  );
  oneError(
    edit(['ports: ["80"]', 'ports: ["90-80"]']),
    '"90-80"',
    1,
    'services[0].ports[0]',
    /N <= M, got "90-80"$/,
  );
  oneError(
    edit(['ports: ["80"]', 'ports: ["0"]']),
    '"0"',
    1,
    'services[0].ports[0]',
    /got "0": ports are 1-65535$/,
  );
  // [R-4.2.3-b] the ingress picks an even local and an odd remote port: at least 2 wayports.
  oneError(
    edit(['role: wan, addresses: [192.0.2.1/24]', 'role: wan, wayports: 9000-9000']),
    '9000-9000',
    1,
    'routers[0].interfaces[1].wayports',
    /got "9000-9000": the ingress needs an even and an odd port \(4\.2\.3\)$/,
  );
  oneError(
    edit(['role: wan, addresses: [192.0.2.1/24]', 'role: wan, wayports: 9001-9000']),
    '9001-9000',
    1,
    'routers[0].interfaces[1].wayports',
    /got "9001-9000": 9001 is above 9000$/,
  );
  oneError(
    edit(['address: 192.0.2.2 }', 'address: 192.0.2.300 }']),
    '192.0.2.300',
    1,
    'routers[0].peers[0].paths[0].address',
    /^expected an IP address like 192\.0\.2\.1 or 2001:db8::1, got "192\.0\.2\.300"$/,
  );
  oneError(
    edit(['addresses: [10.0.0.1/24], tenant', 'addresses: [10.0.0.1], tenant']),
    '10.0.0.1]',
    1,
    'routers[0].interfaces[0].addresses[0]',
    /^expected an address with its network length like 10\.0\.0\.1\/24, got "10\.0\.0\.1"$/,
  );
});

test('a bare service address is a host prefix', () => {
  const r = loadConfigText(
    edit(['addresses: [10.1.0.0/24]', 'addresses: [10.1.0.7, "2001:db8::7"]']),
    't.yaml',
  );
  assert.ok(r.ok);
  assert.deepEqual(
    r.config.services[0].prefixes.map((p) => p.text),
    ['10.1.0.7/32', '2001:db8::7/128'],
  );
});

test('duplicate names: tenants, services, policies, routers, interfaces, peers', () => {
  oneError(
    edit(['  - name: ops\n', '  - name: eng\n']),
    'eng',
    2,
    'tenants[1].name',
    /^expected a unique tenant name, got "eng" again \(first at tenants\[0\]\.name, line 4\)$/,
  );
  oneError(
    edit(['routers:\n', 'servicePolicies: [{ name: p }, { name: p }]\nrouters:\n']),
    'p }]',
    1,
    'servicePolicies[1].name',
    /unique service policy name, got "p" again/,
  );
  oneError(
    edit([
      'routers:\n',
      'securityPolicies: [{ name: s, encryption: none }, { name: s, encryption: adaptive }]\nrouters:\n',
    ]),
    's, encryption: adaptive',
    1,
    'securityPolicies[1].name',
    /unique security policy name, got "s" again/,
  );
  const twoServices = edit([
    'routers:\n',
    '  - { name: web, addresses: [10.2.0.0/24], access: { allow: [eng] } }\nrouters:\n',
  ]);
  oneError(
    twoServices,
    'web',
    2,
    'services[1].name',
    /unique service name, got "web" again \(first at services\[0\]\.name, line 7\)/,
  );
  oneError(
    `${BASE}  - { name: a, interfaces: [{ name: x, role: lan }] }\n`,
    'a, interfaces',
    1,
    'routers[2].name',
    /^expected a unique router name, got "a" again \(first at routers\[0\]\.name, line 13\)$/,
  );
  oneError(
    edit([
      '{ name: wan, role: wan, addresses: [192.0.2.1/24] }',
      '{ name: wan, role: wan, addresses: [192.0.2.1/24] }\n      - { name: lan, device: eth1, role: wan }',
    ]),
    'lan',
    3,
    'routers[0].interfaces[2].name',
    /unique interface name in the router, got "lan" again/,
  );
  oneError(
    edit([
      '        paths: [{ interface: wan, address: 192.0.2.2 }]\n',
      '        paths: [{ interface: wan, address: 192.0.2.2 }]\n      - { name: b, paths: [{ interface: wan, address: 192.0.2.9 }] }\n',
    ]),
    'b, paths',
    1,
    'routers[0].peers[1].name',
    /unique peer in the router, got "b" again/,
  );
});

test('[R-4.6.5.2-c] tenants named anywhere must be defined', () => {
  oneError(
    edit(['tenant: eng }', 'tenant: engg }']),
    'engg',
    1,
    'routers[0].interfaces[0].tenant',
    /^expected a defined tenant, got "engg" \(did you mean "eng"\?\)$/,
  );
  oneError(
    edit(['tenant: eng }', 'neighborhoods: [{ prefix: 10.0.0.0/25, tenant: dev }] }']),
    'dev',
    1,
    'routers[0].interfaces[0].neighborhoods[0].tenant',
    /^expected a defined tenant, got "dev" \(defined: eng, ops\)$/,
  );
  oneError(
    edit(['allow: [eng]', 'allow: [eng, qa]']),
    'qa',
    1,
    'services[0].access.allow[1]',
    /defined tenant, got "qa"/,
  );
  oneError(
    edit(['allow: [eng]', 'allow: [eng], deny: [qa]']),
    'qa',
    1,
    'services[0].access.deny[0]',
    /defined tenant, got "qa"/,
  );
  oneError(
    edit(['  name: t\n', '  name: t\n  globalTenant: everyone\n']),
    'everyone',
    1,
    'authority.globalTenant',
    /defined tenant, got "everyone"/,
  );
  const star = loadConfigText(edit(['allow: [eng]', 'allow: ["*"]']), 't.yaml');
  assert.ok(star.ok, '"*" allows every tenant');
  oneError(
    edit(['allow: [eng]', 'allow: [eng], deny: ["*"]']),
    '"*"',
    1,
    'services[0].access.deny[0]',
    /^expected a tenant name .*, got "\*"$/,
  );
});

test('services name defined service and security policies; "none" is built in', () => {
  oneError(
    edit(['access: { allow: [eng] }', 'access: { allow: [eng] }\n    servicePolicy: fast']),
    'fast',
    1,
    'services[0].servicePolicy',
    /^expected a defined service policy, got "fast" \(none defined\)$/,
  );
  oneError(
    edit(['access: { allow: [eng] }', 'access: { allow: [eng] }\n    securityPolicy: strong']),
    'strong',
    1,
    'services[0].securityPolicy',
    /^expected a defined security policy, got "strong" \(defined: none\)$/,
  );
  const r = loadConfigText(
    edit(['access: { allow: [eng] }', 'access: { allow: [eng] }\n    securityPolicy: none']),
    't.yaml',
  );
  assert.ok(r.ok);
  assert.deepEqual(r.config.securityPolicies, [{ name: 'none', encryption: 'none', rekeySeconds: 0 }]);
  oneError(
    edit(['routers:\n', 'securityPolicies: [{ name: none, encryption: aes-cbc-256 }]\nrouters:\n']),
    'aes-cbc-256',
    1,
    'securityPolicies[0].encryption',
    /built-in security policy "none", got "aes-cbc-256"/,
  );
});

test('ports need tcp or udp', () => {
  oneError(
    edit(['protocol: tcp', 'protocol: icmp']),
    '["80"]',
    1,
    'services[0].ports',
    /^expected no ports with protocol icmp \(ports need tcp or udp\), got "80"$/,
  );
  oneError(edit(['    protocol: tcp\n', '']), '["80"]', 1, 'services[0].ports', /with protocol any/);
});

test('service routes: unknown service, peer, interface; exactly one of peer, nextHop, local', () => {
  oneError(
    edit(['{ service: web, peer: b }', '{ service: wbe, peer: b }']),
    'wbe',
    1,
    'routers[0].serviceRoutes[0].service',
    /^expected a defined service, got "wbe" \(did you mean "web"\?\)$/,
  );
  oneError(
    edit(['{ service: web, peer: b }', '{ service: web, peer: c }']),
    'c }',
    1,
    'routers[0].serviceRoutes[0].peer',
    /^expected a peer of router "a", got "c"/,
  );
  oneError(
    edit(['{ service: web, local: true }', '{ service: web, nextHop: 10.1.0.9, interface: srv2 }']),
    'srv2',
    1,
    'routers[1].serviceRoutes[0].interface',
    /^expected an interface of router "b", got "srv2" \(did you mean "srv"\?\)$/,
  );
  oneError(
    edit(['{ service: web, local: true }', '{ service: web, local: true, interface: eth9 }']),
    'eth9',
    1,
    'routers[1].serviceRoutes[0].interface',
    /interface of router "b", got "eth9"/,
  );
  oneError(
    edit(['{ service: web, local: true }', '{ service: web }']),
    '{ service: web }',
    1,
    'routers[1].serviceRoutes[0]',
    /^missing: expected one of peer, nextHop or local$/,
  );
  oneError(
    edit(['{ service: web, local: true }', '{ service: web, local: true, nextHop: 10.1.0.9 }']),
    'true, nextHop',
    1,
    'routers[1].serviceRoutes[0].local',
    /^expected one of peer, nextHop or local, got nextHop and local$/,
  );
  oneError(
    edit(['{ service: web, local: true }', '{ service: web, local: false }']),
    'false',
    1,
    'routers[1].serviceRoutes[0].local',
    /^expected true, got false$/,
  );
});

test('service routes for one service combine and must agree on egress; dns needs a dnsName', () => {
  const combined = loadConfigText(
    edit([
      '{ service: web, local: true }',
      '{ service: web, local: true }\n      - { service: web, nextHop: 10.1.0.9 }',
    ]),
    't.yaml',
  );
  assert.ok(combined.ok);
  const b = combined.config.routers[1];
  assert.equal(b.serviceRoutes.length, 1);
  assert.deepEqual(
    b.serviceRoutes[0].nextHops.map((h) => h.kind),
    ['local', 'gateway'],
  );
  oneError(
    edit([
      '{ service: web, local: true }',
      '{ service: web, local: true }\n      - { service: web, nextHop: 10.1.0.9, egress: { nat: { pool: [10.1.0.5] } } }',
    ]),
    '{ nat',
    1,
    'routers[1].serviceRoutes[1].egress',
    /^expected the egress of the first route for service "web" \(routers\[1\]\.serviceRoutes\[0\], line 30\), "forward", got nat to 10\.1\.0\.5 \(round-robin\)$/,
  );
  oneError(
    edit(['{ service: web, local: true }', '{ service: web, local: true, egress: dns }']),
    'dns',
    1,
    'routers[1].serviceRoutes[0].egress',
    /^expected a service with a dnsName for egress dns, got service "web" without one$/,
  );
});

test('a NAT pool may not be empty', () => {
  oneError(
    edit(['{ service: web, local: true }', '{ service: web, local: true, egress: { nat: { pool: [] } } }']),
    '[] }',
    1,
    'routers[1].serviceRoutes[0].egress.nat.pool',
    /^expected a list of at least one address, got an empty list$/,
  );
  oneError(
    edit([
      '{ service: web, local: true }',
      '{ service: web, local: true, egress: { nat: { pool: [10.1.0.5], loadBalancing: random } } }',
    ]),
    'random',
    1,
    'routers[1].serviceRoutes[0].egress.nat.loadBalancing',
    /^expected "round-robin" \| "source-hash", got "random"$/,
  );
  oneError(
    edit(['{ service: web, local: true }', '{ service: web, local: true, egress: fwd }']),
    'fwd',
    1,
    'routers[1].serviceRoutes[0].egress',
    /^expected "forward" \| "dns" \| \{ nat: \{ pool: \[\.\.\.\] \} \}, got "fwd"$/,
  );
});

test('peers: an unknown router, the router itself, a path on an unknown or LAN interface', () => {
  oneError(
    edit(['      - name: b\n        paths', '      - name: c\n        paths'], ['peer: b }', 'peer: c }']),
    'c\n',
    1,
    'routers[0].peers[0].name',
    /^expected a router of the authority, got "c" \(defined: a, b\)$/,
  );
  const self = errorsOf(edit(['      - name: a\n        paths', '      - name: b\n        paths']));
  assert.deepEqual(
    self.map((e) => [e.path, e.message]),
    [['routers[1].peers[0].name', 'expected another router, got "b", this router itself']],
  );
  oneError(
    edit(['[{ interface: wan, address: 192.0.2.2 }]', '[{ interface: wna, address: 192.0.2.2 }]']),
    'wna',
    1,
    'routers[0].peers[0].paths[0].interface',
    /^expected an interface of router "a", got "wna" \(did you mean "wan"\?\)$/,
  );
  oneError(
    edit(['[{ interface: wan, address: 192.0.2.2 }]', '[{ interface: lan, address: 192.0.2.2 }]']),
    'lan, address: 192',
    1,
    'routers[0].peers[0].paths[0].interface',
    /^expected a WAN interface for a peer path, got "lan" \(role lan\)$/,
  );
  oneError(
    edit([
      '[{ interface: wan, address: 192.0.2.2 }]',
      '[{ interface: wan, address: 192.0.2.2, host: b.example }]',
    ]),
    'b.example',
    1,
    'routers[0].peers[0].paths[0].host',
    /^expected address or host, got both$/,
  );
  oneError(
    edit(['[{ interface: wan, address: 192.0.2.2 }]', '[{ interface: wan }]']),
    '{ interface: wan }',
    1,
    'routers[0].peers[0].paths[0]',
    /^missing: expected address or host/,
  );
  const host = loadConfigText(
    edit([
      '[{ interface: wan, address: 192.0.2.2 }]',
      '[{ interface: wan, host: b.example, vector: lte, weight: 3 }]',
    ]),
    't.yaml',
  );
  assert.ok(host.ok);
  const p = host.config.routers[0].peers[0].paths[0];
  assert.deepEqual([p.remoteAddress, p.remoteHost, p.vector, p.weight], [undefined, 'b.example', 'lte', 3]);
});

test('interfaces: overlapping neighborhood, same device and VLAN, duplicated address', () => {
  oneError(
    edit([
      'tenant: eng }',
      'neighborhoods: [{ prefix: 10.0.0.0/25, tenant: eng }, { prefix: 10.0.0.0/25, tenant: ops }] }',
    ]),
    '10.0.0.0/25',
    2,
    'routers[0].interfaces[0].neighborhoods[1].prefix',
    /^overlapping neighborhood: expected a unique source prefix on the interface, got 10\.0\.0\.0\/25 again \(first at routers\[0\]\.interfaces\[0\]\.neighborhoods\[0\]\.prefix, line 15\)$/,
  );
  oneError(
    edit(
      ['{ name: lan, role: lan,', '{ name: lan, device: eth0, vlan: 7, role: lan,'],
      [
        '{ name: wan, role: wan, addresses: [192.0.2.1/24] }',
        '{ name: wan, device: eth0, vlan: 7, role: wan, addresses: [192.0.2.1/24] }',
      ],
    ),
    '7',
    2,
    'routers[0].interfaces[1].vlan',
    /^expected a unique device and VLAN in the router, got device "eth0" VLAN 7 again \(first at routers\[0\]\.interfaces\[0\]\.vlan, line 15\)$/,
  );
  oneError(
    edit([
      '{ name: wan, role: wan, addresses: [192.0.2.1/24] }',
      '{ name: wan, device: lan, role: wan, addresses: [192.0.2.1/24] }',
    ]),
    'lan, role: wan',
    1,
    'routers[0].interfaces[1].device',
    /got device "lan" VLAN 0 again/,
  );
  oneError(
    edit(['addresses: [192.0.2.1/24] }', 'addresses: [192.0.2.1/24, 10.0.0.1/16] }']),
    '10.0.0.1/16',
    1,
    'routers[0].interfaces[1].addresses[1]',
    /^expected a unique interface address in the router, got 10\.0\.0\.1 again/,
  );
});

test('static routes need a next hop or an interface that exists', () => {
  oneError(
    edit([
      '      - { service: web, peer: b }\n',
      '      - { service: web, peer: b }\n    routes:\n      - { prefix: 0.0.0.0/0 }\n',
    ]),
    '{ prefix',
    1,
    'routers[0].routes[0]',
    /^missing: expected nextHop, interface or both$/,
  );
  oneError(
    edit([
      '      - { service: web, peer: b }\n',
      '      - { service: web, peer: b }\n    routes:\n      - { prefix: 0.0.0.0/0, interface: wan0 }\n',
    ]),
    'wan0',
    1,
    'routers[0].routes[0].interface',
    /interface of router "a", got "wan0"/,
  );
});

test('warnings: a service nobody may use, a peer that does not peer back', () => {
  const r = loadConfigText(
    edit(
      ['    access: { allow: [eng] }\n', ''],
      ['      - name: a\n        paths: [{ interface: wan, address: 192.0.2.1 }]\n', '      []\n'],
    ),
    't.yaml',
  );
  assert.ok(r.ok, r.ok ? '' : r.errors.map(formatConfigError).join('\n'));
  assert.deepEqual(r.warnings.map(formatConfigError), [
    't.yaml:7:5: services[0].access: service "web" has no access.allow, so no tenant can use it (deny by default, 4.6.5.2)',
    't.yaml:17:15: routers[0].peers[0].name: router "b" does not peer back with "a": expected a peers entry for "a" in router "b"',
  ]);
});

test('timers: defaults, then the authority, then the router, field by field (D-10)', () => {
  const r = loadConfigText(
    edit(
      ['  name: t\n', '  name: t\n  timers: { tcpIdleSeconds: 600, udpIdleSeconds: 60 }\n'],
      [
        '    serviceRoutes:\n      - { service: web, local: true }',
        '    serviceRoutes:\n      - { service: web, local: true }\n    timers: { udpIdleSeconds: 30 }\n    limits: { maxSessions: 1000 }',
      ],
    ),
    't.yaml',
  );
  assert.ok(r.ok, r.ok ? '' : r.errors.map(formatConfigError).join('\n'));
  const [a, b] = r.config.routers;
  assert.equal(a.timers.tcpIdleSeconds, 600);
  assert.equal(a.timers.udpIdleSeconds, 60);
  assert.equal(a.timers.icmpIdleSeconds, 10);
  assert.equal(b.timers.tcpIdleSeconds, 600);
  assert.equal(b.timers.udpIdleSeconds, 30);
  assert.equal(b.limits.maxSessions, 1000);
  assert.equal(b.limits.maxSessionsPerTenant, 1_000_000);
  oneError(
    edit(['  name: t\n', '  name: t\n  timers: { udpAsymmetricMetadataPackets: 2.5 }\n']),
    '2.5',
    1,
    'authority.timers.udpAsymmetricMetadataPackets',
    /^expected a positive integer, got 2\.5$/,
  );
});

test('all errors are reported, in file order, up to MAX_ERRORS', () => {
  const several = errorsOf(
    edit(
      ['  - name: ops\n', '  - name: Ops\n'],
      ['protocol: tcp', 'protocol: tls'],
      ['role: wan, addresses: [192.0.2.1/24]', 'role: wan, mtu: 100'],
    ),
  );
  assert.deepEqual(
    several.map((e) => e.path),
    ['tenants[1].name', 'services[0].protocol', 'routers[0].interfaces[1].mtu'],
  );
  const many = `authority: { name: t }\ntenants:\n${Array.from({ length: 60 }, (_, i) => `  - name: T${i}\n`).join('')}`;
  const errors = errorsOf(many);
  assert.equal(errors.length, MAX_ERRORS + 1);
  assert.equal(errors[MAX_ERRORS].message, 'too many errors: 10 more not shown');
});
