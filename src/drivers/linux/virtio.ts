import type { PacketBuffer } from '../../base/packet-buffer.js';
import { finish, fold, onesSum } from '../../wire/checksum.js';

/**
 * The virtio-net header a TUN device with IFF_VNET_HDR puts before each packet (struct
 * virtio_net_hdr, little-endian): how the kernel hands over, and takes back, checksum work and
 * TCP segmentation.
 *
 *   0 flags  1 gso_type  2 hdr_len  4 gso_size  6 csum_start  8 csum_offset
 */
export const VNET_HDR_LEN = 10;
const NEEDS_CSUM = 1;
export const GSO_NONE = 0;
export const GSO_TCPV4 = 1;
export const GSO_TCPV6 = 4;
export const GSO_UDP_L4 = 5;
const GSO_ECN = 0x80;

/** What rxFixup decided about a packet. */
export enum Rx {
  Ok = 0,
  /** A super-packet we did not ask for (UDP GSO) or without a partial checksum. */
  Unsupported = 1,
}

/**
 * Make a received packet an ordinary one for the data plane, reading its header at
 * data[start - 10, start):
 * - a packet whose checksum the kernel left to us (NEEDS_CSUM) gets it completed: the field
 *   holds the pseudo-header sum, the rest is summed from csum_start (virtio 1.1, 5.1.6.2);
 * - a TCP or UDP super-packet keeps its partial checksum, but in a form the data plane's RFC 1624
 *   updates keep right: F = ~(P + ports), where P is the kernel's pseudo-header sum. Address
 *   changes then update P as they should, port changes cancel out, and txFixup recovers the P
 *   that matches the packet's new addresses (P' = ~F' + ~ports').
 */
export function rxFixup(pb: PacketBuffer): Rx {
  const d = pb.data;
  const h = pb.start - VNET_HDR_LEN;
  const flags = d[h];
  const gsoType = d[h + 1] & ~GSO_ECN;
  const csumStart = d[h + 6] | (d[h + 7] << 8);
  const csumOffset = d[h + 8] | (d[h + 9] << 8);
  if (gsoType === GSO_NONE) {
    if (flags & NEEDS_CSUM) {
      const at = pb.start + csumStart;
      const field = at + csumOffset;
      if (field + 2 > pb.end) return Rx.Unsupported;
      let c = finish(onesSum(d, at, pb.end - at));
      // UDP sends an all-zero checksum as all ones (RFC 768).
      if (c === 0 && csumOffset === 6) c = 0xffff;
      d[field] = c >>> 8;
      d[field + 1] = c;
    }
    return Rx.Ok;
  }
  const udp = gsoType === GSO_UDP_L4;
  if ((gsoType !== GSO_TCPV4 && gsoType !== GSO_TCPV6 && !udp) || (flags & NEEDS_CSUM) === 0)
    return Rx.Unsupported;
  const l4 = pb.start + csumStart;
  const field = l4 + csumOffset;
  if (csumOffset !== (udp ? 6 : 16) || field + 2 > pb.end) return Rx.Unsupported;
  const p = (d[field] << 8) | d[field + 1];
  const ports = ((d[l4] << 8) | d[l4 + 1]) + ((d[l4 + 2] << 8) | d[l4 + 3]);
  const f = ~fold(p + ports) & 0xffff;
  d[field] = f >>> 8;
  d[field + 1] = f;
  pb.gsoSize = d[h + 4] | (d[h + 5] << 8);
  pb.gsoType = d[h + 1];
  return Rx.Ok;
}

/**
 * The header to write before a packet into `hdr` (10 bytes): zero for an ordinary packet
 * (checksums complete); for a super-packet, the segmentation request with its partial checksum
 * restored from the form rxFixup gave it. Returns false if the packet is no longer TCP over a
 * plain IP header (the data plane changed it in a way the kernel cannot segment).
 */
export function txHeader(pb: PacketBuffer, hdr: Uint8Array): boolean {
  if (pb.gsoSize === 0) {
    hdr.fill(0);
    return true;
  }
  const d = pb.data;
  const s = pb.start;
  const v = d[s] >> 4;
  const udp = (pb.gsoType & ~GSO_ECN) === GSO_UDP_L4;
  const proto = udp ? 17 : 6;
  let l4: number;
  if (v === 4 && d[s + 9] === proto) l4 = (d[s] & 0x0f) * 4;
  else if (v === 6 && d[s + 6] === proto) l4 = 40;
  else return false;
  const t = s + l4;
  const l4Len = udp ? 8 : (d[t + 12] >> 4) * 4;
  if (t + l4Len > pb.end) return false;
  const at = t + (udp ? 6 : 16);
  const f = (d[at] << 8) | d[at + 1];
  const ports = ((~((d[t] << 8) | d[t + 1]) & 0xffff) + (~((d[t + 2] << 8) | d[t + 3]) & 0xffff)) | 0;
  const p = fold((~f & 0xffff) + ports);
  d[at] = p >>> 8;
  d[at + 1] = p;
  hdr[0] = NEEDS_CSUM;
  hdr[1] = pb.gsoType;
  const hdrLen = l4 + l4Len;
  hdr[2] = hdrLen;
  hdr[3] = hdrLen >>> 8;
  hdr[4] = pb.gsoSize;
  hdr[5] = pb.gsoSize >>> 8;
  hdr[6] = l4;
  hdr[7] = l4 >>> 8;
  hdr[8] = udp ? 6 : 16;
  hdr[9] = 0;
  return true;
}

/**
 * Undo one kernel TTL decrement. A TUN router's packets cross the kernel's forwarding twice
 * (interface to TUN, TUN to interface), and the data plane decrements as any router does
 * (R-4.6.4-g); the driver gives one back on the way in and one on the way out, so a router
 * counts as one hop (traceroute). A packet that arrives with TTL 1 never reaches the TUN: the
 * kernel answers it with time exceeded from the interface's address, as the router would.
 */
export function compensateTtl(pb: PacketBuffer): void {
  const d = pb.data;
  const s = pb.start;
  const v = d[s] >> 4;
  if (v === 6) {
    if (d[s + 7] < 255) d[s + 7]++;
    return;
  }
  if (v !== 4 || d[s + 8] === 255) return;
  d[s + 8]++;
  // RFC 1624: the TTL is the high byte of word 4; +1 there is +0x0100 in the sum.
  const c = (d[s + 10] << 8) | d[s + 11];
  const n = ~fold((~c & 0xffff) + 0x0100) & 0xffff;
  d[s + 10] = n >>> 8;
  d[s + 11] = n;
}
