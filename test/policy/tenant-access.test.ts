import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpv4 } from '../../src/base/address.js';
import { type Prefix, parsePrefix } from '../../src/base/prefix.js';
import type { InterfaceModel } from '../../src/config/model.js';
import { AccessPolicy } from '../../src/policy/access.js';
import { TenantResolver, TenantTable, tenantMatch } from '../../src/policy/tenant.js';

const pfx = (s: string): Prefix => {
  const p = parsePrefix(s);
  if (typeof p === 'string') throw new Error(p);
  return p;
};
const v4 = (s: string) => {
  const a = parseIpv4(s) ?? 0;
  return Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255);
};

function iface(name: string, over: Partial<InterfaceModel> = {}): InterfaceModel {
  return {
    name,
    device: name,
    vlan: 0,
    role: 'lan',
    addresses: [],
    tenant: undefined,
    neighborhoods: [],
    wayports: { lo: 16385, hi: 65533 },
    sourceNat: undefined,
    mtu: 1500,
    ...over,
  };
}

test('4.6.5.2: tenant names match right to left in whole segments, longest match counting most', () => {
  assert.equal(tenantMatch('engineering', 'engineering'), 1);
  assert.equal(tenantMatch('engineering', 'release.engineering'), 1);
  assert.equal(tenantMatch('release.engineering', 'release.engineering'), 2);
  assert.equal(tenantMatch('release.engineering', 'x.release.engineering'), 2);
  assert.equal(tenantMatch('engineering', 'reengineering'), -1, 'whole segments only');
  assert.equal(tenantMatch('release.engineering', 'engineering'), -1);
  assert.equal(tenantMatch('*', 'anything.at.all'), 0);
  assert.equal(tenantMatch('*', ''), 0);
  assert.equal(tenantMatch('engineering', ''), -1);
});

test('[R-4.6.5.1-d] [R-4.6.5.1-e] [R-4.6.5.2-a] access: allowed and denied tenants, the most specific entry deciding', () => {
  const allow = ['engineering'];
  const deny = ['release.engineering'];
  assert.equal(AccessPolicy.decide(allow, deny, 'engineering'), true);
  assert.equal(AccessPolicy.decide(allow, deny, 'dev.engineering'), true);
  assert.equal(AccessPolicy.decide(allow, deny, 'release.engineering'), false);
  assert.equal(AccessPolicy.decide(allow, deny, 'hotfix.release.engineering'), false);
  assert.equal(
    AccessPolicy.decide(['release.engineering'], ['engineering'], 'release.engineering'),
    true,
    'a more specific allow beats a general deny',
  );
  assert.equal(AccessPolicy.decide(['a'], ['a'], 'a'), false, 'a tie goes to deny');
  assert.equal(AccessPolicy.decide(['*'], [], ''), true);
  assert.equal(AccessPolicy.decide(['*'], ['guest'], 'guest'), false);
});

test('[R-4.6.5-b] [R-4.6.5.2-c] deny by default: no allow entry, no access', () => {
  assert.equal(AccessPolicy.decide([], [], 'engineering'), false);
  assert.equal(AccessPolicy.decide(['sales'], [], 'engineering'), false);
  const tenants = new TenantTable(['engineering', 'release.engineering']);
  const p = new AccessPolicy(['engineering'], ['release.engineering'], tenants);
  assert.equal(p.allows(tenants.idOf('engineering')), true);
  assert.equal(p.allows(tenants.idOf('release.engineering')), false);
  assert.equal(p.allows(tenants.intern('new.from.metadata')), false);
  assert.equal(p.allows(tenants.intern('qa.engineering')), true, 'learned names obey the hierarchy');
  for (let i = 0; i < 100; i++) tenants.intern(`t${i}`);
  assert.equal(p.allows(tenants.idOf('t99')), false, 'the cache grows');
});

test('[R-4.6.5.2-c] [R-4.6.5.2-e] tenant precedence: metadata, then interface/VLAN, then neighborhood, then global', () => {
  const tenants = new TenantTable();
  const r = new TenantResolver(
    [
      iface('lan', { neighborhoods: [{ prefix: pfx('10.0.0.0/25'), tenant: 'engineering' }] }),
      iface('lan-vlan2', { vlan: 2, tenant: 'engineering' }),
      iface('guest', {
        tenant: 'guest',
        neighborhoods: [{ prefix: pfx('10.9.0.0/16'), tenant: 'engineering' }],
      }),
      iface('plain'),
    ],
    'global',
    tenants,
  );
  const name = (x: { tenant: number }) => tenants.name(x.tenant);
  const meta = r.resolve('release.engineering', 1, v4('10.0.1.1'));
  assert.deepEqual([name(meta), meta.source], ['release.engineering', 'metadata']);
  const vlan = r.resolve(undefined, 1, v4('10.0.1.1'));
  assert.deepEqual([name(vlan), vlan.source], ['engineering', 'interface']);
  const hood = r.resolve(undefined, 0, v4('10.0.0.77'));
  assert.deepEqual([name(hood), hood.source], ['engineering', 'neighborhood']);
  const outside = r.resolve(undefined, 0, v4('10.0.0.200'));
  assert.deepEqual([name(outside), outside.source], ['global', 'global']);
  // SSR order: the interface's tenant wins over its neighborhoods.
  assert.equal(name(r.resolve(undefined, 2, v4('10.9.1.1'))), 'guest');
  assert.equal(name(r.resolveV4(undefined, 3, parseIpv4('1.2.3.4') ?? 0)), 'global');
});

test('[R-4.6.5.2-d] CIDR blocks override a default: a catch-all neighborhood with longer ones inside', () => {
  const tenants = new TenantTable();
  const r = new TenantResolver(
    [
      iface('lan', {
        neighborhoods: [
          { prefix: pfx('0.0.0.0/0'), tenant: 'staff' },
          { prefix: pfx('10.0.0.0/8'), tenant: 'engineering' },
          { prefix: pfx('10.1.0.0/16'), tenant: 'release.engineering' },
        ],
      }),
    ],
    '',
    tenants,
  );
  const at = (a: string) => tenants.name(r.resolve(undefined, 0, v4(a)).tenant);
  assert.equal(at('192.0.2.1'), 'staff');
  assert.equal(at('10.2.3.4'), 'engineering');
  assert.equal(at('10.1.3.4'), 'release.engineering');
  assert.equal(r.neighborhoodOf(0, v4('10.1.3.4')), '10.1.0.0/16');
});
