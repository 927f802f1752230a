import { readU16, writeU16 } from '../base/bytes.js';
import type { Clock } from '../base/clock.js';
import { checksum } from '../wire/checksum.js';
import type { IpPacket } from '../wire/packet.js';
import { Counters } from './counters.js';

interface Piece {
  readonly at: number;
  readonly data: Uint8Array;
}

interface Datagram {
  readonly firstSeenMs: number;
  /** Header of the fragment at offset 0, once it has come. */
  header: Uint8Array | undefined;
  /** Payload length, known once the fragment without MF has come. */
  total: number;
  readonly pieces: Piece[];
}

/** Largest IPv4 datagram. */
const MAX_DATAGRAM = 65535;

/**
 * IPv4 reassembly for emulated hosts (RFC 791 3.2, RFC 815): fragments are held per (source,
 * destination, protocol, identification) until the datagram is whole, for at most `timeoutMs`.
 * Bounded in datagrams held; overflow and timeouts are counted drops.
 */
export class Reassembler {
  readonly counters = new Counters();
  private readonly held = new Map<string, Datagram>();

  constructor(
    private readonly clock: Clock,
    readonly timeoutMs = 30_000,
    readonly maxDatagrams = 64,
  ) {}

  /** Take a fragment; the whole datagram (a new buffer) when this one completes it. */
  add(pkt: IpPacket): Uint8Array | undefined {
    const now = this.clock.now();
    this.expire(now);
    const ip = pkt.ip4;
    const key = `${ip.src}/${ip.dst}/${ip.protocol}/${ip.identification}`;
    let d = this.held.get(key);
    if (!d) {
      if (this.held.size >= this.maxDatagrams) {
        this.counters.add('reassembly-overflow');
        return undefined;
      }
      d = { firstSeenMs: now, header: undefined, total: -1, pieces: [] };
      this.held.set(key, d);
    }
    const at = ip.fragmentOffset * 8;
    const data = pkt.b.slice(pkt.start + ip.headerLength, pkt.end);
    if (at + data.length > MAX_DATAGRAM - ip.headerLength) {
      this.held.delete(key);
      this.counters.add('reassembly-too-long');
      return undefined;
    }
    if (at === 0) d.header = pkt.b.slice(pkt.start, pkt.start + ip.headerLength);
    if (!ip.moreFragments) d.total = at + data.length;
    d.pieces.push({ at, data });
    const whole = this.complete(d);
    if (whole) {
      this.held.delete(key);
      this.counters.add('reassembled');
    }
    return whole;
  }

  /** Datagrams still incomplete. */
  get pending(): number {
    return this.held.size;
  }

  private complete(d: Datagram): Uint8Array | undefined {
    if (!d.header || d.total < 0) return undefined;
    const sorted = [...d.pieces].sort((a, b) => a.at - b.at);
    let covered = 0;
    for (const p of sorted) {
      if (p.at > covered) return undefined;
      covered = Math.max(covered, p.at + p.data.length);
    }
    if (covered < d.total) return undefined;
    const hl = d.header.length;
    const out = new Uint8Array(hl + d.total);
    out.set(d.header);
    // Later pieces overwrite overlaps: the emulator's fragments never disagree.
    for (const p of sorted)
      out.set(p.data.subarray(0, Math.max(0, Math.min(p.data.length, d.total - p.at))), hl + p.at);
    writeU16(out, 2, out.length);
    writeU16(out, 6, readU16(out, 6) & 0x4000);
    writeU16(out, 10, 0);
    writeU16(out, 10, checksum(out, 0, hl));
    return out;
  }

  private expire(now: number): void {
    for (const [k, d] of this.held)
      if (now - d.firstSeenMs > this.timeoutMs) {
        this.held.delete(k);
        this.counters.add('reassembly-timeout');
      }
  }
}
