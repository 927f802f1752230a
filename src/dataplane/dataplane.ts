import { ipToString } from '../base/address.js';
import { DropReason } from '../base/drop-reason.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import { hmacWindow, WindowTracker } from '../crypto/hmac.js';
import { checkPacketSignature, signPacket } from '../crypto/packet-signature.js';
import type { RxBatch } from '../drivers/driver.js';
import { SessionTable } from '../session/session-table.js';
import { segmentTcp, segmentUdp } from '../wire/gso.js';
import { icmpToUdp, udpToIcmp } from '../wire/icmp-udp.js';
import {
  type DecodedMetadata,
  decodeMetadata,
  findTlv,
  hasCookie,
  peekSecurityId,
} from '../wire/metadata/block.js';
import {
  insertMetadata,
  payloadHasCookie,
  protectFalsePositive,
  removeMetadata,
} from '../wire/metadata/insert.js';
import { ControlReason, TlvType } from '../wire/metadata/tlv.js';
import { type IpPacket, packetSource } from '../wire/packet.js';
import { IPPROTO_TCP } from '../wire/protocol.js';
import { shrinkTail } from '../wire/resize.js';
import { clampTcpMss } from '../wire/tcp-options.js';
import { carriedTcpPayload, tcpToUdp, udpToTcp } from '../wire/tcp-udp-transform.js';
import { rewriteFull, rewriteV4, rewriteV6 } from '../wire/translation.js';
import { DataPlaneContext, type DataPlaneOptions, Flag, leavesAsUdp } from './context.js';
import { newSession, toRouter } from './first-packet.js';
import { isFragmentV4, reassemble } from './fragments.js';
import { sendDisableForwardMetadata, sendIcmpError, sendMetadataAlone } from './generated.js';
import { errorToPeer, icmpErrorLocation, relayIcmpError } from './icmp-errors.js';
import { contextOfMetadata, forwardMetadata, reverseMetadata } from './metadata-build.js';
import { markMetadata, markPacket, pathMetricsReceived, startColours } from './path-metrics.js';
import {
  adaptiveDecides,
  decryptPayload,
  encryptPayload,
  learnSessionKey,
  rekeyIfDue,
  sessionPolicy,
} from './payload-encryption.js';
import { moveSession } from './session-move.js';
import { fragmentForLan, isSvrPiece, sendInPieces } from './svr-fragments.js';

/** Room a packet needs for metadata inline (a forward block is 150-250 bytes encrypted). */
const METADATA_ROOM = 320;

/**
 * The data plane of one router (draft sections 2, 3.7, 4.2, 4.6): every packet a driver
 * delivers goes through `receive`. A packet that matches a session wing is translated from
 * session state (the fast path, 3.7.3); one that does not is a first packet (3.7.1 from a LAN,
 * 3.7.2 from a peer) or ordinary traffic routed as plain IP (2.2, 4.1).
 *
 * Between two routers every session packet is signed per the authority's HMAC scope, and
 * carries metadata while the handshake is incomplete (2.3, 3.7.5): forward metadata until any
 * packet of the session comes back from the peer, reverse metadata until a forward packet
 * arrives without any.
 */
export class DataPlane {
  readonly ctx: DataPlaneContext;
  private readonly trackers = new Map<string, WindowTracker>();

  constructor(o: DataPlaneOptions) {
    this.ctx = new DataPlaneContext(o);
  }

  /** Process a batch from the driver: one loop, no allocation on the fast path. */
  receive(batch: RxBatch): void {
    for (let i = 0; i < batch.count; i++) this.handle(batch.packets[i], batch.iface[i]);
  }

  handle(pb: PacketBuffer, iface: number): void {
    const ctx = this.ctx;
    ctx.stats.rx++;
    // 6.5: a fragment is reassembled before session lookup, metadata or HMAC.
    if (isFragmentV4(pb)) {
      const whole = reassemble(ctx, pb, iface);
      if (whole) {
        ctx.stats.rx--; // each fragment was counted
        this.handle(whole, iface);
      }
      return;
    }
    const pkt = ctx.pkt;
    const r = pkt.parse(pb.data, pb.start, pb.end - pb.start);
    if (r) {
      ctx.drop(pb, r);
      return;
    }
    pb.end = pkt.end; // link padding is not part of the packet
    // 6.5: a piece of a packet a peer cut for the path (a receive offload may have merged several).
    const piece = pkt.isUdp && isSvrPiece(pkt);
    const family = SessionTable.keyOfPacket(pkt, ctx.ifaceVlan[iface], iface, ctx.key, 0);
    const wing = family === 0 ? -1 : ctx.sessions.lookup(family, ctx.key, 0);
    if (pb.gsoSize > 0 && (piece || this.mustSegment(wing))) {
      this.segment(pb, pkt, iface);
      return;
    }
    if (piece) {
      this.piece(pb, pkt, iface);
      return;
    }
    if (wing >= 0) {
      if (ctx.sessions.inPath(wing) >= 0) this.fromPeer(pb, pkt, wing);
      else this.fromLan(pb, pkt, iface, wing);
      return;
    }
    if (ctx.isOwn(pkt)) {
      toRouter(this, pb, pkt, iface);
      return;
    }
    newSession(this, pb, pkt, iface);
  }

  // ---- TCP and UDP super-packets (drivers with segmentation offload) ----

  /**
   * A super-packet stays whole on the fast path, where translation is the same for every
   * segment it stands for; it is split where each wire packet needs its own work: a first
   * packet, metadata, or a signature on every packet (4.5).
   */
  private mustSegment(wing: number): boolean {
    if (wing < 0) return true;
    const s = this.ctx.sessions;
    if (s.outPath(wing) < 0 && s.inPath(wing) < 0) return false;
    if (this.signatureLength(false) > 0) return true;
    if (this.ctx.paths.paths[s.outPath(wing)]?.metrics.due) return true; // 7.3.7: a mark for one packet
    // 4.2.7: each segment of a TCP session crossing as UDP is transformed on its own.
    // 4.6.6: so is each segment of an encrypted session.
    const f =
      Flag.ForwardMetadata |
      Flag.ReverseMetadata |
      Flag.TcpAsUdpForward |
      Flag.TcpAsUdpReverse |
      Flag.PayloadEncrypted |
      Flag.AdaptivePending;
    return (s.flags(wing >>> 1) & f) !== 0;
  }

  private segment(pb: PacketBuffer, pkt: IpPacket, iface: number): void {
    const ctx = this.ctx;
    const pieces: PacketBuffer[] = [];
    const split = pkt.isUdp ? segmentUdp : segmentTcp;
    const r = split(pkt, pb.gsoSize, () => ctx.driver.allocate(), pieces);
    if (r) {
      for (const p of pieces) ctx.driver.release(p);
      ctx.drop(pb, r);
      return;
    }
    ctx.driver.release(pb);
    ctx.stats.rx--; // counted again per segment
    for (const p of pieces) this.handle(p, iface);
  }

  // ---- session packets ----

  /** A packet of a session arriving from a LAN side (3.7.3): on to a peer or another LAN. */
  fromLan(pb: PacketBuffer, pkt: IpPacket, iface: number, wing: number): void {
    const s = this.ctx.sessions;
    const id = wing >>> 1;
    if (pkt.isTcp) {
      // 3.7.6: a SYN during the close guard ends the old session and starts a new one.
      if (s.endOnNewSyn(wing, pkt.tcp.flags)) {
        newSession(this, pb, pkt, iface);
        return;
      }
      s.trackTcp(wing, pkt.tcp.flags);
    }
    if (wing & 1) s.setFlags(id, s.flags(id) | Flag.ReverseSeen);
    s.touch(wing, pkt.length);
    const out = s.outPath(wing);
    if (out >= 0 && (wing & 1) === 0) {
      // 6.1: the session's path left service: move it with this packet, if a path is left.
      const p = this.ctx.paths.paths[out];
      if (s.flags(id) & Flag.MovePending || (p !== undefined && !p.up)) {
        const r = moveSession(this.ctx, id);
        if (r && (p === undefined || !p.up)) {
          this.ctx.drop(pb, r);
          return;
        }
      }
    }
    if (s.outPath(wing) >= 0) this.toPeer(pb, pkt, wing, false);
    else this.toLan(pb, pkt, wing, false);
  }

  /**
   * A packet of a session arriving from a peer: HMAC, metadata, handshake, then on. `decoded`:
   * its signature was checked and removed, and this is its metadata block, decoded already (a
   * move's first packet, 6.1).
   */
  fromPeer(pb: PacketBuffer, pkt: IpPacket, wing: number, decoded?: DecodedMetadata): void {
    const ctx = this.ctx;
    const s = ctx.sessions;
    const id = wing >>> 1;
    const inPath = s.inPath(wing);
    // 4.6.3: on a path that carries the TCP session as UDP, the TCP header travels whole inside
    // the datagram and metadata follows it; the signature covers the datagram as it came.
    // (A UDP packet with metadata right after its header is a control packet: 6.6's carrier.)
    const asUdp = pkt.isUdp && leavesAsUdp(s.flags(id), wing ^ 1) && !payloadHasCookie(pkt);
    const mdAt = asUdp ? carriedTcpPayload(pkt) : pkt.payloadOffset;
    if (mdAt < 0) {
      ctx.drop(pb, DropReason.TcpBadDataOffset);
      return;
    }
    const hasMd = asUdp ? hasCookie(pkt.b, mdAt, pkt.end) : payloadHasCookie(pkt);
    // One key per hop, the one the initiator chose (3.7.4); metadata names it (7.3.2).
    let keyId = s.outKeyId(wing ^ 1);
    if (hasMd) {
      const named = peekSecurityId(pkt.b, mdAt, pkt.end);
      if (named > 0) keyId = named;
    }
    let v = decoded ? DropReason.None : this.verify(pb, pkt, inPath, keyId, hasMd);
    if (v === DropReason.HmacMismatch || v === DropReason.MetadataNoCipherKey) {
      // 3.6: the peer may have moved the session to a newer key than ours says.
      const path = ctx.paths.paths[inPath];
      const newest = path ? ctx.keys.newest?.(path.model.peer) : undefined;
      if (newest && newest.securityId !== keyId) {
        const v2 = this.verify(pb, pkt, inPath, newest.securityId, hasMd);
        if (v2 === DropReason.None) {
          keyId = newest.securityId;
          s.setOutKeyId(wing ^ 1, keyId);
          v = v2;
        }
      }
    }
    if (v) {
      ctx.drop(pb, v, true, { path: inPath, session: id });
      return;
    }
    let changed = false;
    if (asUdp) {
      const r = udpToTcp(pkt); // 4.6.3: restored before anything reads the segment
      if (r) {
        ctx.drop(pb, r);
        return;
      }
      changed = true;
    }
    const inPs = ctx.paths.paths[inPath];
    let flags = s.flags(id);
    if (hasMd) {
      const key = ctx.keyOn(inPath, keyId);
      const md = decoded ?? decodeMetadata(pkt.b, pkt.payloadOffset, pkt.end, key?.cipher);
      if (typeof md === 'number') {
        ctx.drop(pb, md, true, { path: inPath, session: id });
        return;
      }
      const icmpFrom = icmpErrorLocation(md);
      if (icmpFrom) {
        relayIcmpError(this, pb, pkt, wing, md.blockLength, icmpFrom); // 6.6
        return;
      }
      if (md.tlvs.length > 0) ctx.stats.metadataReceived++;
      if (wing & 1) {
        // Reverse metadata: the peer has our forward metadata (3.7.4); keep what it tells on.
        flags &= ~Flag.ForwardMetadata;
        const t = ctx.transit.get(id);
        const rc = contextOfMetadata(md, 'reverse');
        if (t && rc) t.reverseContext = rc;
      }
      if (findTlv(md, TlvType.DisableForwardMetadata)) flags &= ~Flag.ForwardMetadata; // 3.7.7
      const keyed = this.payloadMetadata(md, id, wing, flags);
      if (typeof keyed === 'object') {
        ctx.drop(pb, keyed.reason, true, { session: id });
        return;
      }
      flags = keyed;
      const pm = decoded ? undefined : findTlv(md, TlvType.PathMetrics);
      if (pm && inPs) {
        pathMetricsReceived(this, inPs, pm, wing);
        if (pm.drop) {
          // 7.3.7: a packet sent only to carry the figures: taken here, never forwarded (4.2.4).
          ctx.driver.release(pb);
          return;
        }
      }
      const control = findTlv(md, TlvType.ControlMessage);
      if (control) {
        // 4.2.4: a packet the adjacent peer made for us: interpreted here, never forwarded.
        // 2.10: the peer lost this session's state and asks for first-packet metadata again.
        const owed = (wing & 1) === 1 ? Flag.ForwardMetadata : Flag.ReverseMetadata;
        if (control.reason === ControlReason.EnableMetadata) flags |= owed;
        // 7.3.6 "Turn Off Metadata" on this five-tuple (metadata enabled to recover state, say).
        else if (control.reason === ControlReason.DisableMetadata) flags &= ~owed;
        s.setFlags(id, flags);
        ctx.stats.controlReceived++;
        ctx.driver.release(pb);
        return;
      }
      const r = removeMetadata(pb, pkt, md.blockLength);
      if (r) {
        ctx.drop(pb, r);
        return;
      }
    } else if (wing & 1) {
      flags &= ~Flag.ForwardMetadata; // 3.7.5: a packet without metadata completes the handshake
    } else {
      flags &= ~Flag.ReverseMetadata;
    }
    s.setFlags(id, flags);
    if (inPs !== undefined && decoded === undefined) inPs.metrics.rxCount++; // 7.3.7 (SD-46)
    if (pkt.isTcp) s.trackTcp(wing, pkt.tcp.flags);
    s.touch(wing, pkt.length);
    // 3.7.7: a one-way UDP flow: after N forward packets with metadata and no reply, the
    // receiving router completes the handshake itself.
    if (
      hasMd &&
      (wing & 1) === 0 &&
      (flags & (Flag.ReverseSeen | Flag.DisableSent)) === 0 &&
      s.protocolOf(id) !== IPPROTO_TCP &&
      s.packetCount(wing) >= ctx.router.timers.udpAsymmetricMetadataPackets
    ) {
      s.setFlags(id, flags | Flag.DisableSent);
      sendDisableForwardMetadata(this, id);
    }
    // 4.6.6: leaving SVR, an encrypted payload is decrypted (replies once the egress said so).
    const sealed = (wing & 1) === 0 ? Flag.PayloadEncrypted : Flag.ReverseEncrypted;
    if (s.outPath(wing) < 0 && flags & sealed && !(flags & Flag.IcmpInUdp) && pkt.payloadLength > 0) {
      const d = decryptPayload(ctx, pb, pkt, id, (wing & 1) === 1);
      if (d) {
        ctx.drop(pb, d, true, { path: inPath, session: id });
        return;
      }
      changed = true;
    }
    if (flags & Flag.IcmpInUdp && s.outPath(wing) < 0 && pkt.isUdp) {
      // 6.6: leaving SVR, the ICMP message comes out of its UDP header.
      const r = udpToIcmp(pb, pkt);
      if (r) {
        ctx.drop(pb, r);
        return;
      }
      changed = true;
    }
    if (s.outPath(wing) >= 0) this.toPeer(pb, pkt, wing, changed);
    else this.toLan(pb, pkt, wing, changed);
  }

  /**
   * Send a session packet on to a peer (3.7.1.9-3.7.1.11, 3.7.3): metadata while the handshake
   * needs it, else only translation; then the signature.
   */
  toPeer(pb: PacketBuffer, pkt: IpPacket, wing: number, changed: boolean): void {
    const ctx = this.ctx;
    const s = ctx.sessions;
    const id = wing >>> 1;
    if (pkt.ttl <= 1) {
      this.errorBack(pkt, wing, 'time-exceeded');
      ctx.drop(pb, DropReason.TtlExpired);
      return;
    }
    if (s.inPath(wing) < 0 && (pkt.isTcp || pkt.isUdp) && pkt.payloadLength > 0) {
      // 6.4: an adaptive session's first payload from the client decides.
      if ((wing & 1) === 0 && s.flags(id) & Flag.AdaptivePending) adaptiveDecides(ctx, id, pkt);
      // 4.6.6, D-9: from a LAN into SVR, the payload of an encrypted session is encrypted.
      if (s.flags(id) & Flag.PayloadEncrypted) {
        if ((wing & 1) === 0) rekeyIfDue(ctx, id); // 7.4.15
        const e = encryptPayload(ctx, pb, pkt, id);
        if (e) {
          ctx.drop(pb, e);
          return;
        }
        changed = true;
      }
    }
    const outPath = s.outPath(wing);
    const path = ctx.paths.paths[outPath];
    let keyId = s.outKeyId(wing);
    // 3.6: a session moves to the peer's current key; the old one retires after its guard.
    if (path !== undefined && path.keyId !== 0 && path.keyId !== keyId) {
      if (path.keyId > keyId || !ctx.keyOn(outPath, keyId)) {
        keyId = path.keyId;
        s.setOutKeyId(wing, keyId);
      }
    }
    let flags = s.flags(id);
    let needMd =
      (wing & 1) === 0
        ? (flags & Flag.ForwardMetadata) !== 0
        : (flags & (Flag.ReverseMetadata | Flag.KeyEchoOwed)) !== 0;
    // 7.4.15: the egress echoes a new key once, in the reply that first carries it.
    if ((wing & 1) === 1 && flags & Flag.KeyEchoOwed) {
      flags &= ~Flag.KeyEchoOwed;
      s.setFlags(id, flags);
    }
    if (
      needMd &&
      (wing & 1) === 0 &&
      s.protocolOf(id) !== IPPROTO_TCP &&
      s.metadataCount(id) >= ctx.router.timers.udpAsymmetricMetadataPackets
    ) {
      // 3.7.7: at most N packets of a UDP flow carry metadata.
      flags &= ~Flag.ForwardMetadata;
      s.setFlags(id, flags);
      needMd = false;
    }
    // Every packet on the path may grow by a signature (and, rarely, a 12-byte false-positive
    // header): TCP is told a smaller MSS; anything else too big is answered with the MTU.
    let mtu = ctx.outMtu(s.nextHop(wing));
    if (path !== undefined && path.mtu > 0 && path.mtu < mtu) mtu = path.mtu; // 5.1.4
    const signature = this.signatureLength(false);
    const room = mtu - signature - 12;
    if (pkt.isTcp && pkt.tcp.syn) {
      // 4.6.6, D-9: an encrypted segment grows by an IV and up to a block of padding.
      const sealed = sessionPolicy(ctx, s.service(id)) === 'none' ? 0 : 32;
      clampTcpMss(pkt, room - sealed - (pkt.l4Offset - pkt.start) - 20);
    } else if (
      !needMd &&
      (pb.gsoSize > 0 ? pkt.payloadOffset - pkt.start + pb.gsoSize : pkt.length) + signature > mtu
    ) {
      // 6.5: a datagram is cut into pieces for the path (below, once signed), unless its sender
      // asked for it not to be (DF, or IPv6, where routers never fragment): it learns the MTU.
      const mayCut =
        (pkt.isUdp || pkt.isIcmp) && (pb.fragmentLargest > 0 || (pkt.version === 4 && !pkt.ip4.dontFragment));
      if (!mayCut) {
        this.errorBack(pkt, wing, 'too-big', room);
        ctx.drop(pb, DropReason.MtuExceeded);
        return;
      }
    }
    const kw = s.wingOutput(wing, ctx.out, 0);
    const out = ctx.out;
    if (needMd && pkt.isTcp && pkt.length + signature + METADATA_ROOM > mtu && pkt.payloadOffset < pkt.end) {
      // 6.1, 6.2: a full segment has no room for metadata (a session moved in mid-transfer): the
      // metadata goes ahead in a control packet of the session's own, the segment without it.
      // (A datagram takes its metadata and is cut into pieces, 6.5.)
      sendMetadataAlone(this, pkt, wing, keyId);
      needMd = false;
    }
    if (flags & Flag.IcmpInUdp && pkt.isIcmp) {
      const r = icmpToUdp(pb, pkt, out[kw - 2] >>> 16, out[kw - 2] & 0xffff);
      if (r) {
        ctx.drop(pb, r);
        return;
      }
      changed = true;
    }
    let signedMetadata = false;
    if (needMd) {
      const key = ctx.keyOn(outPath, keyId);
      let md = (wing & 1) === 0 ? forwardMetadata(ctx, id) : reverseMetadata(ctx, id);
      if (path?.metrics.due) md = { tlvs: [...md.tlvs, markMetadata(ctx, path)] }; // 7.3.7
      this.loadTarget(s.familyOf(id), out);
      rewriteFull(pkt, ctx.target, true);
      const r = insertMetadata(pb, pkt, md, key?.cipher);
      if (r) {
        ctx.drop(pb, r);
        return;
      }
      if ((wing & 1) === 0) s.countMetadata(id);
      ctx.stats.metadataSent++;
      signedMetadata = true;
    } else {
      // 7.3.7: TLV 26 in a header-only block, at a colour change or to answer the peer's; it
      // also protects a payload that starts with the cookie.
      if (path?.metrics.due && markPacket(ctx, path, pb, pkt, mtu - this.signatureLength(true)))
        signedMetadata = true;
      // 4.2.6: a payload that starts with the cookie gets an empty header in front.
      else if (payloadHasCookie(pkt)) {
        const r = protectFalsePositive(pb, pkt);
        if (typeof r === 'number' && r !== 0) {
          ctx.drop(pb, r);
          return;
        }
        signedMetadata = true;
      }
      this.translate(pkt, wing, out, changed);
    }
    if (pkt.isTcp && leavesAsUdp(flags, wing)) {
      // 4.2.7: every packet of the session crosses this path as UDP, metadata or not.
      const t = tcpToUdp(pkt);
      if (t) {
        ctx.drop(pb, t);
        return;
      }
    }
    const r = this.sign(pb, pkt, outPath, keyId, signedMetadata);
    if (r) {
      ctx.drop(pb, r);
      return;
    }
    if (path !== undefined) {
      const m = path.metrics; // 7.3.7 (SD-46): a count per colour
      m.sent[m.txColor]++;
      if (!m.started) startColours(ctx, m);
    }
    if (pb.gsoSize === 0 && pkt.length > mtu) {
      // 6.5: too big for the path, whole and signed: in pieces (SD-41); TCP never gets here.
      if (pkt.isUdp) sendInPieces(ctx, pb, pkt, s.nextHop(wing), keyId, mtu);
      else ctx.drop(pb, DropReason.MtuExceeded);
      return;
    }
    ctx.sendVia(s.nextHop(wing), pb);
  }

  /** Send a session packet out of SVR to a LAN (3.7.2.4, 4.6.4): original addresses restored. */
  toLan(pb: PacketBuffer, pkt: IpPacket, wing: number, changed: boolean): void {
    const ctx = this.ctx;
    if (pkt.ttl <= 1) {
      this.errorBack(pkt, wing, 'time-exceeded');
      ctx.drop(pb, DropReason.TtlExpired);
      return;
    }
    const nextHop = ctx.sessions.nextHop(wing);
    ctx.sessions.wingOutput(wing, ctx.out, 0);
    this.translate(pkt, wing, ctx.out, changed);
    const mtu = ctx.outMtu(nextHop);
    if (pb.gsoSize === 0 && pkt.length > mtu) {
      // 6.5: out of SVR as ordinary IP fragments, no larger than the largest fragment seen.
      const pieces = fragmentForLan(pb, pkt, mtu);
      if (!pieces) {
        this.errorBack(pkt, wing, 'too-big', mtu);
        ctx.drop(pb, DropReason.MtuExceeded);
        return;
      }
      ctx.driver.release(pb);
      for (const f of pieces) ctx.sendVia(nextHop, f);
      return;
    }
    ctx.sendVia(nextHop, pb);
  }

  /**
   * A session packet this router cannot forward (TTL ran out; too big and not to be cut): the
   * ICMP error to its source, back along the session when it came from a peer (6.6), else
   * straight back on the LAN it came from.
   */
  private errorBack(pkt: IpPacket, wing: number, kind: 'time-exceeded' | 'too-big', mtu = 0): void {
    const ctx = this.ctx;
    const s = ctx.sessions;
    if (s.inPath(wing) >= 0) errorToPeer(this, pkt, wing, kind, mtu);
    else sendIcmpError(ctx, pkt, ctx.nextHops.get(s.nextHop(wing ^ 1)).iface, kind, mtu);
  }

  /**
   * 4.6.6, 6.4: what metadata says about payload encryption. From upstream, TLV 45 gives the key
   * (an egress keeps it and confirms in reverse metadata; a transit passes it on); from
   * downstream, TLV 11 says replies come encrypted. The session's flags, or why the key is refused.
   */
  private payloadMetadata(
    md: DecodedMetadata,
    id: number,
    wing: number,
    flags: number,
  ): number | { reason: DropReason } {
    const ctx = this.ctx;
    const t = ctx.transit.get(id);
    if ((wing & 1) === 0) {
      const k = findTlv(md, TlvType.SecurityKey);
      if (!k) return flags;
      if (t) {
        if (t.securityKey !== k.key) flags |= Flag.ForwardMetadata; // on with the next packet
        t.securityKey = k.key;
        return flags;
      }
      const fresh = ctx.payloadKeys.get(id)?.toPem() !== k.key;
      const r = learnSessionKey(ctx, id, k.key);
      if (r) return { reason: r };
      // Confirmed in reverse metadata with the next reply, whatever the handshake says (7.4.15).
      return flags | Flag.PayloadEncrypted | (fresh ? Flag.KeyEchoOwed : 0);
    }
    const sealed = findTlv(md, TlvType.SessionEncrypted) !== undefined;
    const echo = findTlv(md, TlvType.SecurityKey)?.key;
    if (t) {
      // Passed back with the next reply when it says something new.
      if ((sealed && !t.reverseEncrypted) || (echo !== undefined && echo !== t.reverseKey))
        flags |= Flag.ReverseMetadata;
      if (sealed) t.reverseEncrypted = true;
      if (echo !== undefined) t.reverseKey = echo;
      return flags;
    }
    // 7.4.15: the egress took the new key: replies from here on come under it.
    if (echo !== undefined && echo === ctx.payloadKeys.get(id)?.toPem()) ctx.payloadRxKeys.delete(id);
    return sealed ? flags | Flag.ReverseEncrypted : flags;
  }

  /** 6.5: a piece of a packet a peer cut for its path: held until the packet is whole (SD-41). */
  private piece(pb: PacketBuffer, pkt: IpPacket, iface: number): void {
    const ctx = this.ctx;
    const path = ctx.paths.find(iface, packetSource(pkt));
    if (path < 0) {
      ctx.drop(pb, DropReason.UnknownPeer, true, { iface, source: ipToString(packetSource(pkt)) });
      return;
    }
    ctx.stats.piecesReceived++;
    const r = ctx.svrReassembly.add(pkt, path, ctx.now());
    if (typeof r === 'number') {
      ctx.drop(pb, r, r === DropReason.ReassemblyOverlap, { path });
      return;
    }
    ctx.driver.release(pb);
    if (r) {
      ctx.stats.rx--; // each piece was counted
      this.handle(r, iface);
    }
  }

  /** Rewrite to a wing's output: with the saved deltas (fast path) unless bytes changed. */
  private translate(pkt: IpPacket, wing: number, out: Uint32Array, changed: boolean): void {
    const ctx = this.ctx;
    const s = ctx.sessions;
    const fam = s.familyOf(wing >>> 1);
    if (changed) {
      this.loadTarget(fam, out);
      rewriteFull(pkt, ctx.target, true);
      return;
    }
    ctx.stats.fastPath++;
    if (fam === 4)
      rewriteV4(pkt, out[0], out[1], out[2] >>> 16, out[2] & 0xffff, s.ipDelta(wing), s.l4Delta(wing), true);
    else {
      this.loadTarget(6, out);
      rewriteV6(
        pkt,
        ctx.target.src6,
        0,
        ctx.target.dst6,
        0,
        out[8] >>> 16,
        out[8] & 0xffff,
        s.l4Delta(wing),
        true,
      );
    }
  }

  /** Fill the rewrite target from an output key (SessionTable key layout). */
  loadTarget(family: 4 | 6, out: Uint32Array): void {
    const t = this.ctx.target;
    if (family === 4) {
      t.src4 = out[0];
      t.dst4 = out[1];
      t.srcPort = out[2] >>> 16;
      t.dstPort = out[2] & 0xffff;
      return;
    }
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        t.src6[4 * i + j] = out[i] >>> (24 - 8 * j);
        t.dst6[4 * i + j] = out[4 + i] >>> (24 - 8 * j);
      }
    }
    t.srcPort = out[8] >>> 16;
    t.dstPort = out[8] & 0xffff;
  }

  /** Bytes a signature adds to a packet on the path, per the authority's scope. */
  private signatureLength(hasMetadata: boolean): number {
    const h = this.ctx.authority.security.hmac;
    if (h.scope === 'none' || (h.scope === 'metadata' && !hasMetadata)) return 0;
    return h.method === 'sha1' ? 20 : h.method === 'sha256' ? 32 : 16;
  }

  // ---- signatures (4.5, D-1, D-2) ----

  private tracker(path: number): WindowTracker {
    const peer = this.ctx.paths.get(path)?.model.peer ?? '';
    let t = this.trackers.get(peer);
    if (!t) {
      t = new WindowTracker();
      this.trackers.set(peer, t);
    }
    return t;
  }

  /** Verify and strip the signature per the authority's scope (R-4.5.2-a, R-4.6.1-b). */
  verify(pb: PacketBuffer, pkt: IpPacket, path: number, keyId: number, hasMetadata: boolean): DropReason {
    const ctx = this.ctx;
    const h = ctx.authority.security.hmac;
    if (h.scope === 'none' || (h.scope === 'metadata' && !hasMetadata)) return DropReason.None;
    const key = ctx.keyOn(path, keyId)?.hmac;
    if (!key) return DropReason.MetadataNoCipherKey;
    const window = h.timeBased ? hmacWindow(ctx.now()) : undefined;
    const r = checkPacketSignature(pkt, key, window, this.tracker(path)).reason;
    if (r) return r;
    return shrinkTail(pb, pkt, key.length);
  }

  /** Sign per the authority's scope (R-4.5.1-a..e, R-8.1-a: always when metadata is present). */
  sign(pb: PacketBuffer, pkt: IpPacket, path: number, keyId: number, hasMetadata: boolean): DropReason {
    const ctx = this.ctx;
    const h = ctx.authority.security.hmac;
    if (h.scope === 'none' || (h.scope === 'metadata' && !hasMetadata)) return DropReason.None;
    const key = ctx.keyOn(path, keyId)?.hmac;
    if (!key) return DropReason.MetadataNoCipherKey;
    return signPacket(pb, pkt, key, h.timeBased ? hmacWindow(ctx.now()) : undefined);
  }

  /** End idle and closed sessions, and drop fragments held too long (call about once a second). */
  expire(): number {
    const now = this.ctx.now();
    this.ctx.reassembly.expire(now);
    this.ctx.svrReassembly.expire(now);
    return this.ctx.sessions.expire();
  }
}
