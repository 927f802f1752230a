import { ipToString } from '../base/address.js';
import type { RouterEvent } from '../base/events.js';
import type { AuthorityModel } from '../config/model.js';
import { StaticPeerKeys } from '../crypto/peer-keys.js';
import { StaticResolver } from '../dataplane/dns.js';
import { SvrRouter } from '../router/router.js';
import type { Network } from './network.js';
import type { Segment } from './segment.js';

/**
 * svr routers on the emulated network: each router of a configuration gets an EmulatedDriver
 * whose interfaces, in configuration order, sit on the segments the caller names
 * (`links['east.mpls']`). Keys come from one authority secret (StaticPeerKeys) until peering
 * computes them (issue 5); names resolve from a table.
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
}

export const DEFAULT_SECRET = new TextEncoder().encode('svr emulated authority');

export function attachSvrRouters(net: Network, o: SvrRoutersOptions): Map<string, SvrRouter> {
  const out = new Map<string, SvrRouter>();
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
    const router = new SvrRouter({
      authority: o.authority,
      name: r.name,
      driver,
      scheduler: net.sim,
      random,
      keys: new StaticPeerKeys(
        o.secret ?? DEFAULT_SECRET,
        r.name,
        o.authority.security,
        random,
        o.encryptMetadata ?? true,
      ),
      dns: new StaticResolver(o.dns ?? {}),
      onEvent: o.onEvent,
    });
    router.start();
    out.set(r.name, router);
  }
  return out;
}
