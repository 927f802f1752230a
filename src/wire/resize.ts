import { DropReason } from '../base/drop-reason.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import {
  applyDelta,
  deltaRemoveSum,
  deltaU32,
  deltaWord,
  fold,
  onesSum,
  onesSumAtOddOffset,
} from './checksum.js';
import type { IpPacket } from './packet.js';
import { IPPROTO_ICMP, IPPROTO_UDP } from './protocol.js';

/**
 * Grow and shrink a parsed packet in its buffer. Bytes are opened or closed directly after the
 * transport header (where SVR metadata lives, 4.2.1) or at the very end (where the HMAC lives,
 * 4.5.1). Length fields are fixed here; the transport checksum is left to the caller, who
 * usually has more bytes to write first. `pkt` is re-parsed so its offsets stay true.
 */

/**
 * Open `n` bytes at absolute offset `at` of the packet in `pb`, moving the shorter side: the
 * bytes before `at` into the headroom when there is room (headers are short), else the bytes
 * after it into the tailroom. Only bytes move; no field is touched. Returns the gap's offset,
 * or a negative DropReason when the buffer has no room.
 */
export function openGap(pb: PacketBuffer, at: number, n: number): number {
  const data = pb.data;
  if (pb.start >= n) {
    data.copyWithin(pb.start - n, pb.start, at);
    pb.start -= n;
    return at - n;
  }
  if (data.length - pb.end >= n) {
    data.copyWithin(at + n, at, pb.end);
    pb.end += n;
    return at;
  }
  return -DropReason.NoRoomInBuffer;
}

/** Close the `n` bytes at absolute offset `at`, moving the bytes before them forward. */
export function closeGap(pb: PacketBuffer, at: number, n: number): void {
  pb.data.copyWithin(pb.start + n, pb.start, at);
  pb.start += n;
}

/**
 * Open `n` bytes at the payload offset, the IP header's lengths (and the UDP length) grown to
 * match. Returns the gap's offset, or a negative DropReason when the buffer has no room.
 */
export function openAfterL4(pb: PacketBuffer, pkt: IpPacket, n: number): number {
  const oldLen = pkt.end - pkt.start;
  const gap = openGap(pb, pkt.payloadOffset, n);
  if (gap < 0) return gap;
  // The IP end moves by n whichever way the bytes went.
  pb.end = pb.start + oldLen + n;
  reparse(pb, pkt); // still reads the old lengths: a consistent, shorter packet
  pkt.setEnd(pkt.end + n);
  return gap;
}

/** Close `n` bytes at the payload offset (the inverse of openAfterL4), moving the headers. */
export function closeAfterL4(pb: PacketBuffer, pkt: IpPacket, n: number): DropReason {
  if (pkt.payloadOffset + n > pkt.end) return DropReason.MetadataTruncated;
  const newEnd = pkt.end - n;
  pkt.setEnd(newEnd);
  const oldStart = pb.start;
  closeGap(pb, pkt.payloadOffset, n);
  pb.end = pb.start + (newEnd - oldStart);
  reparse(pb, pkt);
  return DropReason.None;
}

/**
 * Take `n` bytes already written at `pkt.end` into the packet (an HMAC signature, 4.5.1):
 * lengths grow and the transport checksum is patched for just those bytes (RFC 1624), so a
 * signature on every packet costs no pass over the payload.
 */
export function growTail(pb: PacketBuffer, pkt: IpPacket, n: number): DropReason {
  const at = pkt.end;
  if (pb.data.length - at < n) return DropReason.NoRoomInBuffer;
  const oldL4 = pkt.l4Length;
  pkt.setEnd(at + n);
  pb.end = at + n;
  patchL4ChecksumForTail(pkt, at, n, oldL4, true);
  return DropReason.None;
}

/** Drop the last `n` bytes (a verified signature, 4.5.2), patching lengths and checksum. */
export function shrinkTail(pb: PacketBuffer, pkt: IpPacket, n: number): DropReason {
  const at = pkt.end - n;
  if (at < pkt.payloadOffset) return DropReason.HmacMissing;
  const oldL4 = pkt.l4Length;
  patchL4ChecksumForTail(pkt, at, n, oldL4, false);
  pkt.setEnd(at);
  pb.end = at;
  return DropReason.None;
}

/** Bytes the caller can write at `pkt.end` before `growTail`. */
export function tailroom(pb: PacketBuffer, pkt: IpPacket): number {
  return pb.data.length - pkt.end;
}

function patchL4ChecksumForTail(pkt: IpPacket, at: number, n: number, oldL4: number, adding: boolean): void {
  const csumAt = pkt.l4ChecksumOffset;
  if (csumAt < 0) return;
  const b = pkt.b;
  const old = (b[csumAt] << 8) | b[csumAt + 1];
  const udp = pkt.protocol === IPPROTO_UDP;
  if (udp && old === 0 && pkt.version === 4) return; // no checksum in use (RFC 768)
  const newL4 = adding ? oldL4 + n : oldL4 - n;
  // The tail's own words; bytes at an odd distance from the L4 start sit byte-swapped (RFC 1071).
  const tail = (at - pkt.l4Offset) & 1 ? onesSumAtOddOffset(b, at, n) : fold(onesSum(b, at, n));
  let delta = adding ? tail : deltaRemoveSum(0, tail);
  // Pseudo-header length (not for ICMPv4, which has no pseudo-header).
  if (pkt.protocol !== IPPROTO_ICMP)
    delta = pkt.version === 4 ? deltaWord(delta, oldL4, newL4) : deltaU32(delta, oldL4, newL4);
  // UDP carries its length again in its own header.
  if (udp) delta = deltaWord(delta, oldL4, newL4);
  let c = applyDelta(old, delta);
  if (udp && c === 0) c = 0xffff;
  b[csumAt] = c >>> 8;
  b[csumAt + 1] = c;
}

function reparse(pb: PacketBuffer, pkt: IpPacket): void {
  const r = pkt.parse(pb.data, pb.start, pb.end - pb.start);
  // The packet parsed before we moved bytes and every length we wrote is consistent.
  if (r) throw new Error(`packet no longer parses after resize: ${r}`);
}
