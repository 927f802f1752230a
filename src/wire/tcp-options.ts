import { readU16, writeU16 } from '../base/bytes.js';
import { updateWord } from './checksum.js';
import type { IpPacket } from './packet.js';

/** TCP options (RFC 9293 3.2): kind 0 ends the list, kind 1 pads, others carry a length. */
const END = 0;
const NOP = 1;
const MSS = 2;

/** Offset of the MSS option's value, or -1 (a malformed option list also gives -1). */
function mssOffset(pkt: IpPacket): number {
  if (!pkt.isTcp) return -1;
  const b = pkt.b;
  let o = pkt.tcp.optionsOffset;
  const end = pkt.l4Offset + pkt.tcp.headerLength;
  while (o < end) {
    const kind = b[o];
    if (kind === END) return -1;
    if (kind === NOP) {
      o++;
      continue;
    }
    if (o + 1 >= end) return -1;
    const len = b[o + 1];
    if (len < 2 || o + len > end) return -1;
    if (kind === MSS && len === 4) return o + 2;
    o += len;
  }
  return -1;
}

/** The maximum segment size a SYN announces, or undefined. */
export function tcpMss(pkt: IpPacket): number | undefined {
  const at = mssOffset(pkt);
  return at < 0 ? undefined : readU16(pkt.b, at);
}

/**
 * Lower the MSS a SYN announces to `max` (what routers do where they add per-packet bytes, as
 * svr does with HMAC signatures); the checksum is patched incrementally. True when changed.
 */
export function clampTcpMss(pkt: IpPacket, max: number): boolean {
  const at = mssOffset(pkt);
  if (at < 0) return false;
  const old = readU16(pkt.b, at);
  if (old <= max) return false;
  writeU16(pkt.b, at, max);
  const c = pkt.l4Offset + 16;
  // The MSS word sits at an even offset from the TCP header start (options are 4-aligned here).
  if ((at - pkt.l4Offset) % 2 === 0) writeU16(pkt.b, c, updateWord(readU16(pkt.b, c), old, max));
  else pkt.updateL4Checksum();
  return true;
}
