import type { IpAddress } from '../../base/address.js';
import {
  BufferPool,
  DEFAULT_HEADROOM,
  DEFAULT_TAILROOM,
  type PacketBuffer,
} from '../../base/packet-buffer.js';
import type { Driver, RxBatch } from '../driver.js';
import { Coalescer } from './gro.js';
import { errnoText, loadTunNative, type TunNative } from './native.js';
import { compensateTtl, GSO_UDP_L4, Rx, rxFixup, txHeader, VNET_HDR_LEN } from './virtio.js';

/** One router interface as a TUN device (the host setup routes its traffic through it). */
export interface TunInterface {
  /** The TUN device's name (at most 15 bytes). */
  readonly tun: string;
}

export interface TunDriverOptions {
  /**
   * Checksum and TCP segmentation offload (IFF_VNET_HDR + TUNSETOFFLOAD): the kernel hands
   * over 64 KB TCP super-packets and segments them again on the way out. Default true.
   */
  readonly offloads?: boolean;
  /** Packets read per device per wake-up (default 64). */
  readonly batch?: number;
}

export interface TunDriverCounters {
  rxPackets: number;
  rxBatches: number;
  rxSuperPackets: number;
  /** Super-packets of a kind the data plane cannot take (UDP GSO, no partial checksum). */
  rxUnsupported: number;
  rxErrors: number;
  txPackets: number;
  txSuperPackets: number;
  txErrors: number;
  /** Super-packets that came back no longer TCP over plain IP, which the kernel cannot segment. */
  txUnsegmentable: number;
  /** Segments the driver merged into super-packets on the way out (gro.ts). */
  txCoalesced: number;
  lastError: string;
}

/** Largest packet a TUN read returns: a 64 KB super-packet. */
const MAX_PACKET = 65535;

/**
 * The Linux driver: each configured interface is a TUN device, read in batches of up to 64
 * packets whenever libuv reports it readable, written with one writev per packet. With offloads
 * a TCP transfer moves as 64 KB super-packets through the router (the fast path translates one
 * of them like one packet), which is what makes a single Node thread fast enough (docs/linux.md).
 */
export class TunDriver implements Driver {
  readonly counters: TunDriverCounters = {
    rxPackets: 0,
    rxBatches: 0,
    rxSuperPackets: 0,
    rxUnsupported: 0,
    rxErrors: 0,
    txPackets: 0,
    txSuperPackets: 0,
    txErrors: 0,
    txUnsegmentable: 0,
    txCoalesced: 0,
    lastError: '',
  };
  private readonly native: TunNative;
  private readonly fds: number[] = [];
  private readonly watches: object[] = [];
  private readonly offloads: boolean;
  private readonly max: number;
  /** Receive buffers: big enough for a super-packet, with the virtio header before `start`. */
  private readonly rxPool: BufferPool;
  /** Buffers for packets the router makes and for segments. */
  private readonly smallPool = new BufferPool();
  private readonly slots: PacketBuffer[] = [];
  private readonly slotData: Uint8Array[] = [];
  private readonly lengths: Int32Array;
  private readonly batch: RxBatch;
  private readonly header = new Uint8Array(VNET_HDR_LEN);
  private receiver: ((b: RxBatch) => void) | undefined;
  /** Per interface: TCP segments the router sends in one batch, merged (gro.ts). */
  private readonly coalescers: Coalescer[] = [];
  private inBatch = false;

  /** Opens the TUN devices now; throws with the reason (privilege, name in use) if one fails. */
  constructor(interfaces: readonly TunInterface[], o: TunDriverOptions = {}) {
    const native = loadTunNative();
    if (typeof native === 'string') throw new Error(native);
    this.native = native;
    this.offloads = o.offloads ?? true;
    this.max = o.batch ?? 64;
    const rxSize = DEFAULT_HEADROOM + (this.offloads ? MAX_PACKET : 2048) + DEFAULT_TAILROOM;
    this.rxPool = new BufferPool(rxSize, DEFAULT_HEADROOM, this.max * 2);
    this.lengths = new Int32Array(this.max);
    this.batch = { count: 0, packets: [], iface: new Int32Array(this.max) };
    for (let i = 0; i < this.max; i++) this.takeSlot(i);
    for (const ifc of interfaces) {
      const fd = native.open(ifc.tun, this.offloads, this.offloads);
      if (fd < 0) {
        this.closeAll();
        throw new Error(`cannot open TUN device ${ifc.tun}: ${errnoText(fd)}`);
      }
      this.fds.push(fd);
      this.coalescers.push(
        new Coalescer(
          () => this.rxPool.take(),
          (pb) => this.give(pb),
        ),
      );
    }
  }

  private takeSlot(i: number): void {
    const pb = this.rxPool.take();
    this.slots[i] = pb;
    this.slotData[i] = pb.data;
  }

  start(receive: (batch: RxBatch) => void): void {
    this.receiver = receive;
    this.fds.forEach((fd, i) => {
      this.watches.push(this.native.watch(fd, () => this.drain(i)));
    });
  }

  stop(): void {
    this.receiver = undefined;
    this.closeAll();
  }

  private closeAll(): void {
    for (const w of this.watches) this.native.unwatch(w);
    this.watches.length = 0;
    for (const fd of this.fds) this.native.close(fd);
    this.fds.length = 0;
  }

  private drain(iface: number): void {
    const fd = this.fds[iface];
    const receive = this.receiver;
    if (fd === undefined || !receive) return;
    const off = this.offloads ? DEFAULT_HEADROOM - VNET_HDR_LEN : DEFAULT_HEADROOM;
    const n = this.native.read(fd, this.slotData, off, this.max, this.lengths);
    if (n < 0) {
      this.counters.rxErrors++;
      this.counters.lastError = `read: ${errnoText(n)}`;
      return;
    }
    if (n === 0) return;
    const b = this.batch;
    b.packets.length = 0;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const pb = this.slots[i];
      pb.start = DEFAULT_HEADROOM;
      pb.end = off + this.lengths[i];
      // The router owns this buffer now; the slot gets a fresh one.
      this.takeSlot(i);
      if (this.offloads) {
        if (pb.end < pb.start || rxFixup(pb) !== Rx.Ok) {
          this.counters.rxUnsupported++;
          this.rxPool.give(pb);
          continue;
        }
        if (pb.gsoSize > 0) this.counters.rxSuperPackets++;
      }
      compensateTtl(pb); // the data plane's own decrement is the router's hop
      b.packets.push(pb);
      b.iface[count++] = iface;
    }
    b.count = count;
    this.counters.rxPackets += count;
    this.counters.rxBatches++;
    if (count === 0) return;
    this.inBatch = this.offloads;
    try {
      receive(b);
    } finally {
      this.inBatch = false;
      for (let i = 0; i < this.coalescers.length; i++) if (this.coalescers[i].pending) this.flushGroup(i);
    }
  }

  private flushGroup(iface: number): void {
    const c = this.coalescers[iface];
    const n = c.count;
    const g = c.finish(this.header);
    if (!g) return;
    if (n > 1) {
      this.counters.txSuperPackets++;
      this.counters.txCoalesced += n;
    }
    const w = this.native.write(this.fds[iface], g.data, g.start, g.end, this.header);
    if (w < 0) {
      this.counters.txErrors++;
      this.counters.lastError = `write: ${errnoText(w)}`;
      // A kernel older than 6.2 refuses UDP segmentation requests: merge TCP only from now on.
      if (this.header[1] === GSO_UDP_L4) for (const x of this.coalescers) x.allowUdp = false;
    } else this.counters.txPackets++;
    this.give(g);
  }

  send(iface: number, packet: PacketBuffer, _nextHop: IpAddress | undefined): void {
    // The next hop is the kernel's to resolve: the TUN's routing table (runtime/linux-host.ts)
    // holds the router's routes for this interface.
    const fd = this.fds[iface];
    if (fd === undefined) {
      this.counters.txErrors++;
      this.give(packet);
      return;
    }
    compensateTtl(packet); // what the kernel takes forwarding it from the TUN
    const c = this.coalescers[iface];
    if (this.inBatch && packet.gsoSize === 0) {
      if (c.add(packet)) {
        this.give(packet);
        return;
      }
      if (c.pending) this.flushGroup(iface);
      if (c.start(packet)) return;
    } else if (c.pending) this.flushGroup(iface);
    let w: number;
    if (this.offloads) {
      if (!txHeader(packet, this.header)) {
        this.counters.txUnsegmentable++;
        this.give(packet);
        return;
      }
      if (packet.gsoSize > 0) this.counters.txSuperPackets++;
      w = this.native.write(fd, packet.data, packet.start, packet.end, this.header);
    } else w = this.native.write(fd, packet.data, packet.start, packet.end);
    if (w < 0) {
      this.counters.txErrors++;
      this.counters.lastError = `write: ${errnoText(w)}`;
    } else this.counters.txPackets++;
    this.give(packet);
  }

  release(packet: PacketBuffer): void {
    this.give(packet);
  }

  allocate(): PacketBuffer {
    return this.smallPool.take();
  }

  private give(pb: PacketBuffer): void {
    if (pb.data.length === this.rxPool.bufferSize) this.rxPool.give(pb);
    else this.smallPool.give(pb);
  }
}
