import type { IpPacket } from '../wire/packet.js';
import { packetDestination } from '../wire/packet.js';
import { IPPROTO_UDP } from '../wire/protocol.js';
import { echoReplyPacket, type IcmpErrorKind, icmpErrorPacket } from './icmp.js';
import { type NetInterface, Node } from './node.js';

/** A per-router packet filter, run on every received packet before anything else. */
export type PacketFilter = (pkt: IpPacket, ingress: NetInterface) => 'pass' | 'drop';

/**
 * A plain IP router (RFC 1812): longest-prefix forwarding, TTL / hop limit decrement with ICMP
 * time exceeded, ICMP destination unreachable when there is no route, IPv4 fragmentation for a
 * smaller egress MTU (ICMP fragmentation needed when DF is set; IPv6 packet too big), and
 * optional named packet filters. It answers pings to its own addresses and refuses UDP to them.
 *
 * Counters (besides Node's): `forwarded`, `malformed`, `bad-ip-checksum`, `ttl-expired`,
 * `no-route`, `too-big`, `filter:<name>`, `local:echo`, `local:dropped`, `icmp-error-sent`.
 */
export class IpRouter extends Node {
  private readonly filters: { name: string; fn: PacketFilter }[] = [];

  /** Add a filter; what it drops is counted as `filter:<name>`. */
  addFilter(name: string, fn: PacketFilter): void {
    this.filters.push({ name, fn });
  }

  protected receive(frame: Uint8Array, ingress: NetInterface): void {
    if (!this.parseFrame(frame)) return;
    const pkt = this.pkt;
    for (const f of this.filters)
      if (f.fn(pkt, ingress) === 'drop') {
        this.count(`filter:${f.name}`);
        return;
      }
    if (!this.preRouting(pkt, ingress)) return;
    const dst = packetDestination(pkt);
    if (this.owns(dst)) {
      this.local(pkt, ingress);
      return;
    }
    if (pkt.ttl <= 1) {
      this.count('ttl-expired');
      this.icmpError(pkt, ingress, 'time-exceeded');
      return;
    }
    const route = this.resolve(dst);
    if (!route) {
      this.count('no-route');
      this.icmpError(pkt, ingress, 'net-unreachable');
      return;
    }
    const egress = route.iface;
    if (pkt.length > egress.mtu && (pkt.version === 6 || pkt.ip4.dontFragment)) {
      this.count('too-big');
      this.icmpError(pkt, ingress, 'too-big', egress.mtu);
      return;
    }
    if (!this.postRouting(pkt, ingress, egress)) return;
    if (pkt.version === 4) pkt.ip4.decrementTtl();
    else pkt.ip6.hopLimit = pkt.ip6.hopLimit - 1;
    this.count('forwarded');
    this.transmit(egress, frame.subarray(pkt.start, pkt.end), route.nextHop);
  }

  /**
   * Before the local/forward decision; false when the packet was consumed (dropped). The NAT
   * translates inbound packets here.
   */
  protected preRouting(_pkt: IpPacket, _ingress: NetInterface): boolean {
    return true;
  }

  /** After the route is chosen, before TTL decrement and sending; the NAT translates outbound packets here. */
  protected postRouting(_pkt: IpPacket, _ingress: NetInterface, _egress: NetInterface): boolean {
    return true;
  }

  /** A packet for one of the router's own addresses. */
  protected local(pkt: IpPacket, ingress: NetInterface): void {
    if (pkt.isIcmp && pkt.icmp.isEchoRequest && pkt.l4ChecksumValid()) {
      this.count('local:echo');
      this.sendFrame(echoReplyPacket(pkt));
      return;
    }
    if (pkt.protocol === IPPROTO_UDP && pkt.isUdp) {
      // What traceroute's probes to a router address expect.
      this.icmpError(pkt, ingress, 'port-unreachable');
    }
    this.count('local:dropped');
  }

  /** Send an ICMP error about `pkt` from the ingress interface's address. */
  protected icmpError(pkt: IpPacket, ingress: NetInterface, kind: IcmpErrorKind, mtu = 0): void {
    const from = this.addressOfFamily(pkt.version === 6 ? 6 : 4, ingress);
    if (!from) return;
    const err = icmpErrorPacket(pkt, from, kind, mtu);
    if (!err) return;
    this.count('icmp-error-sent');
    this.sendFrame(err);
  }
}
