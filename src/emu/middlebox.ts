import type { Random } from '../base/random.js';
import type { Scheduler } from '../base/scheduler.js';
import { IpPacket } from '../wire/packet.js';
import { IpRouter } from './ip-router.js';
import type { Segment } from './segment.js';

/** A TCP segment with SYN set (SYN-ACKs included) that carries payload bytes. */
export function isSynWithPayload(pkt: IpPacket): boolean {
  return pkt.isTcp && pkt.tcp.syn && pkt.payloadLength > 0;
}

/** The filter name its drops are counted under: `filter:syn-with-payload`. */
export const SYN_WITH_PAYLOAD = 'syn-with-payload';

/**
 * A router that behaves like the firewalls of draft section 2.4: it drops TCP SYN segments that
 * carry payload, which is where SVR puts its first-packet metadata. Ordinary handshakes pass.
 */
export class Middlebox extends IpRouter {
  constructor(name: string, sim: Scheduler, random: Random) {
    super(name, sim, random);
    this.addFilter(SYN_WITH_PAYLOAD, (pkt) => (isSynWithPayload(pkt) ? 'drop' : 'pass'));
  }
}

/**
 * The same firewall as a bump in the wire: `segment` drops every SYN with payload, counted as
 * `dropped:filter:syn-with-payload` (`segment.unfilter(SYN_WITH_PAYLOAD)` takes it away). (The Linux lab's `--middlebox` is this, on a bridge.)
 */
export function blockSynWithPayload(segment: Segment): void {
  const pkt = new IpPacket();
  segment.filter(SYN_WITH_PAYLOAD, (frame) => !pkt.parse(frame, 0, frame.length) && isSynWithPayload(pkt));
}
