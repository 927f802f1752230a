import type { IpAddress } from '../base/address.js';
import type { Prefix } from '../base/prefix.js';
import { LpmTable } from '../policy/lpm.js';

export interface Route {
  readonly prefix: Prefix;
  /** Index of the egress interface in the node's interface list. */
  readonly iface: number;
  /** Next hop on that interface; undefined for a connected network (the destination itself). */
  readonly gateway?: IpAddress;
  readonly kind: 'connected' | 'static';
}

/**
 * A node's routing table: connected networks, static routes and default gateways, looked up by
 * longest prefix (the project's LpmTable). Rebuilt lazily after a change, since scenarios change
 * routes rarely and look them up per packet. For the same prefix the route added first wins.
 */
export class RouteTable {
  private readonly list: Route[] = [];
  private table = new LpmTable<Route>();
  private dirty = false;

  add(route: Route): void {
    this.list.push(route);
    this.table.add(route.prefix, route);
    this.dirty = true;
  }

  /** Remove every route for the prefix (by its text, e.g. "0.0.0.0/0"); returns how many. */
  remove(prefixText: string): number {
    const before = this.list.length;
    for (let i = this.list.length - 1; i >= 0; i--)
      if (this.list[i].prefix.text === prefixText) this.list.splice(i, 1);
    this.table = new LpmTable<Route>();
    for (const r of this.list) this.table.add(r.prefix, r);
    this.dirty = true;
    return before - this.list.length;
  }

  lookup(dst: IpAddress): Route | undefined {
    if (this.dirty) {
      this.table.build();
      this.dirty = false;
    }
    const e = dst.version === 4 ? this.table.lookupV4(dst.v4) : this.table.lookupV6(dst.v6, 0);
    return e < 0 ? undefined : this.table.values(e)[0];
  }

  routes(): readonly Route[] {
    return this.list;
  }
}
