import { z } from 'zod';
import { DEFAULT_LIMITS, DEFAULT_MTU, DEFAULT_PEERING, DEFAULT_TIMERS, DEFAULT_WAYPORTS } from './model.js';
import {
  HOSTNAME_RE,
  NAME_RE,
  parseAddress,
  parseInterfaceAddress,
  parseIpv4Address,
  parseNetwork,
  parsePortRange,
  parseWayports,
  showValue,
  TENANT_RE,
} from './values.js';

/**
 * The configuration file as people write it (YAML, see examples/ and docs/configuration.md):
 * every field with a description for editors, unknown keys refused so typos are caught. No
 * transforms, so it converts to JSON Schema (json-schema.ts); string forms are checked here
 * with the same parsers compile.ts converts them with. References between sections (a tenant,
 * a peer, an interface named elsewhere) are checked by compile.ts, which knows the whole file.
 */

/** Every check of a field says the same thing: what it expects, then what it found. */
function expecting(what: string): { error: (iss: z.core.$ZodRawIssue) => string } {
  return {
    error: (iss) =>
      iss.input === undefined ? `missing: expected ${what}` : `expected ${what}, got ${showValue(iss.input)}`,
  };
}

/** A strict mapping: unknown keys are errors (the loader reports each at its key). */
function mapping<S extends z.core.$ZodLooseShape>(shape: S, what: string) {
  return z.strictObject(shape, expecting(what));
}

function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, expecting(what));
}

function text(what: string) {
  return z.string(expecting(what));
}

function name(what: string) {
  return text(what).regex(NAME_RE, expecting(what));
}

function tenantName() {
  const what = 'a tenant name of lower-case dotted segments like "release.engineering"';
  return text(what).regex(TENANT_RE, expecting(what));
}

/**
 * A string form: `pattern` is a loose shape for JSON Schema (editors flag garbage early);
 * `parse` is the real check, whose message names the problem.
 */
function form<T>(what: string, pattern: RegExp, parse: (s: string) => T | string) {
  return text(what)
    .regex(pattern, expecting(what))
    .check((ctx) => {
      if (!pattern.test(ctx.value)) return; // already reported by the pattern
      const r = parse(ctx.value);
      if (typeof r === 'string') ctx.issues.push({ code: 'custom', message: r, input: ctx.value });
    });
}

const ADDRESS_PATTERN = /^[0-9A-Fa-f:.]+$/;

function address(what = 'an IP address like 192.0.2.1 or 2001:db8::1') {
  return form(what, ADDRESS_PATTERN, parseAddress);
}

function network() {
  return form('a prefix like 10.0.0.0/24 or 2001:db8::/32', /^[0-9A-Fa-f:.]+(\/[0-9]{1,3})?$/, parseNetwork);
}

function intIn(lo: number, hi: number, what = `an integer ${lo}-${hi}`) {
  const e = expecting(what);
  return z.int(e).min(lo, e).max(hi, e);
}

function positiveInt(what = 'a positive integer') {
  const e = expecting(what);
  return z.int(e).positive(e);
}

function positive(what = 'a positive number') {
  const e = expecting(what);
  return z.number(e).positive(e);
}

function nonNegative(what = 'a number >= 0') {
  const e = expecting(what);
  return z.number(e).min(0, e);
}

function boolean() {
  return z.boolean(expecting('true or false'));
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, expecting(values.map((v) => `"${v}"`).join(' | ')));
}

function seconds(field: keyof typeof DEFAULT_TIMERS, why: string) {
  return positive('a positive number of seconds')
    .optional()
    .describe(`${why} Default ${DEFAULT_TIMERS[field]}.`);
}

/** D-10: each field optional; a router's timers override the authority's field by field. */
const timers = mapping(
  {
    tcpIdleSeconds: seconds(
      'tcpIdleSeconds',
      'Idle time after which an established TCP session ends (D-10).',
    ),
    tcpSetupSeconds: seconds('tcpSetupSeconds', 'Time a TCP session may take to be established (D-10).'),
    tcpCloseGuardSeconds: seconds(
      'tcpCloseGuardSeconds',
      'Time a TCP session is kept after FIN/FIN-ACK or RST (3.7.6, D-10).',
    ),
    udpIdleSeconds: seconds('udpIdleSeconds', 'Idle time after which a UDP session ends (D-10).'),
    icmpIdleSeconds: seconds('icmpIdleSeconds', 'Idle time after which an ICMP session ends (D-10).'),
    natKeepAliveSeconds: seconds(
      'natKeepAliveSeconds',
      'Idle time after which a NAT keep-alive is sent on a session (2.11, 6.3).',
    ),
    udpAsymmetricMetadataPackets: positiveInt()
      .optional()
      .describe(
        `Most packets of a one-way UDP flow that carry metadata (3.7.7). Default ${DEFAULT_TIMERS.udpAsymmetricMetadataPackets}.`,
      ),
    moveOldEntriesSeconds: seconds(
      'moveOldEntriesSeconds',
      "Time a moved session's old entries are kept (6.1).",
    ),
    quiescentMoveIntervalSeconds: seconds(
      'quiescentMoveIntervalSeconds',
      'Interval of the control messages that move a quiescent session (6.2).',
    ),
    quiescentMoveDurationSeconds: seconds(
      'quiescentMoveDurationSeconds',
      'How long control messages are sent to move a quiescent session (6.2).',
    ),
    portGuardSeconds: seconds('portGuardSeconds', 'Time a freed wayport waits before reuse (4.2.3, D-10).'),
    pathMetricsColorMs: intIn(0, 3_600_000, 'an integer number of milliseconds 0-3600000')
      .optional()
      .describe(
        `Period of the in-line path metrics colours (7.3.7, TLV 26); 0 turns the marking off. Default ${DEFAULT_TIMERS.pathMetricsColorMs}.`,
      ),
  },
  'a mapping of timer names to values',
);

function peeringInt(field: keyof typeof DEFAULT_PEERING, lo: number, hi: number, why: string) {
  return intIn(lo, hi).optional().describe(`${why} Default ${DEFAULT_PEERING[field]}.`);
}

/** 5.1, D-6: each field optional; a router's peering overrides the authority's field by field. */
const peering = mapping(
  {
    bfdPort: peeringInt('bfdPort', 1, 65535, 'UDP port of BFD on every waypoint (D-6).'),
    desiredMinTxMs: peeringInt('desiredMinTxMs', 10, 60_000, 'BFD Desired Min TX Interval, ms (RFC 5880).'),
    requiredMinRxMs: peeringInt(
      'requiredMinRxMs',
      10,
      60_000,
      'BFD Required Min RX Interval, ms (RFC 5880).',
    ),
    detectMultiplier: peeringInt('detectMultiplier', 1, 255, 'BFD Detect Mult (RFC 5880).'),
    qualityProbes: peeringInt('qualityProbes', 0, 1000, 'MeasureData requests per burst; 0: none (5.1.5).'),
    qualityIntervalSeconds: peeringInt(
      'qualityIntervalSeconds',
      1,
      86_400,
      'Seconds between quality bursts on idle paths (5.1.5).',
    ),
    qualityTimeoutMs: peeringInt(
      'qualityTimeoutMs',
      1,
      60_000,
      'A probe unanswered this long counts as lost (5.1.5).',
    ),
    qualityWindow: peeringInt('qualityWindow', 1, 1000, 'Bursts the live path figures cover (5.1.5).'),
    mtuIntervalSeconds: peeringInt(
      'mtuIntervalSeconds',
      0,
      86_400,
      'Seconds between MTU discoveries; 0: never (5.1.4).',
    ),
    mtuMin: peeringInt('mtuMin', 576, 65_535, 'Smallest MTU probe, bytes (5.1.4).'),
    mtuStep: peeringInt('mtuStep', 1, 9000, 'Growth between MTU probes, bytes (5.1.4).'),
    rekeyIntervalSeconds: peeringInt(
      'rekeyIntervalSeconds',
      1,
      31_536_000,
      'Seconds between peer key changes (3.1.2, 5.1.8).',
    ),
    keyGuardSeconds: peeringInt(
      'keyGuardSeconds',
      1,
      86_400,
      'Seconds a replaced key stays usable (3.6, R-3.6-a).',
    ),
  },
  'a mapping of peering settings',
);

const security = mapping(
  {
    hmac: mapping(
      {
        method: oneOf(['sha1', 'sha256-128', 'sha256'])
          .default('sha256-128')
          .describe('HMAC signature method (3.4, 4.5.1, D-2).'),
        timeBased: boolean()
          .default(true)
          .describe('Sign with the time-based window, floor(unix seconds / 2) (3.5, D-1).'),
        scope: oneOf(['none', 'metadata', 'all'])
          .default('all')
          .describe('Which packets are signed: none, those with metadata, or all (3.4).'),
      },
      'a mapping with method, timeBased and scope',
    )
      .prefault({})
      .describe('Packet signatures (3.4; default: time-based sha256-128 on all packets, Figure 7).'),
    metadataCipher: oneOf(['none', 'aes-128-cbc', 'aes-256-cbc'])
      .default('aes-256-cbc')
      .describe('Cipher of the metadata payload TLVs (3.4, 4.4, D-4); none sends them in clear.'),
    curve: oneOf(['P-256']).default('P-256').describe('Elliptic curve of the peer key exchange (3.4, D-5).'),
  },
  'a mapping with hmac, metadataCipher and curve',
);

const authority = mapping(
  {
    name: name('an authority name').describe('Name of the authority that provisions every router (3.4).'),
    security: security
      .prefault({})
      .describe('Authority-wide security definitions (3.4); every part optional, defaults of Figure 7.'),
    globalTenant: text('"" or a defined tenant name')
      .regex(new RegExp(`^$|${TENANT_RE.source}`), expecting('"" or a defined tenant name'))
      .default('')
      .describe('Tenant of sessions nothing else assigns a tenant to; "" for none.'),
    timers: timers.optional().describe('Session timers for every router (D-10); routers may override each.'),
    peering: peering
      .optional()
      .describe('BFD, path quality, MTU and key settings for every router (5.1, D-6).'),
  },
  'a mapping with name, security, globalTenant, timers and peering',
);

const tenant = mapping(
  {
    name: tenantName().describe(
      'Tenant name: dotted lower-case segments, most specific first, e.g. "release.engineering" (4.6.5.2).',
    ),
    description: text('a description').optional().describe('Free text for people.'),
  },
  'a mapping with name and description',
);

const service = mapping(
  {
    name: name('a service name').describe('Service name, sent in metadata (4.6.5.1, 7.4.7).'),
    description: text('a description').optional().describe('Free text for people.'),
    addresses: list(network(), 'a list of prefixes')
      .min(1, expecting('a list of at least one prefix'))
      .describe('Destination prefixes of the service; a bare address is a host prefix (4.6.5.1).'),
    protocol: oneOf(['tcp', 'udp', 'icmp', 'any']).default('any').describe('Transport protocol (4.6.5.1).'),
    ports: list(
      form('a quoted port "N" or range "N-M"', /^[0-9]+(-[0-9]+)?$/, parsePortRange),
      'a list of port strings',
    )
      .default([])
      .describe(
        'Destination ports as strings "N" or "N-M" (1-65535); empty or absent: every port. Only with tcp or udp.',
      ),
    access: mapping(
      {
        allow: list(
          text('a tenant name or "*"').regex(
            new RegExp(`^\\*$|${TENANT_RE.source}`),
            expecting('a tenant name or "*"'),
          ),
          'a list of tenant names',
        )
          .default([])
          .describe(
            'Tenants that may use the service, "*" for all; none: nobody (deny by default, 4.6.5.2).',
          ),
        deny: list(tenantName(), 'a list of tenant names')
          .default([])
          .describe('Tenants denied the service even when allowed (3.7.1.3).'),
      },
      'a mapping with allow and deny',
    )
      .prefault({})
      .describe('Access policy: which tenants may use the service (3.7.1.3, 4.6.5.2).'),
    servicePolicy: name('a service policy name')
      .optional()
      .describe('Service policy (SLA, vector costs, load balancing); absent: the default policy.'),
    securityPolicy: name('a security policy name')
      .default('none')
      .describe('Security policy sent in metadata (4.6.6, 7.4.11); "none" always exists.'),
    dnsName: text('a host name')
      .regex(HOSTNAME_RE, expecting('a host name like logsvc.example'))
      .max(253, expecting('a host name of at most 253 characters'))
      .optional()
      .describe(
        'Name resolved by DNS where a router egresses the service with `egress: dns` (3.3, 4.6.5.1).',
      ),
  },
  'a service mapping',
);

const vectorName = name('a vector name');

const servicePolicy = mapping(
  {
    name: name('a service policy name').describe('Service policy name, used by services.'),
    sla: mapping(
      {
        maxLatencyMs: nonNegative().optional().describe('Largest acceptable path latency, ms (3.7.1.3).'),
        maxLossPercent: nonNegative('a percentage 0-100')
          .max(100, expecting('a percentage 0-100'))
          .optional()
          .describe('Largest acceptable packet loss, percent.'),
        maxJitterMs: nonNegative().optional().describe('Largest acceptable jitter, ms.'),
        minMos: z
          .number(expecting('a MOS score 1-5'))
          .min(1, expecting('a MOS score 1-5'))
          .max(5, expecting('a MOS score 1-5'))
          .optional()
          .describe('Smallest acceptable mean opinion score, 1-5.'),
      },
      'a mapping with maxLatencyMs, maxLossPercent, maxJitterMs and minMos',
    )
      .prefault({})
      .describe('Limits a path must meet (3.7.1.3, 3.7.1.4); unset limits do not filter.'),
    vectors: z
      .record(
        vectorName,
        z.union(
          [nonNegative('a cost >= 0 or "never"'), z.literal('never')],
          expecting('a cost >= 0 or "never"'),
        ),
        expecting('a mapping of vector names to costs'),
      )
      .default({})
      .describe('Cost per vector name (lower is preferred), or "never" to exclude the vector.'),
    defaultVectorCost: nonNegative().default(0).describe('Cost of a vector not listed in vectors.'),
    loadBalancing: oneOf(['best-quality', 'round-robin', 'least-busy', 'proportional', 'source-hash'])
      .default('best-quality')
      .describe('How sessions spread over the acceptable paths of least cost (3.7.1.4).'),
    bestEffort: boolean()
      .default(true)
      .describe('Use paths that miss the SLA when none meets it, rather than refusing the session.'),
    revertible: boolean()
      .default(false)
      .describe(
        'Sessions moved off a path (6.1) move back when a better path returns; false: they stay where they moved.',
      ),
  },
  'a service policy mapping',
);

const securityPolicy = mapping(
  {
    name: name('a security policy name').describe('Security policy name, sent in metadata (7.4.11).'),
    encryption: oneOf(['none', 'aes-cbc-128', 'aes-cbc-256', 'adaptive']).describe(
      'Payload encryption of sessions (4.6.6, 6.4, D-9).',
    ),
    rekeySeconds: intIn(0, 31_536_000, 'an integer number of seconds 0-31536000')
      .default(0)
      .describe('Give each encrypted session a new key this often (4.6.6, 7.4.15); 0: never.'),
  },
  'a mapping with name and encryption',
);

const neighborhood = mapping(
  {
    prefix: network().describe('Source prefix of the tenant; the longest match wins (4.6.5.2).'),
    tenant: tenantName().describe('Tenant of sessions from the prefix.'),
  },
  'a mapping with prefix and tenant',
);

const iface = mapping(
  {
    name: name('an interface name').describe(
      'Interface name, unique in the router; paths and routes name it.',
    ),
    device: name('a device name')
      .optional()
      .describe('Physical or virtual port; default: the interface name. Several VLANs may share one.'),
    vlan: intIn(0, 4095).default(0).describe('VLAN tag; 0 is untagged.'),
    role: oneOf(['lan', 'wan']).describe('lan: clients and servers; wan: peer paths leave from here.'),
    addresses: list(
      form(
        'an address with its network length like 10.0.0.1/24',
        /^[0-9A-Fa-f:.]+\/[0-9]{1,3}$/,
        parseInterfaceAddress,
      ),
      'a list of addresses',
    )
      .default([])
      .describe('Interface addresses with the connected network length, "10.0.0.1/24" (host bits expected).'),
    tenant: tenantName().optional().describe('Tenant of sessions arriving here (3.7.1.1).'),
    neighborhoods: list(neighborhood, 'a list of neighborhoods')
      .default([])
      .describe('Source prefixes mapped to tenants; they override the interface tenant (4.6.5.2).'),
    wayports: form('a wayport range "N-M"', /^[0-9]+-[0-9]+$/, parseWayports)
      .default(`${DEFAULT_WAYPORTS.lo}-${DEFAULT_WAYPORTS.hi}`)
      .describe('Waypoint ports for sessions started on paths from here, "N-M" (2.8, 3.7.1.6, D-10).'),
    sourceNat: form('an IPv4 address like 203.0.113.1', ADDRESS_PATTERN, parseIpv4Address)
      .optional()
      .describe('Source NAT address for sessions leaving SVR beyond the peer, sent in TLV 25 (3.7.1.5).'),
    mtu: intIn(576, 65535).default(DEFAULT_MTU).describe('MTU in bytes.'),
  },
  'an interface mapping',
);

const peerPath = mapping(
  {
    interface: name('an interface name').describe('Local WAN interface the path leaves from.'),
    address: address().optional().describe("The peer's waypoint address; give address or host."),
    host: text('a host name')
      .regex(HOSTNAME_RE, expecting('a host name like west.example'))
      .max(253, expecting('a host name of at most 253 characters'))
      .optional()
      .describe("The peer's waypoint as a host name, resolved at run time; give address or host."),
    vector: vectorName.default('default').describe('Vector name service policies price, e.g. mpls, lte.'),
    weight: positive().default(1).describe('Relative capacity for proportional load balancing.'),
    tcpToUdp: oneOf(['auto', 'always', 'never'])
      .default('auto')
      .describe(
        'TCP sessions cross as UDP (2.4, 4.2.7): auto when a probe finds TCP SYNs with metadata blocked.',
      ),
  },
  'a path mapping',
);

const peer = mapping(
  {
    name: name('a router name').describe('Another router of the authority (3.1).'),
    paths: list(peerPath, 'a list of paths')
      .min(1, expecting('a list of at least one path'))
      .describe('Peer paths to the router, one per local interface and peer waypoint (3.1.4).'),
  },
  'a mapping with name and paths',
);

const egress = z
  .union(
    [
      z.enum(['forward', 'dns'], expecting('"forward" | "dns" | { nat: ... }')),
      mapping(
        {
          nat: mapping(
            {
              pool: list(address(), 'a list of addresses')
                .min(1, expecting('a list of at least one address'))
                .describe('Destination addresses sessions are translated to (4.6.5.1).'),
              loadBalancing: oneOf(['round-robin', 'source-hash'])
                .default('round-robin')
                .describe('How a pool address is chosen per session.'),
            },
            'a mapping with pool and loadBalancing',
          ).describe('Destination NAT to a pool of local addresses.'),
        },
        'a mapping with nat',
      ),
    ],
    expecting('"forward" | "dns" | { nat: { pool: [...] } }'),
  )
  .default('forward')
  .describe(
    'What the router nearest the destination does when the session leaves SVR (3.3, 4.6.5.1): forward to the original destination, resolve the service dnsName, or NAT to a pool.',
  );

const serviceRoute = mapping(
  {
    service: name('a service name').describe('The service routed.'),
    peer: name('a peer router name')
      .optional()
      .describe('Send to this peer; give one of peer, nextHop or local.'),
    nextHop: address()
      .optional()
      .describe('Leave SVR through this gateway; give one of peer, nextHop or local.'),
    interface: name('an interface name')
      .optional()
      .describe('Interface of a nextHop or local route; default: the one the address is on.'),
    local: z
      .literal(true, expecting('true'))
      .optional()
      .describe('The destination is on a local network; give one of peer, nextHop or local.'),
    egress,
  },
  'a service route mapping',
);

const route = mapping(
  {
    prefix: network().describe('Destination prefix.'),
    nextHop: address().optional().describe('Gateway; give nextHop, interface or both.'),
    interface: name('an interface name')
      .optional()
      .describe('Outgoing interface; give nextHop, interface or both.'),
  },
  'a route mapping',
);

const router = mapping(
  {
    name: name('a router name').describe('Router name, unique in the authority, sent in metadata (7.4.10).'),
    interfaces: list(iface, 'a list of interfaces')
      .min(1, expecting('a list of at least one interface'))
      .describe('Network interfaces: a device and a VLAN on it.'),
    peers: list(peer, 'a list of peers')
      .default([])
      .describe('Other routers this one has peer paths to (3.1).'),
    serviceRoutes: list(serviceRoute, 'a list of service routes')
      .default([])
      .describe(
        'Routes by service name, matched before generic routes (3.3); entries for one service combine.',
      ),
    routes: list(route, 'a list of routes').default([]).describe('Generic routes by prefix (3.2, Figure 4).'),
    timers: timers.optional().describe("Overrides of the authority's timers, field by field (D-10)."),
    peering: peering.optional().describe("Overrides of the authority's peering settings (5.1, D-6)."),
    pki: mapping(
      {
        ca: text('a file path').describe('PEM certificate of the authority CA (5.1.7, D-7).'),
        certificate: text('a file path').describe('PEM certificate of this router, CN = router/authority.'),
        key: text('a file path').describe("PEM private key of the router's certificate."),
      },
      'a mapping with ca, certificate and key',
    )
      .optional()
      .describe('Router credentials (`svr pki issue`); paths relative to the configuration file.'),
    limits: mapping(
      {
        maxSessions: positiveInt()
          .optional()
          .describe(`Most sessions the router holds. Default ${DEFAULT_LIMITS.maxSessions}.`),
        maxSessionsPerTenant: positiveInt()
          .optional()
          .describe(`Most sessions of one tenant. Default ${DEFAULT_LIMITS.maxSessionsPerTenant}.`),
      },
      'a mapping with maxSessions and maxSessionsPerTenant',
    )
      .optional()
      .describe('Session table limits.'),
  },
  'a router mapping',
);

/** The whole file. */
export const configSchema = mapping(
  {
    authority: authority.describe('The authority: its name, security definitions and timers (3.4).'),
    tenants: list(tenant, 'a list of tenants').default([]).describe('Tenants (4.6.5.2).'),
    services: list(service, 'a list of services').default([]).describe('Services (4.6.5.1).'),
    servicePolicies: list(servicePolicy, 'a list of service policies')
      .default([])
      .describe('Service policies: SLA, vector costs, load balancing (3.7.1.3).'),
    securityPolicies: list(securityPolicy, 'a list of security policies')
      .default([])
      .describe('Security policies (4.6.6); "none" (no encryption) always exists.'),
    routers: list(router, 'a list of routers').default([]).describe('The routers of the authority.'),
  },
  'a mapping with authority, tenants, services, servicePolicies, securityPolicies and routers',
).meta({
  title: 'svr configuration',
  description:
    'Configuration of an SVR authority and its routers (draft-menon-svr-02). See docs/configuration.md.',
});

/** The file after schema validation, defaults applied, strings not yet converted. */
export type RawConfig = z.output<typeof configSchema>;
export type RawRouter = RawConfig['routers'][number];
export type RawInterface = RawRouter['interfaces'][number];
export type RawServiceRoute = RawRouter['serviceRoutes'][number];

function unwrap(s: z.ZodType): z.ZodType {
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault)
    s = s.unwrap() as z.ZodType;
  return s;
}

/**
 * The keys a mapping at `path` of the file may have, so an unknown key's error can suggest the
 * key meant. Undefined when the path leads to no mapping.
 */
export function allowedKeysAt(
  path: readonly PropertyKey[],
  s: z.ZodType = configSchema,
): string[] | undefined {
  s = unwrap(s);
  if (s instanceof z.ZodUnion) {
    for (const o of s.options) {
      const r = allowedKeysAt(path, o as z.ZodType);
      if (r) return r;
    }
    return undefined;
  }
  if (path.length === 0) return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
  const [head, ...rest] = path;
  if (s instanceof z.ZodObject) {
    const next: unknown = typeof head === 'string' ? s.shape[head] : undefined;
    return next instanceof z.ZodType ? allowedKeysAt(rest, next) : undefined;
  }
  if (s instanceof z.ZodArray) return allowedKeysAt(rest, s.element as z.ZodType);
  if (s instanceof z.ZodRecord) return allowedKeysAt(rest, s.valueType as z.ZodType);
  return undefined;
}
