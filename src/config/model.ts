import type { IpAddress } from '../base/address.js';
import type { Prefix } from '../base/prefix.js';
import type { HmacMethod, HmacScope } from '../crypto/hmac.js';
import type { MetadataCipherName } from '../crypto/metadata-cipher.js';

/**
 * The configuration after loading and validation: one authority and its routers, every
 * reference resolved and checked, every default applied. This is what policy/, session/ and the
 * router read; the YAML form (config/schema.ts) is only how people write it.
 */

export type { Prefix };

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

/** D-10 defaults; all configurable per authority and per router. */
export interface Timers {
  readonly tcpIdleSeconds: number; // 1900
  readonly tcpSetupSeconds: number; // 10: TCP not yet established
  readonly tcpCloseGuardSeconds: number; // 5: after FIN/FIN-ACK or RST
  readonly udpIdleSeconds: number; // 180
  readonly icmpIdleSeconds: number; // 10
  readonly natKeepAliveSeconds: number; // 20
  readonly udpAsymmetricMetadataPackets: number; // 11
  readonly moveOldEntriesSeconds: number; // 5
  readonly quiescentMoveIntervalSeconds: number; // 1
  readonly quiescentMoveDurationSeconds: number; // 5
  readonly portGuardSeconds: number; // 60
  /** 7.3.7 in-line path metrics: colour period in ms (SD-47); 0: off. */
  readonly pathMetricsColorMs: number; // 5000
}

/**
 * Peer path management (5.1, D-6): BFD timers, quality probes, MTU discovery and keys. Set for
 * the authority, overridden per router field by field.
 */
export interface Peering {
  /** UDP port of BFD on every waypoint (D-6). */
  readonly bfdPort: number; // 1280
  readonly desiredMinTxMs: number; // 1000
  readonly requiredMinRxMs: number; // 500
  readonly detectMultiplier: number; // 3
  /** 5.1.5: MeasureData requests per burst, and bursts' interval on idle paths. */
  readonly qualityProbes: number; // 10
  readonly qualityIntervalSeconds: number; // 10
  /** A probe not answered within this counts as lost. */
  readonly qualityTimeoutMs: number; // 2000
  /** Bursts the live figures are computed over (a sliding window). */
  readonly qualityWindow: number; // 6
  /** 5.1.4: growing probes; 0 turns discovery off. */
  readonly mtuIntervalSeconds: number; // 600
  readonly mtuMin: number; // 1200
  readonly mtuStep: number; // 50
  /** 3.1.2, 5.1.8: a new key this often, and old keys kept this long after (R-3.6-a). */
  readonly rekeyIntervalSeconds: number; // 3600
  readonly keyGuardSeconds: number; // 30
}

/** Where a router's certificate, key and CA certificate are (PEM files, 5.1.7, D-7). */
export interface PkiFiles {
  readonly ca: string;
  readonly certificate: string;
  readonly key: string;
}

/** 3.4: the authority-wide rules every router follows. */
export interface SecurityDefinitions {
  readonly hmac: {
    readonly method: HmacMethod;
    readonly timeBased: boolean;
    readonly scope: HmacScope;
  };
  /** 'none' sends payload TLVs in clear (debugging). */
  readonly metadataCipher: 'none' | MetadataCipherName;
  readonly curve: 'P-256';
}

export interface TenantModel {
  /** Dotted hierarchy, e.g. "release.engineering" (4.6.5.2). */
  readonly name: string;
  readonly description: string | undefined;
}

export type ServiceProtocol = 'tcp' | 'udp' | 'icmp' | 'any';

/** 4.6.5.1: a named set of prefixes, a protocol and port ranges, with who may use it. */
export interface ServiceModel {
  readonly name: string;
  readonly description: string | undefined;
  readonly prefixes: readonly Prefix[];
  readonly protocol: ServiceProtocol;
  /** Empty: every port. */
  readonly ports: readonly PortRange[];
  /** Tenant names (or "*" for every tenant): deny by default (R-4.6.5.2-c). */
  readonly access: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  /** Name of a ServicePolicyModel, or undefined for the default policy. */
  readonly servicePolicy: string | undefined;
  /** Name of a SecurityPolicyModel (sent in metadata, 7.4.11). */
  readonly securityPolicy: string;
  /** Name resolved by DNS when a router's egress action for this service is `dns` (3.3). */
  readonly dnsName: string | undefined;
}

export type LoadBalancing = 'best-quality' | 'round-robin' | 'least-busy' | 'proportional' | 'source-hash';

/** SLA limits a path must meet for the service (3.7.1.3); unset limits do not filter. */
export interface Sla {
  readonly maxLatencyMs: number | undefined;
  readonly maxLossPercent: number | undefined;
  readonly maxJitterMs: number | undefined;
  readonly minMos: number | undefined;
}

export interface ServicePolicyModel {
  readonly name: string;
  readonly sla: Sla;
  /** Cost per vector name; lower is preferred; 'never' excludes the vector. */
  readonly vectorCosts: ReadonlyMap<string, number | 'never'>;
  /** Cost of a vector the policy does not name. */
  readonly defaultVectorCost: number;
  readonly loadBalancing: LoadBalancing;
  /** Use paths that miss the SLA when none meets it, rather than refusing the session. */
  readonly bestEffort: boolean;
  /** 6.1: sessions that moved go back to the preferred path when it returns. */
  readonly revertible: boolean;
}

/** D-9: payload encryption for sessions of a service. */
export interface SecurityPolicyModel {
  readonly name: string;
  readonly encryption: 'none' | 'aes-cbc-128' | 'aes-cbc-256' | 'adaptive';
  /** 4.6.6, 7.4.15: the ingress gives an encrypted session a new key this often; 0: never. */
  readonly rekeySeconds: number;
}

export interface InterfaceAddress {
  readonly address: IpAddress;
  /** The connected network. */
  readonly prefix: Prefix;
}

export interface Neighborhood {
  readonly prefix: Prefix;
  readonly tenant: string;
}

/** A network interface: a device (port) and a VLAN on it, as in SSR. */
export interface InterfaceModel {
  /** Unique within the router; what peer paths and routes name. */
  readonly name: string;
  /** The physical or virtual port; several interfaces may share one with different VLANs. */
  readonly device: string;
  /** 0: untagged. */
  readonly vlan: number;
  readonly role: 'lan' | 'wan';
  readonly addresses: readonly InterfaceAddress[];
  /** Tenant of sessions arriving here (3.7.1.1), if set. */
  readonly tenant: string | undefined;
  /** Source prefixes that map to tenants, longest prefix wins. */
  readonly neighborhoods: readonly Neighborhood[];
  /** Waypoint ports for sessions this router starts on paths from here (2.8, D-10). */
  readonly wayports: PortRange;
  /** Source NAT for sessions leaving SVR beyond the peer, sent in TLV 25 (3.7.1.5). */
  readonly sourceNat: IpAddress | undefined;
  readonly mtu: number;
}

export interface PeerPathModel {
  /** Unique within the router: indexes per-path state (ports, BFD, quality). */
  readonly id: number;
  readonly peer: string;
  /** Local interface (a WAN interface) the path leaves from. */
  readonly interface: string;
  /** The peer's waypoint address, when given as an address. */
  readonly remoteAddress: IpAddress | undefined;
  /** The peer's waypoint as a hostname, resolved at run time. */
  readonly remoteHost: string | undefined;
  /** Vector name the service policies price (e.g. "mpls", "internet", "lte"). */
  readonly vector: string;
  /** Relative capacity for proportional load balancing. */
  readonly weight: number;
  /**
   * 2.4, 4.2.7: whether TCP sessions on the path are transformed to UDP: `auto` when this
   * router's probe finds TCP SYNs with metadata blocked (a middlebox), or always, or never.
   */
  readonly tcpToUdp: 'auto' | 'always' | 'never';
}

export interface PeerModel {
  /** A router of this authority. */
  readonly name: string;
  readonly paths: readonly PeerPathModel[];
}

export type NextHopSpec =
  | { readonly kind: 'peer'; readonly peer: string }
  | { readonly kind: 'gateway'; readonly address: IpAddress; readonly interface: string | undefined }
  | { readonly kind: 'local'; readonly interface: string | undefined };

/** What the router nearest the destination does when a session leaves SVR (3.3). */
export type EgressAction =
  | { readonly kind: 'forward' }
  | { readonly kind: 'dns' }
  | {
      readonly kind: 'nat';
      readonly pool: readonly IpAddress[];
      readonly loadBalancing: 'round-robin' | 'source-hash';
    };

/** A named route: service to next hops, matched before generic routes (3.3). */
export interface ServiceRouteModel {
  readonly service: string;
  readonly nextHops: readonly NextHopSpec[];
  readonly egress: EgressAction;
}

/** A generic route (Figure 4). */
export interface StaticRouteModel {
  readonly prefix: Prefix;
  readonly nextHop: IpAddress | undefined;
  readonly interface: string | undefined;
}

export interface Limits {
  readonly maxSessions: number;
  readonly maxSessionsPerTenant: number;
}

export interface RouterModel {
  readonly name: string;
  readonly interfaces: readonly InterfaceModel[];
  readonly peers: readonly PeerModel[];
  readonly serviceRoutes: readonly ServiceRouteModel[];
  readonly routes: readonly StaticRouteModel[];
  readonly timers: Timers;
  readonly limits: Limits;
  readonly peering: Peering;
  /** Undefined: credentials come from elsewhere (the emulator's in-memory CA). */
  readonly pki: PkiFiles | undefined;
}

export interface AuthorityModel {
  readonly name: string;
  readonly security: SecurityDefinitions;
  /** Tenant of sessions nothing else assigns (SSR's global tenant); "" when unnamed. */
  readonly globalTenant: string;
  readonly tenants: readonly TenantModel[];
  readonly services: readonly ServiceModel[];
  readonly servicePolicies: readonly ServicePolicyModel[];
  readonly securityPolicies: readonly SecurityPolicyModel[];
  readonly routers: readonly RouterModel[];
}

export const DEFAULT_TIMERS: Timers = {
  tcpIdleSeconds: 1900,
  tcpSetupSeconds: 10,
  tcpCloseGuardSeconds: 5,
  udpIdleSeconds: 180,
  icmpIdleSeconds: 10,
  natKeepAliveSeconds: 20,
  udpAsymmetricMetadataPackets: 11,
  moveOldEntriesSeconds: 5,
  quiescentMoveIntervalSeconds: 1,
  quiescentMoveDurationSeconds: 5,
  portGuardSeconds: 60,
  pathMetricsColorMs: 5000,
};

/** D-6 and 5.1 defaults. */
export const DEFAULT_PEERING: Peering = {
  bfdPort: 1280,
  desiredMinTxMs: 1000,
  requiredMinRxMs: 500,
  detectMultiplier: 3,
  qualityProbes: 10,
  qualityIntervalSeconds: 10,
  qualityTimeoutMs: 2000,
  qualityWindow: 6,
  mtuIntervalSeconds: 600,
  mtuMin: 1200,
  mtuStep: 50,
  rekeyIntervalSeconds: 3600,
  keyGuardSeconds: 30,
};

/** D-10 / the SSR walkthrough. */
export const DEFAULT_WAYPORTS: PortRange = { lo: 16385, hi: 65533 };
export const DEFAULT_LIMITS: Limits = { maxSessions: 1_000_000, maxSessionsPerTenant: 1_000_000 };
export const DEFAULT_MTU = 1500;
