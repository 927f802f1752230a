import type { IpAddress } from '../base/address.js';
import { writeU16, writeU32 } from '../base/bytes.js';
import { DropReason } from '../base/drop-reason.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import { keyAddress, SessionTable, setKeyProtocol } from '../session/session-table.js';
import { buildPacketBuffer } from '../wire/builder.js';
import { checksum } from '../wire/checksum.js';
import {
  ICMP4_DEST_UNREACHABLE,
  ICMP4_ECHO_REQUEST,
  ICMP4_TIME_EXCEEDED,
  ICMP6_ECHO_REQUEST,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_TIME_EXCEEDED,
} from '../wire/icmp.js';
import { blockLengthFor, findTlv, type Metadata, peekMetadataHeader } from '../wire/metadata/block.js';
import { insertMetadata } from '../wire/metadata/insert.js';
import { type Tlv, TlvType } from '../wire/metadata/tlv.js';
import { IpPacket, packetSource } from '../wire/packet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocol.js';
import type { DataPlane } from './dataplane.js';
import { controlPacket } from './generated.js';

/**
 * 6.6, first kind: ICMP errors about a session's packets (destination unreachable, time
 * exceeded, packet too big) go back along the session to the router that started it. The router
 * where the error arrives finds the session from the header the error quotes (R-6.6-a) and sends
 * the ICMP message on in a UDP packet of the session's own waypoint addresses and ports, with TLV
 * 20 (or 21) naming where the error came from; each router on the way does the same on the
 * session's next hop back; the first router makes the ICMP message again, from that address, to
 * the session's source, quoting the packet as that source sent it (docs/spec-decisions.md SD-33).
 * Errors an svr router itself raises about a session packet (its TTL ran out) travel the same way.
 */

/**
 * RFC 1812 4.3.2.8: a router limits the ICMP errors it sends. This many a second are carried or
 * made again per router; a flood of forged errors from a LAN costs at most that much signing.
 */
export const ICMP_ERRORS_PER_SECOND = 1000;

/** Whether one more error fits this second's budget (counted as a drop when not). */
function withinRate(dp: DataPlane): boolean {
  const ctx = dp.ctx;
  const second = Math.floor(ctx.now() / 1000);
  const r = ctx.icmpRate;
  if (r.second !== second) {
    r.second = second;
    r.count = 0;
  }
  if (r.count >= ICMP_ERRORS_PER_SECOND) {
    ctx.drop(undefined, DropReason.IcmpRateLimited);
    return false;
  }
  r.count++;
  return true;
}

/** Scratch for the quoted packet (errors are rare; one per module is enough). */
const quoted = new IpPacket();

/** The ICMP error's quoted packet parsed (lenient: only its first 8 L4 bytes are there), or undefined. */
function quotedPacket(b: Uint8Array, at: number, end: number): IpPacket | undefined {
  if (quoted.parse(b, at, end - at, true)) return undefined;
  if (!quoted.isTcp && !quoted.isUdp && !(quoted.isIcmp && quoted.icmp.isEcho)) return undefined;
  return quoted;
}

/**
 * An ICMP error (not addressed to this router) that arrived on `iface`: if it is about a packet of
 * a session this router sent on, carry it back along the session and return true (the buffer is
 * consumed); false: not a session's, route it as plain IP.
 */
export function icmpErrorFromNetwork(dp: DataPlane, pb: PacketBuffer, pkt: IpPacket, iface: number): boolean {
  const ctx = dp.ctx;
  const q = quotedPacket(pkt.b, pkt.icmp.quotedOffset, pkt.end);
  if (!q) return false;
  // The quoted packet is one this router sent; its reply would match the wing the error follows.
  const vlan = ctx.ifaceVlan[iface];
  if (q.version === 4)
    SessionTable.keyV4(ctx.key, 0, q.ip4.dst, q.ip4.src, q.dstPort, q.srcPort, q.protocol, vlan, iface);
  else
    SessionTable.keyV6(
      ctx.key,
      0,
      q.b,
      q.ip6.dstOffset,
      q.b,
      q.ip6.srcOffset,
      q.dstPort,
      q.srcPort,
      q.protocol,
      vlan,
      iface,
    );
  const s = ctx.sessions;
  const wing = s.lookup(q.version === 4 ? 4 : 6, ctx.key, 0);
  // Not a session's, or one between two LANs of this router: plain IP.
  if (wing < 0 || (s.outPath(wing) < 0 && s.inPath(wing) < 0)) return false;
  // Toward a peer: carried back. From a peer's direction (the error is about a packet this
  // router sent on a peer path: a router on the path, or the peer's kernel, raised it): the
  // source gets it from here, as at the end of a carried error.
  const icmp = pkt.b.slice(pkt.l4Offset, pkt.end);
  const from = packetSource(pkt);
  ctx.driver.release(pb);
  if (!withinRate(dp)) return true;
  if (s.outPath(wing) >= 0) sendIcmpCarrier(dp, wing, from, icmp);
  else deliverIcmpError(dp, wing, icmp, from);
  return true;
}

/**
 * This router cannot forward a session packet that came from a peer (its TTL ran out, or it is
 * too big for the next link and may not be cut): the error goes back along the session, from the
 * waypoint the packet arrived on (RFC 1812 4.3.2.4: an address of the interface the error leaves
 * by). `mtu`: the next-hop MTU of a too-big error.
 */
export function errorToPeer(
  dp: DataPlane,
  pkt: IpPacket,
  wing: number,
  kind: 'time-exceeded' | 'too-big',
  mtu = 0,
): void {
  const ctx = dp.ctx;
  const s = ctx.sessions;
  const back = wing ^ 1;
  const path = ctx.paths.get(s.outPath(back));
  if (!path || !withinRate(dp)) return;
  const v6 = pkt.version === 6;
  const quoteLen = Math.min(pkt.end - pkt.start, pkt.l4Offset - pkt.start + 8);
  const icmp = new Uint8Array(8 + quoteLen);
  if (kind === 'time-exceeded') icmp[0] = v6 ? ICMP6_TIME_EXCEEDED : ICMP4_TIME_EXCEEDED;
  else {
    // RFC 1191: fragmentation needed with the next-hop MTU; RFC 4443: packet too big.
    icmp[0] = v6 ? ICMP6_PACKET_TOO_BIG : ICMP4_DEST_UNREACHABLE;
    icmp[1] = v6 ? 0 : 4;
    writeU32(icmp, 4, mtu);
  }
  icmp.set(pkt.b.subarray(pkt.start, pkt.start + quoteLen), 8);
  sendIcmpCarrier(dp, back, path.localAddress, icmp);
}

/**
 * The ICMP message `icmp` (header and quoted packet; its checksum is made again where it leaves
 * SVR) in a UDP packet of wing `wing`'s waypoint addresses and ports, with TLV 20/21 `from`,
 * signed, to the wing's peer (6.6's "IP | UDP | Metadata 20/21 | ICMP").
 */
function sendIcmpCarrier(dp: DataPlane, wing: number, from: IpAddress, icmp: Uint8Array): void {
  const ctx = dp.ctx;
  const s = ctx.sessions;
  const out = ctx.mdKey;
  const kw = s.wingOutput(wing, out, 0);
  const family = kw === 4 ? 4 : 6;
  const ports = out[kw - 2];
  const c = controlPacket(
    keyAddress(out, 0, family),
    keyAddress(out, family === 4 ? 1 : 4, family),
    IPPROTO_UDP,
    ports >>> 16,
    ports & 0xffff,
    { payload: icmp },
  );
  const keyId = s.outKeyId(wing);
  const tlvs: Tlv[] = [
    { type: TlvType.SecurityIdentifier, securityId: keyId },
    from.version === 4
      ? { type: TlvType.IcmpErrorLocationV4, address: from.v4 }
      : { type: TlvType.IcmpErrorLocationV6, address: from.v6 },
  ];
  if (!c || insertMetadata(c.pb, c.pkt, { tlvs })) return;
  if (dp.sign(c.pb, c.pkt, s.outPath(wing), keyId, true)) return;
  ctx.stats.icmpRelayed++;
  ctx.sendVia(s.nextHop(wing), c.pb);
}

/** Where a carried ICMP error says it came from (TLV 20 or 21), if the metadata has it. */
export function icmpErrorLocation(md: Metadata): IpAddress | undefined {
  const v4 = findTlv(md, TlvType.IcmpErrorLocationV4);
  if (v4) return { version: 4, v4: v4.address };
  const v6 = findTlv(md, TlvType.IcmpErrorLocationV6);
  return v6 ? { version: 6, v6: v6.address } : undefined;
}

/**
 * A carried ICMP error arrived on `wing` (verified; `pkt`'s payload after the metadata block is
 * the ICMP message): on to the next router back, or, where the wing leaves SVR, made again.
 */
export function relayIcmpError(
  dp: DataPlane,
  pb: PacketBuffer,
  pkt: IpPacket,
  wing: number,
  blockLength: number,
  from: IpAddress,
): void {
  const ctx = dp.ctx;
  const s = ctx.sessions;
  const at = pkt.payloadOffset + blockLength;
  if (pkt.end - at < 8 + 20) {
    ctx.drop(pb, DropReason.IcmpTruncated);
    return;
  }
  const icmp = pkt.b.slice(at, pkt.end);
  ctx.driver.release(pb);
  if (s.outPath(wing) >= 0) sendIcmpCarrier(dp, wing, from, icmp);
  else deliverIcmpError(dp, wing, icmp, from);
}

/**
 * The first router: ICMP message `icmp` (header and quoted packet) made again from `from` to the
 * session's source, out of wing `wing`, quoting the packet as the source sent it.
 */
function deliverIcmpError(dp: DataPlane, wing: number, icmp: Uint8Array, from: IpAddress): void {
  const ctx = dp.ctx;
  const s = ctx.sessions;
  const fwd = ctx.mdKey;
  const kw = s.wingKey(wing ^ 1, fwd, 0);
  const family = kw === 4 ? 4 : 6;
  const src = keyAddress(fwd, 0, family);
  const dst = keyAddress(fwd, family === 4 ? 1 : 4, family);
  const ports = fwd[kw - 2];
  let b = icmp;
  let q = quotedPacket(b, 8, b.length);
  if (!q || q.version !== family || from.version !== family) {
    ctx.drop(undefined, DropReason.IcmpTruncated);
    return;
  }
  // A router between raised it about the packet as it crossed: a TCP segment as UDP (4.2.7), or
  // an echo inside UDP (6.6), whose UDP header comes out of the quote.
  const proto = s.protocolOf(wing >>> 1);
  if (q.isUdp && proto === IPPROTO_TCP) b[q.protocolFieldOffset] = proto;
  if (q.isUdp && (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6)) {
    b = unwrapQuotedEcho(b, q, proto, ports >>> 16, ctx.authority.security.metadataCipher !== 'none');
    q = quotedPacket(b, 8, b.length);
    if (!q) {
      ctx.drop(undefined, DropReason.IcmpTruncated);
      return;
    }
  }
  if (family === 4 && src.version === 4 && dst.version === 4) {
    writeU32(b, q.start + 12, src.v4);
    writeU32(b, q.start + 16, dst.v4);
    writeU16(b, q.start + 10, 0);
    writeU16(b, q.start + 10, checksum(b, q.start, q.l4Offset - q.start));
  } else if (src.version === 6 && dst.version === 6) {
    b.set(src.v6, q.start + 8);
    b.set(dst.v6, q.start + 24);
  }
  if (q.isTcp || q.isUdp) {
    writeU16(b, q.l4Offset, ports >>> 16);
    writeU16(b, q.l4Offset + 2, ports & 0xffff);
  } else writeU16(b, q.l4Offset + 4, ports >>> 16); // echo identifier
  const restOfHeader = ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
  const err = buildPacketBuffer({
    src: from,
    dst: src,
    l4: { protocol: 'icmp', type: b[0], code: b[1], restOfHeader },
    payload: b.subarray(8),
  });
  ctx.stats.icmpSent++;
  ctx.sendVia(s.nextHop(wing), err);
}

/**
 * The quote of an echo that crossed inside UDP (6.6) with the UDP header (and any metadata after
 * it) taken out: the echo header when the quote reaches that far, else one made from the
 * identifier. `encrypted`: metadata payloads are encrypted (D-4), which sizes the block.
 */
function unwrapQuotedEcho(
  b: Uint8Array,
  q: IpPacket,
  proto: number,
  identifier: number,
  encrypted: boolean,
): Uint8Array {
  const ipLen = q.l4Offset - q.start;
  let after = q.l4Offset + 8;
  const md = peekMetadataHeader(b, after, b.length);
  if (typeof md !== 'number') after += blockLengthFor(md.headerLength, md.payloadLength, encrypted);
  const echo =
    b.length - after >= 8
      ? b.subarray(after)
      : Uint8Array.of(
          proto === IPPROTO_ICMP ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST,
          0,
          0,
          0,
          identifier >>> 8,
          identifier,
          0,
          0,
        );
  const out = new Uint8Array(8 + ipLen + echo.length);
  out.set(b.subarray(0, q.l4Offset), 0);
  out.set(echo, 8 + ipLen);
  out[q.protocolFieldOffset] = proto;
  // The quoted length fields lose the UDP header too.
  const lenAt = q.version === 4 ? q.start + 2 : q.start + 4;
  const len = (out[lenAt] << 8) | out[lenAt + 1];
  writeU16(out, lenAt, Math.max(0, len - 8));
  return out;
}

/**
 * The session wing a carried ICMP error that matched no wing belongs to (a TCP session: the
 * carrier is UDP; the error's quoted packet names the protocol), or -1. `ctx.key` holds the
 * carrier's key (DataPlane.handle).
 */
export function carrierWing(dp: DataPlane, pkt: IpPacket, blockLength: number): number {
  const ctx = dp.ctx;
  const at = pkt.payloadOffset + blockLength;
  const q = quotedPacket(pkt.b, at + 8, pkt.end);
  if (!q) return -1;
  const family = pkt.version === 4 ? 4 : 6;
  setKeyProtocol(ctx.key, 0, family, q.protocol);
  return ctx.sessions.lookup(family, ctx.key, 0);
}
