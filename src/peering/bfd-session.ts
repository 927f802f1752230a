import { DropReason } from '../base/drop-reason.js';
import type { Random } from '../base/random.js';
import type { Scheduler, TimerHandle } from '../base/scheduler.js';
import { type BfdControl, type BfdControlFields, BfdDiag, BfdState } from '../wire/bfd.js';

/**
 * One BFD session in asynchronous mode (RFC 5880), the protocol only: the owner (peering, D-6)
 * appends metadata, picks the path and transmits, and hands received Control packets back. Time
 * and randomness are inputs, so a simulator drives it deterministically.
 */

/** What moves the state machine: a received state (RFC 5880 6.8.6), a timer (6.8.4), the operator (6.8.16). */
export type BfdEvent =
  | 'rx-AdminDown'
  | 'rx-Down'
  | 'rx-Init'
  | 'rx-Up'
  | 'detect-timeout'
  | 'admin-down'
  | 'admin-up';

export interface BfdTransition {
  readonly next: BfdState;
  /** Set bfd.LocalDiag to this; absent leaves it as it is. */
  readonly diag?: BfdDiag;
}

const stay = (s: BfdState): BfdTransition => ({ next: s });
const ADMIN_DOWN: BfdTransition = { next: BfdState.AdminDown, diag: BfdDiag.AdministrativelyDown };
const UP: BfdTransition = { next: BfdState.Up, diag: BfdDiag.None };
const TIMED_OUT: BfdTransition = { next: BfdState.Down, diag: BfdDiag.ControlDetectionTimeExpired };
const NEIGHBOR_DOWN: BfdTransition = { next: BfdState.Down, diag: BfdDiag.NeighborSignaledSessionDown };

/**
 * RFC 5880 6.8.6's reception rules and 6.2's diagram as a table, one row per state. Going Up
 * clears the diag (as FRR bfdd does): it gives the reason for the latest change, and Up needs
 * none. Leaving AdminDown goes to Down (6.8.16) with no diag.
 */
export const TRANSITIONS: Readonly<Record<BfdState, Readonly<Record<BfdEvent, BfdTransition>>>> = {
  [BfdState.AdminDown]: {
    // 6.8.6: received packets are discarded while AdminDown; only the operator leaves it.
    'rx-AdminDown': stay(BfdState.AdminDown),
    'rx-Down': stay(BfdState.AdminDown),
    'rx-Init': stay(BfdState.AdminDown),
    'rx-Up': stay(BfdState.AdminDown),
    'detect-timeout': stay(BfdState.AdminDown),
    'admin-down': stay(BfdState.AdminDown),
    'admin-up': { next: BfdState.Down, diag: BfdDiag.None },
  },
  [BfdState.Down]: {
    'rx-AdminDown': stay(BfdState.Down),
    'rx-Down': { next: BfdState.Init },
    'rx-Init': UP,
    'rx-Up': stay(BfdState.Down),
    'detect-timeout': stay(BfdState.Down),
    'admin-down': ADMIN_DOWN,
    'admin-up': stay(BfdState.Down),
  },
  [BfdState.Init]: {
    'rx-AdminDown': NEIGHBOR_DOWN,
    'rx-Down': stay(BfdState.Init),
    'rx-Init': UP,
    'rx-Up': UP,
    'detect-timeout': TIMED_OUT,
    'admin-down': ADMIN_DOWN,
    'admin-up': stay(BfdState.Init),
  },
  [BfdState.Up]: {
    'rx-AdminDown': NEIGHBOR_DOWN,
    'rx-Down': NEIGHBOR_DOWN,
    'rx-Init': stay(BfdState.Up),
    'rx-Up': stay(BfdState.Up),
    'detect-timeout': TIMED_OUT,
    'admin-down': ADMIN_DOWN,
    'admin-up': stay(BfdState.Up),
  },
};

const RX_EVENT: readonly BfdEvent[] = ['rx-AdminDown', 'rx-Down', 'rx-Init', 'rx-Up'];

/** The table, as a pure function. */
export function transition(state: BfdState, event: BfdEvent): BfdTransition {
  return TRANSITIONS[state][event];
}

export interface BfdSessionOptions {
  scheduler: Scheduler;
  random: Random;
  /** bfd.DesiredMinTxInterval while Up (D-6 default 1000). */
  desiredMinTxMs: number;
  /** bfd.RequiredMinRxInterval (D-6 default 500). */
  requiredMinRxMs: number;
  /** bfd.DetectMult (D-6 default 3). */
  detectMult: number;
  /** Transmit a Control packet with these fields; the owner appends metadata (5.1). */
  send(f: BfdControlFields): void;
  onStateChange?(from: BfdState, to: BfdState, diag: BfdDiag): void;
}

/** RFC 5880 6.8.3: while not Up, transmit no faster than one packet a second. */
const SLOW_TX_US = 1_000_000;
const MAX_U32 = 0xffff_ffff;

export class BfdSession {
  // RFC 5880 6.8.1 state variables.
  readonly localDiscriminator: number;
  private sessionState = BfdState.Down;
  private remoteSessionState = BfdState.Down;
  private remoteDiscr = 0;
  private localDiag = BfdDiag.None;
  private remoteDemandMode = false;
  /** bfd.RemoteMinRxInterval: 6.8.1 starts it at 1 us, so the first packets go out. */
  private remoteMinRxUs = 1;
  private remoteDesiredMinTxUs = 0;
  /** 0 until a packet came: the detection timer is armed only after one (6.8.4). */
  private remoteDetectMult = 0;
  private readonly detectMult: number;

  /** Configured intervals as advertised in our packets (us). */
  private desiredTxUs: number;
  private requiredRxUs: number;
  /** Values in force for our own timers, lagging the advertised ones during a Poll (6.8.3). */
  private activeTxUs: number;
  private activeRxUs: number;
  /** Poll Sequence in progress (6.5): P set on every packet until an F arrives. */
  private polling = false;
  /** Intervals changed again during the Poll: the answer may be to the older values. */
  private repoll = false;

  private running = false;
  private txTimer: TimerHandle | undefined;
  private detectTimer: TimerHandle | undefined;
  /** When the periodic packet went out, for re-arming the schedule on an interval change. */
  private lastPeriodicAt = 0;
  private jitterFraction = 1;
  private txDue = 0;

  constructor(private readonly o: BfdSessionOptions) {
    if (!Number.isInteger(o.detectMult) || o.detectMult < 1 || o.detectMult > 255)
      throw new RangeError(`BFD detect multiplier ${o.detectMult}`);
    this.detectMult = o.detectMult;
    this.desiredTxUs = toUs(o.desiredMinTxMs, 'desired min TX', false);
    this.requiredRxUs = toUs(o.requiredMinRxMs, 'required min RX', true);
    this.activeTxUs = this.desiredTxUs;
    this.activeRxUs = this.requiredRxUs;
    let d = 0;
    // 6.8.1: bfd.LocalDiscr is nonzero and should be random (6.3).
    while (d === 0) d = o.random.u32();
    this.localDiscriminator = d;
  }

  get state(): BfdState {
    return this.sessionState;
  }
  get remoteState(): BfdState {
    return this.remoteSessionState;
  }
  get remoteDiscriminator(): number {
    return this.remoteDiscr;
  }
  get diag(): BfdDiag {
    return this.localDiag;
  }
  /** A Poll Sequence of ours is waiting for its Final (6.5). */
  get pollInProgress(): boolean {
    return this.polling;
  }

  /** RFC 5880 6.8.4: remote DetectMult x max(our RequiredMinRx, remote DesiredMinTx); 0 before any packet. */
  get detectionTimeMs(): number {
    if (this.remoteDetectMult === 0) return 0;
    return (this.remoteDetectMult * Math.max(this.activeRxUs, this.remoteDesiredMinTxUs)) / 1000;
  }

  /** RFC 5880 6.8.2/6.8.7: the periodic interval before jitter. */
  get txIntervalMs(): number {
    return Math.max(this.effectiveTxUs(this.activeTxUs), this.remoteMinRxUs) / 1000;
  }

  /** Begin periodic transmission; the first packet is not delayed (6.8.7). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.periodic();
  }

  /** Stop all timers; the session keeps its state and sends nothing until started again. */
  stop(): void {
    this.running = false;
    this.cancelTx();
    this.cancelDetect();
  }

  /**
   * RFC 5880 6.8.6 for a packet that passed `BfdControl.parse` (or an equivalent fields object):
   * session checks, remote variables, Poll/Final, the state transition and the detection timer.
   * Before start() or after stop() the state machine runs but nothing is sent or armed.
   */
  receive(c: BfdControl | BfdControlFields): DropReason {
    // The session-free checks again, for callers that pass fields rather than a parsed view.
    if (c.detectMult === 0) return DropReason.BfdBadDetectMult;
    if (c.myDiscriminator === 0) return DropReason.BfdBadMyDiscriminator;
    const your = c.yourDiscriminator;
    if (
      your === 0
        ? c.state !== BfdState.Down && c.state !== BfdState.AdminDown
        : your !== this.localDiscriminator
    )
      return DropReason.BfdBadYourDiscriminator;

    this.remoteDiscr = c.myDiscriminator;
    this.remoteSessionState = c.state;
    this.remoteDemandMode = c.demand === true;
    this.remoteMinRxUs = c.requiredMinRxUs;
    this.remoteDesiredMinTxUs = c.desiredMinTxUs;
    this.remoteDetectMult = c.detectMult;
    // 6.5: an F ends our Poll Sequence; the intervals it announced now apply (6.8.3).
    if (c.final && this.polling) {
      if (this.repoll) this.repoll = false;
      else this.endPoll();
    }
    // 6.8.2: the transmit interval follows the remote's RequiredMinRx.
    this.rearmTx();

    if (this.sessionState === BfdState.AdminDown) return DropReason.BfdAdminDown;

    const before = this.sessionState;
    this.apply(RX_EVENT[c.state]);
    // 6.8.4: a packet not discarded restarts the detection timer.
    this.armDetect();
    if (c.poll) this.transmit(true);
    else if (this.sessionState !== before) this.transmit(false);
    if (this.sessionState !== before) this.o.onStateChange?.(before, this.sessionState, this.localDiag);
    return DropReason.None;
  }

  /** One packet now, outside the periodic schedule (which it leaves alone). */
  sendNow(): void {
    this.transmit(false);
  }

  /** RFC 5880 6.8.16: take the session out of service, or put it back. */
  setAdminDown(down: boolean): void {
    const before = this.sessionState;
    this.apply(down ? 'admin-down' : 'admin-up');
    if (this.sessionState === before) return;
    if (down) this.cancelDetect();
    // The peer learns of it at once; AdminDown packets keep going out at the slow rate.
    this.transmit(false);
    this.o.onStateChange?.(before, this.sessionState, this.localDiag);
  }

  /** RFC 5880 6.8.3: new intervals, announced with a Poll Sequence while Up. */
  changeIntervals(desiredMinTxMs: number, requiredMinRxMs: number): void {
    const tx = toUs(desiredMinTxMs, 'desired min TX', false);
    const rx = toUs(requiredMinRxMs, 'required min RX', true);
    if (tx === this.desiredTxUs && rx === this.requiredRxUs) return;
    this.desiredTxUs = tx;
    this.requiredRxUs = rx;
    if (this.sessionState !== BfdState.Up) {
      // Not Up: nobody depends on our timers yet.
      this.activeTxUs = tx;
      this.activeRxUs = rx;
      this.rearmTx();
      return;
    }
    // A faster TX and a longer RX are safe at once; the others wait for the Final (6.8.3).
    if (tx < this.activeTxUs) this.activeTxUs = tx;
    if (rx > this.activeRxUs) this.activeRxUs = rx;
    this.startPoll();
    this.rearmTx();
    // Start the Poll now rather than at the next periodic packet.
    this.transmit(false);
  }

  // ---- state machine ----

  private apply(event: BfdEvent): void {
    const t = transition(this.sessionState, event);
    if (t.diag !== undefined) this.localDiag = t.diag;
    const from = this.sessionState;
    this.sessionState = t.next;
    if (from === t.next) return;
    if (t.next === BfdState.Up) {
      // 6.8.3: leaving the one-second floor changes DesiredMinTx, announced by a Poll.
      if (this.effectiveTxUs(this.desiredTxUs) !== Math.max(this.desiredTxUs, SLOW_TX_US)) this.startPoll();
    } else if (from === BfdState.Up) {
      // Back under the floor; a Poll in flight no longer matters, its values apply now.
      this.polling = false;
      this.repoll = false;
      this.endPoll();
    }
    this.rearmTx();
  }

  private startPoll(): void {
    if (this.polling) this.repoll = true;
    this.polling = true;
  }

  private endPoll(): void {
    this.polling = false;
    this.activeTxUs = this.desiredTxUs;
    this.activeRxUs = this.requiredRxUs;
  }

  /** bfd.DesiredMinTxInterval as used: at least one second while not Up (6.8.3). */
  private effectiveTxUs(us: number): number {
    return this.sessionState === BfdState.Up ? us : Math.max(us, SLOW_TX_US);
  }

  // ---- detection (6.8.4) ----

  private armDetect(): void {
    this.cancelDetect();
    if (!this.running) return;
    const s = this.o.scheduler;
    this.detectTimer = s.at(s.now() + this.detectionTimeMs, () => this.detectExpired());
  }

  private cancelDetect(): void {
    if (this.detectTimer) this.o.scheduler.cancel(this.detectTimer);
    this.detectTimer = undefined;
  }

  private detectExpired(): void {
    this.detectTimer = undefined;
    // 6.8.1: a Detection Time without a packet forgets the remote discriminator.
    this.remoteDiscr = 0;
    const before = this.sessionState;
    this.apply('detect-timeout');
    if (this.sessionState === before) return;
    this.transmit(false);
    this.o.onStateChange?.(before, this.sessionState, this.localDiag);
  }

  // ---- transmission (6.8.7) ----

  private periodic(): void {
    this.txTimer = undefined;
    if (!this.running) return;
    this.lastPeriodicAt = this.o.scheduler.now();
    // 6.8.7: no periodic packets while the remote runs Demand mode and both sides are Up.
    const demand =
      this.remoteDemandMode && this.sessionState === BfdState.Up && this.remoteSessionState === BfdState.Up;
    if (!demand) this.transmit(false);
    this.jitterFraction = this.jitter();
    this.scheduleTx();
  }

  /** 6.8.7: 75-100% of the interval, 75-90% when bfd.DetectMult is 1. */
  private jitter(): number {
    const r = this.o.random.u32() / 0x1_0000_0000;
    return 0.75 + r * (this.detectMult === 1 ? 0.15 : 0.25);
  }

  private nextTxAt(): number {
    return this.lastPeriodicAt + this.txIntervalMs * this.jitterFraction;
  }

  private scheduleTx(): void {
    this.txDue = this.nextTxAt();
    this.txTimer = this.o.scheduler.at(this.txDue, () => this.periodic());
  }

  /** When the interval changed, move the pending periodic packet, keeping its jitter. */
  private rearmTx(): void {
    if (!this.txTimer || this.nextTxAt() === this.txDue) return;
    this.cancelTx();
    this.scheduleTx();
  }

  private cancelTx(): void {
    if (this.txTimer) this.o.scheduler.cancel(this.txTimer);
    this.txTimer = undefined;
  }

  private transmit(final: boolean): void {
    if (!this.running) return;
    // 6.8.7: a remote RequiredMinRx of zero asks for no packets at all.
    if (this.remoteMinRxUs === 0) return;
    this.o.send({
      diag: this.localDiag,
      state: this.sessionState,
      // 6.8.7: never P and F together; a Final answers, the Poll goes on the next packet.
      poll: this.polling && !final,
      final,
      cpi: false,
      demand: false,
      detectMult: this.detectMult,
      myDiscriminator: this.localDiscriminator,
      yourDiscriminator: this.remoteDiscr,
      desiredMinTxUs: this.effectiveTxUs(this.desiredTxUs),
      requiredMinRxUs: this.requiredRxUs,
      requiredMinEchoRxUs: 0,
    });
  }
}

function toUs(ms: number, what: string, zeroOk: boolean): number {
  const us = Math.round(ms * 1000);
  if (!Number.isFinite(ms) || us < (zeroOk ? 0 : 1) || us > MAX_U32)
    throw new RangeError(`BFD ${what} of ${ms} ms`);
  return us;
}
