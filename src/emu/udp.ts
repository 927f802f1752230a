import { type IpAddress, ipToString } from '../base/address.js';
import { toAddress } from './addresses.js';
import type { OutgoingSpec } from './node.js';

export interface UdpDatagram {
  readonly timeMs: number;
  /** Sender's address as text, and parsed. */
  readonly from: string;
  readonly fromAddress: IpAddress;
  readonly port: number;
  readonly data: Uint8Array;
}

export interface UdpSendOptions {
  readonly ttl?: number;
  readonly dontFragment?: boolean;
  /** Source address; the egress interface's by default. */
  readonly src?: string | IpAddress;
}

/** What a UDP socket needs of its host. */
export interface UdpHost {
  readonly sim: { now(): number };
  sendIp(spec: OutgoingSpec): boolean;
  unbindUdp(socket: UdpSocket): void;
}

/** A bound UDP port on an emulated host. */
export class UdpSocket {
  readonly received: UdpDatagram[] = [];
  onMessage: ((d: UdpDatagram) => void) | undefined;
  open = true;

  constructor(
    private readonly host: UdpHost,
    readonly port: number,
  ) {}

  sendTo(dst: string | IpAddress, port: number, data: Uint8Array, options: UdpSendOptions = {}): boolean {
    if (!this.open) return false;
    return this.host.sendIp({
      src: options.src,
      dst: toAddress(dst),
      ttl: options.ttl,
      dontFragment: options.dontFragment,
      l4: { protocol: 'udp', srcPort: this.port, dstPort: port },
      payload: data,
    });
  }

  close(): void {
    this.open = false;
    this.host.unbindUdp(this);
  }

  /** @internal A datagram for this port. */
  deliver(from: IpAddress, port: number, data: Uint8Array): void {
    const d: UdpDatagram = {
      timeMs: this.host.sim.now(),
      from: ipToString(from),
      fromAddress: from,
      port,
      data,
    };
    this.received.push(d);
    this.onMessage?.(d);
  }
}
