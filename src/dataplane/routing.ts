import type { IpAddress } from '../base/address.js';
import { addressBytes } from '../base/prefix.js';
import type { RouteEntry } from '../policy/fib.js';
import type { DataPlaneContext } from './context.js';
import type { PathState } from './paths.js';

/** Next hops by the generic routes (static and connected), for sessions and plain traffic. */

/** The next hop toward `dst` out of `iface` by the generic routes: its gateway, or on-link. */
export function nextHopToward(ctx: DataPlaneContext, dst: IpAddress, preferIface: number): number {
  const route = ctx.fib.route(addressBytes(dst));
  if (route) {
    for (const h of route.nextHops) {
      const ifc = h.kind === 'peer' ? -1 : ctx.iface(h.interface);
      if (h.kind === 'gateway' && (ifc === preferIface || ifc < 0))
        return ctx.nextHops.intern(ifc < 0 ? preferIface : ifc, h.address);
      if (h.kind === 'local' && (ifc === preferIface || ifc < 0))
        return ctx.nextHops.intern(ifc < 0 ? preferIface : ifc, undefined);
    }
    const h = route.nextHops[0];
    if (h && h.kind !== 'peer') {
      const ifc = h.interface === undefined ? preferIface : ctx.iface(h.interface);
      return ctx.nextHops.intern(ifc, h.kind === 'gateway' ? h.address : undefined);
    }
  }
  return ctx.nextHops.intern(preferIface, undefined);
}

/** Interface and next hop for a route entry's first usable hop. */
export function routeHop(
  ctx: DataPlaneContext,
  route: RouteEntry,
): { iface: number; address: IpAddress | undefined } | undefined {
  for (const h of route.nextHops) {
    if (h.kind === 'peer') continue;
    let iface = ctx.iface(h.interface);
    if (iface < 0 && h.kind === 'gateway') {
      // A gateway without an interface: the interface whose network holds it.
      const via = ctx.fib.route(addressBytes(h.address));
      const local = via?.nextHops.find((x) => x.kind === 'local');
      iface = local && local.kind === 'local' ? ctx.iface(local.interface) : -1;
    }
    if (iface >= 0) return { iface, address: h.kind === 'gateway' ? h.address : undefined };
  }
  return undefined;
}

/** The next hop toward a path's remote waypoint: routes are configuration, so once per path. */
export function pathNextHop(ctx: DataPlaneContext, path: PathState): number {
  if (path.nextHop < 0 && path.remoteAddress)
    path.nextHop = nextHopToward(ctx, path.remoteAddress, path.iface);
  return path.nextHop;
}
