import { DropReason } from '../base/drop-reason.js';
import { PacketBuffer } from '../base/packet-buffer.js';
import { buildPacketBuffer } from '../wire/builder.js';
import { checksum } from '../wire/checksum.js';
import { fragmentIpv4 } from '../wire/fragment.js';
import { decodeMetadata, encodeMetadataBlock, findTlv } from '../wire/metadata/block.js';
import { type Tlv, TlvType } from '../wire/metadata/tlv.js';
import { IpPacket, packetDestination, packetSource } from '../wire/packet.js';
import type { DataPlaneContext } from './context.js';

/**
 * 6.5 "Packet Fragmentation", between routers (docs/spec-decisions.md SD-41). A session packet
 * that, whole and signed, does not fit its peer path (a reassembled datagram, or one that grew by
 * its metadata) is sent as pieces that each look like a packet of the session: the session's
 * waypoints and UDP wayports, then a metadata header with TLV 1 (Fragment: an extended ID of this
 * router's, the original IP ID, MF and the offset in 8-byte units, the largest fragment seen) and,
 * on the first piece, TLV 16, then a piece of what followed the packet's UDP header (its own
 * metadata, payload and, at the very end, the one signature the whole packet carries). The peer
 * collects the pieces by path and extended ID, puts the packet together and handles it like any
 * other: the signature is checked on the whole packet. TCP is never cut this way: its MSS is
 * clamped, and metadata too big for a segment goes ahead in a control packet (SD-30).
 */

/** Metadata header, TLV 1 and TLV 16: what the first piece spends before its data. */
const FIRST_OVERHEAD = 12 + 14 + 8;
/** Limits on pieces held (unauthenticated until whole): bytes, packets and time. */
export const SVR_REASSEMBLY_LIMITS = { maxBytes: 4 << 20, maxPackets: 1024, timeoutMs: 5000 };

/** A packet is an SVR piece when its first header TLV is TLV 1 (SD-41 puts it first). */
export function isSvrPiece(pkt: IpPacket): boolean {
  if (!pkt.isUdp || pkt.isFragment) return false;
  const b = pkt.b;
  const o = pkt.payloadOffset;
  // cookie (8), version/header length, payload length, then type 1 length 10.
  return (
    pkt.end - o >= 12 + 14 &&
    b[o] === 0x4c &&
    b[o + 1] === 0x48 &&
    b[o + 2] === 0xdb &&
    b[o + 3] === 0xc6 &&
    b[o + 12] === 0 &&
    b[o + 13] === 1 &&
    b[o + 14] === 0 &&
    b[o + 15] === 10
  );
}

/**
 * Send the signed session packet `pkt` (in `pb`, released here) toward its peer in pieces of at
 * most `mtu` bytes (and no larger than the largest fragment the router saw of it, 6.5).
 */
export function sendInPieces(
  ctx: DataPlaneContext,
  pb: PacketBuffer,
  pkt: IpPacket,
  nextHop: number,
  keyId: number,
  mtu: number,
): void {
  const ipHeader = pkt.l4Offset - pkt.start;
  const size = pb.fragmentLargest > 0 ? Math.min(mtu, pb.fragmentLargest) : mtu;
  // Room for data in a piece: the same for every piece (a multiple of 8, the offset's unit).
  const room = ((size - ipHeader - 8 - FIRST_OVERHEAD) >> 3) << 3;
  const data = pkt.b.subarray(pkt.payloadOffset, pkt.end);
  if (room < 8 || data.length > 0x1fff * 8 + room) {
    ctx.drop(pb, DropReason.MtuExceeded);
    return;
  }
  const extendedId = ctx.nextFragmentId();
  const src = packetSource(pkt);
  const dst = packetDestination(pkt);
  const pieces: PacketBuffer[] = [];
  for (let at = 0; at < data.length; at += room) {
    const first = at === 0;
    const chunk = data.subarray(at, Math.min(at + room, data.length));
    const tlvs: Tlv[] = [
      {
        type: TlvType.Fragment,
        extendedId,
        originalId: pb.fragmentOriginalId,
        dontFragment: false,
        moreFragments: at + room < data.length,
        fragmentOffset: at >> 3,
        largestSeenFragment: pb.fragmentLargest,
      },
    ];
    if (first) tlvs.push({ type: TlvType.SecurityIdentifier, securityId: keyId });
    const block = encodeMetadataBlock({ tlvs });
    const payload = new Uint8Array(block.length + chunk.length);
    payload.set(block, 0);
    payload.set(chunk, block.length);
    pieces.push(
      buildPacketBuffer({
        src,
        dst,
        ttl: pkt.ttl,
        l4: { protocol: 'udp', srcPort: pkt.srcPort, dstPort: pkt.dstPort },
        payload,
      }),
    );
  }
  ctx.driver.release(pb);
  ctx.stats.piecesSent += pieces.length;
  for (const p of pieces) ctx.sendVia(nextHop, p);
}

interface Held {
  readonly firstAt: number;
  /** Offset (bytes) to data, for the pieces held. */
  readonly chunks: Map<number, Uint8Array>;
  bytes: number;
  /** Total data length once the last piece (MF clear) is in; -1 before. */
  total: number;
  /** The first piece's packet: its IP and UDP headers make the whole packet's. */
  header: Uint8Array | undefined;
  largest: number;
  originalId: number;
}

/** Pieces being collected, by peer path and the sender's extended ID (SD-41). */
export class SvrReassembly {
  private readonly held = new Map<string, Held>();
  private bytes = 0;

  constructor(private readonly limits = SVR_REASSEMBLY_LIMITS) {}

  get pending(): number {
    return this.held.size;
  }

  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * Take piece `pkt` from path `path`. The whole packet (in a fresh buffer, with the largest
   * fragment seen and the original ID on it) when this piece completes it; a drop reason; or
   * undefined while pieces are missing.
   */
  add(pkt: IpPacket, path: number, now: number): PacketBuffer | DropReason | undefined {
    this.expire(now);
    const md = decodeMetadata(pkt.b, pkt.payloadOffset, pkt.end);
    if (typeof md === 'number') return md;
    const f = findTlv(md, TlvType.Fragment);
    if (!f || md.payloadLength !== 0) return DropReason.MetadataTlvBadValue;
    const data = pkt.b.subarray(pkt.payloadOffset + md.blockLength, pkt.end);
    const key = `${path}/${f.extendedId}`;
    let h = this.held.get(key);
    if (!h) {
      if (this.held.size >= this.limits.maxPackets) return DropReason.ReassemblyLimit;
      h = {
        firstAt: now,
        chunks: new Map(),
        bytes: 0,
        total: -1,
        header: undefined,
        largest: 0,
        originalId: 0,
      };
      this.held.set(key, h);
    }
    const off = f.fragmentOffset * 8;
    const end = off + data.length;
    // Overlaps and duplicates end the packet (the pieces are not authenticated until it is whole).
    let bad = (f.moreFragments && data.length % 8 !== 0) || data.length === 0;
    if (!f.moreFragments && h.total >= 0) bad = true;
    if (h.total >= 0 && end > h.total) bad = true;
    for (const [o, c] of h.chunks) if (off < o + c.length && o < end) bad = true;
    if (!f.moreFragments) for (const [o, c] of h.chunks) if (o + c.length > end) bad = true;
    if (bad || this.bytes + data.length > this.limits.maxBytes) {
      this.forget(key, h);
      return bad ? DropReason.ReassemblyOverlap : DropReason.ReassemblyLimit;
    }
    h.chunks.set(off, data.slice());
    h.bytes += data.length;
    this.bytes += data.length;
    if (!f.moreFragments) h.total = end;
    if (off === 0) h.header = pkt.b.slice(pkt.start, pkt.payloadOffset);
    h.largest = Math.max(h.largest, f.largestSeenFragment);
    if (f.originalId) h.originalId = f.originalId;
    if (h.total < 0 || h.bytes !== h.total || !h.header) return undefined;
    this.forget(key, h);
    return assemble(h);
  }

  /** Drop what waited too long (its pieces are lost; the sender's transport recovers). */
  expire(now: number): number {
    let n = 0;
    for (const [k, h] of this.held)
      if (now - h.firstAt > this.limits.timeoutMs) {
        this.forget(k, h);
        n++;
      }
    return n;
  }

  private forget(key: string, h: Held): void {
    this.held.delete(key);
    this.bytes -= h.bytes;
  }
}

/** The whole packet: the first piece's IP and UDP headers, lengths and checksums made again. */
function assemble(h: Held): PacketBuffer {
  const header = h.header as Uint8Array;
  const v4 = header[0] >> 4 === 4;
  const ipLen = v4 ? (header[0] & 0x0f) << 2 : 40;
  const data = new Uint8Array(h.total);
  for (const [o, c] of h.chunks) data.set(c, o);
  const whole = new Uint8Array(ipLen + 8 + h.total);
  whole.set(header.subarray(0, ipLen + 8), 0);
  whole.set(data, ipLen + 8);
  const pb = PacketBuffer.from(whole);
  const b = pb.data;
  const s = pb.start;
  const l4Len = 8 + h.total;
  if (v4) {
    b[s + 2] = (ipLen + l4Len) >> 8;
    b[s + 3] = ipLen + l4Len;
    b[s + 10] = 0;
    b[s + 11] = 0;
    const c = checksum(b, s, ipLen);
    b[s + 10] = c >> 8;
    b[s + 11] = c;
  } else {
    b[s + 4] = l4Len >> 8;
    b[s + 5] = l4Len;
  }
  b[s + ipLen + 4] = l4Len >> 8;
  b[s + ipLen + 5] = l4Len;
  const p = new IpPacket();
  if (!p.parse(b, s, pb.end - s)) p.updateL4Checksum();
  pb.fragmentLargest = h.largest;
  pb.fragmentOriginalId = h.originalId;
  return pb;
}

/**
 * Toward a LAN (6.5): an IPv4 packet bigger than the interface's MTU is cut into ordinary IP
 * fragments no larger than the largest fragment seen of it; with DF set it is not (undefined).
 */
export function fragmentForLan(pb: PacketBuffer, pkt: IpPacket, mtu: number): PacketBuffer[] | undefined {
  const size = pb.fragmentLargest > 0 ? Math.min(mtu, pb.fragmentLargest) : mtu;
  if (pkt.version === 6) {
    // IPv6 routers do not fragment; a datagram its source sent in fragments leaves as it came.
    return pb.fragmentLargest > 0 ? fragmentIpv6(pkt, size, pb.fragmentOriginalId) : undefined;
  }
  if (pkt.ip4.dontFragment) return undefined;
  const out = fragmentIpv4(pkt.b, pkt.start, pkt.end - pkt.start, size);
  return out?.map((f) => PacketBuffer.from(f));
}

/** RFC 8200 4.5: the packet (no extension headers kept) in fragments of at most `size` bytes. */
function fragmentIpv6(pkt: IpPacket, size: number, id: number): PacketBuffer[] | undefined {
  const room = (size - 48) & ~7;
  const data = pkt.b.subarray(pkt.start + 40, pkt.end);
  if (room < 8 || pkt.b[pkt.start + 6] === 44) return undefined;
  const out: PacketBuffer[] = [];
  for (let at = 0; at < data.length; at += room) {
    const n = Math.min(room, data.length - at);
    const f = new Uint8Array(48 + n);
    f.set(pkt.b.subarray(pkt.start, pkt.start + 40), 0);
    f[6] = 44;
    f[4] = (8 + n) >> 8;
    f[5] = 8 + n;
    f[40] = pkt.b[pkt.start + 6]; // the next header the datagram had
    const word = at | (at + n < data.length ? 1 : 0);
    f[42] = word >> 8;
    f[43] = word;
    f[44] = id >>> 24;
    f[45] = id >>> 16;
    f[46] = id >>> 8;
    f[47] = id;
    f.set(data.subarray(at, at + n), 48);
    out.push(PacketBuffer.from(f));
  }
  return out;
}
