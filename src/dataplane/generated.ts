import { type IpAddress, ipToString } from '../base/address.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import { keyAddress } from '../session/session-table.js';
import { buildPacketBuffer, type PacketSpec } from '../wire/builder.js';
import {
  ICMP4_DEST_UNREACHABLE,
  ICMP4_ECHO_REPLY,
  ICMP4_TIME_EXCEEDED,
  ICMP6_DEST_UNREACHABLE,
  ICMP6_ECHO_REPLY,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_TIME_EXCEEDED,
} from '../wire/icmp.js';
import { insertMetadata } from '../wire/metadata/insert.js';
import { ControlReason, type Tlv, TlvType } from '../wire/metadata/tlv.js';
import { IpPacket, packetDestination, packetSource } from '../wire/packet.js';
import { IPPROTO_TCP } from '../wire/protocol.js';
import { TCP_ACK } from '../wire/tcp.js';
import { tcpToUdp } from '../wire/tcp-udp-transform.js';
import { type DataPlaneContext, leavesAsUdp } from './context.js';
import type { DataPlane } from './dataplane.js';
import { disableForwardMetadata, forwardMetadata, reverseMetadata } from './metadata-build.js';
import { nextHopToward, pathNextHop } from './routing.js';

/**
 * Packets a router makes itself: answers to pings of its own addresses, ICMP errors for what it
 * cannot forward (like any router, 3.7.2.5), and SVR control packets (4.2.4).
 */

function ownAddress(ctx: DataPlaneContext, iface: number, family: 4 | 6): IpAddress | undefined {
  return ctx.router.interfaces[iface]?.addresses.find((a) => a.address.version === family)?.address;
}

/** Echo reply from one of the router's own addresses. */
export function answerEcho(ctx: DataPlaneContext, pb: PacketBuffer, pkt: IpPacket, iface: number): void {
  const v6 = pkt.version === 6;
  const src: IpAddress = v6 ? { version: 6, v6: pkt.ip6.dstBytes() } : { version: 4, v4: pkt.ip4.dst };
  const dst: IpAddress = v6 ? { version: 6, v6: pkt.ip6.srcBytes() } : { version: 4, v4: pkt.ip4.src };
  const reply = buildPacketBuffer({
    src,
    dst,
    l4: {
      protocol: 'icmp',
      type: v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHO_REPLY,
      identifier: pkt.icmp.identifier,
      sequence: pkt.icmp.sequence,
    },
    payload: pkt.b.slice(pkt.payloadOffset, pkt.end),
  });
  ctx.driver.release(pb);
  ctx.stats.icmpSent++;
  ctx.sendVia(nextHopToward(ctx, dst, iface), reply);
}

/**
 * An ICMP error about `pkt` (which arrived on `iface`) back to its source, quoting the IP header
 * and the start of its payload (RFC 792, RFC 4443). Never about another ICMP error.
 */
export function sendIcmpError(
  ctx: DataPlaneContext,
  pkt: IpPacket,
  iface: number,
  kind: 'time-exceeded' | 'net-unreachable' | 'too-big',
  mtu = 0,
): void {
  const v6 = pkt.version === 6;
  if (pkt.isIcmp && pkt.icmp.isError) return;
  const from = ownAddress(ctx, iface, v6 ? 6 : 4);
  if (!from) return;
  const to: IpAddress = v6 ? { version: 6, v6: pkt.ip6.srcBytes() } : { version: 4, v4: pkt.ip4.src };
  const quoteLen = v6 ? Math.min(pkt.length, 1232) : Math.min(pkt.length, pkt.l4Offset - pkt.start + 8);
  let type: number = v6 ? ICMP6_DEST_UNREACHABLE : ICMP4_DEST_UNREACHABLE;
  let code = 0;
  let rest = 0;
  if (kind === 'time-exceeded') type = v6 ? ICMP6_TIME_EXCEEDED : ICMP4_TIME_EXCEEDED;
  else if (kind === 'too-big') {
    // RFC 1191: fragmentation needed, next-hop MTU in the low 16 bits; RFC 4443: packet too big.
    type = v6 ? ICMP6_PACKET_TOO_BIG : ICMP4_DEST_UNREACHABLE;
    code = v6 ? 0 : 4;
    rest = mtu;
  }
  const err = buildPacketBuffer({
    src: from,
    dst: to,
    l4: { protocol: 'icmp', type, code, restOfHeader: rest },
    payload: pkt.b.slice(pkt.start, pkt.start + quoteLen),
  });
  ctx.stats.icmpSent++;
  ctx.sendVia(nextHopToward(ctx, to, iface), err);
}

/** TCP numbers for a control packet that stands in for a data segment (flags: ACK unless given). */
export interface TcpNumbers {
  readonly seq: number;
  readonly ack: number;
  readonly window: number;
  readonly flags?: number;
}

/**
 * An empty control packet (UDP, or a TCP ACK) in its own IpPacket: generated packets are made
 * while another packet may be in the shared scratch one.
 */
export function controlPacket(
  src: IpAddress,
  dst: IpAddress,
  protocol: number,
  srcPort: number,
  dstPort: number,
  o: { tcp?: TcpNumbers; ttl?: number; payload?: Uint8Array } = {},
): { pb: PacketBuffer; pkt: IpPacket } | undefined {
  const l4: PacketSpec['l4'] =
    protocol === IPPROTO_TCP
      ? { protocol: 'tcp', srcPort, dstPort, flags: TCP_ACK, ...o.tcp }
      : { protocol: 'udp', srcPort, dstPort };
  const pb = buildPacketBuffer({ src, dst, l4, ttl: o.ttl, payload: o.payload });
  const pkt = new IpPacket();
  return pkt.parse(pb.data, pb.start, pb.end - pb.start) ? undefined : { pb, pkt };
}

/** An empty control packet in a wing's wire five-tuple, as its own packets leave. */
function wirePacket(ctx: DataPlaneContext, wing: number, o: { tcp?: TcpNumbers; ttl?: number } = {}) {
  const out = ctx.mdKey;
  const kw = ctx.sessions.wingOutput(wing, out, 0);
  const family = kw === 4 ? 4 : 6;
  const ports = out[kw - 2];
  // 4.2.7: on a path that carries the session as UDP the packet is made as TCP, then transformed.
  const asUdp = leavesAsUdp(ctx.sessions.flags(wing >>> 1), wing);
  return controlPacket(
    keyAddress(out, 0, family),
    keyAddress(out, family === 4 ? 1 : 4, family),
    asUdp ? IPPROTO_TCP : out[kw - 1] & 0xff,
    ports >>> 16,
    ports & 0xffff,
    o,
  );
}

/**
 * Metadata into a control packet, signed with key `keyId`, sent along the wing (4.2.4: the
 * adjacent peer consumes it). `encrypt`: payload TLVs are encrypted with the key's cipher.
 */
function sendOnWing(
  dp: DataPlane,
  wing: number,
  c: { pb: PacketBuffer; pkt: IpPacket },
  tlvs: Tlv[],
  keyId: number,
  encrypt: boolean,
): boolean {
  const ctx = dp.ctx;
  const s = ctx.sessions;
  const path = s.outPath(wing);
  if (insertMetadata(c.pb, c.pkt, { tlvs }, encrypt ? ctx.keyOn(path, keyId)?.cipher : undefined))
    return false;
  if (c.pkt.isTcp && leavesAsUdp(s.flags(wing >>> 1), wing) && tcpToUdp(c.pkt)) return false;
  if (dp.sign(c.pb, c.pkt, path, keyId, true)) return false;
  ctx.stats.controlSent++;
  ctx.sendVia(s.nextHop(wing), c.pb);
  return true;
}

/**
 * 3.7.7: the receiving router of a one-way UDP flow completes the handshake by sending TLV 18
 * in a packet of its own that matches the session's reverse five-tuple on the wire (4.2.4).
 */
export function sendDisableForwardMetadata(dp: DataPlane, id: number): void {
  const ctx = dp.ctx;
  const wing = id * 2 + 1;
  const c = wirePacket(ctx, wing);
  if (!c) return;
  const to = packetDestination(c.pkt);
  const tlvs = disableForwardMetadata(ctx, id).tlvs;
  if (!sendOnWing(dp, wing, c, [...tlvs], ctx.sessions.outKeyId(wing), false)) return;
  ctx.events.emit(
    ctx.now(),
    'session',
    'disable-forward-metadata',
    `one-way flow: TLV 18 sent to ${ipToString(to)}`,
  );
}

/**
 * 6.1, 6.2: a session's (forward or reverse) metadata in a control packet of its own, ahead of a
 * packet too full to carry it: the wing's wire five-tuple (a TCP segment with the packet's
 * sequence numbers, or a UDP datagram), TLV 24 "flow moved" and, forward, TLV 42 the session's
 * remaining time. The adjacent peer takes the metadata and drops the packet (4.2.4).
 */
export function sendMetadataAlone(dp: DataPlane, pkt: IpPacket, wing: number, keyId: number): void {
  if (!pkt.isTcp && !pkt.isUdp) return;
  const tcp = pkt.isTcp ? { seq: pkt.tcp.seq, ack: pkt.tcp.ack, window: pkt.tcp.window } : undefined;
  const c = wirePacket(dp.ctx, wing, { tcp, ttl: pkt.ttl });
  if (c && sendOnWing(dp, wing, c, moveTlvs(dp.ctx, wing), keyId, true)) dp.ctx.stats.metadataSent++;
}

/**
 * 6.3, 2.11: a keep-alive for an idle session on a path behind a NAT, so the NAT keeps its
 * binding: a packet of the wing's own wire five-tuple (UDP, or a TCP ACK) with TLV 24 reason 1
 * only (header TLVs, nothing to encrypt), signed; the peer consumes it (4.2.4).
 */
export function sendKeepAlive(dp: DataPlane, wing: number): boolean {
  const ctx = dp.ctx;
  const s = ctx.sessions;
  const c = wirePacket(ctx, wing);
  const keyId = s.outKeyId(wing);
  const tlvs: Tlv[] = [
    { type: TlvType.SecurityIdentifier, securityId: keyId },
    { type: TlvType.ControlMessage, reason: ControlReason.KeepAlive },
  ];
  return c !== undefined && sendOnWing(dp, wing, c, tlvs, keyId, false);
}

/**
 * 7.3.7: an answer to a peer's new path-metrics colour when no session packet goes back soon:
 * a packet of the wing's own wire five-tuple with TLV 26 alone, its D bit set, signed; the peer
 * takes the figures and drops the packet (4.2.4).
 */
export function sendPathMetricsProbe(dp: DataPlane, wing: number, tlv: Tlv): boolean {
  const ctx = dp.ctx;
  const s = ctx.sessions;
  const c = wirePacket(ctx, wing);
  return c !== undefined && sendOnWing(dp, wing, c, [tlv], s.outKeyId(wing), false);
}

/**
 * 6.2: a quiescent session's move, announced without a packet to carry it: a control packet in
 * the wing's wire five-tuple (UDP, or a TCP ACK) with the wing's metadata (forward: first-packet
 * TLVs and TLV 42; reverse: reverse metadata, the confirmation) and TLV 24 "flow moved".
 */
export function sendMoveControl(dp: DataPlane, wing: number): boolean {
  const ctx = dp.ctx;
  const c = wirePacket(ctx, wing);
  if (!c || !sendOnWing(dp, wing, c, moveTlvs(ctx, wing), ctx.sessions.outKeyId(wing), true)) return false;
  ctx.stats.metadataSent++;
  return true;
}

/** The metadata of a move's control packet (6.1, 6.2). */
function moveTlvs(ctx: DataPlaneContext, wing: number): Tlv[] {
  const s = ctx.sessions;
  const id = wing >>> 1;
  const base = (wing & 1) === 0 ? forwardMetadata(ctx, id) : reverseMetadata(ctx, id);
  const tlvs: Tlv[] = [...base.tlvs, { type: TlvType.ControlMessage, reason: ControlReason.FlowMoved }];
  if ((wing & 1) === 0)
    tlvs.push({ type: TlvType.RemainingSessionTime, seconds: Math.round(s.remainingMs(id) / 1000) });
  return tlvs;
}

/**
 * 2.10 "SVR Peer Loses State": a signed packet of the peer on a waypoint with no session here is
 * answered by TLV 24 "enable metadata" in a packet with the received packet's addresses and ports
 * reversed, on the path it came from; the upstream router sends first-packet metadata with the
 * session's next packet. Returns false when a request for this tuple went out under a second ago.
 */
export function requestMetadata(dp: DataPlane, pkt: IpPacket, path: number, keyId: number): boolean {
  const ctx = dp.ctx;
  const ps = ctx.paths.get(path);
  if (!ps || (!pkt.isTcp && !pkt.isUdp)) return false;
  const seen = ctx.metadataRequests;
  const from = packetSource(pkt);
  const to = packetDestination(pkt);
  const tuple = `${ipToString(from)}:${pkt.srcPort}>${ipToString(to)}:${pkt.dstPort}/${pkt.protocol}`;
  const now = ctx.now();
  if (now - (seen.get(tuple) ?? -Infinity) < 1000) return false;
  if (seen.size > 4096) seen.clear();
  seen.set(tuple, now);
  // A TCP request carries the numbers a reply to the packet would, so a stateful NAT on the path
  // takes it as part of the flow and translates it (a zero sequence falls outside its window).
  const tcp = pkt.isTcp
    ? { seq: pkt.tcp.ack, ack: (pkt.tcp.seq + pkt.payloadLength) >>> 0, window: pkt.tcp.window }
    : undefined;
  const c = controlPacket(to, from, pkt.protocol, pkt.dstPort, pkt.srcPort, { tcp });
  if (!c) return false;
  const tlvs: Tlv[] = [
    { type: TlvType.SecurityIdentifier, securityId: keyId },
    { type: TlvType.ControlMessage, reason: ControlReason.EnableMetadata },
  ];
  if (insertMetadata(c.pb, c.pkt, { tlvs })) return false;
  if (dp.sign(c.pb, c.pkt, path, keyId, true)) return false;
  ctx.stats.controlSent++;
  ctx.events.emit(
    now,
    'session',
    'metadata-requested',
    `no state for ${tuple}: asked ${ps.model.peer} for metadata (2.10)`,
  );
  ctx.sendVia(pathNextHop(ctx, ps), c.pb);
  return true;
}
