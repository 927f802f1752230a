import { type IpAddress, ipToString } from '../base/address.js';
import type { Random } from '../base/random.js';
import type { Scheduler } from '../base/scheduler.js';
import { frameDestinationText } from './addresses.js';
import { Counters } from './counters.js';

/** A link's behaviour; every property can change while the simulation runs. */
export interface SegmentProps {
  /** One-way propagation delay. */
  latencyMs?: number;
  /** Extra delay drawn uniformly from [0, jitterMs) per frame: frames may overtake each other. */
  jitterMs?: number;
  /** Probability (0..1) that a frame is lost. */
  lossRate?: number;
  /** Bits per second each sender may put on the link; 0 is unlimited (no serialization delay). */
  bandwidthBps?: number;
  /** Frames a sender may have waiting or being serialized before the tail is dropped. */
  queueLimit?: number;
  /** Largest IP packet the link carries; larger ones are dropped and counted. */
  mtu?: number;
  /** A link that is down drops everything, including frames in flight when it went down. */
  up?: boolean;
}

/** Why the segment dropped a frame: the counter is `dropped:<reason>`. */
export type SegmentDropReason =
  | 'down'
  | 'mtu'
  | 'no-neighbor'
  | 'queue-full'
  | 'loss'
  | 'not-ip'
  | 'detached';

/** What attaches to a segment: a node's interface or a driver's. */
export interface AttachmentSpec {
  readonly name: string;
  /** 802.1Q VLAN id, 0 for untagged. Frames reach only attachments on the same VLAN. */
  readonly vlan?: number;
  /** Addresses the attachment answers for, as ARP or neighbour discovery would resolve them. */
  readonly addresses: readonly IpAddress[];
  /** A frame for this attachment; the bytes are its own copy. */
  receive(frame: Uint8Array): void;
}

/** Observes frames: capture points and tests. `frame` must not be kept without copying. */
export type FrameTap = (
  timeMs: number,
  frame: Uint8Array,
  vlan: number,
  from: SegmentPort,
  to: SegmentPort,
) => void;

/** One attachment's end of the segment: where it sends from, with its own transmit queue. */
export class SegmentPort {
  attached = true;
  /** Frames this port sent onto the segment and frames the segment delivered to it. */
  sent = 0;
  received = 0;
  /** When the transmitter finishes the frames already queued (bandwidth-limited links). */
  txFreeAt = 0;
  /** Departure times of frames queued or being serialized, oldest first, from `txHead`. */
  private readonly departures: number[] = [];
  private txHead = 0;

  constructor(
    readonly segment: Segment,
    readonly name: string,
    readonly vlan: number,
    public addresses: readonly IpAddress[],
    readonly receive: (frame: Uint8Array) => void,
  ) {}

  /** Put an IP packet on the wire towards `nextHop` (undefined: the packet's destination). */
  send(frame: Uint8Array, nextHop: IpAddress | undefined): boolean {
    return this.segment.transmit(this, frame, nextHop);
  }

  detach(): void {
    this.segment.detach(this);
  }

  /** Frames still queued or being serialized at `now`. */
  queued(now: number): number {
    const d = this.departures;
    while (this.txHead < d.length && d[this.txHead] <= now) this.txHead++;
    if (this.txHead > 256 && this.txHead * 2 > d.length) {
      d.splice(0, this.txHead);
      this.txHead = 0;
    }
    return d.length - this.txHead;
  }

  queueDeparture(t: number): void {
    this.departures.push(t);
  }
}

export interface SegmentStats {
  readonly props: Required<SegmentProps>;
  readonly attachments: number;
  readonly counters: Record<string, number>;
}

const DEFAULTS: Required<SegmentProps> = {
  latencyMs: 0,
  jitterMs: 0,
  lossRate: 0,
  bandwidthBps: 0,
  queueLimit: 100,
  mtu: 1500,
  up: true,
};

/**
 * A broadcast domain, LAN or point-to-point link, carrying raw IP packets between attachments.
 * The sender names the next hop; the segment hands the frame to the attachment owning that
 * address on the sender's VLAN, as ARP would, after queueing, serialization, propagation, jitter
 * and loss. Bytes are copied when sent, so sender and receiver never share them.
 *
 * Counters: `sent` and `bytes` (frames accepted onto the wire), `delivered`, and
 * `dropped:<reason>` for each SegmentDropReason.
 */
export class Segment {
  latencyMs: number;
  jitterMs: number;
  lossRate: number;
  bandwidthBps: number;
  queueLimit: number;
  mtu: number;
  up: boolean;
  readonly counters = new Counters();
  private readonly ports: SegmentPort[] = [];
  /** `vlan/address` to the attachment that owns it. */
  private readonly neighbors = new Map<string, SegmentPort>();
  private readonly sendTaps: FrameTap[] = [];
  private readonly deliveryTaps: FrameTap[] = [];
  private readonly filters: { name: string; drop: (frame: Uint8Array) => boolean }[] = [];

  constructor(
    readonly name: string,
    private readonly sim: Scheduler,
    private readonly random: Random,
    props: SegmentProps = {},
  ) {
    this.latencyMs = DEFAULTS.latencyMs;
    this.jitterMs = DEFAULTS.jitterMs;
    this.lossRate = DEFAULTS.lossRate;
    this.bandwidthBps = DEFAULTS.bandwidthBps;
    this.queueLimit = DEFAULTS.queueLimit;
    this.mtu = DEFAULTS.mtu;
    this.up = DEFAULTS.up;
    this.set(props);
  }

  /** Change properties at run time; unnamed ones keep their values. */
  set(props: SegmentProps): void {
    const nonNegative = (k: string, v: number): number => {
      if (!(v >= 0) || !Number.isFinite(v))
        throw new RangeError(`segment ${this.name}: ${k} must be >= 0, got ${v}`);
      return v;
    };
    if (props.latencyMs !== undefined) this.latencyMs = nonNegative('latencyMs', props.latencyMs);
    if (props.jitterMs !== undefined) this.jitterMs = nonNegative('jitterMs', props.jitterMs);
    if (props.lossRate !== undefined) {
      if (!(props.lossRate >= 0 && props.lossRate <= 1))
        throw new RangeError(`segment ${this.name}: lossRate must be in 0..1, got ${props.lossRate}`);
      this.lossRate = props.lossRate;
    }
    if (props.bandwidthBps !== undefined) this.bandwidthBps = nonNegative('bandwidthBps', props.bandwidthBps);
    if (props.queueLimit !== undefined) this.queueLimit = nonNegative('queueLimit', props.queueLimit);
    if (props.mtu !== undefined) this.mtu = nonNegative('mtu', props.mtu);
    if (props.up !== undefined) this.up = props.up;
  }

  get props(): Required<SegmentProps> {
    return {
      latencyMs: this.latencyMs,
      jitterMs: this.jitterMs,
      lossRate: this.lossRate,
      bandwidthBps: this.bandwidthBps,
      queueLimit: this.queueLimit,
      mtu: this.mtu,
      up: this.up,
    };
  }

  attach(spec: AttachmentSpec): SegmentPort {
    const vlan = spec.vlan ?? 0;
    if (!Number.isInteger(vlan) || vlan < 0 || vlan > 4094)
      throw new RangeError(`segment ${this.name}: VLAN ${vlan} is not 0-4094`);
    const port = new SegmentPort(this, spec.name, vlan, spec.addresses, (f) => spec.receive(f));
    for (const a of spec.addresses) {
      const key = neighborKey(vlan, ipToString(a));
      const other = this.neighbors.get(key);
      if (other) throw new Error(`segment ${this.name}: ${key} is both ${other.name} and ${spec.name}`);
      this.neighbors.set(key, port);
    }
    this.ports.push(port);
    return port;
  }

  /** The port's addresses change (a renumbered interface: DHCP, a NAT's new public address). */
  readdress(port: SegmentPort, addresses: readonly IpAddress[]): void {
    for (const a of port.addresses) this.neighbors.delete(neighborKey(port.vlan, ipToString(a)));
    port.addresses = addresses;
    for (const a of addresses) this.neighbors.set(neighborKey(port.vlan, ipToString(a)), port);
  }

  detach(port: SegmentPort): void {
    if (!port.attached) return;
    port.attached = false;
    for (const a of port.addresses) this.neighbors.delete(neighborKey(port.vlan, ipToString(a)));
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
  }

  /** Observe frames as senders put them on the wire (lost ones included) or as they are delivered. */
  tap(fn: FrameTap, at: 'send' | 'delivery' = 'send'): () => void {
    const list = at === 'send' ? this.sendTaps : this.deliveryTaps;
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /**
   * A transparent middlebox on the link (a bridge firewall): frames `drop` says true for are
   * lost after the send taps saw them, counted as `dropped:filter:<name>`.
   */
  filter(name: string, drop: (frame: Uint8Array) => boolean): void {
    this.filters.push({ name, drop });
  }

  /** Take the filters named `name` off the link. */
  unfilter(name: string): void {
    for (let i = this.filters.length - 1; i >= 0; i--)
      if (this.filters[i].name === name) this.filters.splice(i, 1);
  }

  /** Send a frame from `from`; false when the segment refused it at once (lost frames return true). */
  transmit(from: SegmentPort, frame: Uint8Array, nextHop: IpAddress | undefined): boolean {
    if (!from.attached) return this.drop('detached');
    if (!this.up) return this.drop('down');
    if (frame.length > this.mtu) return this.drop('mtu');
    const hop = nextHop ? ipToString(nextHop) : frameDestinationText(frame);
    if (hop === undefined) return this.drop('not-ip');
    const to = this.neighbors.get(neighborKey(from.vlan, hop));
    if (!to) return this.drop('no-neighbor');

    const now = this.sim.now();
    let departure = now;
    if (this.bandwidthBps > 0) {
      if (from.queued(now) >= this.queueLimit) return this.drop('queue-full');
      const start = Math.max(now, from.txFreeAt);
      departure = start + (frame.length * 8 * 1000) / this.bandwidthBps;
      from.txFreeAt = departure;
      from.queueDeparture(departure);
    }
    const wire = frame.slice();
    from.sent++;
    this.counters.add('sent');
    this.counters.add('bytes', wire.length);
    for (const t of this.sendTaps) t(now, wire, from.vlan, from, to);
    for (const f of this.filters)
      if (f.drop(wire)) {
        this.counters.add(`dropped:filter:${f.name}`);
        return true;
      }

    // Draws happen only for enabled effects, so turning one on does not shift the others' draws.
    if (this.lossRate > 0 && this.uniform() < this.lossRate) {
      this.drop('loss');
      return true;
    }
    const jitter = this.jitterMs > 0 ? this.uniform() * this.jitterMs : 0;
    this.sim.at(departure + this.latencyMs + jitter, () => this.deliver(wire, from, to));
    return true;
  }

  stats(): SegmentStats {
    return { props: this.props, attachments: this.ports.length, counters: this.counters.snapshot() };
  }

  private deliver(frame: Uint8Array, from: SegmentPort, to: SegmentPort): void {
    if (!this.up) {
      this.drop('down');
      return;
    }
    if (!to.attached) {
      this.drop('detached');
      return;
    }
    this.counters.add('delivered');
    to.received++;
    for (const t of this.deliveryTaps) t(this.sim.now(), frame, to.vlan, from, to);
    to.receive(frame);
  }

  private drop(reason: SegmentDropReason): false {
    this.counters.add(`dropped:${reason}`);
    return false;
  }

  private uniform(): number {
    return this.random.u32() / 4294967296;
  }
}

function neighborKey(vlan: number, address: string): string {
  return `${vlan}/${address}`;
}
