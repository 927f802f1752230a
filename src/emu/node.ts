import { type IpAddress, ipToString, sameAddress } from '../base/address.js';
import { addressBytes, type Prefix, parsePrefix, prefixContains } from '../base/prefix.js';
import type { Random } from '../base/random.js';
import type { Scheduler } from '../base/scheduler.js';
import { buildPacket, type PacketSpec } from '../wire/builder.js';
import { fragmentIpv4 } from '../wire/fragment.js';
import { IpPacket, packetDestination } from '../wire/packet.js';
import { parseInterfaceAddress, toAddress } from './addresses.js';
import { Counters } from './counters.js';
import { RouteTable } from './routes.js';
import type { Segment, SegmentPort } from './segment.js';

/** One interface of a node, as scenarios write it. */
export interface InterfaceSpec {
  readonly segment: Segment;
  /** Address and connected network: "10.0.1.1/24" or "2001:db8:1::1/64". */
  readonly address: string;
  /** 802.1Q VLAN id on the segment; 0 (untagged) by default. */
  readonly vlan?: number;
  /** Default: the segment's MTU when the interface is made. */
  readonly mtu?: number;
  /** Default: eth0, eth1, ... in order. */
  readonly name?: string;
  /** A default route (0.0.0.0/0 or ::/0) via this gateway on this interface. */
  readonly gateway?: string;
}

export interface RouteSpec {
  /** "10.0.2.0/24", "0.0.0.0/0", "2001:db8::/32". */
  readonly prefix: string;
  /** Next hop; must be on a connected network unless `iface` names the interface. */
  readonly via?: string;
  /** Interface name or index; found from `via` when omitted. */
  readonly iface?: string | number;
}

export class NetInterface {
  constructor(
    readonly index: number,
    readonly name: string,
    readonly segment: Segment,
    readonly vlan: number,
    /** Changes only through Node.renumber. */
    public address: IpAddress,
    readonly prefix: Prefix,
    readonly mtu: number,
    readonly port: SegmentPort,
  ) {}

  /** "10.0.1.1/24". */
  get text(): string {
    return `${ipToString(this.address)}/${this.prefix.length}`;
  }
}

/** A packet built by a node; the source defaults to the egress interface's address. */
export type OutgoingSpec = Omit<PacketSpec, 'src' | 'dst'> & {
  readonly src?: string | IpAddress;
  readonly dst: string | IpAddress;
};

/**
 * What hosts and routers share: interfaces on segments, a routing table (connected networks,
 * static routes, default gateways; longest prefix wins), and sending with fragmentation by the
 * egress MTU. Subclasses decide what a received packet means.
 *
 * Counters: `rx`, `tx`, `fragmented`, `tx-dropped:<why>` and whatever the subclass counts.
 */
export abstract class Node {
  readonly interfaces: NetInterface[] = [];
  readonly routes = new RouteTable();
  readonly counters = new Counters();
  /** Parsed view of the packet being received; reused, so valid only during receive(). */
  protected readonly pkt = new IpPacket();
  private ipId: number;

  constructor(
    readonly name: string,
    readonly sim: Scheduler,
    readonly random: Random,
  ) {
    this.ipId = random.u32() & 0xffff;
  }

  addInterface(spec: InterfaceSpec): NetInterface {
    const { address, prefix } = parseInterfaceAddress(spec.address);
    const index = this.interfaces.length;
    const name = spec.name ?? `eth${index}`;
    if (this.interfaces.some((i) => i.name === name))
      throw new Error(`${this.name}: interface ${name} exists`);
    const vlan = spec.vlan ?? 0;
    let iface: NetInterface | undefined;
    const port = spec.segment.attach({
      name: `${this.name}:${name}`,
      vlan,
      addresses: [address],
      receive: (frame) => {
        if (!iface) return;
        this.counters.add('rx');
        this.receive(frame, iface);
      },
    });
    iface = new NetInterface(
      index,
      name,
      spec.segment,
      vlan,
      address,
      prefix,
      spec.mtu ?? spec.segment.mtu,
      port,
    );
    this.interfaces.push(iface);
    this.routes.add({ prefix, iface: index, kind: 'connected' });
    if (spec.gateway)
      this.addRoute({
        prefix: address.version === 4 ? '0.0.0.0/0' : '::/0',
        via: spec.gateway,
        iface: index,
      });
    return iface;
  }

  /**
   * Give an interface a new address on the same network, as a DHCP renewal or a new public
   * address of a NAT would (5.1.3).
   */
  renumber(iface: string | number, address: string): void {
    const i = this.interfaces.find((x) => x.name === iface || x.index === iface);
    const a = toAddress(address);
    if (!i || !prefixContains(i.prefix, addressBytes(a)))
      throw new Error(`${this.name}: cannot renumber ${iface} to ${address}`);
    i.address = a;
    i.segment.readdress(i.port, [a]);
  }

  addRoute(spec: RouteSpec): void {
    const prefix = parsePrefix(spec.prefix);
    if (typeof prefix === 'string') throw new TypeError(`${this.name}: route ${spec.prefix}: ${prefix}`);
    const gateway = spec.via === undefined ? undefined : toAddress(spec.via);
    let iface: NetInterface | undefined;
    if (spec.iface !== undefined)
      iface = this.interfaces.find((i) => i.name === spec.iface || i.index === spec.iface);
    else if (gateway) {
      const g = addressBytes(gateway);
      iface = this.interfaces.find((i) => prefixContains(i.prefix, g));
    }
    if (!iface)
      throw new Error(`${this.name}: route ${spec.prefix}: no interface reaches ${spec.via ?? spec.iface}`);
    this.routes.add(
      gateway
        ? { prefix, iface: iface.index, gateway, kind: 'static' }
        : { prefix, iface: iface.index, kind: 'static' },
    );
  }

  /** Is this one of the node's own addresses? */
  owns(a: IpAddress): boolean {
    return this.interfaces.some((i) => sameAddress(i.address, a));
  }

  /** Egress interface and next hop for a destination (next hop undefined: on-link). */
  resolve(dst: IpAddress): { iface: NetInterface; nextHop: IpAddress | undefined } | undefined {
    const r = this.routes.lookup(dst);
    if (!r) return undefined;
    return { iface: this.interfaces[r.iface], nextHop: r.gateway };
  }

  /** An address of the node in `version`, preferring `iface`'s. */
  addressOfFamily(version: 4 | 6, iface?: NetInterface): IpAddress | undefined {
    if (iface && iface.address.version === version) return iface.address;
    return this.interfaces.find((i) => i.address.version === version)?.address;
  }

  /** Source address and egress MTU towards `dst`, or undefined with no route. */
  pathTo(dst: IpAddress): { src: IpAddress; mtu: number } | undefined {
    const r = this.resolve(dst);
    if (!r) return undefined;
    const src = this.addressOfFamily(dst.version, r.iface);
    return src ? { src, mtu: r.iface.mtu } : undefined;
  }

  /** Parse a received frame into `this.pkt`; false (counted) when it is not a sound IP packet. */
  protected parseFrame(frame: Uint8Array): boolean {
    const pkt = this.pkt;
    if (pkt.parse(frame, 0, frame.length)) {
      this.count('malformed');
      return false;
    }
    if (pkt.version === 4 && !pkt.ip4.checksumValid()) {
      this.count('bad-ip-checksum');
      return false;
    }
    return true;
  }

  count(name: string): void {
    this.counters.add(name);
  }

  /** Build a packet from this node and route it; false when it could not be sent. */
  sendIp(spec: OutgoingSpec): boolean {
    const dst = toAddress(spec.dst);
    const r = this.resolve(dst);
    if (!r) {
      this.counters.add('tx-dropped:no-route');
      return false;
    }
    const src = spec.src === undefined ? this.addressOfFamily(dst.version, r.iface) : toAddress(spec.src);
    if (!src) {
      this.counters.add('tx-dropped:no-source');
      return false;
    }
    const identification = spec.identification ?? (dst.version === 4 ? this.nextIdentification() : undefined);
    return this.transmit(r.iface, buildPacket({ ...spec, src, dst, identification }), r.nextHop);
  }

  /** Route a whole IP packet this node made (an ICMP error, a raw test packet) by its destination. */
  sendFrame(frame: Uint8Array): boolean {
    const p = new IpPacket();
    if (p.parse(frame, 0, frame.length, true)) {
      this.counters.add('tx-dropped:malformed');
      return false;
    }
    const r = this.resolve(packetDestination(p));
    if (!r) {
      this.counters.add('tx-dropped:no-route');
      return false;
    }
    return this.transmit(r.iface, frame, r.nextHop);
  }

  /**
   * Put a packet on an interface's segment. Larger than the interface MTU: IPv4 without DF is
   * fragmented (RFC 791); anything else is dropped and counted (routers answer with ICMP first).
   */
  transmit(iface: NetInterface, frame: Uint8Array, nextHop: IpAddress | undefined): boolean {
    if (frame.length <= iface.mtu) {
      this.counters.add('tx');
      return iface.port.send(frame, nextHop);
    }
    const v4 = frame[0] >> 4 === 4;
    const frags = v4 && !(frame[6] & 0x40) ? fragmentIpv4(frame, 0, frame.length, iface.mtu) : undefined;
    if (!frags) {
      this.counters.add('tx-dropped:mtu');
      return false;
    }
    this.counters.add('fragmented');
    let ok = true;
    for (const f of frags) {
      this.counters.add('tx');
      ok = iface.port.send(f, nextHop) && ok;
    }
    return ok;
  }

  nextIdentification(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  /** A frame the segment delivered on `iface`; the node owns the bytes. */
  protected abstract receive(frame: Uint8Array, iface: NetInterface): void;
}
