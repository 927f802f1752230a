import { fileURLToPath } from 'node:url';
import type { RouterEvent } from '../base/events.js';
import { loadConfigFile } from '../config/load.js';
import type { AuthorityModel } from '../config/model.js';
import type { SvrRouter } from '../router/router.js';
import type { Host } from './host.js';
import type { IpRouter } from './ip-router.js';
import { blockSynWithPayload } from './middlebox.js';
import { Network } from './network.js';
import type { Segment } from './segment.js';
import { attachSvrRouters, type SvrRoutersOptions, settlePeering } from './svr-network.js';

/**
 * Ready-made emulated networks from the examples: the draft's Figure 2 and a three-router
 * chain, with hosts where the configurations expect them. Scenario tests and `svr demo` use them.
 */

export function exampleConfig(name: 'figure2' | 'chain3' | 'diamond'): AuthorityModel {
  const path = fileURLToPath(new URL(`../../../examples/${name}.yaml`, import.meta.url));
  const r = loadConfigFile(path);
  if (!r.ok) throw new Error(`examples/${name}.yaml: ${r.errors.map((e) => e.message).join('; ')}`);
  return r.config;
}

export interface TopologyOptions {
  readonly seed?: number;
  readonly encryptMetadata?: boolean;
  readonly authority?: AuthorityModel;
  readonly onEvent?: (e: RouterEvent) => void;
  /** 'bfd' (default): routers authenticate and key over BFD first; 'static': shared keys. */
  readonly peering?: 'bfd' | 'static';
  /** With BFD, run until every path is in service and measured (default true). */
  readonly settle?: boolean;
  readonly credentials?: SvrRoutersOptions['credentials'];
  /**
   * A firewall on a peer link (figure2: MPLS; chain3: B-C) that drops TCP SYNs carrying
   * payload, i.e. metadata (2.4); the routers' probes find it and carry TCP there as UDP.
   */
  readonly middlebox?: boolean;
}

export interface Figure2 {
  readonly net: Network;
  readonly authority: AuthorityModel;
  readonly east: SvrRouter;
  readonly west: SvrRouter;
  readonly segments: {
    readonly clientLan: Segment;
    readonly serverLan: Segment;
    readonly mpls: Segment;
    readonly internet: Segment;
    readonly lte: Segment;
  };
  readonly carrier: IpRouter;
  /** VLAN 2: tenant engineering by interface. */
  readonly client: Host;
  /** Untagged, 10.0.0.10: engineering by neighborhood. */
  readonly client2: Host;
  /** Untagged, 10.0.0.200: release.engineering by neighborhood, denied github. */
  readonly release: Host;
  readonly github: Host;
  readonly logsvc: Host;
  /** The destination NAT pool behind https (172.15.11.101-103). */
  readonly web: readonly Host[];
}

/**
 * Figure 2: East and West with three peer paths whose one-way delays (latency plus half the
 * mean jitter) are Figure 3's: MPLS 20 ms, Internet 30 ms, LTE 50 ms (LTE reaches West's
 * Internet waypoint through a carrier router). BFD measures them (5.1.5); with static peering
 * the figures are set from Figure 3 instead.
 */
export function figure2(o: TopologyOptions = {}): Figure2 {
  const authority = o.authority ?? exampleConfig('figure2');
  const net = new Network({ seed: o.seed ?? 1 });
  const clientLan = net.segment('client-lan', { latencyMs: 0.1 });
  const serverLan = net.segment('server-lan', { latencyMs: 0.1 });
  const mpls = net.segment('mpls', { latencyMs: 19.5, jitterMs: 1 });
  const internet = net.segment('internet', { latencyMs: 29.5, jitterMs: 1 });
  const lte = net.segment('lte', { latencyMs: 19, jitterMs: 2 });
  if (o.middlebox) blockSynWithPayload(mpls);
  const carrier = net.ipRouter('carrier', {
    interfaces: [
      { segment: lte, address: '192.0.2.254/24' },
      { segment: internet, address: '198.51.100.254/24' },
    ],
  });
  const routers = attachSvrRouters(net, {
    authority,
    links: {
      'east.lan': clientLan,
      'east.lan-vlan2': clientLan,
      'east.mpls': mpls,
      'east.internet': internet,
      'east.lte': lte,
      'west.servers': serverLan,
      'west.mpls': mpls,
      'west.internet': internet,
    },
    dns: { 'logsvc.example': '172.15.11.20' },
    encryptMetadata: o.encryptMetadata,
    onEvent: o.onEvent,
    peering: o.peering,
    credentials: o.credentials,
  });
  const east = routers.get('east') as SvrRouter;
  const west = routers.get('west') as SvrRouter;
  if (o.peering === 'static') {
    const figure3 = {
      mpls: { latencyMs: 20, lossPercent: 0, jitterMs: 2 },
      internet: { latencyMs: 30, lossPercent: 0, jitterMs: 3 },
      lte: { latencyMs: 50, lossPercent: 0, jitterMs: 15 },
    } as const;
    for (const r of [east, west])
      for (const p of r.dataPlane.ctx.paths.paths)
        if (p) p.quality = figure3[p.model.vector as keyof typeof figure3] ?? {};
  } else if (o.settle ?? true) settlePeering(net, [east, west]);
  const host = (name: string, address: string, gateway: string, segment = serverLan, vlan = 0) =>
    net.host(name, { interfaces: [{ segment, address, gateway, vlan }] });
  return {
    net,
    authority,
    east,
    west,
    segments: { clientLan, serverLan, mpls, internet, lte },
    carrier,
    client: host('client', '10.0.1.1/24', '10.0.1.254', clientLan, 2),
    client2: host('client2', '10.0.0.10/16', '10.0.0.1', clientLan),
    release: host('release', '10.0.0.200/16', '10.0.0.1', clientLan),
    github: host('github', '172.15.11.23/24', '172.15.11.1'),
    logsvc: host('logsvc', '172.15.11.20/24', '172.15.11.1'),
    web: [101, 102, 103].map((n) => host(`web${n}`, `172.15.11.${n}/24`, '172.15.11.1')),
  };
}

export interface Chain3 {
  readonly net: Network;
  readonly authority: AuthorityModel;
  readonly a: SvrRouter;
  readonly b: SvrRouter;
  readonly c: SvrRouter;
  readonly segments: {
    readonly clients: Segment;
    readonly ab: Segment;
    readonly bc: Segment;
    readonly servers: Segment;
  };
  readonly client: Host;
  readonly server: Host;
}

/** examples/chain3.yaml: clients behind A, servers behind C, B in between (3.7.8). */
export function chain3(o: TopologyOptions = {}): Chain3 {
  const authority = o.authority ?? exampleConfig('chain3');
  const net = new Network({ seed: o.seed ?? 1 });
  const clients = net.segment('clients', { latencyMs: 0.1 });
  const ab = net.segment('ab', { latencyMs: 5 });
  const bc = net.segment('bc', { latencyMs: 5 });
  if (o.middlebox) blockSynWithPayload(bc);
  const servers = net.segment('servers', { latencyMs: 0.1 });
  const routers = attachSvrRouters(net, {
    authority,
    links: { 'a.clients': clients, 'a.ab': ab, 'b.ab': ab, 'b.bc': bc, 'c.bc': bc, 'c.servers': servers },
    encryptMetadata: o.encryptMetadata,
    onEvent: o.onEvent,
    peering: o.peering,
    credentials: o.credentials,
  });
  if (o.peering !== 'static' && (o.settle ?? true)) settlePeering(net, routers.values());
  return {
    net,
    authority,
    a: routers.get('a') as SvrRouter,
    b: routers.get('b') as SvrRouter,
    c: routers.get('c') as SvrRouter,
    segments: { clients, ab, bc, servers },
    client: net.host('client', {
      interfaces: [{ segment: clients, address: '172.16.10.5/24', gateway: '172.16.10.1' }],
    }),
    server: net.host('server', {
      interfaces: [{ segment: servers, address: '172.16.30.80/24', gateway: '172.16.30.1' }],
    }),
  };
}

export interface Diamond {
  readonly net: Network;
  readonly authority: AuthorityModel;
  readonly a: SvrRouter;
  readonly b: SvrRouter;
  readonly c: SvrRouter;
  readonly d: SvrRouter;
  readonly segments: {
    readonly clients: Segment;
    readonly ab: Segment;
    readonly ac: Segment;
    readonly bd: Segment;
    readonly cd: Segment;
    readonly servers: Segment;
  };
  readonly client: Host;
  readonly server: Host;
}

/**
 * examples/diamond.yaml, the draft's RTR-A..D (6.1): clients behind A, servers behind D, middle
 * routers B and C each peered with both; sessions prefer A-C-D.
 */
export function diamond(o: TopologyOptions = {}): Diamond {
  const authority = o.authority ?? exampleConfig('diamond');
  const net = new Network({ seed: o.seed ?? 1 });
  const clients = net.segment('clients', { latencyMs: 0.1 });
  const ab = net.segment('ab', { latencyMs: 5 });
  const ac = net.segment('ac', { latencyMs: 5 });
  const bd = net.segment('bd', { latencyMs: 5 });
  const cd = net.segment('cd', { latencyMs: 5 });
  const servers = net.segment('servers', { latencyMs: 0.1 });
  const routers = attachSvrRouters(net, {
    authority,
    links: {
      'a.clients': clients,
      'a.ab': ab,
      'a.ac': ac,
      'b.ab': ab,
      'b.bd': bd,
      'c.ac': ac,
      'c.cd': cd,
      'd.bd': bd,
      'd.cd': cd,
      'd.servers': servers,
    },
    encryptMetadata: o.encryptMetadata,
    onEvent: o.onEvent,
    peering: o.peering,
    credentials: o.credentials,
  });
  if (o.peering !== 'static' && (o.settle ?? true)) settlePeering(net, routers.values());
  const r = (n: string) => routers.get(n) as SvrRouter;
  return {
    net,
    authority,
    a: r('a'),
    b: r('b'),
    c: r('c'),
    d: r('d'),
    segments: { clients, ab, ac, bd, cd, servers },
    client: net.host('client', {
      interfaces: [{ segment: clients, address: '172.16.10.5/24', gateway: '172.16.10.1' }],
    }),
    server: net.host('server', {
      interfaces: [{ segment: servers, address: '172.16.30.80/24', gateway: '172.16.30.1' }],
    }),
  };
}
