/**
 * One packet in a larger buffer, with headroom before and tailroom after (like Linux's sk_buff).
 * Metadata insertion moves the short IP+L4 headers into the headroom instead of the payload
 * into the tailroom, and HMAC signatures grow into the tailroom, so neither copies a payload.
 */
export class PacketBuffer {
  constructor(
    public data: Uint8Array,
    /** Offset of the first byte of the IP header. */
    public start: number,
    /** Offset one past the last byte of the packet. */
    public end: number,
  ) {}

  /**
   * A TCP super-packet from a driver with segmentation offload (Linux TUN, virtio-net GSO): the
   * size of each segment it stands for, or 0 for an ordinary packet. Its L4 checksum field then
   * holds what the driver documents (drivers/linux/virtio.ts), kept right by incremental updates.
   */
  gsoSize = 0;
  /** The driver's GSO type for a super-packet (virtio-net gso_type); 0 otherwise. */
  gsoType = 0;
  /**
   * 6.5: a packet put together from fragments: the largest fragment seen of it (a size no piece
   * of it may exceed again) and the IP ID it had; 0 for a packet that came whole.
   */
  fragmentLargest = 0;
  fragmentOriginalId = 0;

  /** Copy `packet` into a fresh buffer with room around it. */
  static from(packet: Uint8Array, headroom = DEFAULT_HEADROOM, tailroom = DEFAULT_TAILROOM): PacketBuffer {
    const data = new Uint8Array(headroom + packet.length + tailroom);
    data.set(packet, headroom);
    return new PacketBuffer(data, headroom, headroom + packet.length);
  }

  get length(): number {
    return this.end - this.start;
  }

  get headroom(): number {
    return this.start;
  }

  get tailroom(): number {
    return this.data.length - this.end;
  }

  /** A view of the packet bytes (allocates a view object: not for the per-packet fast path). */
  bytes(): Uint8Array {
    return this.data.subarray(this.start, this.end);
  }

  /** A copy of the packet bytes. */
  copy(): Uint8Array {
    return this.data.slice(this.start, this.end);
  }
}

/** Enough for the largest metadata block a first packet carries plus an IPv6 header move. */
export const DEFAULT_HEADROOM = 512;
/** Enough for the longest HMAC signature (32 bytes, D-2) with slack. */
export const DEFAULT_TAILROOM = 64;

/**
 * Fixed-size buffers reused across packets, each with headroom. A driver takes one, fills it at
 * `start = headroom`, and gives it back when the packet has been sent or dropped.
 */
export class BufferPool {
  private readonly free: PacketBuffer[] = [];

  constructor(
    readonly bufferSize = 2048 + DEFAULT_HEADROOM + DEFAULT_TAILROOM,
    readonly headroom = DEFAULT_HEADROOM,
    private readonly max = 4096,
  ) {}

  take(): PacketBuffer {
    const b = this.free.pop();
    if (b) {
      b.start = this.headroom;
      b.end = this.headroom;
      b.gsoSize = 0;
      b.gsoType = 0;
      b.fragmentLargest = 0;
      b.fragmentOriginalId = 0;
      return b;
    }
    return new PacketBuffer(new Uint8Array(this.bufferSize), this.headroom, this.headroom);
  }

  give(b: PacketBuffer): void {
    if (b.data.length === this.bufferSize && this.free.length < this.max) this.free.push(b);
  }

  get available(): number {
    return this.free.length;
  }
}
