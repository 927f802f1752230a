import { DropReason } from '../base/drop-reason.js';
import type { IpPacket } from './packet.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './protocol.js';

/**
 * TCP to UDP transformation (4.2.7) and its restoration (4.6.3), byte for byte as D-11 settles
 * it: the sequence number is parked in bytes 16-19 (checksum + urgent pointer) before the UDP
 * length and checksum overwrite bytes 4-7. Nothing else in the TCP header changes, so flags,
 * window, ACK and options survive the trip through a middlebox that blocks TCP with metadata.
 */

export function tcpToUdp(pkt: IpPacket): DropReason {
  if (!pkt.isTcp || pkt.isFragment) return DropReason.NotTcp;
  const b = pkt.b;
  const l4 = pkt.l4Offset;
  // D-11: seq (4..7) -> 16..19, then UDP length and checksum into 4..7.
  b.copyWithin(l4 + 16, l4 + 4, l4 + 8);
  setProtocol(pkt, IPPROTO_UDP);
  const len = pkt.end - l4;
  b[l4 + 4] = len >>> 8;
  b[l4 + 5] = len;
  b[l4 + 6] = 0;
  b[l4 + 7] = 0;
  reparseInPlace(pkt);
  pkt.updateL4Checksum();
  return DropReason.None;
}

export function udpToTcp(pkt: IpPacket): DropReason {
  if (!pkt.isUdp || pkt.isFragment) return DropReason.NotUdp;
  const b = pkt.b;
  const l4 = pkt.l4Offset;
  const hl = (b[l4 + 12] >> 4) << 2;
  // The carried header must still be a TCP header that fits.
  if (hl < 20 || l4 + hl > pkt.end) return DropReason.TcpBadDataOffset;
  // D-11: seq back from 16..19; urgent pointer is lost and set to 0; checksum recomputed.
  b.copyWithin(l4 + 4, l4 + 16, l4 + 20);
  b[l4 + 16] = 0;
  b[l4 + 17] = 0;
  b[l4 + 18] = 0;
  b[l4 + 19] = 0;
  setProtocol(pkt, IPPROTO_TCP);
  reparseInPlace(pkt);
  pkt.updateL4Checksum();
  return DropReason.None;
}

/**
 * Where the payload of the TCP segment a UDP-transformed packet carries starts (its metadata, if
 * any, comes first), or -1 when the UDP payload cannot hold a TCP header. The whole TCP header
 * travels on (4.2.7 changes no byte but the protocol and the first 8), so a UDP parser sees its
 * bytes 8.. as the datagram's payload (docs/spec-decisions.md SD-32).
 */
export function carriedTcpPayload(pkt: IpPacket): number {
  if (!pkt.isUdp || pkt.isFragment) return -1;
  const l4 = pkt.l4Offset;
  if (l4 + 20 > pkt.end) return -1;
  const hl = (pkt.b[l4 + 12] >> 4) << 2;
  return hl < 20 || l4 + hl > pkt.end ? -1 : l4 + hl;
}

function setProtocol(pkt: IpPacket, p: number): void {
  if (pkt.version === 4) pkt.ip4.setProtocol(p);
  else pkt.b[pkt.protocolFieldOffset] = p;
}

function reparseInPlace(pkt: IpPacket): void {
  const r = pkt.parse(pkt.b, pkt.start, pkt.end - pkt.start);
  if (r) throw new Error(`transformed packet does not parse: ${r}`);
}
