import { prefixOf } from '../../src/base/prefix.js';
import { SeededRandom } from '../../src/base/random.js';
import {
  type AuthorityModel,
  DEFAULT_LIMITS,
  DEFAULT_PEERING,
  DEFAULT_TIMERS,
  type ServiceModel,
} from '../../src/config/model.js';
import { Fib } from '../../src/policy/fib.js';
import { TenantTable } from '../../src/policy/tenant.js';
import { IPPROTO_TCP } from '../../src/wire/protocol.js';
import { type Figures, nsPerOp } from '../harness.js';
import type { Suite } from '../run.js';
import { lpmFigures } from './lpm-figures.js';

/**
 * Policy lookups (issue 3): the LPM table alone, and a whole FIB lookup with 100 000 service
 * prefixes (longest prefix, then protocol, port and the tenant's access), as a first packet
 * does it.
 */
function fibFigures(): Figures {
  const rnd = new SeededRandom(21);
  const services: ServiceModel[] = [];
  const b = new Uint8Array(4);
  for (let i = 0; i < 100_000; i++) {
    rnd.fill(b);
    const len = 16 + (rnd.u32() % 9);
    const lo = 1 + (rnd.u32() % 60000);
    services.push({
      name: `svc${i}`,
      description: undefined,
      prefixes: [prefixOf(b, len)],
      protocol: 'tcp',
      ports: [{ lo, hi: lo + 100 }],
      access: { allow: ['engineering'], deny: ['release.engineering'] },
      servicePolicy: undefined,
      securityPolicy: 'none',
      dnsName: undefined,
    });
  }
  const a: AuthorityModel = {
    name: 'bench',
    security: {
      hmac: { method: 'sha256-128', timeBased: true, scope: 'all' },
      metadataCipher: 'aes-256-cbc',
      curve: 'P-256',
    },
    globalTenant: '',
    tenants: [{ name: 'engineering', description: undefined }],
    services,
    servicePolicies: [],
    securityPolicies: [{ name: 'none', encryption: 'none', rekeySeconds: 0 }],
    routers: [
      {
        name: 'r',
        interfaces: [],
        peers: [],
        serviceRoutes: [],
        routes: [],
        timers: DEFAULT_TIMERS,
        limits: DEFAULT_LIMITS,
        peering: DEFAULT_PEERING,
        pki: undefined,
      },
    ],
  };
  const tenants = new TenantTable(['engineering']);
  const t0 = process.hrtime.bigint();
  const fib = new Fib(a, a.routers[0], tenants);
  const buildMs = Number(process.hrtime.bigint() - t0) / 1e6;
  // Destinations inside the services' prefixes and ports, so lookups find something.
  const n = 1 << 16;
  const dst = new Uint32Array(n);
  const port = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const s = services[rnd.u32() % services.length];
    const p = s.prefixes[0];
    const base = ((p.bytes[0] << 24) | (p.bytes[1] << 16) | (p.bytes[2] << 8) | p.bytes[3]) >>> 0;
    dst[i] = (base | (rnd.u32() & (0xffffffff >>> p.length))) >>> 0;
    port[i] = s.ports[0].lo + (rnd.u32() % 100);
  }
  const eng = tenants.idOf('engineering');
  let found = 0;
  const ns = nsPerOp(
    (i) => {
      const r = fib.lookupV4(eng, dst[i & (n - 1)], IPPROTO_TCP, port[i & (n - 1)]);
      if (r.kind === 'service') found++;
      return found;
    },
    { iterations: 500_000, rounds: 5 },
  );
  return {
    'fib.lookup-100k-services': { value: ns, unit: 'ns/op' },
    'fib.build-100k-services': { value: buildMs * 1e6, unit: 'ns/op' },
  };
}

export const policySuite: Suite = {
  name: 'policy',
  title: 'FIB and longest-prefix match (issue 3), one core',
  run: () => ({ ...lpmFigures(), ...fibFigures() }),
};
