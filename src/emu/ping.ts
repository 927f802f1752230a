import type { IpAddress } from '../base/address.js';
import type { Scheduler } from '../base/scheduler.js';
import { ICMP4_ECHO_REQUEST, ICMP6_ECHO_REQUEST } from '../wire/icmp.js';
import type { OutgoingSpec } from './node.js';

export interface PingOptions {
  /** Echo requests to send; default 1. */
  readonly count?: number;
  /** Between requests; default 1000 ms. */
  readonly intervalMs?: number;
  /** Echo identifier; from the host's seeded random by default. */
  readonly identifier?: number;
  /** Payload bytes; default 56, as ping(8). */
  readonly size?: number;
  readonly ttl?: number;
  readonly dontFragment?: boolean;
  /** How long after the last request replies still count; default 2000 ms. */
  readonly timeoutMs?: number;
}

export interface PingReply {
  readonly sequence: number;
  readonly rttMs: number;
  /** TTL or hop limit the reply arrived with. */
  readonly ttl: number;
  readonly bytes: number;
}

/** A ping run, filled in as replies come. */
export class PingResult {
  sent = 0;
  received = 0;
  readonly rttMs: number[] = [];
  readonly replies: PingReply[] = [];
  /** All requests sent and all answered, or the timeout after the last one passed. */
  done = false;

  constructor(
    readonly destination: IpAddress,
    readonly identifier: number,
    readonly count: number,
  ) {}

  get lost(): number {
    return this.sent - this.received;
  }
}

/** What a ping needs of its host. */
export interface PingHost {
  readonly sim: Scheduler;
  sendIp(spec: OutgoingSpec): boolean;
}

/**
 * One ping run (ICMP or ICMPv6 echo, RFC 792 / 4443): sends on the simulator's clock and matches
 * replies by sequence number; the host routes replies here by identifier.
 */
export class Pinger {
  private readonly sentAt = new Map<number, number>();
  private readonly payload: Uint8Array;

  constructor(
    private readonly host: PingHost,
    readonly result: PingResult,
    private readonly options: PingOptions,
    private readonly finished: (p: Pinger) => void,
  ) {
    this.payload = new Uint8Array(options.size ?? 56);
    for (let i = 0; i < this.payload.length; i++) this.payload[i] = i & 0xff;
  }

  start(): void {
    const sim = this.host.sim;
    const interval = this.options.intervalMs ?? 1000;
    const start = sim.now();
    for (let i = 0; i < this.result.count; i++) sim.at(start + i * interval, () => this.sendOne(i + 1));
    const last = start + (this.result.count - 1) * interval;
    sim.at(last + (this.options.timeoutMs ?? 2000), () => this.finish());
  }

  /** @internal An echo reply with our identifier. */
  reply(sequence: number, ttl: number, bytes: number): void {
    const t = this.sentAt.get(sequence);
    if (t === undefined) return;
    this.sentAt.delete(sequence);
    const rtt = this.host.sim.now() - t;
    const r = this.result;
    r.received++;
    r.rttMs.push(rtt);
    r.replies.push({ sequence, rttMs: rtt, ttl, bytes });
    if (r.sent === r.count && r.received === r.count) this.finish();
  }

  private sendOne(sequence: number): void {
    if (this.result.done) return;
    const dst = this.result.destination;
    this.sentAt.set(sequence, this.host.sim.now());
    this.result.sent++;
    this.host.sendIp({
      dst,
      ttl: this.options.ttl,
      dontFragment: this.options.dontFragment,
      l4: {
        protocol: 'icmp',
        type: dst.version === 4 ? ICMP4_ECHO_REQUEST : ICMP6_ECHO_REQUEST,
        identifier: this.result.identifier,
        sequence,
      },
      payload: this.payload,
    });
  }

  private finish(): void {
    if (this.result.done) return;
    this.result.done = true;
    this.finished(this);
  }
}
