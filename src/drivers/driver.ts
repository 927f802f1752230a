import type { IpAddress } from '../base/address.js';
import type { PacketBuffer } from '../base/packet-buffer.js';

/**
 * What a router sees of a network: its configured network interfaces, numbered as in its
 * configuration (RouterModel.interfaces), that deliver and take IP packets. The emulator
 * (emu/) and the Linux driver (issue 6) implement it; the data plane never knows which.
 *
 * Packets move in batches, as VPP and wireguard-go move them: the driver hands the router every
 * packet it has at once, and the router processes the batch in one loop.
 */

/** Packets received together. The object and its arrays are reused by the driver between calls. */
export interface RxBatch {
  count: number;
  /** Received packets, IP header at `start`; owned by the router until sent or released. */
  readonly packets: PacketBuffer[];
  /** Interface index (RouterModel.interfaces) each packet arrived on; its VLAN is that interface's. */
  readonly iface: Int32Array;
}

export interface Driver {
  /** Begin delivering received packets. */
  start(receive: (batch: RxBatch) => void): void;
  /**
   * Transmit an IP packet out of interface `iface` to the neighbour at `nextHop` (a gateway or
   * peer waypoint), or, when undefined, to the packet's own destination on that network. The
   * driver takes the buffer and returns it to its pool once sent.
   */
  send(iface: number, packet: PacketBuffer, nextHop: IpAddress | undefined): void;
  /** Give back a buffer the router will not send (a dropped packet). */
  release(packet: PacketBuffer): void;
  /** A fresh buffer with headroom, for packets the router makes itself (ICMP errors, control). */
  allocate(): PacketBuffer;
  stop(): void;
}
