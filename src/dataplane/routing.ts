import type { IpAddress } from '../base/address.js';
import { addressBytes, prefixContains } from '../base/prefix.js';
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

/**
 * The next hop toward a path's remote waypoint. A peer path leaves from its configured
 * interface whatever a more specific route elsewhere says (Figure 2's Internet and LTE paths
 * reach the same waypoint through different interfaces): on-link when the interface's network
 * holds the waypoint, else through the longest route with a gateway on that interface. Routes
 * are configuration, so this runs once per path (and again when the waypoint moves).
 */
export function pathNextHop(ctx: DataPlaneContext, path: PathState): number {
  if (path.nextHop >= 0 || !path.remoteAddress) return path.nextHop;
  const remote = addressBytes(path.remoteAddress);
  const ifc = ctx.router.interfaces[path.iface];
  const onIface = (a: Uint8Array) => ifc?.addresses.some((x) => prefixContains(x.prefix, a)) ?? false;
  if (onIface(remote)) {
    path.nextHop = ctx.nextHops.intern(path.iface, undefined);
    return path.nextHop;
  }
  let best: { len: number; hop: IpAddress } | undefined;
  for (const r of ctx.router.routes) {
    if (!r.nextHop || !prefixContains(r.prefix, remote) || (best && best.len >= r.prefix.length)) continue;
    if (r.interface === undefined ? !onIface(addressBytes(r.nextHop)) : r.interface !== ifc?.name) continue;
    best = { len: r.prefix.length, hop: r.nextHop };
  }
  path.nextHop = best
    ? ctx.nextHops.intern(path.iface, best.hop)
    : nextHopToward(ctx, path.remoteAddress, path.iface);
  return path.nextHop;
}
