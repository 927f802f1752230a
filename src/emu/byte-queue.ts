/**
 * Bytes queued for sending, read by offset from the front and dropped from the front as they
 * are acknowledged. Chunks are kept as pushed (copied once), so queueing a megabyte costs one
 * copy and reading a segment out of it another.
 */
export class ByteQueue {
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  /** Bytes of chunks[head] already dropped. */
  private headOffset = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.size += bytes.length;
  }

  /** A copy of `n` bytes starting `offset` bytes from the front (clamped to what is queued). */
  peek(offset: number, n: number): Uint8Array {
    const len = Math.max(0, Math.min(n, this.size - offset));
    const out = new Uint8Array(len);
    let skip = offset + this.headOffset;
    let o = 0;
    for (let i = this.head; i < this.chunks.length && o < len; i++) {
      const c = this.chunks[i];
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const take = Math.min(c.length - skip, len - o);
      out.set(c.subarray(skip, skip + take), o);
      o += take;
      skip = 0;
    }
    return out;
  }

  drop(n: number): void {
    let left = Math.min(n, this.size);
    this.size -= left;
    while (left > 0) {
      const c = this.chunks[this.head];
      const rest = c.length - this.headOffset;
      if (left < rest) {
        this.headOffset += left;
        break;
      }
      left -= rest;
      this.head++;
      this.headOffset = 0;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks.splice(0, this.head);
      this.head = 0;
    }
  }
}
