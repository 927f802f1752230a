import { DropReason } from '../base/drop-reason.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import type { IpPacket } from '../wire/packet.js';
import { growTail, shrinkTail } from '../wire/resize.js';
import { type HmacKey, verifyInWindows, type WindowTracker } from './hmac.js';

/**
 * HMAC signatures on packets (4.5, D-1): the signed data is the L4 payload (metadata block and
 * original payload), never the IP or transport header, so a NAT between routers may rewrite
 * addresses, ports and checksums. The signature is appended at the very end of the IP packet and
 * counts in the IP length, the UDP length and the transport checksum (docs/spec-decisions.md
 * SD-2), so the packet on the wire is an ordinary valid packet.
 */

/** Append the signature of the packet's L4 payload; `window` undefined for a plain HMAC. */
export function signPacket(
  pb: PacketBuffer,
  pkt: IpPacket,
  key: HmacKey,
  window: number | undefined,
): DropReason {
  // R-4.5.1-f: one signature per packet, even when it travels in fragments: sign before fragmenting.
  if (pkt.isFragment) return DropReason.FragmentNeedsReassembly;
  if (pkt.l4HeaderLength === 0) return DropReason.UnsupportedProtocol;
  if (pb.data.length - pkt.end < key.length) return DropReason.NoRoomInBuffer;
  key.sign(pkt.b, pkt.payloadOffset, pkt.end - pkt.payloadOffset, window, pb.data, pkt.end);
  return growTail(pb, pkt, key.length);
}

export interface SignatureResult {
  reason: DropReason;
  /** The window offset that verified (-1, 0, +1), or undefined for plain HMAC or failure. */
  windowOffset: number | undefined;
}

/**
 * Check the signature at the end of the packet without changing the packet (R-4.5.2-a). With
 * `nowWindow` the HMAC is time-based and tried in the current window, +1 and -1 (D-2).
 */
export function checkPacketSignature(
  pkt: IpPacket,
  key: HmacKey,
  nowWindow: number | undefined,
  tracker?: WindowTracker,
  out: SignatureResult = { reason: DropReason.None, windowOffset: undefined },
): SignatureResult {
  out.windowOffset = undefined;
  const n = key.length;
  const sigAt = pkt.end - n;
  if (pkt.isFragment) {
    out.reason = DropReason.FragmentNeedsReassembly;
    return out;
  }
  if (pkt.l4HeaderLength === 0 || sigAt < pkt.payloadOffset) {
    out.reason = DropReason.HmacMissing;
    return out;
  }
  const dataLen = sigAt - pkt.payloadOffset;
  if (nowWindow === undefined) {
    out.reason = key.verify(pkt.b, pkt.payloadOffset, dataLen, undefined, pkt.b, sigAt)
      ? DropReason.None
      : DropReason.HmacMismatch;
    return out;
  }
  const o = verifyInWindows(key, pkt.b, pkt.payloadOffset, dataLen, pkt.b, sigAt, nowWindow, tracker);
  out.reason = o === undefined ? DropReason.HmacMismatch : DropReason.None;
  out.windowOffset = o;
  return out;
}

const scratch: SignatureResult = { reason: DropReason.None, windowOffset: undefined };

/** Verify, then remove the signature and fix lengths and checksum (R-4.5.2-g..i). */
export function verifyAndStripSignature(
  pb: PacketBuffer,
  pkt: IpPacket,
  key: HmacKey,
  nowWindow: number | undefined,
  tracker?: WindowTracker,
): DropReason {
  const r = checkPacketSignature(pkt, key, nowWindow, tracker, scratch).reason;
  if (r) return r;
  return shrinkTail(pb, pkt, key.length);
}
