import { DropReason } from '../../base/drop-reason.js';
import type { PacketBuffer } from '../../base/packet-buffer.js';
import type { IpPacket } from '../packet.js';
import { closeAfterL4, openAfterL4 } from '../resize.js';
import {
  encodedLength,
  encodeMetadata,
  hasCookie,
  METADATA_COOKIE,
  METADATA_HEADER_LENGTH,
  METADATA_VERSION,
  type Metadata,
  type MetadataBlockCipher,
} from './block.js';

/**
 * Metadata in packets: inserted directly after the transport header, whatever the packet's size
 * (R-4.2.1-a), with IP length and checksum, UDP length and the transport checksum fixed
 * (R-4.2.5-a..d) and TCP sequence numbers left alone (R-4.2.5-e).
 */

/** Does this packet's payload start with the cookie (4.6.1)? */
export function payloadHasCookie(pkt: IpPacket): boolean {
  return pkt.l4HeaderLength > 0 && hasCookie(pkt.b, pkt.payloadOffset, pkt.end);
}

/** Metadata goes after a TCP or UDP header (ICMP travels inside UDP, 4.2.5) of a whole packet. */
function insertable(pkt: IpPacket): DropReason {
  if (pkt.isFragment) return DropReason.FragmentNeedsReassembly;
  if (!pkt.isTcp && !pkt.isUdp) return DropReason.UnsupportedProtocol;
  return DropReason.None;
}

/** Encode `md` straight into the packet (encrypting payload TLVs when a cipher is given). */
export function insertMetadata(
  pb: PacketBuffer,
  pkt: IpPacket,
  md: Metadata,
  cipher?: MetadataBlockCipher,
): DropReason {
  const r = insertable(pkt);
  if (r) return r;
  const n = encodedLength(md, cipher !== undefined);
  const gap = openAfterL4(pb, pkt, n);
  if (gap < 0) return -gap;
  encodeMetadata(md, pb.data, gap, cipher);
  pkt.updateL4Checksum();
  return DropReason.None;
}

/** Insert an already encoded block. */
export function insertMetadataBlock(pb: PacketBuffer, pkt: IpPacket, block: Uint8Array): DropReason {
  const r = insertable(pkt);
  if (r) return r;
  const gap = openAfterL4(pb, pkt, block.length);
  if (gap < 0) return -gap;
  pb.data.set(block, gap);
  pkt.updateL4Checksum();
  return DropReason.None;
}

/** Remove the `blockLength` bytes of metadata after the transport header (R-4.6.2.2-f). */
export function removeMetadata(pb: PacketBuffer, pkt: IpPacket, blockLength: number): DropReason {
  if (!payloadHasCookie(pkt)) return DropReason.MetadataNotPresent;
  const r = closeAfterL4(pb, pkt, blockLength);
  if (r) return r;
  pkt.updateL4Checksum();
  return DropReason.None;
}

/**
 * 4.2.6: a mid-session payload that happens to start with the cookie gets an empty 12-byte
 * header in front, so the next router's "cookie means metadata" rule (R-4.2.6-c) holds.
 * Returns whether one was inserted.
 */
export function protectFalsePositive(pb: PacketBuffer, pkt: IpPacket): DropReason | boolean {
  if (!payloadHasCookie(pkt)) return false;
  const r = insertMetadataBlock(pb, pkt, FALSE_POSITIVE_HEADER);
  return r ? r : true;
}

/** The empty header of 4.2.6 / 7.1.1: cookie, version 1, header length 12, payload length 0. */
export const FALSE_POSITIVE_HEADER: Uint8Array = (() => {
  const b = new Uint8Array(METADATA_HEADER_LENGTH);
  b.set(METADATA_COOKIE, 0);
  b[8] = (METADATA_VERSION << 4) | (METADATA_HEADER_LENGTH >> 8);
  b[9] = METADATA_HEADER_LENGTH & 0xff;
  return b;
})();

/** Sanity check kept next to the constant: the encoder must produce the same bytes. */
export function falsePositiveMatchesEncoder(): boolean {
  const e = new Uint8Array(METADATA_HEADER_LENGTH);
  encodeMetadata({ tlvs: [] }, e, 0);
  return e.every((x, i) => x === FALSE_POSITIVE_HEADER[i]);
}
