import { DropReason } from '../../base/drop-reason.js';
import type { Metadata } from './block.js';
import { TlvType } from './tlv.js';

/** What a metadata block is for, as far as 4.3 sets the TLVs it must carry. */
export type MetadataKind = 'forward' | 'reverse' | 'icmp';

/** Each inner list is "one of these" (IPv4 or IPv6 variants). */
const REQUIRED: Record<MetadataKind, readonly (readonly TlvType[])[]> = {
  // 4.3.1, first forward packet of a new or moved session (R-4.3.1-a)
  forward: [
    [TlvType.SecurityIdentifier],
    [TlvType.ForwardContextV4, TlvType.ForwardContextV6],
    [TlvType.TenantName],
    [TlvType.ServiceName],
    [TlvType.SessionUuid],
    [TlvType.SourceRouterName],
    [TlvType.SecurityPolicy],
    [TlvType.PeerPathwayId],
  ],
  // 4.3.1, first reverse packet (R-4.3.1-c)
  reverse: [
    [TlvType.SecurityIdentifier],
    [TlvType.ReverseContextV4, TlvType.ReverseContextV6],
    [TlvType.PeerPathwayId],
  ],
  // 4.3.2 (R-4.3.2-a)
  icmp: [[TlvType.IcmpErrorLocationV4, TlvType.IcmpErrorLocationV6]],
};

/** The requirement groups of `kind` that `md` does not satisfy, for messages. */
export function missingTlvs(md: Metadata, kind: MetadataKind): (readonly TlvType[])[] {
  const present = new Set(md.tlvs.map((t) => t.type));
  return REQUIRED[kind].filter((group) => !group.some((t) => present.has(t)));
}

/** R-4.6.2.2-e: too few TLVs for what the block is used for is a drop. */
export function checkRequiredTlvs(md: Metadata, kind: MetadataKind): DropReason {
  for (const group of REQUIRED[kind]) {
    let ok = false;
    for (const t of md.tlvs) {
      if (group.includes(t.type)) {
        ok = true;
        break;
      }
    }
    if (!ok) return DropReason.MetadataMissingRequiredTlv;
  }
  return DropReason.None;
}

/**
 * A reader's guess at what a block is for, from the TLVs it carries: the CLI uses it to check the
 * right requirements when nobody says. The data plane knows what it expects and does not guess.
 */
export type MetadataPurpose = 'false-positive' | MetadataKind | 'control';

export function inferMetadataPurpose(md: Metadata): MetadataPurpose {
  if (md.tlvs.length === 0) return 'false-positive';
  const has = (t: TlvType) => md.tlvs.some((x) => x.type === t);
  if (has(TlvType.ForwardContextV4) || has(TlvType.ForwardContextV6)) return 'forward';
  if (has(TlvType.ReverseContextV4) || has(TlvType.ReverseContextV6)) return 'reverse';
  if (has(TlvType.IcmpErrorLocationV4) || has(TlvType.IcmpErrorLocationV6)) return 'icmp';
  // A block with only payload TLVs other than contexts looks like a broken first packet.
  if (md.tlvs.some((t) => [TlvType.TenantName, TlvType.ServiceName, TlvType.SessionUuid].includes(t.type)))
    return 'forward';
  return 'control';
}
