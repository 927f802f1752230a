import { DropReason } from '../base/drop-reason.js';
import { PacketBuffer } from '../base/packet-buffer.js';
import type { ReassemblyDrop } from '../wire/ip4-reassembly.js';
import type { DataPlaneContext } from './context.js';

/**
 * 6.5: IPv4 fragments arriving at the router are reassembled before any SVR processing. The
 * table lives on the context (ctx.reassembly); this is the data plane's hook into it.
 */

/**
 * True when pb holds an IPv4 fragment (MF set or a non-zero offset) or an IPv6 packet whose
 * header is followed by a Fragment header: a few bytes read, no allocation.
 */
export function isFragmentV4(pb: PacketBuffer): boolean {
  const b = pb.data;
  const o = pb.start;
  if (pb.end - o < 20) return false;
  const v = b[o] >> 4;
  return v === 4 ? ((b[o + 6] & 0x3f) | b[o + 7]) !== 0 : v === 6 && pb.end - o >= 48 && b[o + 6] === 44;
}

const REASON: Record<Exclude<ReassemblyDrop, 'reassembly-timeout'>, DropReason> = {
  'reassembly-overlap': DropReason.ReassemblyOverlap,
  'reassembly-bad-length': DropReason.ReassemblyBadLength,
  'reassembly-memory': DropReason.ReassemblyLimit,
  'reassembly-datagrams': DropReason.ReassemblyLimit,
};

/**
 * Take the fragment in pb (whose buffer goes back to the driver). The whole datagram in a new
 * buffer (slow path: it may be larger than a pool buffer) when this fragment completes it.
 */
export function reassemble(ctx: DataPlaneContext, pb: PacketBuffer, iface: number): PacketBuffer | undefined {
  const r = ctx.reassembly.add(pb.data, pb.start, pb.end - pb.start, ctx.now(), String(iface));
  if (r.kind === 'drop') {
    // Timeouts are counted by the table itself; add() never returns them.
    ctx.drop(
      pb,
      REASON[r.reason as Exclude<ReassemblyDrop, 'reassembly-timeout'>],
      r.reason === 'reassembly-overlap',
    );
    return undefined;
  }
  ctx.driver.release(pb);
  if (r.kind === 'pending') return undefined;
  const whole = PacketBuffer.from(r.datagram.packet);
  // 6.5: kept with the packet for TLV 1 and for cutting it again no larger than it came.
  whole.fragmentLargest = r.datagram.largestFragment;
  whole.fragmentOriginalId = r.datagram.originalId;
  return whole;
}
