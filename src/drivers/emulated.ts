import type { IpAddress } from '../base/address.js';
import { BufferPool, PacketBuffer } from '../base/packet-buffer.js';
import type { Scheduler } from '../base/scheduler.js';
import type { Driver, RxBatch } from './driver.js';

/**
 * What the driver needs of an emulated link. The emulator's Segment (emu/segment.ts) has this
 * shape; the driver names only the shape, so drivers/ does not depend on emu/.
 */
export interface EmulatedLink {
  attach(spec: {
    readonly name: string;
    readonly vlan?: number;
    readonly addresses: readonly IpAddress[];
    receive(frame: Uint8Array): void;
  }): EmulatedLinkPort;
}

export interface EmulatedLinkPort {
  /** Put a packet on the link (the link copies it) towards `nextHop`, or its destination. */
  send(frame: Uint8Array, nextHop: IpAddress | undefined): boolean;
  detach(): void;
}

/** One of the router's interfaces, in its configuration order. */
export interface EmulatedInterface {
  readonly segment: EmulatedLink;
  /** 802.1Q VLAN id; 0 (untagged) by default. */
  readonly vlan?: number;
  /** The addresses the router owns on this interface: the link delivers packets for them here. */
  readonly addresses: readonly IpAddress[];
  readonly name?: string;
}

export interface EmulatedDriverOptions {
  /** Names the driver's attachments on the links: `<name>:<iface name or index>`. */
  readonly name?: string;
  readonly pool?: BufferPool;
}

export interface EmulatedDriverCounters {
  rxPackets: number;
  rxBatches: number;
  /** Frames that arrived while stopped (or before start). */
  rxDropped: number;
  txPackets: number;
  /** Sends the link refused at once (down, MTU, no neighbour, queue full) or to an unknown interface. */
  txDropped: number;
  allocated: number;
  released: number;
}

/**
 * The Driver for an svr router on the emulated network. Each configured interface is an
 * attachment on a segment that owns the router's addresses there, so the segment hands it every
 * packet sent to those addresses, including packets for other destinations that use the router
 * as their gateway.
 *
 * Packets arriving at the same virtual time are delivered as one RxBatch, from one scheduled
 * event per distinct time (the first arrival schedules a flush at the current time, which runs
 * after the arrivals already queued for that instant). Buffers come from a BufferPool with
 * headroom; the router owns each packet until it sends or releases it.
 */
export class EmulatedDriver implements Driver {
  readonly counters: EmulatedDriverCounters = {
    rxPackets: 0,
    rxBatches: 0,
    rxDropped: 0,
    txPackets: 0,
    txDropped: 0,
    allocated: 0,
    released: 0,
  };
  readonly name: string;
  private readonly pool: BufferPool;
  private readonly ports: EmulatedLinkPort[];
  private receiver: ((batch: RxBatch) => void) | undefined;
  /** Arrivals waiting for this instant's flush. */
  private pendingPackets: PacketBuffer[] = [];
  private pendingIface: number[] = [];
  private flushScheduled = false;
  private batch: { count: number; packets: PacketBuffer[]; iface: Int32Array } = {
    count: 0,
    packets: [],
    iface: new Int32Array(64),
  };

  constructor(
    private readonly scheduler: Scheduler,
    interfaces: readonly EmulatedInterface[],
    options: EmulatedDriverOptions = {},
  ) {
    this.name = options.name ?? 'svr';
    this.pool = options.pool ?? new BufferPool();
    this.ports = interfaces.map((ifc, i) =>
      ifc.segment.attach({
        name: `${this.name}:${ifc.name ?? i}`,
        vlan: ifc.vlan ?? 0,
        addresses: ifc.addresses,
        receive: (frame) => this.arrive(i, frame),
      }),
    );
  }

  get interfaceCount(): number {
    return this.ports.length;
  }

  start(receive: (batch: RxBatch) => void): void {
    this.receiver = receive;
  }

  stop(): void {
    this.receiver = undefined;
    for (const pb of this.pendingPackets) this.pool.give(pb);
    this.counters.rxDropped += this.pendingPackets.length;
    this.pendingPackets = [];
    this.pendingIface = [];
  }

  send(iface: number, packet: PacketBuffer, nextHop: IpAddress | undefined): void {
    const port = this.ports[iface];
    const ok = port?.send(packet.data.subarray(packet.start, packet.end), nextHop) === true;
    if (ok) this.counters.txPackets++;
    else this.counters.txDropped++;
    this.pool.give(packet);
  }

  release(packet: PacketBuffer): void {
    this.counters.released++;
    this.pool.give(packet);
  }

  allocate(): PacketBuffer {
    this.counters.allocated++;
    return this.pool.take();
  }

  private arrive(iface: number, frame: Uint8Array): void {
    if (!this.receiver) {
      this.counters.rxDropped++;
      return;
    }
    let pb: PacketBuffer;
    if (frame.length <= this.pool.bufferSize - this.pool.headroom) {
      pb = this.pool.take();
      pb.data.set(frame, pb.start);
      pb.end = pb.start + frame.length;
    } else {
      // Jumbo frames do not fit the pool's buffers; such a one-off buffer is not pooled again.
      pb = PacketBuffer.from(frame);
    }
    this.pendingPackets.push(pb);
    this.pendingIface.push(iface);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.scheduler.at(this.scheduler.now(), () => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    const receive = this.receiver;
    const packets = this.pendingPackets;
    const ifaces = this.pendingIface;
    // Fresh pending lists: the router may send packets that arrive back within this instant.
    this.pendingPackets = [];
    this.pendingIface = [];
    if (!receive || packets.length === 0) return;
    let b = this.batch;
    if (b.iface.length < packets.length) {
      b = { count: 0, packets: [], iface: new Int32Array(Math.max(packets.length, b.iface.length * 2)) };
      this.batch = b;
    }
    b.packets.length = 0;
    for (let i = 0; i < packets.length; i++) {
      b.packets.push(packets[i]);
      b.iface[i] = ifaces[i];
    }
    b.count = packets.length;
    this.counters.rxPackets += packets.length;
    this.counters.rxBatches++;
    receive(b);
  }
}
