import { DropReason } from '../base/drop-reason.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import { checksum, finish, onesSum, pseudoSumV4, pseudoSumV6 } from './checksum.js';
import type { IpPacket } from './packet.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './protocol.js';
import { TCP_CWR, TCP_FIN, TCP_PSH } from './tcp.js';

/**
 * Software segmentation of a TCP super-packet (what a NIC's TSO does): one packet per `mss`
 * bytes of payload, each with the headers copied, the sequence number advanced, IPv4
 * identifications counting up, FIN and PSH on the last piece only, CWR on the first only, and
 * complete checksums. The data plane uses it where each wire packet needs its own work: a
 * signature on every packet (4.5), or metadata on a packet of a session still in its handshake.
 *
 * Appends the pieces to `out`; returns a reason when the packet cannot be segmented.
 */
export function segmentTcp(
  pkt: IpPacket,
  mss: number,
  take: () => PacketBuffer,
  out: PacketBuffer[],
): DropReason {
  if (pkt.protocol !== IPPROTO_TCP || pkt.l4HeaderLength < 20 || pkt.isFragment || mss <= 0)
    return DropReason.GsoSegmentFailed;
  const l4 = pkt.l4Offset - pkt.start;
  const tcpHdr = pkt.l4HeaderLength;
  const payload = pkt.end - pkt.payloadOffset;
  const seq0 = pkt.tcp.seq;
  const flags0 = pkt.tcp.flags;
  const id0 = pkt.version === 4 ? pkt.ip4.identification : 0;
  for (let off = 0, i = 0; off < payload || (off === 0 && payload === 0); off += mss, i++) {
    const n = Math.min(mss, payload - off);
    const seg = piece(pkt, take, off, n);
    if (!seg) return DropReason.GsoSegmentFailed;
    const d = seg.data;
    const s = seg.start;
    const last = off + n >= payload;
    let flags = flags0;
    if (!last) flags &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) flags &= ~TCP_CWR;
    const t = s + l4;
    const seq = (seq0 + off) >>> 0;
    d[t + 4] = seq >>> 24;
    d[t + 5] = seq >>> 16;
    d[t + 6] = seq >>> 8;
    d[t + 7] = seq;
    d[t + 13] = flags;
    d[t + 16] = 0;
    d[t + 17] = 0;
    const l4Len = tcpHdr + n;
    const sum = pieceLengths(pkt, seg, (id0 + i) & 0xffff, l4Len);
    const c = finish(onesSum(d, t, l4Len, sum));
    d[t + 16] = c >>> 8;
    d[t + 17] = c;
    out.push(seg);
    if (payload === 0) break;
  }
  return DropReason.None;
}

/**
 * Software segmentation of a UDP super-packet (USO): one datagram per `size` bytes of payload,
 * each with the headers copied, its own UDP length, IPv4 identifications counting up, and
 * complete checksums. Appends the datagrams to `out`.
 */
export function segmentUdp(
  pkt: IpPacket,
  size: number,
  take: () => PacketBuffer,
  out: PacketBuffer[],
): DropReason {
  if (pkt.protocol !== IPPROTO_UDP || pkt.l4HeaderLength !== 8 || pkt.isFragment || size <= 0)
    return DropReason.GsoSegmentFailed;
  const l4 = pkt.l4Offset - pkt.start;
  const payload = pkt.end - pkt.payloadOffset;
  const id0 = pkt.version === 4 ? pkt.ip4.identification : 0;
  for (let off = 0, i = 0; off < payload; off += size, i++) {
    const n = Math.min(size, payload - off);
    const seg = piece(pkt, take, off, n);
    if (!seg) return DropReason.GsoSegmentFailed;
    const d = seg.data;
    const u = seg.start + l4;
    const udpLen = 8 + n;
    d[u + 4] = udpLen >>> 8;
    d[u + 5] = udpLen;
    d[u + 6] = 0;
    d[u + 7] = 0;
    const sum = pieceLengths(pkt, seg, (id0 + i) & 0xffff, udpLen);
    // RFC 768: a computed zero is sent as all ones.
    const c = finish(onesSum(d, u, udpLen, sum)) || 0xffff;
    d[u + 6] = c >>> 8;
    d[u + 7] = c;
    out.push(seg);
  }
  return DropReason.None;
}

/** pkt's headers and payload[off, off+n) in a fresh buffer, or undefined when it cannot hold them. */
function piece(pkt: IpPacket, take: () => PacketBuffer, off: number, n: number): PacketBuffer | undefined {
  const hdrLen = pkt.payloadOffset - pkt.start;
  const seg = take();
  if (seg.data.length - seg.start < hdrLen + n) return undefined;
  seg.data.set(pkt.b.subarray(pkt.start, pkt.payloadOffset), seg.start);
  seg.data.set(pkt.b.subarray(pkt.payloadOffset + off, pkt.payloadOffset + off + n), seg.start + hdrLen);
  seg.end = seg.start + hdrLen + n;
  return seg;
}

/** A piece's IP length fields (IPv4: identification and checksum too); its pseudo-header sum. */
function pieceLengths(pkt: IpPacket, seg: PacketBuffer, id: number, l4Len: number): number {
  const d = seg.data;
  const s = seg.start;
  const l4 = pkt.l4Offset - pkt.start;
  if (pkt.version === 4) {
    setIpv4Length(d, s, l4, l4 + l4Len, id);
    return pseudoSumV4(pkt.ip4.src, pkt.ip4.dst, pkt.protocol, l4Len);
  }
  const pl = l4 - 40 + l4Len;
  d[s + 4] = pl >>> 8;
  d[s + 5] = pl;
  return pseudoSumV6(d, s + 8, s + 24, pkt.protocol, l4Len);
}

/** An IPv4 header's total length (and identification), with its checksum computed again. */
export function setIpv4Length(
  d: Uint8Array,
  s: number,
  headerLength: number,
  total: number,
  id?: number,
): void {
  d[s + 2] = total >>> 8;
  d[s + 3] = total;
  if (id !== undefined) {
    d[s + 4] = id >>> 8;
    d[s + 5] = id;
  }
  d[s + 10] = 0;
  d[s + 11] = 0;
  const c = checksum(d, s, headerLength);
  d[s + 10] = c >>> 8;
  d[s + 11] = c;
}
