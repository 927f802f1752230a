import type { PacketBuffer } from '../base/packet-buffer.js';
import type { TimerHandle } from '../base/scheduler.js';
import { meanOpinionScore } from '../peering/quality.js';
import { meetsSla, type PathQuality } from '../policy/path-selection.js';
import { findTlv, type Metadata } from '../wire/metadata/block.js';
import { insertMetadata } from '../wire/metadata/insert.js';
import { type PathMetricsTlv, TlvType } from '../wire/metadata/tlv.js';
import type { IpPacket } from '../wire/packet.js';
import type { DataPlaneContext } from './context.js';
import type { DataPlane } from './dataplane.js';
import { sendPathMetricsProbe } from './generated.js';
import type { PathState } from './paths.js';

/**
 * In-line path metrics (7.3.7, TLV 26; RFC 8321 alternate marking), per peer path.
 *
 * SD-46 (colours and attribution): transmit colours cycle 1..15 (0 is never sent; Rx colour 0
 * means "nothing received yet"), so the previous colour of k is always k-1 and one lost marked
 * packet cannot make two blocks look like one. A colour starts with the first session packet
 * that carries TLV 26 with it: the sender switches colour when it writes the TLV (never on a
 * timer alone, so a packet with no room for the TLV does not move the boundary), and the
 * receiver counts every session packet of the path under the latest Tx colour it has seen.
 * Generated packets (control, D bit) are counted on neither side.
 *
 * SD-47 (exchange and figures): a router marks a new colour every `pathMetricsColorMs` while it
 * sends on the path; a peer answers each new colour once, on its next session packet on the
 * path, or after REPLY_WAIT_MS with a generated packet of that session carrying only TLV 26
 * with the D bit set, which the receiver consumes (4.2.4). Answers to answers are not answered
 * (only a new Tx colour is), so the exchange does not ping-pong.
 * - Round trip: a TLV whose Rx colour is one of ours gives now - start(colour) - RxTime (the
 *   peer's time value already includes its holding time); latency = mean RTT / 2 and jitter =
 *   standard deviation of the RTTs, as BFD's 5.1.5 figures, over the last RTT_WINDOW samples.
 * - Loss (RFC 8321 3.1): the first TLV naming our colour k carries the peer's count of k-1;
 *   loss(k-1) = sent(k-1) - count, modulo 2^15, used only when the peer also acknowledged k-1
 *   (else its count may span several of our colours); loss% over the last LOSS_WINDOW blocks.
 *   Reordering across a boundary moves a packet to the next block (negative loss counts 0).
 *
 * SD-48 (use): in-line figures are fresh for 3 colour periods after their last sample, and
 * loss needs LOSS_MIN_PACKETS packets in its window; fresh figures replace BFD's figure by
 * figure (they describe the traffic actually on the path), the MOS is recomputed from the
 * blend, and path selection and SLA checks for new sessions use the blend.
 */

const COLOURS = 16;
const TIME_MASK = 0x0fffffff;
const COUNT_MASK = 0x7fff;
/** How long an answer waits for a session packet going back before it goes on its own. */
export const REPLY_WAIT_MS = 50;
const RTT_WINDOW = 16;
const LOSS_WINDOW = 8;
const LOSS_MIN_PACKETS = 20;
const FRESH_PERIODS = 3;
/** Bytes TLV 26 in a header-only block adds: metadata header 12, TLV header 4, value 10. */
export const PATH_METRICS_BLOCK = 26;

export interface InlineFigures extends PathQuality {
  /** Round-trip samples and packets in the loss window behind the figures. */
  readonly rttSamples: number;
  readonly lossPackets: number;
  /** When the newest sample was taken (ms, router clock). */
  readonly updatedAt: number;
}

function nextColour(c: number): number {
  return c >= COLOURS - 1 ? 1 : c + 1;
}

export function previousColour(c: number): number {
  return c <= 1 ? COLOURS - 1 : c - 1;
}

/** One path's marking state and samples; the fast path touches only `sent`, `rxCount` and `due`. */
export class PathMetrics {
  // ---- transmit side ----
  /** Current Tx colour; 0 until the first marked packet. */
  txColor = 0;
  /** A new colour is due (its period ran out). */
  newColourDue = false;
  /** A peer's new colour waits for its answer. */
  replyDue = false;
  /** Either of the above: the one flag toPeer reads per packet. */
  due = false;
  /** The first colour is scheduled (the path's first session packet out starts the clock). */
  started = false;
  readonly txStart = new Float64Array(COLOURS);
  /** Session packets sent per colour. */
  readonly sent = new Uint32Array(COLOURS);
  /** The peer has named this colour of ours as its Rx colour. */
  private readonly acked = new Uint8Array(COLOURS);
  // ---- receive side ----
  rxColor = 0;
  /** Session packets received in `rxColor` and in the colour before it. */
  rxCount = 0;
  rxPrevCount = 0;
  private rxTime = 0;
  private rxCachedAt = 0;
  /** The wing an idle answer goes out on (a session of this path coming back). */
  replyWing = -1;
  // ---- samples ----
  private readonly rtts: number[] = [];
  private readonly blocks: { sent: number; lost: number }[] = [];
  private lastSampleAt = Number.NEGATIVE_INFINITY;
  /** New samples since `takeUpdate` last looked. */
  private updated = false;
  tlvSent = 0;
  tlvReceived = 0;
  probesSent = 0;
  colourTimer: TimerHandle | undefined;
  replyTimer: TimerHandle | undefined;

  readonly periodMs: number;

  constructor(periodMs: number) {
    this.periodMs = periodMs > 0 ? periodMs : 0; // 0 (or a model without it): off
    if (this.periodMs === 0) this.started = true;
  }

  get enabled(): boolean {
    return this.periodMs > 0;
  }

  /** TLV 26 for the packet about to leave (switching colour first when one is due). */
  mark(now: number, drop: boolean): PathMetricsTlv {
    if (this.newColourDue && !drop) {
      const c = nextColour(this.txColor);
      this.txColor = c;
      this.txStart[c] = now;
      this.sent[c] = 0;
      this.acked[c] = 0;
      this.newColourDue = false;
    }
    this.replyDue = false;
    this.due = this.newColourDue || this.replyDue;
    this.tlvSent++;
    const c = this.txColor;
    return {
      type: TlvType.PathMetrics,
      txColor: c,
      txTime: c === 0 ? 0 : Math.max(0, Math.round(now - this.txStart[c])) & TIME_MASK,
      rxColor: this.rxColor,
      rxTime: this.rxColor === 0 ? 0 : Math.round(this.rxTime + now - this.rxCachedAt) & TIME_MASK,
      drop,
      previousRxColorCount: this.rxPrevCount & COUNT_MASK,
    };
  }

  /** TLV 26 from the peer. Returns true when it starts a new colour (an answer is due). */
  received(t: PathMetricsTlv, now: number): boolean {
    this.tlvReceived++;
    let fresh = false;
    if (t.txColor !== 0) {
      if (t.txColor !== this.rxColor) {
        this.rxPrevCount = this.rxCount;
        this.rxCount = 0;
        this.rxColor = t.txColor;
        this.replyDue = true;
        this.due = true;
        fresh = true;
      }
      this.rxTime = t.txTime;
      this.rxCachedAt = now;
    }
    const k = t.rxColor;
    if (k === 0 || this.txColor === 0) return fresh;
    if (k === this.txColor || k === previousColour(this.txColor)) {
      const rtt = now - this.txStart[k] - t.rxTime;
      if (rtt >= 0) {
        this.rtts.push(rtt);
        if (this.rtts.length > RTT_WINDOW) this.rtts.shift();
        this.lastSampleAt = now;
        this.updated = true;
      }
    }
    if (this.acked[k] === 0 && (k === this.txColor || k === previousColour(this.txColor))) {
      this.acked[k] = 1;
      const p = previousColour(k);
      if (this.acked[p] === 1) {
        const sent = this.sent[p];
        let lost = (sent - t.previousRxColorCount) & COUNT_MASK;
        if (lost > COUNT_MASK >>> 1) lost = 0; // more arrived than were sent: reordering
        this.blocks.push({ sent, lost: Math.min(lost, sent) });
        if (this.blocks.length > LOSS_WINDOW) this.blocks.shift();
        this.lastSampleAt = now;
        this.updated = true;
      }
    }
    return fresh;
  }

  /** The in-line figures, whether fresh or not (undefined before any sample). */
  figures(): InlineFigures | undefined {
    if (this.lastSampleAt === Number.NEGATIVE_INFINITY) return undefined;
    let sent = 0;
    let lost = 0;
    for (const b of this.blocks) {
      sent += b.sent;
      lost += b.lost;
    }
    const n = this.rtts.length;
    let latencyMs: number | undefined;
    let jitterMs: number | undefined;
    if (n > 0) {
      const mean = this.rtts.reduce((a, b) => a + b, 0) / n;
      latencyMs = mean / 2;
      if (n > 1) jitterMs = Math.sqrt(this.rtts.reduce((a, r) => a + (r - mean) ** 2, 0) / (n - 1));
    }
    const lossPercent = sent >= LOSS_MIN_PACKETS ? (100 * lost) / sent : undefined;
    return {
      latencyMs,
      jitterMs,
      lossPercent,
      rttSamples: n,
      lossPackets: sent,
      updatedAt: this.lastSampleAt,
    };
  }

  /** SD-48: BFD's quality with fresh in-line figures in place of its own. */
  blend(bfd: PathQuality, now: number): PathQuality {
    if (!this.enabled || now - this.lastSampleAt > FRESH_PERIODS * this.periodMs) return bfd;
    const f = this.figures();
    if (!f) return bfd;
    const latencyMs = f.latencyMs ?? bfd.latencyMs;
    const jitterMs = f.jitterMs ?? bfd.jitterMs;
    const lossPercent = f.lossPercent ?? bfd.lossPercent;
    const mos =
      latencyMs !== undefined && jitterMs !== undefined && lossPercent !== undefined
        ? meanOpinionScore(latencyMs, jitterMs, lossPercent)
        : bfd.mos;
    return { latencyMs, jitterMs, lossPercent, mos };
  }

  /** Whether samples came in since the last call. */
  takeUpdate(): boolean {
    const u = this.updated;
    this.updated = false;
    return u;
  }

  /** Forget samples (the path went down or moved: old figures say nothing of the new one). */
  reset(): void {
    this.rtts.length = 0;
    this.blocks.length = 0;
    this.lastSampleAt = Number.NEGATIVE_INFINITY;
  }
}

/**
 * toPeer's hook for a packet with no other metadata (slow path: once per colour and answer):
 * TLV 26 in a header-only block, when the packet has room. Returns whether one went in (the
 * packet then carries metadata and is signed as such); a packet without room leaves the mark for
 * the next one.
 */
export function markPacket(
  ctx: DataPlaneContext,
  path: PathState,
  pb: PacketBuffer,
  pkt: IpPacket,
  room: number,
): boolean {
  const m = path.metrics;
  if (pb.gsoSize > 0 || pkt.isFragment || (!pkt.isTcp && !pkt.isUdp)) return false;
  if (pkt.length + PATH_METRICS_BLOCK > room) return false;
  const now = ctx.now();
  const colourWasDue = m.newColourDue;
  if (insertMetadata(pb, pkt, { tlvs: [m.mark(now, false)] })) return false;
  if (colourWasDue) scheduleColour(ctx, m, now);
  return true;
}

/** TLV 26 for forward or reverse metadata a packet carries anyway (7.3.7 "normally sent"). */
export function markMetadata(ctx: DataPlaneContext, path: PathState): PathMetricsTlv {
  const m = path.metrics;
  const now = ctx.now();
  const colourWasDue = m.newColourDue;
  const t = m.mark(now, false);
  if (colourWasDue) scheduleColour(ctx, m, now);
  return t;
}

/**
 * toPeer's hook for the path's first session packet: the first colour starts one period later,
 * so short sessions see no TLV 26 beyond their handshake's and a path carries marks only while
 * it carries traffic (SD-47).
 */
export function startColours(ctx: DataPlaneContext, m: PathMetrics): void {
  m.started = true;
  scheduleColour(ctx, m, ctx.now());
}

function scheduleColour(ctx: DataPlaneContext, m: PathMetrics, now: number): void {
  if (m.colourTimer) ctx.scheduler.cancel(m.colourTimer);
  m.colourTimer = ctx.scheduler.at(now + m.periodMs, () => {
    m.colourTimer = undefined;
    m.newColourDue = true;
    m.due = true;
  });
}

/**
 * peerFirstPacket's hook: a session's first packet from the peer (no wing yet) counts in the
 * Rx colour like any other, and may bring a new colour, answered on the next packet back.
 */
export function pathMetricsFirstPacket(dp: DataPlane, path: PathState, md: Metadata): void {
  const t = findTlv(md, TlvType.PathMetrics);
  if (t) pathMetricsReceived(dp, path, t, -1);
  if (!t?.drop) path.metrics.rxCount++;
}

/**
 * fromPeer's hook for TLV 26 arriving on session wing `wing` (from the peer on `path`). A new
 * colour is answered on the next packet back, or by a D-bit packet after REPLY_WAIT_MS.
 */
export function pathMetricsReceived(dp: DataPlane, path: PathState, t: PathMetricsTlv, wing: number): void {
  const ctx = dp.ctx;
  const m = path.metrics;
  if (!m.enabled) return;
  if (!m.received(t, ctx.now())) return;
  if (wing >= 0) m.replyWing = wing ^ 1;
  if (m.replyTimer || m.replyWing < 0) return;
  m.replyTimer = ctx.scheduler.at(ctx.now() + REPLY_WAIT_MS, () => {
    m.replyTimer = undefined;
    if (!m.replyDue) return;
    const w = m.replyWing;
    const s = ctx.sessions;
    if (w < 0 || !s.isLive(w >>> 1) || s.outPath(w) < 0 || ctx.paths.get(s.outPath(w)) !== path) return;
    if (sendPathMetricsProbe(dp, w, m.mark(ctx.now(), true))) m.probesSent++;
  });
}

/**
 * SD-48: the paths whose in-line figures changed since the last call and now miss some service
 * policy's SLA (the router then checks the sessions on them, 6.1). Called once a second.
 */
export function inlineSlaMisses(ctx: DataPlaneContext): number[] {
  const out: number[] = [];
  const now = ctx.now();
  for (const ps of ctx.paths.paths) {
    if (!ps?.metrics.takeUpdate()) continue;
    const q = ps.metrics.blend(ps.quality, now);
    if (ctx.fib.services.some((svc) => !meetsSla(svc.policy, q))) out.push(ps.model.id);
  }
  return out;
}
