import { type IpAddress, ipToString } from '../base/address.js';
import { DropReason } from '../base/drop-reason.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import { addressBytes } from '../base/prefix.js';
import type { EgressAction } from '../config/model.js';
import type { PeerKey } from '../crypto/peer-keys.js';
import type { FibEntry, FibService, NextHop, RouteEntry } from '../policy/fib.js';
import { flowHash, selectPath } from '../policy/path-selection.js';
import { SessionRole, SessionTable, setKeyProtocol, type WingOut } from '../session/session-table.js';
import { udpToIcmp } from '../wire/icmp-udp.js';
import { decodeMetadata, findTlv, hasCookie, peekSecurityId } from '../wire/metadata/block.js';
import { payloadHasCookie, removeMetadata } from '../wire/metadata/insert.js';
import { checkRequiredTlvs } from '../wire/metadata/required.js';
import { ControlReason, TlvType } from '../wire/metadata/tlv.js';
import { IpPacket, packetSource } from '../wire/packet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocol.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { carriedTcpPayload, udpToTcp } from '../wire/tcp-udp-transform.js';
import { Translation } from '../wire/translation.js';
import { type DataPlaneContext, Flag, type TransitInfo } from './context.js';
import type { DataPlane } from './dataplane.js';
import { answerEcho, requestMetadata, sendIcmpError, sendMoveControl } from './generated.js';
import { carrierWing, icmpErrorFromNetwork, icmpErrorLocation, relayIcmpError } from './icmp-errors.js';
import { contextKey, contextOfMetadata } from './metadata-build.js';
import { pathMetricsFirstPacket } from './path-metrics.js';
import type { PathState } from './paths.js';
import { decryptPayload, learnSessionKey, newSessionKey, sessionPolicy } from './payload-encryption.js';
import { nextHopToward, pathNextHop, routeHop } from './routing.js';
import { acceptMove } from './session-move.js';
import { answerProbe } from './tcp-probe.js';

/**
 * First packets: a packet no session knows. From a LAN it is classified (tenant, service,
 * access: 3.7.1.1-3.7.1.3) and either starts an SVR session to a peer (3.7.1.4-3.7.1.11), a
 * session to a service this router reaches itself, or is routed as ordinary IP (2.2, 4.1).
 * From a peer, addressed to this router's waypoint, it must carry metadata (4.6.1), which
 * creates the session here (3.7.2) as its egress or as a hop on to the next router (3.7.8).
 */

export const REV = 10; // offset of the reverse key in ctx.key (room for an IPv6 forward key)

function dstAddress(pkt: IpPacket): IpAddress {
  return pkt.version === 4 ? { version: 4, v4: pkt.ip4.dst } : { version: 6, v6: pkt.ip6.dstBytes() };
}

/** A random RFC 4122 version 4 UUID (R-7.4.5-a) from the injected source. */
function newUuid(ctx: DataPlaneContext): Uint8Array {
  const u = new Uint8Array(16);
  ctx.random.fill(u);
  u[6] = (u[6] & 0x0f) | 0x40;
  u[8] = (u[8] & 0x3f) | 0x80;
  return u;
}

/** Per-wing checksum deltas for the fast path (R-4.6.4-g): input key to output key, TTL - 1. */
export function planDeltas(ctx: DataPlaneContext, id: number): void {
  const s = ctx.sessions;
  const fam = s.familyOf(id);
  const kin = new Uint32Array(10);
  const kout = new Uint32Array(10);
  for (const wing of [id * 2, id * 2 + 1]) {
    s.wingKey(wing, kin, 0);
    s.wingOutput(wing, kout, 0);
    const a = fam === 4 ? 2 : 8;
    const proto = kin[a + 1] & 0xff;
    if (fam === 4) {
      const t = Translation.ipv4(
        proto,
        { src: kin[0], dst: kin[1], srcPort: kin[2] >>> 16, dstPort: kin[2] & 0xffff },
        { src: kout[0], dst: kout[1], srcPort: kout[2] >>> 16, dstPort: kout[2] & 0xffff },
        true,
      );
      s.setDeltas(wing, t.ipDelta, t.l4Delta);
    } else {
      const bytes = (k: Uint32Array, o: number) => {
        const b = new Uint8Array(16);
        for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) b[4 * i + j] = k[o + i] >>> (24 - 8 * j);
        return b;
      };
      const t = Translation.ipv6(
        proto,
        { src: bytes(kin, 0), dst: bytes(kin, 4), srcPort: kin[8] >>> 16, dstPort: kin[8] & 0xffff },
        { src: bytes(kout, 0), dst: bytes(kout, 4), srcPort: kout[8] >>> 16, dstPort: kout[8] & 0xffff },
        true,
      );
      s.setDeltas(wing, 0, t.l4Delta);
    }
  }
}

export function pathKey(
  ctx: DataPlaneContext,
  remote: IpAddress,
  local: IpAddress,
  srcPort: number,
  dstPort: number,
  protocol: number,
  iface: number,
): void {
  const vlan = ctx.ifaceVlan[iface];
  if (remote.version === 4 && local.version === 4)
    SessionTable.keyV4(ctx.key, REV, remote.v4, local.v4, srcPort, dstPort, protocol, vlan, iface);
  else if (remote.version === 6 && local.version === 6)
    SessionTable.keyV6(ctx.key, REV, remote.v6, 0, local.v6, 0, srcPort, dstPort, protocol, vlan, iface);
}

/** A segment of an established connection (ACK, no SYN or RST): what 2.10's ingress picks up. */
function isMidStream(pkt: IpPacket): boolean {
  return pkt.isTcp && (pkt.tcp.flags & (TCP_SYN | TCP_ACK | TCP_RST)) === TCP_ACK;
}

function isTcpSyn(pkt: IpPacket): boolean {
  return pkt.isTcp && (pkt.tcp.flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) === TCP_SYN;
}

function isEchoRequest(pkt: IpPacket): boolean {
  return pkt.isIcmp && pkt.icmp.isEchoRequest;
}

// ---- from a LAN (or plain traffic from anywhere) ----

/** A packet no session knows, not addressed to this router. */
export function newSession(dp: DataPlane, pb: PacketBuffer, pkt: IpPacket, iface: number): void {
  const ctx = dp.ctx;
  if (pkt.ttl <= 1) {
    sendIcmpError(ctx, pkt, iface, 'time-exceeded');
    ctx.drop(pb, DropReason.TtlExpired);
    return;
  }
  // 6.6: an ICMP error about a packet of a session goes back along the session.
  if (pkt.isIcmp && pkt.icmp.isError && icmpErrorFromNetwork(dp, pb, pkt, iface)) return;
  const src =
    pkt.version === 4
      ? Uint8Array.of(
          pkt.ip4.src >>> 24,
          (pkt.ip4.src >>> 16) & 255,
          (pkt.ip4.src >>> 8) & 255,
          pkt.ip4.src & 255,
        )
      : pkt.ip6.srcBytes();
  const dst = pkt.version === 4 ? addressBytes(dstAddress(pkt)) : pkt.ip6.dstBytes();
  const tenant = ctx.tenantResolver.resolve(undefined, iface, src).tenant;
  const port = pkt.isTcp || pkt.isUdp ? pkt.dstPort : 0;
  const res = pkt.l4HeaderLength > 0 ? ctx.fib.lookup(tenant, dst, pkt.protocol, port) : undefined;
  if (res === undefined || res.kind === 'route') {
    const route = res?.kind === 'route' ? res.route : ctx.fib.route(dst);
    if (!route) {
      sendIcmpError(ctx, pkt, iface, 'net-unreachable');
      ctx.drop(pb, DropReason.NoRoute);
      return;
    }
    plainForward(ctx, pb, pkt, route);
    return;
  }
  if (res.kind === 'drop') {
    ctx.drop(pb, res.reason);
    return;
  }
  // A service session starts with a SYN for TCP; any first packet for UDP; an echo request for ICMP.
  // 2.10: an ingress that lost its state picks a session up again from a mid-stream segment.
  if (pkt.isTcp && !isTcpSyn(pkt) && !isMidStream(pkt)) {
    ctx.drop(pb, DropReason.TcpNotSyn);
    return;
  }
  if (pkt.isIcmp && !isEchoRequest(pkt)) {
    const route = ctx.fib.route(dst);
    route ? plainForward(ctx, pb, pkt, route) : ctx.drop(pb, DropReason.NoRoute);
    return;
  }
  const entry = res.entry;
  const peerHops = entry.nextHops.filter((h): h is Extract<NextHop, { kind: 'peer' }> => h.kind === 'peer');
  if (peerHops.length > 0) {
    const r = ingressFirstPacket(dp, pb, pkt, iface, tenant, entry, peerHops);
    if (r !== DropReason.NoPeerPath || !entry.nextHops.some((h) => h.kind !== 'peer')) {
      if (r) ctx.drop(pb, r);
      return;
    }
  }
  // The service is reached from here: a session without SVR, with the egress actions (3.3).
  egressSession(dp, pb, pkt, iface, {
    tenant,
    service: entry.service,
    entry,
    context: {
      family: pkt.version === 4 ? 4 : 6,
      src: packetSource(pkt),
      dst: dstAddress(pkt),
      srcPort: pkt.srcPort,
      dstPort: pkt.dstPort,
      protocol: pkt.protocol,
    },
    sourceNat: undefined,
    uuid: newUuid(ctx),
    fromPeer: undefined,
    securityKey: undefined,
  });
}

/** Ordinary IP forwarding (R-4.1-b, R-4.6-a): TTL, checksum, next hop. */
export function plainForward(
  ctx: DataPlaneContext,
  pb: PacketBuffer,
  pkt: IpPacket,
  route: RouteEntry,
): void {
  const hop = routeHop(ctx, route);
  if (!hop) {
    ctx.drop(pb, DropReason.NoRoute);
    return;
  }
  if (pkt.version === 4) pkt.ip4.decrementTtl();
  else pkt.ip6.hopLimit = pkt.ip6.hopLimit - 1;
  ctx.stats.plainForwarded++;
  ctx.send(hop.iface, pb, hop.address);
}

/** The peer path a new session leaves on, its key and the wayport pair allocated on it. */
export interface PeerLeg {
  readonly path: PathState;
  /** The peer's waypoint on it. */
  readonly remote: IpAddress;
  readonly key: PeerKey;
  readonly pair: number;
  /** 3.7.1.6 / 4.2.3: the even port is this router's, the odd one the peer's; both chosen here. */
  readonly even: number;
  readonly odd: number;
}

/**
 * 3.7.1.4, 3.7.1.6: among paths `ids`, those that are up and whose peer has a key (2.5, 3.1.3),
 * the one the service policy prefers for this flow, with a wayport pair on it; or why none.
 */
export function choosePeerLeg(
  ctx: DataPlaneContext,
  svc: FibService,
  ids: readonly number[],
  flowSource: IpAddress,
): PeerLeg | DropReason {
  const cands = ctx.paths
    .candidates(ids, ctx.now())
    .map((c) => (ctx.keys.current(ctx.paths.get(c.id)?.model.peer ?? '') ? c : { ...c, up: false }));
  const choice = selectPath(
    cands,
    svc.policy,
    flowHash(addressBytes(flowSource)),
    ctx.selectionState(svc.index),
  );
  if ('reason' in choice) return choice.reason;
  const path = ctx.paths.get(cands[choice.index].id) as PathState;
  const key = ctx.keys.current(path.model.peer);
  const remote = path.remoteAddress;
  if (!key || !remote) return DropReason.NoPeerPath;
  const pair = ctx.wayports.allocate(path.model.id);
  if (pair < 0) return DropReason.WayportsExhausted;
  const alloc = ctx.wayports.allocator(path.model.id);
  return {
    path,
    remote,
    key,
    pair,
    even: alloc?.evenPort(pair) ?? 0,
    odd: alloc?.oddPort(pair) ?? 0,
  };
}

/**
 * 3.7.1: the first packet of an SVR session at the router that starts it. Returns a drop reason
 * (the caller drops) or None when the packet went on.
 */
function ingressFirstPacket(
  dp: DataPlane,
  pb: PacketBuffer,
  pkt: IpPacket,
  iface: number,
  tenant: number,
  entry: FibEntry,
  peerHops: readonly Extract<NextHop, { kind: 'peer' }>[],
): DropReason {
  const ctx = dp.ctx;
  const svc = entry.service;
  const src = packetSource(pkt);
  const leg = choosePeerLeg(
    ctx,
    svc,
    peerHops.flatMap((h) => h.paths.map((p) => p.id)),
    src,
  );
  if (typeof leg === 'number') return leg;
  const { path, remote, key, pair, even, odd } = leg;
  const icmp = pkt.isIcmp;
  // 4.2.7: past a middlebox that blocks TCP with metadata, the session crosses as UDP.
  const asUdp = pkt.isTcp && path.tcpToUdp;
  // 6.6: ICMP crosses SVR as UDP; the reverse (wire) wing sees UDP.
  pathKey(ctx, remote, path.localAddress, odd, even, icmp || asUdp ? IPPROTO_UDP : pkt.protocol, path.iface);
  const out: [WingOut, WingOut] = [
    { path: path.model.id, keyId: key.securityId, nextHop: pathNextHop(ctx, path) },
    { path: -1, keyId: 0, nextHop: nextHopToward(ctx, src, iface) },
  ];
  const id = ctx.sessions.create(pkt.version === 4 ? 4 : 6, ctx.key, 0, ctx.key, REV, {
    newSyn: isTcpSyn(pkt),
    uuid: newUuid(ctx),
    tenant,
    service: svc.index,
    role: SessionRole.Ingress,
    protocol: pkt.protocol,
    flags: Flag.ForwardMetadata | (icmp ? Flag.IcmpInUdp : 0) | (asUdp ? Flag.TcpAsUdpForward : 0),
    out,
    portPair: pair,
    portPath: path.model.id,
  });
  if (id < 0) {
    ctx.wayports.release(path.model.id, pair);
    return -id;
  }
  // 4.6.6: the ingress owns the session's payload key; 6.4: adaptive decides on the payload.
  const policy = sessionPolicy(ctx, svc.index);
  if (policy === 'aes-cbc-128' || policy === 'aes-cbc-256') newSessionKey(ctx, id, policy);
  else if (policy === 'adaptive' && (pkt.isTcp || pkt.isUdp))
    ctx.sessions.setFlags(id, ctx.sessions.flags(id) | Flag.AdaptivePending);
  planDeltas(ctx, id);
  path.activeSessions++;
  ctx.stats.sessionsCreated++;
  dp.fromLan(pb, pkt, iface, id * 2);
  return DropReason.None;
}

// ---- addressed to this router ----

/** A packet for one of this router's addresses: a peer's first packet, a ping, or a drop. */
export function toRouter(dp: DataPlane, pb: PacketBuffer, pkt: IpPacket, iface: number): void {
  const ctx = dp.ctx;
  if (pkt.isIcmp && pkt.icmp.isEchoRequest) {
    answerEcho(ctx, pb, pkt, iface);
    return;
  }
  // 6.6: an error about a session packet this router sent from one of its own addresses (NAT).
  if (pkt.isIcmp && pkt.icmp.isError && icmpErrorFromNetwork(dp, pb, pkt, iface)) return;
  const control = ctx.control;
  if (control && pkt.isUdp && pkt.dstPort === control.port && ctx.ifaceWan[iface]) {
    control.receive(pb, pkt, iface); // 5.1: BFD on the waypoint
    return;
  }
  const path = ctx.paths.find(iface, packetSource(pkt));
  if (path < 0) {
    // 8.4 / R-2.10-b: waypoints take SVR traffic from peers; anything else is not ours.
    if (ctx.ifaceWan[iface])
      ctx.drop(pb, DropReason.UnknownPeer, true, { iface, source: ipToString(packetSource(pkt)) });
    else ctx.drop(pb, DropReason.NotForRouter);
    return;
  }
  // 4.6.3: a TCP session's first packet that crossed a middlebox as UDP: metadata after the
  // TCP header the datagram carries.
  const carried = pkt.isUdp && !payloadHasCookie(pkt) ? carriedTcpPayload(pkt) : -1;
  if (carried >= 0 && hasCookie(pkt.b, carried, pkt.end)) {
    peerFirstPacket(dp, pb, pkt, iface, path, carried);
    return;
  }
  if (!payloadHasCookie(pkt)) {
    // R-4.6.1-e, R-4.6.4-b: no metadata and no session. 2.10: if the packet is the peer's (its
    // signature holds), this router lost the session's state: ask for the metadata again.
    const sid = ctx.keys.current(ctx.paths.get(path)?.model.peer ?? '')?.securityId ?? 0;
    const signedAll = ctx.authority.security.hmac.scope === 'all';
    const genuine = signedAll && sid !== 0 && dp.verify(pb, pkt, path, sid, false) === DropReason.None;
    if (genuine) {
      // The peer's own packet: lost state here, not an attack (a request may already be out).
      requestMetadata(dp, pkt, path, sid);
      ctx.drop(pb, DropReason.NoSessionOnWaypoint);
      return;
    }
    ctx.drop(pb, DropReason.NoSessionOnWaypoint, true, { path, source: ipToString(packetSource(pkt)) });
    return;
  }
  peerFirstPacket(dp, pb, pkt, iface, path, -1);
}

/**
 * 3.7.2: the first packet of a session at a peer: verify, read, then egress or transit.
 * `carried`: where the metadata starts in a TCP segment that crossed as UDP (4.6.3), else -1.
 */
function peerFirstPacket(
  dp: DataPlane,
  pb: PacketBuffer,
  pkt: IpPacket,
  iface: number,
  pathId: number,
  carried: number,
): void {
  const ctx = dp.ctx;
  const path = ctx.paths.get(pathId) as PathState;
  const detail = { path: pathId, source: ipToString(packetSource(pkt)) };
  // The security id in the clear header picks the key; the HMAC is checked before anything
  // else in the block is believed (R-4.6.1-b, 3.7.2.2).
  const asUdp = carried >= 0;
  const sid = peekSecurityId(pkt.b, asUdp ? carried : pkt.payloadOffset, pkt.end);
  const key = ctx.keys.byId(path.model.peer, sid);
  if (!key) {
    ctx.drop(pb, DropReason.MetadataNoCipherKey, true, detail);
    return;
  }
  const v = dp.verify(pb, pkt, pathId, sid, true);
  if (v) {
    ctx.drop(pb, v, true, detail);
    return;
  }
  const restored = asUdp ? udpToTcp(pkt) : DropReason.None; // 4.6.3, once the signature holds
  if (restored) {
    ctx.drop(pb, restored);
    return;
  }
  const md = decodeMetadata(pkt.b, pkt.payloadOffset, pkt.end, key.cipher);
  if (typeof md === 'number') {
    ctx.drop(pb, md, true, detail);
    return;
  }
  if (asUdp && !findTlv(md, TlvType.TcpSynPacket)) {
    // 4.2.7: a transformed session says so in TLV 12; without it the datagram is not ours.
    ctx.drop(pb, DropReason.MetadataMissingRequiredTlv, true, detail);
    return;
  }
  const icmpFrom = icmpErrorLocation(md);
  if (icmpFrom) {
    // 6.6: an ICMP error carried back along a TCP session (its carrier is UDP).
    const wing = carrierWing(dp, pkt, md.blockLength);
    if (wing < 0) ctx.drop(pb, DropReason.NoSessionOnWaypoint, true, detail);
    else relayIcmpError(dp, pb, pkt, wing, md.blockLength, icmpFrom);
    return;
  }
  const control = findTlv(md, TlvType.ControlMessage);
  if (control?.reason === ControlReason.PathProbe) {
    answerProbe(dp, pb, pkt, iface, pathId, sid); // 2.4: a peer testing the path for middleboxes
    return;
  }
  // The protocol the session's packets from this peer have on the wire.
  const wireProtocol = asUdp ? IPPROTO_UDP : pkt.protocol;
  if (control) {
    // 6.1, 6.2: a session that moved announces its new tuple in a control packet of its own.
    const moved = control.reason === ControlReason.FlowMoved ? findTlv(md, TlvType.SessionUuid) : undefined;
    const existing = moved ? ctx.sessions.byUuid(moved.uuid) : -1;
    if (existing >= 0 && acceptMove(ctx, existing, pkt, iface, pathId, sid, wireProtocol) >= 0) {
      ctx.stats.controlReceived++;
      ctx.stats.metadataReceived++;
      ctx.driver.release(pb);
      // 6.2: a quiescent session's move is confirmed by a control message as well.
      sendMoveControl(dp, existing * 2 + 1);
      return;
    }
    // 2.10: a TCP session whose metadata went ahead of a full segment, to a router that lost
    // its state: the control packet creates the session (and goes on as an empty ACK).
    const recreate = control.reason === ControlReason.FlowMoved && existing < 0 && pkt.isTcp;
    if (!recreate) {
      // A control message for a session we do not have: nothing to act on (4.2.4).
      ctx.stats.controlReceived++;
      ctx.drop(pb, DropReason.NoSessionOnWaypoint, true, detail);
      return;
    }
  }
  pathMetricsFirstPacket(dp, path, md); // 7.3.7 (SD-46)
  const req = checkRequiredTlvs(md, 'forward');
  if (req) {
    ctx.drop(pb, req, true, detail);
    return;
  }
  const uuid = findTlv(md, TlvType.SessionUuid)?.uuid as Uint8Array;
  // R-3.7.2.5-a: a UUID this router already carries is a loop, unless the session moves (6.1).
  const existing = ctx.sessions.byUuid(uuid);
  if (existing >= 0) {
    const wing = acceptMove(ctx, existing, pkt, iface, pathId, sid, wireProtocol);
    if (wing < 0) ctx.drop(pb, DropReason.SessionLoop);
    else dp.fromPeer(pb, pkt, wing, md);
    return;
  }
  ctx.stats.metadataReceived++;
  const context = contextOfMetadata(md, 'forward') as TransitInfo['context'];
  const tenantName = findTlv(md, TlvType.TenantName)?.name ?? '';
  // 2.10 "Ingress SVR Loses State": the forward context of a session this router carries from
  // the same peer: adopt the new addresses and UUID, merging the two.
  const same = ctx.byContext.get(contextKey(context, tenantName));
  if (same !== undefined && ctx.sessions.setUuid(same, uuid)) {
    const wing = acceptMove(ctx, same, pkt, iface, pathId, sid, wireProtocol);
    if (wing >= 0) {
      ctx.events.emit(
        ctx.now(),
        'session',
        'session-adopted',
        `session ${same} adopted a restarted ingress's new UUID (2.10)`,
      );
      dp.fromPeer(pb, pkt, wing, md);
      return;
    }
  }
  const svc = ctx.servicesByName.get(findTlv(md, TlvType.ServiceName)?.name ?? '');
  if (!svc) {
    ctx.drop(pb, DropReason.UnknownService);
    return;
  }
  // R-4.6.5.2-e: the tenant from metadata; policy applies here too.
  const tenant = ctx.tenants.intern(tenantName === 'global' ? '' : tenantName);
  if (!svc.access.allows(tenant)) {
    ctx.drop(pb, DropReason.AccessDenied);
    return;
  }
  const r = removeMetadata(pb, pkt, md.blockLength);
  if (r) {
    ctx.drop(pb, r);
    return;
  }
  const entry = ctx.fib.entryForService(svc.index, addressBytes(context.dst));
  if (!entry) {
    ctx.drop(pb, DropReason.NoRoute);
    return;
  }
  const nat = findTlv(md, TlvType.SourceNatV4)?.address;
  const peerHops = entry.nextHops.filter((h): h is Extract<NextHop, { kind: 'peer' }> => h.kind === 'peer');
  const from = { path: pathId, keyId: sid, asUdp };
  if (peerHops.length > 0) {
    const t = transitFirstPacket(dp, pb, pkt, iface, tenant, svc, peerHops, uuid, from, {
      context,
      sourceNat: nat,
      securityPolicy: findTlv(md, TlvType.SecurityPolicy)?.name ?? 'none',
      reverseContext: undefined,
      securityKey: findTlv(md, TlvType.SecurityKey)?.key,
      reverseEncrypted: false,
      reverseKey: undefined,
    });
    if (t) ctx.drop(pb, t);
    return;
  }
  egressSession(dp, pb, pkt, iface, {
    tenant,
    service: svc,
    entry,
    context,
    sourceNat: nat,
    uuid,
    fromPeer: from,
    securityKey: findTlv(md, TlvType.SecurityKey)?.key,
  });
}

/** 3.7.2.4 / 3.7.8: the session goes on to the next SVR router with the same UUID and context. */
function transitFirstPacket(
  dp: DataPlane,
  pb: PacketBuffer,
  pkt: IpPacket,
  iface: number,
  tenant: number,
  svc: FibService,
  peerHops: readonly Extract<NextHop, { kind: 'peer' }>[],
  uuid: Uint8Array,
  from: PeerOrigin,
  info: TransitInfo,
): DropReason {
  const ctx = dp.ctx;
  const inPath = ctx.paths.get(from.path) as PathState;
  // Never straight back to the peer the session came from.
  const ids = peerHops
    .flatMap((h) => h.paths.map((p) => p.id))
    .filter((id) => ctx.paths.get(id)?.model.peer !== inPath.model.peer);
  const leg = choosePeerLeg(ctx, svc, ids, info.context.src);
  if (typeof leg === 'number') return leg;
  const { path, remote, key, pair, even, odd } = leg;
  // 4.2.7 is per path: restored on a clean hop, transformed onto an obstructed one.
  const asUdp = pkt.isTcp && path.tcpToUdp;
  pathKey(ctx, remote, path.localAddress, odd, even, asUdp ? IPPROTO_UDP : pkt.protocol, path.iface);
  const id = ctx.sessions.create(pkt.version === 4 ? 4 : 6, ctx.key, 0, ctx.key, REV, {
    newSyn: isTcpSyn(pkt),
    uuid,
    tenant,
    service: svc.index,
    role: SessionRole.Transit,
    protocol: info.context.protocol,
    flags:
      Flag.ForwardMetadata |
      Flag.ReverseMetadata |
      (asUdp ? Flag.TcpAsUdpForward : 0) |
      (from.asUdp ? Flag.TcpAsUdpReverse : 0),
    out: [
      { path: path.model.id, keyId: key.securityId, nextHop: pathNextHop(ctx, path) },
      {
        path: from.path,
        keyId: from.keyId,
        nextHop: nextHopToward(ctx, inPath.remoteAddress ?? packetSource(pkt), iface),
      },
    ],
    portPair: pair,
    portPath: path.model.id,
  });
  if (id < 0) {
    ctx.wayports.release(path.model.id, pair);
    return -id;
  }
  ctx.transit.set(id, info);
  planDeltas(ctx, id);
  path.activeSessions++;
  ctx.stats.sessionsCreated++;
  const s = ctx.sessions;
  if (pkt.isTcp) s.trackTcp(id * 2, pkt.tcp.flags);
  s.touch(id * 2, pkt.length);
  dp.toPeer(pb, pkt, id * 2, false);
  return DropReason.None;
}

interface EgressRequest {
  readonly tenant: number;
  readonly service: FibService;
  readonly entry: FibEntry;
  readonly context: TransitInfo['context'];
  readonly sourceNat: number | undefined;
  readonly uuid: Uint8Array;
  /** The path and key of the peer the session came from; undefined for a local service session. */
  readonly fromPeer: PeerOrigin | undefined;
  /** 4.6.6: TLV 45, the payload key the ingress chose for the session. */
  readonly securityKey: string | undefined;
}

/** The peer path a session arrived on, the key it uses, and whether it crossed as UDP (4.6.3). */
interface PeerOrigin {
  readonly path: number;
  readonly keyId: number;
  readonly asUdp: boolean;
}

/**
 * Where the session leaves SVR (or never entered it): egress actions of 3.3 / 4.6.5.1 pick
 * the destination (the context's, a NAT pool member, or a DNS answer) and the source (the
 * context's, or TLV 25's NAT address with a port of its own), then the session is installed
 * and the packet sent on.
 */
function egressSession(
  dp: DataPlane,
  pb: PacketBuffer,
  pkt: IpPacket,
  iface: number,
  req: EgressRequest,
): void {
  const ctx = dp.ctx;
  const action: EgressAction = req.entry.egress;
  if (action.kind === 'dns') {
    const name = req.service.model.dnsName ?? req.service.model.name;
    let sync = true;
    ctx.dns.resolve(name, (address) => {
      if (!address || address.version !== req.context.family) return ctx.drop(pb, DropReason.DnsFailed);
      if (sync) return installEgress(dp, pb, pkt, iface, req, address);
      // Answered later: the scratch packet has moved on; read this one again.
      const again = new IpPacket();
      if (again.parse(pb.data, pb.start, pb.end - pb.start)) return ctx.drop(pb, DropReason.DnsFailed);
      const fam = SessionTable.keyOfPacket(again, ctx.ifaceVlan[iface], iface, ctx.key, 0);
      if (req.fromPeer?.asUdp && fam !== 0) setKeyProtocol(ctx.key, 0, fam, IPPROTO_UDP); // as on the wire
      installEgress(dp, pb, again, iface, req, address);
    });
    sync = false;
    return;
  }
  let dst = req.context.dst;
  if (action.kind === 'nat') {
    // Destination NAT to a pool (Figure 6's DEST NAT), balanced per the action.
    const n = action.pool.length;
    let i: number;
    if (action.loadBalancing === 'source-hash') i = flowHash(addressBytes(req.context.src)) % n;
    else {
      i = ctx.natRoundRobin.get(req.service.index) ?? 0;
      ctx.natRoundRobin.set(req.service.index, i + 1);
      i %= n;
    }
    dst = action.pool[i];
  }
  installEgress(dp, pb, pkt, iface, req, dst);
}

function installEgress(
  dp: DataPlane,
  pb: PacketBuffer,
  pkt: IpPacket,
  iface: number,
  req: EgressRequest,
  dst: IpAddress,
): void {
  const ctx = dp.ctx;
  const c = req.context;
  let src = c.src;
  let srcPort = c.srcPort;
  let flags = req.fromPeer ? Flag.ReverseMetadata : 0;
  // 4.6.3: TLV 12 came in: replies cross back as UDP too.
  if (req.fromPeer?.asUdp) flags |= Flag.TcpAsUdpReverse;
  if (req.sourceNat !== undefined && c.family === 4) {
    // 3.7.1.5 / R-7.4.13-a: the egress router applies the ingress's source NAT.
    src = { version: 4, v4: req.sourceNat };
    const p =
      c.protocol === IPPROTO_TCP || c.protocol === IPPROTO_UDP
        ? ctx.natPorts.allocate(req.sourceNat, c.srcPort)
        : c.srcPort;
    if (p < 0) {
      ctx.drop(pb, DropReason.NatPortsExhausted);
      return;
    }
    if (c.protocol === IPPROTO_TCP || c.protocol === IPPROTO_UDP) flags |= Flag.SourceNat;
    srcPort = p;
  }
  const icmp = c.protocol === IPPROTO_ICMP || c.protocol === IPPROTO_ICMPV6;
  if (icmp && req.fromPeer) flags |= Flag.IcmpInUdp;
  // Out of the interface the route to the destination names (or the named gateway).
  const gw = req.entry.nextHops.find((h) => h.kind === 'gateway');
  let lanHop: number;
  let lanIface: number;
  if (gw && gw.kind === 'gateway') {
    lanIface = gw.interface ? ctx.iface(gw.interface) : iface;
    const via = ctx.fib.route(addressBytes(gw.address));
    const local = via ? routeHop(ctx, via) : undefined;
    if (!gw.interface && local) lanIface = local.iface;
    lanHop = ctx.nextHops.intern(lanIface, gw.address);
  } else {
    const route = ctx.fib.route(addressBytes(dst));
    const hop = route ? routeHop(ctx, route) : undefined;
    if (!hop) {
      ctx.drop(pb, DropReason.NoRoute);
      return;
    }
    lanIface = hop.iface;
    lanHop = ctx.nextHops.intern(hop.iface, hop.address);
  }
  // The LAN wing: what the destination's replies look like.
  const vlan = ctx.ifaceVlan[lanIface];
  if (dst.version === 4 && src.version === 4)
    SessionTable.keyV4(ctx.key, REV, dst.v4, src.v4, c.dstPort, srcPort, c.protocol, vlan, lanIface);
  else if (dst.version === 6 && src.version === 6)
    SessionTable.keyV6(ctx.key, REV, dst.v6, 0, src.v6, 0, c.dstPort, srcPort, c.protocol, vlan, lanIface);
  const fromPath = req.fromPeer ? (ctx.paths.get(req.fromPeer.path) as PathState) : undefined;
  const out: [WingOut, WingOut] = [
    { path: -1, keyId: 0, nextHop: lanHop },
    req.fromPeer && fromPath
      ? {
          path: req.fromPeer.path,
          keyId: req.fromPeer.keyId,
          nextHop: nextHopToward(ctx, fromPath.remoteAddress ?? packetSource(pkt), iface),
        }
      : { path: -1, keyId: 0, nextHop: nextHopToward(ctx, packetSource(pkt), iface) },
  ];
  const id = ctx.sessions.create(pkt.version === 4 ? 4 : 6, ctx.key, 0, ctx.key, REV, {
    newSyn: isTcpSyn(pkt),
    uuid: req.uuid,
    tenant: req.tenant,
    service: req.service.index,
    role: req.fromPeer ? SessionRole.Egress : SessionRole.Plain,
    protocol: c.protocol,
    flags,
    out,
    portPair: -1,
    portPath: -1,
  });
  if (id < 0) {
    if (flags & Flag.SourceNat && src.version === 4) ctx.natPorts.release(src.v4, srcPort);
    ctx.drop(pb, -id);
    return;
  }
  planDeltas(ctx, id);
  ctx.stats.sessionsCreated++;
  if (!req.fromPeer) {
    dp.fromLan(pb, pkt, iface, id * 2);
    return;
  }
  ctx.rememberContext(id, contextKey(c, ctx.tenants.name(req.tenant) || 'global'));
  // The rest of 3.7.2.4: out of UDP for ICMP (6.6), original addresses restored, delivered.
  const s = ctx.sessions;
  if (req.securityKey !== undefined) {
    // 4.6.6: the session's payload is encrypted; this router decrypts toward its LAN.
    const k = learnSessionKey(ctx, id, req.securityKey);
    const clear = pkt.payloadLength === 0 || (flags & Flag.IcmpInUdp) !== 0; // ICMP is not encrypted
    const d = k || (clear ? DropReason.None : decryptPayload(ctx, pb, pkt, id));
    if (d) {
      ctx.drop(pb, d, true, { session: id });
      return;
    }
  }
  if (pkt.isTcp) s.trackTcp(id * 2, pkt.tcp.flags);
  s.touch(id * 2, pkt.length);
  if (flags & Flag.IcmpInUdp && pkt.isUdp) {
    const r = udpToIcmp(pb, pkt);
    if (r) {
      ctx.drop(pb, r);
      return;
    }
  }
  // A first packet: checksums computed afresh rather than by deltas.
  dp.toLan(pb, pkt, id * 2, true);
}
