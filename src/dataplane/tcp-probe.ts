import { ipToString } from '../base/address.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import { insertMetadata } from '../wire/metadata/insert.js';
import { ControlReason, type Tlv, TlvType } from '../wire/metadata/tlv.js';
import { type IpPacket, packetDestination, packetSource } from '../wire/packet.js';
import { IPPROTO_TCP } from '../wire/protocol.js';
import { TCP_ACK, TCP_SYN } from '../wire/tcp.js';
import type { DataPlane } from './dataplane.js';
import { controlPacket } from './generated.js';
import type { PathState } from './paths.js';
import { nextHopToward, pathNextHop } from './routing.js';

/**
 * 2.4 "Pathway Obstructions": "the two devices that represent the peer pathway endpoints may
 * determine through testing if there is a firewall ... or other active middlebox between" them.
 * svr's test (docs/spec-decisions.md SD-32): each router sends, on each of its paths in service,
 * a TCP SYN from its waypoint to the peer's, carrying signed metadata with TLV 24 reason 5
 * (probe); the peer answers with a SYN/ACK carrying the same. A SYN with metadata is what the
 * session's first packet is, and what such middleboxes drop. No answer to three probes a second
 * apart: the path carries TCP sessions as UDP from then on (4.2.7). Paths are probed again when
 * they come back into service and every `REPROBE_MS`, so a middlebox that appears or goes away
 * is noticed.
 */

/** Probes in a round, one a second, before the path counts as obstructed. */
const PROBE_TRIES = 3;
const PROBE_INTERVAL_MS = 1000;
/** A path whose round concluded is probed again after this long. */
export const REPROBE_MS = 60_000;

/** Run each path's probe one step; the router calls this once a second. */
export function probePaths(dp: DataPlane): void {
  const ctx = dp.ctx;
  const now = ctx.now();
  for (const p of ctx.paths.paths) {
    if (!p) continue;
    const mode = p.model.tcpToUdp;
    if (mode !== 'auto') {
      p.tcpToUdp = mode === 'always';
      continue;
    }
    const pr = p.probe;
    if (!p.up || !p.remoteAddress || !ctx.keys.current(p.model.peer)) {
      // Out of service: the next round starts when it is back.
      endRound(dp, p);
      pr.concludedAt = Number.NEGATIVE_INFINITY;
      continue;
    }
    if (pr.phase === 'idle') {
      if (now - pr.concludedAt < REPROBE_MS) continue;
      pr.tries = 0;
      pr.pair = ctx.wayports.allocate(p.model.id);
      if (pr.pair < 0) continue; // every pair in use: sessions first, probe later
      pr.phase = 'waiting';
    } else if (now - pr.sentAt < PROBE_INTERVAL_MS) continue;
    if (pr.tries >= PROBE_TRIES) {
      conclude(dp, p, true);
      continue;
    }
    sendProbe(dp, p);
  }
}

function ports(dp: DataPlane, p: PathState): { even: number; odd: number } | undefined {
  const a = dp.ctx.wayports.allocator(p.model.id);
  return a && p.probe.pair >= 0
    ? { even: a.evenPort(p.probe.pair), odd: a.oddPort(p.probe.pair) }
    : undefined;
}

function probeTlvs(keyId: number): Tlv[] {
  return [
    { type: TlvType.SecurityIdentifier, securityId: keyId },
    { type: TlvType.ControlMessage, reason: ControlReason.PathProbe },
  ];
}

function sendProbe(dp: DataPlane, p: PathState): void {
  const ctx = dp.ctx;
  const key = ctx.keys.current(p.model.peer);
  const pp = ports(dp, p);
  if (!key || !pp || !p.remoteAddress) return;
  p.probe.tries++;
  p.probe.sentAt = ctx.now();
  const seq = ctx.random.u32();
  const c = controlPacket(p.localAddress, p.remoteAddress, IPPROTO_TCP, pp.even, pp.odd, {
    tcp: { seq, ack: 0, window: 65535, flags: TCP_SYN },
  });
  if (!c || insertMetadata(c.pb, c.pkt, { tlvs: probeTlvs(key.securityId) })) return;
  if (dp.sign(c.pb, c.pkt, p.model.id, key.securityId, true)) return;
  ctx.stats.probesSent++;
  ctx.sendVia(pathNextHop(ctx, p), c.pb);
}

/**
 * A verified probe from the peer on path `pathId` (its metadata already read): a SYN is answered
 * with a SYN/ACK carrying the same control message; a SYN/ACK answers our own probe.
 */
export function answerProbe(
  dp: DataPlane,
  pb: PacketBuffer,
  pkt: IpPacket,
  iface: number,
  pathId: number,
  keyId: number,
): void {
  const ctx = dp.ctx;
  ctx.stats.probesReceived++;
  const p = ctx.paths.get(pathId);
  const flags = pkt.isTcp ? pkt.tcp.flags & (TCP_SYN | TCP_ACK) : 0;
  if (p && flags === (TCP_SYN | TCP_ACK)) {
    const pp = ports(dp, p);
    if (p.probe.phase === 'waiting' && pp && pkt.dstPort === pp.even) conclude(dp, p, false);
    ctx.driver.release(pb);
    return;
  }
  if (!p || flags !== TCP_SYN) {
    ctx.driver.release(pb);
    return;
  }
  const to = packetSource(pkt);
  const c = controlPacket(packetDestination(pkt), to, IPPROTO_TCP, pkt.dstPort, pkt.srcPort, {
    tcp: { seq: ctx.random.u32(), ack: (pkt.tcp.seq + 1) >>> 0, window: 65535, flags: TCP_SYN | TCP_ACK },
  });
  ctx.driver.release(pb);
  if (!c || insertMetadata(c.pb, c.pkt, { tlvs: probeTlvs(keyId) })) return;
  if (dp.sign(c.pb, c.pkt, pathId, keyId, true)) return;
  ctx.stats.probesSent++;
  ctx.sendVia(nextHopToward(ctx, to, iface), c.pb);
}

/** The round's verdict: `blocked` when no probe was answered. */
function conclude(dp: DataPlane, p: PathState, blocked: boolean): void {
  const ctx = dp.ctx;
  endRound(dp, p);
  p.probe.concludedAt = ctx.now();
  if (p.tcpToUdp === blocked) return;
  p.tcpToUdp = blocked;
  const where = `${p.model.peer} ${p.model.vector} ${p.remoteAddress ? ipToString(p.remoteAddress) : ''}`;
  ctx.events.emit(
    ctx.now(),
    'info',
    blocked ? 'middlebox-detected' : 'middlebox-cleared',
    blocked
      ? `path to ${where}: TCP SYNs with metadata do not pass; TCP sessions cross as UDP (2.4, 4.2.7)`
      : `path to ${where}: TCP SYNs with metadata pass; TCP sessions cross as TCP`,
    { path: p.model.id },
  );
}

function endRound(dp: DataPlane, p: PathState): void {
  const pr = p.probe;
  if (pr.pair >= 0) dp.ctx.wayports.release(p.model.id, pr.pair);
  pr.pair = -1;
  pr.phase = 'idle';
  pr.tries = 0;
}
