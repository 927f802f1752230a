import type { KeyObject } from 'node:crypto';
import { ipToString } from '../base/address.js';
import type { RouterEvent } from '../base/events.js';
import type { AuthorityModel } from '../config/model.js';
import { emulatedPki, type RouterCredentials } from '../crypto/certificates.js';
import { StaticPeerKeys } from '../crypto/peer-keys.js';
import { StaticResolver } from '../dataplane/dns.js';
import { SvrRouter } from '../router/router.js';
import type { Network } from './network.js';
import type { Segment } from './segment.js';

/**
 * svr routers on the emulated network: each router of a configuration gets an EmulatedDriver
 * whose interfaces, in configuration order, sit on the segments the caller names
 * (`links['east.mpls']`). By default routers peer as the draft says (5.1): an in-memory CA
 * issues every router a certificate, BFD authenticates the paths and ECDH computes the keys.
 * `peering: 'static'` skips all that (keys from one authority secret, every path up at once)
 * for tests of the data plane alone. Names resolve from a table.
 */
export interface SvrRoutersOptions {
  readonly authority: AuthorityModel;
  /** Segment of every router interface, by `router.interface`. */
  readonly links: Readonly<Record<string, Segment>>;
  readonly secret?: Uint8Array;
  readonly dns?: Readonly<Record<string, string>>;
  /** False sends payload TLVs in clear, so captures show them (debugging, 7.4). */
  readonly encryptMetadata?: boolean;
  readonly onEvent?: (e: RouterEvent) => void;
  /** 'bfd' (default): certificates, BFD and ECDH keys; 'static': keys from `secret`. */
  readonly peering?: 'bfd' | 'static';
  /** Replace a router's credentials (a foreign CA, an expired certificate...). */
  readonly credentials?: (router: string, issued: RouterCredentials, ca: EmulatedCa) => RouterCredentials;
}

/** The emulated authority's CA, for tests that issue odd certificates with it. */
export interface EmulatedCa {
  readonly caCertificatePem: string;
  readonly caPrivateKey: KeyObject;
}

export const DEFAULT_SECRET = new TextEncoder().encode('svr emulated authority');

export function attachSvrRouters(net: Network, o: SvrRoutersOptions): Map<string, SvrRouter> {
  const out = new Map<string, SvrRouter>();
  const bfd = (o.peering ?? 'bfd') === 'bfd';
  const pki = bfd
    ? emulatedPki({
        authority: o.authority.name,
        routers: o.authority.routers.map((r) => r.name),
        random: net.randomFor('pki'),
        now: net.sim.now(),
      })
    : undefined;
  for (const r of o.authority.routers) {
    const driver = net.attachDriver(
      r.name,
      r.interfaces.map((i) => {
        const segment = o.links[`${r.name}.${i.name}`];
        if (!segment) throw new Error(`no segment for ${r.name}.${i.name}`);
        return {
          segment,
          vlan: i.vlan,
          name: i.name,
          addresses: i.addresses.map((a) => `${ipToString(a.address)}/${a.prefix.length}`),
        };
      }),
    );
    const random = net.randomFor(`svr:${r.name}`);
    const issued = pki?.routers.get(r.name);
    const router = new SvrRouter({
      authority: o.authority,
      name: r.name,
      driver,
      scheduler: net.sim,
      random,
      ...(issued
        ? { credentials: o.credentials && pki ? o.credentials(r.name, issued, pki) : issued }
        : {
            keys: new StaticPeerKeys(
              o.secret ?? DEFAULT_SECRET,
              r.name,
              o.authority.security,
              random,
              o.encryptMetadata ?? true,
            ),
          }),
      encryptMetadata: o.encryptMetadata,
      dns: new StaticResolver(o.dns ?? {}),
      onEvent: o.onEvent,
    });
    router.start();
    out.set(r.name, router);
  }
  return out;
}

/**
 * Run the network until every peer path of these routers is in service with measured quality
 * (3.1.3, 5.1.5), at most `maxMs` of virtual time. False if some path never got there.
 */
export function settlePeering(net: Network, routers: Iterable<SvrRouter>, maxMs = 30_000): boolean {
  const list = [...routers];
  return net.sim.runUntil(
    () =>
      list.every(
        (r) =>
          r.peering === undefined || r.peering.status().every((p) => p.usable && p.quality !== undefined),
      ),
    maxMs,
  );
}
