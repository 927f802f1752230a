import { writeU16 } from '../base/bytes.js';
import { DropReason } from '../base/drop-reason.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import type { IpPacket } from './packet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP } from './protocol.js';
import { closeGap, openGap } from './resize.js';
import { UDP_HEADER } from './udp.js';

/**
 * 6.6: ICMP messages not tied to a session's packets (echo request and reply) cross SVR inside
 * UDP, "and a session is created for the ICMP message"; the egress router takes the UDP header
 * off again. Between routers the packet is then an ordinary UDP session packet that metadata,
 * wayports and HMAC apply to. Lengths and checksums are fixed here; the UDP checksum is computed
 * and, after decapsulation, the ICMP checksum too (ICMPv6's covers the addresses).
 */

function setLengthsAndProtocol(
  pkt: IpPacket,
  b: Uint8Array,
  start: number,
  totalLength: number,
  protocol: number,
): void {
  if (b[start] >> 4 === 4) {
    writeU16(b, start + 2, totalLength);
    b[start + 9] = protocol;
    pkt.ip4.at(b, start).updateChecksum();
  } else {
    writeU16(b, start + 4, totalLength - 40);
    // The byte naming the upper layer: the IPv6 Next Header or the last extension header's.
    b[start + (pkt.protocolFieldOffset - pkt.start)] = protocol;
  }
}

/** Put a UDP header with these ports in front of the ICMP message. */
export function icmpToUdp(pb: PacketBuffer, pkt: IpPacket, srcPort: number, dstPort: number): DropReason {
  if (!pkt.isIcmp || pkt.isFragment) return DropReason.UnsupportedProtocol;
  const total = pkt.end - pkt.start + UDP_HEADER;
  const oldStart = pb.start;
  const fieldRel = pkt.protocolFieldOffset - pkt.start;
  const gap = openGap(pb, pkt.l4Offset, UDP_HEADER);
  if (gap < 0) return -gap;
  const b = pb.data;
  pb.end = pb.start + total;
  // Re-point the packet at the moved header before writing fields through it.
  pkt.start += pb.start - oldStart;
  pkt.protocolFieldOffset = pkt.start + fieldRel;
  setLengthsAndProtocol(pkt, b, pb.start, total, IPPROTO_UDP);
  writeU16(b, gap, srcPort);
  writeU16(b, gap + 2, dstPort);
  writeU16(b, gap + 4, total - (gap - pb.start));
  writeU16(b, gap + 6, 0);
  const r = pkt.parse(b, pb.start, total);
  if (r) return r;
  pkt.updateL4Checksum();
  return DropReason.None;
}

/** Take the UDP header off an ICMP message carried across SVR. */
export function udpToIcmp(pb: PacketBuffer, pkt: IpPacket): DropReason {
  if (!pkt.isUdp || pkt.isFragment || pkt.payloadLength < 8) return DropReason.NotUdp;
  const v6 = pkt.version === 6;
  const total = pkt.end - pkt.start - UDP_HEADER;
  const oldStart = pb.start;
  const fieldRel = pkt.protocolFieldOffset - pkt.start;
  closeGap(pb, pkt.l4Offset, UDP_HEADER);
  pb.end = pb.start + total;
  const b = pb.data;
  pkt.start += pb.start - oldStart;
  pkt.protocolFieldOffset = pkt.start + fieldRel;
  setLengthsAndProtocol(pkt, b, pb.start, total, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
  const r = pkt.parse(b, pb.start, total);
  if (r) return r;
  if (!pkt.isIcmp) return DropReason.IcmpTruncated;
  pkt.updateL4Checksum();
  return DropReason.None;
}
