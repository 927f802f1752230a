import { writeFileSync } from 'node:fs';
import { PcapWriter } from '../pcap/pcap.js';
import type { Segment } from './segment.js';

export interface CaptureOptions {
  /** Only frames on this VLAN; every VLAN when omitted. */
  readonly vlan?: number;
  /**
   * `send` (default) records frames as senders put them on the wire, like tcpdump on the sending
   * interface: lost frames appear, timestamps are when they were sent. `delivery` records what
   * receivers got, when they got it (after delay, jitter and loss).
   */
  readonly at?: 'send' | 'delivery';
  /** Bytes kept per frame in the file. */
  readonly snapLength?: number;
}

export interface CapturedPacket {
  readonly index: number;
  readonly timeMs: number;
  readonly vlan: number;
  /** Names of the sending and receiving attachments. */
  readonly from: string;
  readonly to: string;
  readonly data: Uint8Array;
}

/**
 * A capture point on a segment: every frame it carries (optionally one VLAN's) with its virtual
 * timestamp, as a pcap file of raw IP (what Wireshark opens without asking) and as a list for
 * tests to inspect.
 */
export class Capture {
  readonly packets: CapturedPacket[] = [];
  private readonly writer: PcapWriter;
  private readonly untap: () => void;

  constructor(
    readonly segment: Segment,
    options: CaptureOptions = {},
  ) {
    this.writer = new PcapWriter(undefined, options.snapLength);
    const vlan = options.vlan;
    this.untap = segment.tap((timeMs, frame, v, from, to) => {
      if (vlan !== undefined && v !== vlan) return;
      const data = frame.slice();
      this.packets.push({ index: this.packets.length, timeMs, vlan: v, from: from.name, to: to.name, data });
      this.writer.add(timeMs, data);
    }, options.at ?? 'send');
  }

  get count(): number {
    return this.packets.length;
  }

  /** The pcap file so far. */
  bytes(): Uint8Array {
    return this.writer.bytes();
  }

  writeTo(path: string): void {
    writeFileSync(path, this.bytes());
  }

  /** Stop recording; what was captured stays. */
  stop(): void {
    this.untap();
  }
}
