import { type IpAddress, ipToString } from '../base/address.js';
import type { Random } from '../base/random.js';
import type { Scheduler, TimerHandle } from '../base/scheduler.js';
import type { PacketSpec } from '../wire/builder.js';
import type { IpPacket } from '../wire/packet.js';
import { packetDestination, packetSource } from '../wire/packet.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../wire/tcp.js';
import { ByteQueue } from './byte-queue.js';

/**
 * A small, real TCP (RFC 9293) for the emulator's hosts: three-way handshake with MSS option,
 * cumulative ACKs sent for every segment, a fixed send window, retransmission on timeout (RFC
 * 6298 RTO with Karn's rule and exponential backoff), fast retransmit on three duplicate ACKs
 * with NewReno-style recovery (RFC 6582: each partial ACK retransmits the next hole), in-order
 * delivery with out-of-order segments held, FIN close both ways, RST, and a short TIME-WAIT.
 * No congestion control, no window scaling, no SACK: the emulator's links are what is under
 * test, and a fixed window keeps runs easy to reason about.
 *
 * One state machine with the RFC's named states; `input()` dispatches on the state. Callbacks
 * to the application run after a segment has been processed, never in the middle.
 */

export type TcpState =
  | 'CLOSED'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT';

/** What TCP needs of the host it runs on. */
export interface TcpHost {
  readonly sim: Scheduler;
  readonly random: Random;
  count(name: string): void;
  /** Our source address towards `dst` and the egress MTU, or undefined with no route. */
  pathTo(dst: IpAddress): { src: IpAddress; mtu: number } | undefined;
  sendIp(spec: PacketSpec): boolean;
}

export interface TcpOptions {
  /** Most bytes in flight (the send window); default 64 KiB, further limited by the peer's window. */
  readonly window?: number;
  /** Retransmissions of one segment before giving up with an error; default 10. */
  readonly maxRetries?: number;
  /** Default 2 s: long enough for a lost last ACK to be retransmitted, short for test runs. */
  readonly timeWaitMs?: number;
  /** Set DF on segments (default true, as real stacks do for path MTU discovery, RFC 1191). */
  readonly dontFragment?: boolean;
}

export interface TcpConnectOptions extends TcpOptions {
  /** Source port; an ephemeral port from the seeded random when omitted. */
  readonly localPort?: number;
}

/** What the receive side advertises: no window scaling, and received data is consumed at once. */
const RCV_WINDOW = 65535;
const MIN_RTO = 200;
const MAX_RTO = 5000;
/** RFC 6298 2.1. */
const INITIAL_RTO = 1000;
/** RFC 9293 3.7.1: the MSS to assume when the peer sends no option. */
const DEFAULT_MSS = 536;
const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 16384;
const EMPTY = new Uint8Array(0);

/** Sequence arithmetic modulo 2^32 (RFC 9293 3.4). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
function seqLt(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}
function seqLe(a: number, b: number): boolean {
  return seqDiff(a, b) <= 0;
}
function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** The fields of a received segment TCP acts on. */
export interface TcpSegment {
  readonly seq: number;
  readonly ack: number;
  readonly flags: number;
  readonly window: number;
  /** MSS option of a SYN, or undefined. */
  readonly mss: number | undefined;
  readonly payload: Uint8Array;
}

/** Read the segment out of a parsed packet (checksum already verified by the host). */
export function tcpSegmentOf(pkt: IpPacket): TcpSegment {
  const t = pkt.tcp;
  let mss: number | undefined;
  if (t.syn) {
    // Options: kind 0 ends, 1 pads, others are kind, length, value (RFC 9293 3.2).
    const b = pkt.b;
    let i = t.optionsOffset;
    const end = t.optionsOffset + t.optionsLength;
    while (i < end) {
      const kind = b[i];
      if (kind === 0) break;
      if (kind === 1) {
        i++;
        continue;
      }
      const len = i + 1 < end ? b[i + 1] : 0;
      if (len < 2 || i + len > end) break;
      if (kind === 2 && len === 4) mss = (b[i + 2] << 8) | b[i + 3];
      i += len;
    }
  }
  return {
    seq: t.seq,
    ack: t.ack,
    flags: t.flags,
    window: t.window,
    mss,
    payload: pkt.b.slice(pkt.payloadOffset, pkt.payloadEnd),
  };
}

function segmentLength(s: TcpSegment): number {
  return s.payload.length + (s.flags & TCP_SYN ? 1 : 0) + (s.flags & TCP_FIN ? 1 : 0);
}

function mssOption(mss: number): Uint8Array {
  return Uint8Array.of(2, 4, mss >>> 8, mss & 0xff);
}

export interface TcpStats {
  segmentsSent: number;
  segmentsReceived: number;
  bytesAcked: number;
  retransmits: number;
  fastRetransmits: number;
  timeouts: number;
  duplicateAcks: number;
  outOfOrder: number;
  pathMtuUpdates: number;
}

/** A segment that arrived ahead of a hole, held until the hole fills. */
interface Held {
  readonly seq: number;
  readonly data: Uint8Array;
  readonly fin: boolean;
}

export class TcpListener {
  accepted = 0;
  open = true;

  constructor(
    private readonly stack: TcpStack,
    readonly port: number,
    readonly onConnection: (conn: TcpConnection) => void,
    readonly options: TcpOptions,
  ) {}

  close(): void {
    this.open = false;
    this.stack.unlisten(this);
  }
}

export class TcpConnection {
  state: TcpState = 'CLOSED';
  /** Why the connection ended abnormally: 'connection refused', 'connection reset', 'connection timed out', ... */
  error: string | undefined;
  onConnect: (() => void) | undefined;
  onData: ((data: Uint8Array) => void) | undefined;
  /** The peer closed its side (its FIN arrived in order). */
  onEnd: (() => void) | undefined;
  /** The connection is gone: closed normally (error undefined), reset, refused or timed out. */
  onClose: ((error: string | undefined) => void) | undefined;
  readonly stats: TcpStats = {
    segmentsSent: 0,
    segmentsReceived: 0,
    bytesAcked: 0,
    retransmits: 0,
    fastRetransmits: 0,
    timeouts: 0,
    duplicateAcks: 0,
    outOfOrder: 0,
    pathMtuUpdates: 0,
  };
  /** Largest payload per segment: ours from the interface MTU, lowered to the peer's and by PMTUD. */
  mss: number;

  // Send side (RFC 9293 3.3.1): sendQueue holds the bytes from sndUna on, sent or not.
  private iss = 0;
  private sndUna = 0;
  private sndNxt = 0;
  private sndWnd = RCV_WINDOW;
  private readonly sendQueue = new ByteQueue();
  private finQueued = false;
  private finSent = false;
  private finSeq = 0;
  // Receive side.
  private irs = 0;
  private rcvNxt = 0;
  private held: Held[] = [];
  private readonly chunks: Uint8Array[] = [];
  private receivedBytes = 0;
  // Retransmission (RFC 6298) and recovery.
  private rto = INITIAL_RTO;
  private srtt = 0;
  private rttvar = 0;
  private hasRtt = false;
  private timing = false;
  private rttSeq = 0;
  private rttStart = 0;
  private retries = 0;
  private rtxDeadline: number | undefined;
  private rtxTimer: TimerHandle | undefined;
  private rtxTimerAt = 0;
  private dupAcks = 0;
  private inRecovery = false;
  private recover = 0;
  private timeWaitTimer: TimerHandle | undefined;
  // Application callbacks owed once the current segment is processed.
  private owedAccept = false;
  private owedConnect = false;
  private owedData: Uint8Array[] = [];
  private owedEnd = false;
  private finished = false;

  private readonly window: number;
  private readonly maxRetries: number;
  private readonly timeWaitMs: number;
  private readonly dontFragment: boolean;

  constructor(
    private readonly stack: TcpStack,
    private readonly host: TcpHost,
    readonly localAddress: IpAddress,
    readonly localPort: number,
    readonly remoteAddress: IpAddress,
    readonly remotePort: number,
    mtu: number,
    options: TcpOptions,
    private readonly listener?: TcpListener,
  ) {
    this.mss = Math.max(64, mtu - (localAddress.version === 4 ? 40 : 60));
    this.window = options.window ?? 65536;
    this.maxRetries = options.maxRetries ?? 10;
    this.timeWaitMs = options.timeWaitMs ?? 2000;
    this.dontFragment = options.dontFragment ?? true;
  }

  get key(): string {
    return connectionKey(this.localAddress, this.localPort, this.remoteAddress, this.remotePort);
  }

  /** Bytes received in order so far. */
  get bytesReceived(): number {
    return this.receivedBytes;
  }

  /** Everything received, concatenated. */
  received(): Uint8Array {
    if (this.chunks.length !== 1) {
      const all = new Uint8Array(this.receivedBytes);
      let o = 0;
      for (const c of this.chunks) {
        all.set(c, o);
        o += c.length;
      }
      this.chunks.length = 0;
      this.chunks.push(all);
    }
    return this.chunks[0];
  }

  /** Queue bytes for sending; false once the connection can send no more. */
  send(data: Uint8Array): boolean {
    const s = this.state;
    if (
      this.finQueued ||
      !(s === 'SYN_SENT' || s === 'SYN_RECEIVED' || s === 'ESTABLISHED' || s === 'CLOSE_WAIT')
    )
      return false;
    this.sendQueue.push(data);
    this.output();
    return true;
  }

  /** Close our side with a FIN once queued data is sent. */
  close(): void {
    switch (this.state) {
      case 'SYN_SENT':
      case 'SYN_RECEIVED':
        // Sent after the handshake, so connect-send-close works as with sockets.
        this.finQueued = true;
        break;
      case 'ESTABLISHED':
        this.finQueued = true;
        this.setState('FIN_WAIT_1');
        this.output();
        break;
      case 'CLOSE_WAIT':
        this.finQueued = true;
        this.setState('LAST_ACK');
        this.output();
        break;
      default:
        break;
    }
  }

  /** Reset the connection at once. */
  abort(): void {
    if (this.finished) return;
    if (this.state !== 'SYN_SENT' && this.state !== 'TIME_WAIT') this.emit(this.sndNxt, TCP_RST | TCP_ACK);
    this.end('aborted');
  }

  // ---- Opening ------------------------------------------------------------------------------

  /** @internal Active open: send the SYN. */
  openActive(): void {
    this.iss = this.host.random.u32();
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.setState('SYN_SENT');
    this.startTiming(this.iss);
    this.sendSyn();
    this.armRtx();
  }

  /** @internal Passive open from a listener's SYN: answer with SYN-ACK. */
  openPassive(syn: TcpSegment): void {
    this.irs = syn.seq;
    this.rcvNxt = seqAdd(syn.seq, 1);
    this.mss = Math.min(this.mss, syn.mss ?? DEFAULT_MSS);
    this.sndWnd = syn.window;
    this.iss = this.host.random.u32();
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.setState('SYN_RECEIVED');
    this.startTiming(this.iss);
    this.sendSynAck();
    this.armRtx();
  }

  /** @internal Fail before any segment was sent (no route). */
  failSoon(reason: string): void {
    this.host.sim.at(this.host.sim.now(), () => this.end(reason));
  }

  // ---- Input --------------------------------------------------------------------------------

  /** @internal A segment for this connection. */
  input(seg: TcpSegment): void {
    this.stats.segmentsReceived++;
    if (this.state === 'SYN_SENT') this.inputSynSent(seg);
    else if (this.state !== 'CLOSED') this.inputSynchronized(seg);
    this.payDebts();
  }

  private inputSynSent(seg: TcpSegment): void {
    const ack = (seg.flags & TCP_ACK) !== 0;
    if (ack && seg.ack !== seqAdd(this.iss, 1)) {
      if (!(seg.flags & TCP_RST)) this.emitRaw(seg.ack, 0, TCP_RST);
      return;
    }
    if (seg.flags & TCP_RST) {
      if (ack) this.end('connection refused');
      return;
    }
    if (!(seg.flags & TCP_SYN)) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.mss = Math.min(this.mss, seg.mss ?? DEFAULT_MSS);
    this.sndWnd = seg.window;
    if (!ack) {
      // Simultaneous open (RFC 9293 3.5, figure 8).
      this.setState('SYN_RECEIVED');
      this.sendSynAck();
      return;
    }
    this.handshakeDone(seg.ack);
    this.sendAck();
    this.output();
  }

  private inputSynchronized(seg: TcpSegment): void {
    const flags = seg.flags;
    // Our SYN-ACK was lost and the peer repeats its SYN.
    if (this.state === 'SYN_RECEIVED' && flags & TCP_SYN && !(flags & TCP_ACK) && seg.seq === this.irs) {
      this.sendSynAck();
      return;
    }
    if (!this.acceptable(seg.seq, segmentLength(seg))) {
      // Old duplicates (a retransmission of data we have, a repeated FIN): re-acknowledge.
      if (!(flags & TCP_RST)) this.sendAck();
      return;
    }
    if (flags & TCP_RST) {
      // RFC 1337: a reset must not cut TIME-WAIT short. After both FINs a reset is no error
      // (RFC 9293 3.10.7.4): stale ACKs crossing a close draw resets from the closed side.
      if (this.state === 'TIME_WAIT') return;
      this.end(this.state === 'CLOSING' || this.state === 'LAST_ACK' ? undefined : 'connection reset');
      return;
    }
    if (flags & TCP_SYN) {
      // A SYN inside the window of a synchronized connection (RFC 9293 3.10.7.4).
      this.emit(this.sndNxt, TCP_RST | TCP_ACK);
      this.end('connection reset');
      return;
    }
    if (!(flags & TCP_ACK)) return;
    if (this.state === 'SYN_RECEIVED') {
      if (!(seqLt(this.sndUna, seg.ack) && seqLe(seg.ack, this.sndNxt))) {
        this.emitRaw(seg.ack, 0, TCP_RST);
        return;
      }
      this.handshakeDone(seg.ack);
      this.sndWnd = seg.window;
      this.output();
    }
    this.processAck(seg);
    switch (this.state) {
      case 'ESTABLISHED':
      case 'FIN_WAIT_1':
      case 'FIN_WAIT_2':
        this.processText(seg);
        break;
      case 'CLOSED':
        break;
      default:
        // The peer's FIN came already; anything after it is a duplicate to re-acknowledge.
        if (segmentLength(seg) > 0) this.sendAck();
    }
  }

  /** RFC 9293 3.10.7.4 acceptability test against our fixed receive window. */
  private acceptable(seq: number, len: number): boolean {
    const inWindow = (s: number): boolean => {
      const d = seqDiff(s, this.rcvNxt);
      return d >= 0 && d < RCV_WINDOW;
    };
    return len === 0 ? inWindow(seq) : inWindow(seq) || inWindow(seqAdd(seq, len - 1));
  }

  private handshakeDone(ack: number): void {
    this.sndUna = seqAdd(this.iss, 1);
    this.sampleRtt(ack);
    this.retries = 0;
    this.stopRtx();
    this.setState('ESTABLISHED');
    if (this.listener) this.owedAccept = true;
    this.owedConnect = true;
    if (this.finQueued) this.setState('FIN_WAIT_1');
  }

  private processAck(seg: TcpSegment): void {
    const ack = seg.ack;
    if (seqLt(this.sndNxt, ack)) {
      // Acknowledges something never sent.
      this.sendAck();
      return;
    }
    if (seqLt(this.sndUna, ack)) this.newAck(ack, seg.window);
    else if (ack === this.sndUna) {
      const pure = seg.payload.length === 0 && !(seg.flags & (TCP_SYN | TCP_FIN));
      if (pure && this.sndUna !== this.sndNxt && seg.window === this.sndWnd) this.duplicateAck();
      this.sndWnd = seg.window;
    }
    if (!this.finSent || this.sndUna !== seqAdd(this.finSeq, 1)) return;
    // Our FIN is acknowledged.
    if (this.state === 'FIN_WAIT_1') this.setState('FIN_WAIT_2');
    else if (this.state === 'CLOSING') this.enterTimeWait();
    else if (this.state === 'LAST_ACK') this.end(undefined);
  }

  private newAck(ack: number, window: number): void {
    const n = seqDiff(ack, this.sndUna);
    const finAcked = this.finSent && ack === seqAdd(this.finSeq, 1);
    const data = finAcked ? n - 1 : n;
    this.sendQueue.drop(data);
    this.stats.bytesAcked += data;
    this.sndUna = ack;
    this.sndWnd = window;
    this.retries = 0;
    this.dupAcks = 0;
    this.sampleRtt(ack);
    if (this.inRecovery) {
      if (seqLe(this.recover, ack)) this.inRecovery = false;
      // A partial ACK: the next hole is at the new sndUna (RFC 6582 3.2 step 3).
      else this.retransmitFirst();
    }
    if (this.sndUna === this.sndNxt) this.stopRtx();
    else this.armRtx();
    this.output();
  }

  private duplicateAck(): void {
    this.stats.duplicateAcks++;
    if (++this.dupAcks !== 3 || this.inRecovery) return;
    this.inRecovery = true;
    this.recover = this.sndNxt;
    this.stats.fastRetransmits++;
    this.retransmitFirst();
  }

  /** Data and FIN, in order, with segments ahead of a hole held back. */
  private processText(seg: TcpSegment): void {
    let seq = seg.seq;
    let data = seg.payload;
    let fin = (seg.flags & TCP_FIN) !== 0;
    const early = seqDiff(this.rcvNxt, seq);
    if (early > 0) {
      // Starts before what we expect: keep only the new part (the FIN too, if not yet had).
      if (early > data.length) fin = false;
      data = data.subarray(Math.min(early, data.length));
      seq = this.rcvNxt;
    }
    if (seq !== this.rcvNxt) {
      if (data.length > 0 || fin) {
        this.held.push({ seq, data, fin });
        this.stats.outOfOrder++;
      }
      this.sendAck();
      return;
    }
    this.accept(data, fin);
    this.drainHeld();
    if (segmentLength(seg) > 0) this.sendAck();
  }

  private accept(data: Uint8Array, fin: boolean): void {
    if (data.length > 0) {
      this.chunks.push(data);
      this.receivedBytes += data.length;
      this.owedData.push(data);
      this.rcvNxt = seqAdd(this.rcvNxt, data.length);
    }
    if (fin) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.peerFin();
    }
  }

  private drainHeld(): void {
    for (let progress = true; progress && this.held.length > 0; ) {
      progress = false;
      for (let i = 0; i < this.held.length; i++) {
        const h = this.held[i];
        const d = seqDiff(this.rcvNxt, h.seq);
        if (d < 0) continue;
        this.held.splice(i, 1);
        if (d < h.data.length) this.accept(h.data.subarray(d), h.fin);
        else if (d === h.data.length && h.fin) this.accept(EMPTY, true);
        progress = true;
        break;
      }
    }
  }

  private peerFin(): void {
    this.owedEnd = true;
    this.held = [];
    if (this.state === 'ESTABLISHED') this.setState('CLOSE_WAIT');
    else if (this.state === 'FIN_WAIT_1') this.setState('CLOSING');
    else if (this.state === 'FIN_WAIT_2') this.enterTimeWait();
  }

  // ---- Output -------------------------------------------------------------------------------

  /** Send what the window allows: new data, then the FIN once all data is out. */
  private output(): void {
    const s = this.state;
    if (
      !(
        s === 'ESTABLISHED' ||
        s === 'CLOSE_WAIT' ||
        s === 'FIN_WAIT_1' ||
        s === 'CLOSING' ||
        s === 'LAST_ACK'
      )
    )
      return;
    const limit = Math.min(this.window, this.sndWnd);
    for (;;) {
      const inFlight = seqDiff(this.sndNxt, this.sndUna);
      const sentData = this.finSent ? this.sendQueue.length : inFlight;
      const unsent = this.sendQueue.length - sentData;
      if (unsent > 0) {
        const room = limit - inFlight;
        const n = Math.min(this.mss, unsent, room);
        // Sender-side silly window avoidance: wait for ACKs rather than send slivers.
        if (n <= 0 || (n < this.mss && n < unsent && inFlight > 0)) break;
        const seq = this.sndNxt;
        this.emit(seq, TCP_ACK | (n === unsent ? TCP_PSH : 0), this.sendQueue.peek(sentData, n));
        if (!this.timing) this.startTiming(seq);
        this.sndNxt = seqAdd(seq, n);
        if (this.rtxDeadline === undefined) this.armRtx();
        continue;
      }
      if (this.finQueued && !this.finSent) {
        this.finSeq = this.sndNxt;
        this.finSent = true;
        this.emit(this.finSeq, TCP_FIN | TCP_ACK);
        this.sndNxt = seqAdd(this.finSeq, 1);
        if (this.rtxDeadline === undefined) this.armRtx();
      }
      break;
    }
  }

  /** Resend the oldest unacknowledged segment (or the SYN, SYN-ACK or FIN). */
  private retransmitFirst(): void {
    this.stats.retransmits++;
    this.timing = false; // Karn: no RTT samples from retransmitted data
    if (this.state === 'SYN_SENT') {
      this.sendSyn();
      return;
    }
    if (this.state === 'SYN_RECEIVED') {
      this.sendSynAck();
      return;
    }
    const outstanding = this.finSent ? this.sendQueue.length : seqDiff(this.sndNxt, this.sndUna);
    if (outstanding > 0) {
      const n = Math.min(this.mss, outstanding);
      this.emit(this.sndUna, TCP_ACK | TCP_PSH, this.sendQueue.peek(0, n));
    } else if (this.finSent && this.sndUna === this.finSeq) this.emit(this.finSeq, TCP_FIN | TCP_ACK);
  }

  /** ICMP says segments of this size do not fit the path (RFC 1191): smaller segments, resent. */
  pathMtu(mtu: number): void {
    const mss = Math.max(64, mtu - (this.localAddress.version === 4 ? 40 : 60));
    if (mss >= this.mss) return;
    this.mss = mss;
    this.stats.pathMtuUpdates++;
    // Everything in flight was too big and is gone: send it again in the new size.
    if (this.state === 'SYN_SENT' || this.state === 'SYN_RECEIVED' || this.sndUna === this.sndNxt) return;
    this.timing = false;
    this.sndNxt = this.sndUna;
    this.finSent = false;
    this.output();
  }

  private sendSyn(): void {
    this.emitRaw(this.iss, 0, TCP_SYN, mssOption(this.mss));
  }

  private sendSynAck(): void {
    this.emit(this.iss, TCP_SYN | TCP_ACK, undefined, mssOption(this.mss));
  }

  private sendAck(): void {
    this.emit(this.sndNxt, TCP_ACK);
  }

  private emit(seq: number, flags: number, payload?: Uint8Array, options?: Uint8Array): void {
    this.emitRaw(seq, flags & TCP_ACK ? this.rcvNxt : 0, flags, options, payload);
  }

  private emitRaw(seq: number, ack: number, flags: number, options?: Uint8Array, payload?: Uint8Array): void {
    this.stats.segmentsSent++;
    this.host.sendIp({
      src: this.localAddress,
      dst: this.remoteAddress,
      dontFragment: this.dontFragment,
      l4: {
        protocol: 'tcp',
        srcPort: this.localPort,
        dstPort: this.remotePort,
        seq,
        ack,
        flags,
        window: RCV_WINDOW,
        options,
      },
      payload,
    });
  }

  // ---- Timers -------------------------------------------------------------------------------

  private startTiming(seq: number): void {
    this.timing = true;
    this.rttSeq = seq;
    this.rttStart = this.host.sim.now();
  }

  /** RFC 6298 2.2-2.4 from the timed segment, once an ACK covers it. */
  private sampleRtt(ack: number): void {
    if (!this.timing || !seqLt(this.rttSeq, ack)) return;
    this.timing = false;
    const r = this.host.sim.now() - this.rttStart;
    if (!this.hasRtt) {
      this.srtt = r;
      this.rttvar = r / 2;
      this.hasRtt = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
    this.rto = Math.min(MAX_RTO, Math.max(MIN_RTO, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  /** Smoothed RTT in ms (0 before the first sample) and the current RTO. */
  get rtt(): { srttMs: number; rtoMs: number } {
    return { srttMs: this.srtt, rtoMs: this.rto };
  }

  /**
   * (Re)start the retransmission timer at now + RTO. The simulator event is moved only when the
   * deadline comes earlier; a later deadline is picked up when the event fires, so the per-ACK
   * restart schedules nothing.
   */
  private armRtx(): void {
    const sim = this.host.sim;
    this.rtxDeadline = sim.now() + this.rto;
    if (this.rtxTimer && this.rtxTimerAt <= this.rtxDeadline) return;
    this.scheduleRtx(this.rtxDeadline);
  }

  private scheduleRtx(at: number): void {
    const sim = this.host.sim;
    if (this.rtxTimer) sim.cancel(this.rtxTimer);
    this.rtxTimerAt = at;
    this.rtxTimer = sim.at(at, () => this.rtxFired());
  }

  private stopRtx(): void {
    this.rtxDeadline = undefined;
    if (this.rtxTimer) this.host.sim.cancel(this.rtxTimer);
    this.rtxTimer = undefined;
  }

  private rtxFired(): void {
    this.rtxTimer = undefined;
    const deadline = this.rtxDeadline;
    if (deadline === undefined) return;
    if (this.host.sim.now() < deadline) {
      this.scheduleRtx(deadline);
      return;
    }
    this.expiredRetransmit();
    this.payDebts();
  }

  private expiredRetransmit(): void {
    this.stats.timeouts++;
    if (++this.retries > this.maxRetries) {
      if (this.state !== 'SYN_SENT') this.emit(this.sndNxt, TCP_RST | TCP_ACK);
      this.end('connection timed out');
      return;
    }
    this.rto = Math.min(MAX_RTO, this.rto * 2);
    this.dupAcks = 0;
    if (this.sndUna !== this.sndNxt && this.state !== 'SYN_SENT' && this.state !== 'SYN_RECEIVED') {
      // Later holes are filled on partial ACKs instead of one timeout each.
      this.inRecovery = true;
      this.recover = this.sndNxt;
    }
    this.retransmitFirst();
    this.rtxDeadline = this.host.sim.now() + this.rto;
    this.scheduleRtx(this.rtxDeadline);
  }

  private enterTimeWait(): void {
    this.setState('TIME_WAIT');
    this.stopRtx();
    this.timeWaitTimer = this.host.sim.at(this.host.sim.now() + this.timeWaitMs, () => this.end(undefined));
  }

  // ---- State and lifecycle ------------------------------------------------------------------

  private setState(s: TcpState): void {
    if (s === this.state) return;
    this.state = s;
    this.host.count(`tcp-state:${s}`);
  }

  /** The connection is over: normally (undefined) or with an error. */
  private end(error: string | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.payDebts();
    this.error = error;
    this.state = 'CLOSED';
    this.stopRtx();
    if (this.timeWaitTimer) this.host.sim.cancel(this.timeWaitTimer);
    this.stack.remove(this);
    if (error) this.host.count('tcp-error');
    this.onClose?.(error);
  }

  /** Application callbacks owed by the segment or timer just processed, in causal order. */
  private payDebts(): void {
    if (this.owedAccept) {
      this.owedAccept = false;
      if (this.listener) {
        this.listener.accepted++;
        this.listener.onConnection(this);
      }
    }
    if (this.owedConnect) {
      this.owedConnect = false;
      this.onConnect?.();
    }
    while (this.owedData.length > 0) {
      const d = this.owedData;
      this.owedData = [];
      for (const chunk of d) this.onData?.(chunk);
    }
    if (this.owedEnd) {
      this.owedEnd = false;
      this.onEnd?.();
    }
  }
}

export function connectionKey(
  local: IpAddress,
  localPort: number,
  remote: IpAddress,
  remotePort: number,
): string {
  return `${ipToString(local)}|${localPort}|${ipToString(remote)}|${remotePort}`;
}

/** A host's TCP: its connections by address and port pairs, and its listeners. */
export class TcpStack {
  private readonly conns = new Map<string, TcpConnection>();
  private readonly listeners = new Map<number, TcpListener>();

  constructor(
    private readonly host: TcpHost,
    readonly defaults: TcpOptions = {},
  ) {}

  listen(port: number, onConnection: (conn: TcpConnection) => void, options: TcpOptions = {}): TcpListener {
    if (this.listeners.has(port)) throw new Error(`TCP port ${port} is already listening`);
    const l = new TcpListener(this, port, onConnection, { ...this.defaults, ...options });
    this.listeners.set(port, l);
    return l;
  }

  /** @internal */
  unlisten(l: TcpListener): void {
    if (this.listeners.get(l.port) === l) this.listeners.delete(l.port);
  }

  connect(dst: IpAddress, port: number, options: TcpConnectOptions = {}): TcpConnection {
    const opts = { ...this.defaults, ...options };
    const path = this.host.pathTo(dst);
    const local: IpAddress =
      path?.src ?? (dst.version === 4 ? { version: 4, v4: 0 } : { version: 6, v6: new Uint8Array(16) });
    const localPort = options.localPort ?? this.ephemeralPort(local, dst, port);
    const conn = new TcpConnection(this, this.host, local, localPort, dst, port, path?.mtu ?? 1500, opts);
    if (!path) {
      this.host.count('tcp-no-route');
      conn.failSoon('no route to host');
      return conn;
    }
    if (this.conns.has(conn.key)) throw new Error(`TCP connection ${conn.key} exists`);
    this.conns.set(conn.key, conn);
    conn.openActive();
    return conn;
  }

  /** A segment for this host (checksum verified). */
  input(pkt: IpPacket): void {
    const seg = tcpSegmentOf(pkt);
    const local = packetDestination(pkt);
    const remote = packetSource(pkt);
    const localPort = pkt.tcp.dstPort;
    const remotePort = pkt.tcp.srcPort;
    const conn = this.conns.get(connectionKey(local, localPort, remote, remotePort));
    if (conn) {
      conn.input(seg);
      return;
    }
    const l = this.listeners.get(localPort);
    if (l && seg.flags & TCP_SYN && !(seg.flags & (TCP_ACK | TCP_RST))) {
      const mtu = this.host.pathTo(remote)?.mtu ?? 1500;
      const c = new TcpConnection(this, this.host, local, localPort, remote, remotePort, mtu, l.options, l);
      this.conns.set(c.key, c);
      c.openPassive(seg);
      return;
    }
    if (seg.flags & TCP_RST) return;
    // No connection and no listener: refuse with a reset (RFC 9293 3.10.7.1).
    this.host.count('tcp-closed-port');
    const len = segmentLength(seg);
    const ackFlag = (seg.flags & TCP_ACK) !== 0;
    this.host.sendIp({
      src: local,
      dst: remote,
      l4: {
        protocol: 'tcp',
        srcPort: localPort,
        dstPort: remotePort,
        seq: ackFlag ? seg.ack : 0,
        ack: ackFlag ? 0 : seqAdd(seg.seq, len),
        flags: ackFlag ? TCP_RST : TCP_RST | TCP_ACK,
        window: 0,
      },
    });
  }

  /** An ICMP "too big" quoting one of our segments. */
  pathMtu(local: IpAddress, localPort: number, remote: IpAddress, remotePort: number, mtu: number): void {
    this.conns.get(connectionKey(local, localPort, remote, remotePort))?.pathMtu(mtu);
  }

  /** @internal */
  remove(conn: TcpConnection): void {
    if (this.conns.get(conn.key) === conn) this.conns.delete(conn.key);
  }

  connections(): TcpConnection[] {
    return [...this.conns.values()];
  }

  private ephemeralPort(local: IpAddress, remote: IpAddress, remotePort: number): number {
    const start = this.host.random.u32() % EPHEMERAL_COUNT;
    for (let i = 0; i < EPHEMERAL_COUNT; i++) {
      const p = EPHEMERAL_FIRST + ((start + i) % EPHEMERAL_COUNT);
      if (!this.listeners.has(p) && !this.conns.has(connectionKey(local, p, remote, remotePort))) return p;
    }
    throw new Error('no free ephemeral TCP port');
  }
}
