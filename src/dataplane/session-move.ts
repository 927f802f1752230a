import { ipToString } from '../base/address.js';
import { DropReason } from '../base/drop-reason.js';
import { addressBytes } from '../base/prefix.js';
import { keyAddress, SessionTable, setKeyProtocol } from '../session/session-table.js';
import type { IpPacket } from '../wire/packet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocol.js';
import { type DataPlaneContext, Flag } from './context.js';
import { choosePeerLeg, pathKey, planDeltas, REV } from './first-packet.js';
import type { PathState } from './paths.js';
import { pathNextHop } from './routing.js';

/**
 * Moving a session to another peer path (6.1). The router that allocated the session's wayports
 * (its ingress) moves it when its path leaves service: on the next packet of the session it picks
 * the best remaining path as for a first packet, takes a wayport pair there, re-keys the wing that
 * arrives from the peer, and sends forward metadata with the same UUID again; reverse metadata
 * confirms. The peer that receives metadata for a UUID it already carries accepts it as a move
 * when it comes from the same peer, or when the session's own path left service (a failed middle
 * router routed around, the RTR-A..D ladder); otherwise it is a loop (R-3.7.2.5-a). Both keep the
 * old key of the moved wing for `timers.moveOldEntriesSeconds` (5 s), so packets in flight on the old path still arrive.
 */
const graceMs = (ctx: DataPlaneContext) => ctx.router.timers.moveOldEntriesSeconds * 1000;

/**
 * Move session `id`, whose forward wing leaves on a path out of service or below its SLA, to
 * the best path left. Returns a drop reason when there is none (the session stays marked).
 */
export function moveSession(ctx: DataPlaneContext, id: number): DropReason {
  const s = ctx.sessions;
  const fwd = id * 2;
  const oldPath = ctx.paths.get(s.outPath(fwd));
  // Only the router that chose the wayports can choose new ones (4.2.3).
  if (!oldPath || s.portPath(id) !== oldPath.model.id) return DropReason.NoPeerPath;
  const svc = ctx.fib.services[s.service(id)];
  // The forward wing's key holds the original source and destination (SessionTable layout).
  const k = ctx.key;
  const v4 = s.wingKey(fwd, k, 0) === 4;
  const src = keyAddress(k, 0, v4 ? 4 : 6);
  const dstBytes = addressBytes(keyAddress(k, v4 ? 1 : 4, v4 ? 4 : 6));
  const entry = svc && ctx.fib.entryForService(svc.index, dstBytes);
  if (!svc || !entry) return DropReason.NoRoute;
  const ids: number[] = [];
  for (const h of entry.nextHops) if (h.kind === 'peer') for (const p of h.paths) ids.push(p.id);
  const leg = choosePeerLeg(ctx, svc, ids, src);
  if (typeof leg === 'number') return leg;
  const { path, remote, key, pair, even, odd } = leg;
  if (path === oldPath) {
    // The best path is still the one it is on (an SLA dip that passed, a revertible check).
    ctx.wayports.release(path.model.id, pair);
    s.setFlags(id, s.flags(id) & ~Flag.MovePending);
    return DropReason.None;
  }
  const proto = s.protocolOf(id);
  // 6.6: ICMP crosses as UDP; 4.2.7: so does TCP on a path with a middlebox that blocks it.
  const asUdp = proto === IPPROTO_TCP && path.tcpToUdp;
  const wire = proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6 || asUdp ? IPPROTO_UDP : proto;
  pathKey(ctx, remote, path.localAddress, odd, even, wire, path.iface);
  if (!s.moveWing(fwd + 1, ctx.key, REV, graceMs(ctx))) {
    ctx.wayports.release(path.model.id, pair);
    return DropReason.SessionExists;
  }
  s.setPortPair(id, path.model.id, pair);
  s.setWingOut(fwd, { path: path.model.id, keyId: key.securityId, nextHop: pathNextHop(ctx, path) });
  const f = (s.flags(id) | Flag.ForwardMetadata) & ~(Flag.MovePending | Flag.TcpAsUdpForward);
  s.setFlags(id, f | (asUdp ? Flag.TcpAsUdpForward : 0));
  s.resetMetadataCount(id);
  moved(ctx, id, oldPath, path, 'session-moved', `to ${path.model.vector} ${ipToString(remote)}`);
  return DropReason.None;
}

/**
 * A peer's first-packet metadata names session `id`, which this router already carries (6.1):
 * accept it as a move onto `pathId` (the wing from that peer re-keyed to the packet's tuple, the
 * wing back leaving on the same path, reverse metadata owed) and return the wing the packet now
 * matches; or -1 when it is a loop. `wireProtocol`: the packet's protocol as it arrived (UDP for
 * a TCP session that crossed as UDP, 4.6.3; the packet itself is already restored).
 */
export function acceptMove(
  ctx: DataPlaneContext,
  id: number,
  pkt: IpPacket,
  iface: number,
  pathId: number,
  keyId: number,
  wireProtocol: number,
): number {
  const s = ctx.sessions;
  const path = ctx.paths.get(pathId);
  if (!path) return -1;
  const fwd = id * 2;
  const inPath = ctx.paths.get(s.inPath(fwd));
  if (!inPath) return -1;
  const moving = (s.flags(id) & Flag.MovePending) !== 0 || !inPath.up;
  if (inPath.model.peer !== path.model.peer && !moving) return -1;
  const family = SessionTable.keyOfPacket(pkt, ctx.ifaceVlan[iface], iface, ctx.key, 0);
  if (family === 0) return -1;
  setKeyProtocol(ctx.key, 0, family, wireProtocol);
  const asUdp = wireProtocol === IPPROTO_UDP && s.protocolOf(id) === IPPROTO_TCP;
  if (inPath.model.id !== pathId || !sameKey(ctx, fwd)) {
    if (!s.moveWing(fwd, ctx.key, 0, graceMs(ctx))) return -1;
  }
  s.setWingOut(fwd + 1, { path: pathId, keyId, nextHop: pathNextHop(ctx, path) });
  const f = (s.flags(id) | Flag.ReverseMetadata) & ~(Flag.MovePending | Flag.TcpAsUdpReverse);
  s.setFlags(id, f | (asUdp ? Flag.TcpAsUdpReverse : 0));
  moved(ctx, id, inPath, path, 'session-move-accepted', `by ${path.model.peer} to ${path.model.vector}`);
  return fwd;
}

/** What every move ends with: path session counts, translation deltas, a counter, an event. */
function moved(
  ctx: DataPlaneContext,
  id: number,
  from: PathState,
  to: PathState,
  code: string,
  text: string,
): void {
  if (from !== to) {
    from.activeSessions = Math.max(0, from.activeSessions - 1);
    to.activeSessions++;
  }
  planDeltas(ctx, id);
  ctx.stats.sessionsMoved++;
  ctx.events.emit(ctx.now(), 'session', code, `session ${id} moved ${text}`, {
    session: id,
    from: from.model.id,
    to: to.model.id,
  });
}

/** Is ctx.key (offset 0) already the wing's key? (A repeated move packet.) */
function sameKey(ctx: DataPlaneContext, wing: number): boolean {
  const k = new Uint32Array(10);
  const n = ctx.sessions.wingKey(wing, k, 0);
  for (let i = 0; i < n; i++) if (k[i] !== ctx.key[i]) return false;
  return true;
}
