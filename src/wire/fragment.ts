import { readU16, writeU16 } from '../base/bytes.js';
import { checksum } from './checksum.js';

/**
 * IPv4 fragmentation (RFC 791 3.2, "An Example Fragmentation Procedure"): what a router does
 * when the egress MTU is smaller and DF is clear (svr toward a LAN, 6.5; the emulator's routers),
 * and what a host does for its own large datagrams. Fragmenting a fragment keeps its offset and
 * MF, so reassembly sees one datagram.
 */

/** Options copied into every fragment: the copy bit of the option type (RFC 791 3.1). */
function copiedOptions(b: Uint8Array, off: number, hl: number): Uint8Array {
  const out: number[] = [];
  let i = off + 20;
  const end = off + hl;
  while (i < end) {
    const type = b[i];
    if (type === 0) break;
    if (type === 1) {
      i++;
      continue;
    }
    const len = i + 1 < end ? b[i + 1] : 0;
    if (len < 2 || i + len > end) break;
    if (type & 0x80) for (let k = 0; k < len; k++) out.push(b[i + k]);
    i += len;
  }
  while (out.length % 4 !== 0) out.push(0);
  return Uint8Array.from(out);
}

/**
 * Split the IPv4 packet at b[off, off+len) into fragments of at most `mtu` bytes, each with a
 * valid header checksum. Undefined when it cannot be done (MTU below one 8-byte unit of data).
 */
export function fragmentIpv4(b: Uint8Array, off: number, len: number, mtu: number): Uint8Array[] | undefined {
  const hl = (b[off] & 0x0f) << 2;
  const total = Math.min(len, readU16(b, off + 2));
  const flags = readU16(b, off + 6);
  const baseOffset = (flags & 0x1fff) * 8;
  const moreAfter = (flags & 0x2000) !== 0;
  const df = flags & 0x4000;
  const laterOptions = copiedOptions(b, off, hl);
  const data = b.subarray(off + hl, off + total);
  const out: Uint8Array[] = [];
  let pos = 0;
  while (pos < data.length) {
    const first = pos === 0;
    const h = first ? hl : 20 + laterOptions.length;
    const room = ((mtu - h) >> 3) << 3;
    if (room < 8) return undefined;
    const n = Math.min(room, data.length - pos);
    const last = pos + n >= data.length;
    const f = new Uint8Array(h + n);
    if (first) f.set(b.subarray(off, off + hl));
    else {
      f.set(b.subarray(off, off + 20));
      f.set(laterOptions, 20);
      f[0] = 0x40 | (h >> 2);
    }
    f.set(data.subarray(pos, pos + n), h);
    writeU16(f, 2, h + n);
    writeU16(f, 6, df | (last && !moreAfter ? 0 : 0x2000) | ((baseOffset + pos) >> 3));
    writeU16(f, 10, 0);
    writeU16(f, 10, checksum(f, 0, h));
    out.push(f);
    pos += n;
  }
  return out;
}
