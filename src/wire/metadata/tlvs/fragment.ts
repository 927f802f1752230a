import { z } from 'zod';
import { readU16, readU32, writeU16, writeU32 } from '../../../base/bytes.js';
import { DropReason } from '../../../base/drop-reason.js';
import { formatZodError, u16, u32, uint } from '../json-fields.js';
import { type FragmentTlv, type TlvCodec, TlvType } from '../tlv.js';

const json = z.strictObject({
  extendedId: u32,
  originalId: u16,
  dontFragment: z.boolean(),
  moreFragments: z.boolean(),
  fragmentOffset: uint(13),
  largestSeenFragment: u16,
});

/** 7.3.1 Fragment: Extended ID (4), Original ID (2), flags (3 bits) + offset (13 bits), largest seen (2). */
export const fragmentCodec: TlvCodec<FragmentTlv> = {
  type: TlvType.Fragment,
  name: 'Fragment',
  draftSection: '7.3.1',
  section: 'header',
  fixedLength: 10,
  valueLength: () => 10,
  write(v, b, o) {
    writeU32(b, o, v.extendedId);
    writeU16(b, o + 4, v.originalId);
    writeU16(
      b,
      o + 6,
      (v.dontFragment ? 0x4000 : 0) | (v.moreFragments ? 0x2000 : 0) | (v.fragmentOffset & 0x1fff),
    );
    writeU16(b, o + 8, v.largestSeenFragment);
  },
  read(type, b, o) {
    const w = readU16(b, o + 6);
    // 7.3.1: bit 0 of the flags is reserved and must be zero.
    if (w & 0x8000) return DropReason.MetadataTlvBadValue;
    return {
      type,
      extendedId: readU32(b, o),
      originalId: readU16(b, o + 4),
      dontFragment: (w & 0x4000) !== 0,
      moreFragments: (w & 0x2000) !== 0,
      fragmentOffset: w & 0x1fff,
      largestSeenFragment: readU16(b, o + 8),
    };
  },
  toJson: (v) => ({
    extendedId: v.extendedId,
    originalId: v.originalId,
    dontFragment: v.dontFragment,
    moreFragments: v.moreFragments,
    fragmentOffset: v.fragmentOffset,
    largestSeenFragment: v.largestSeenFragment,
  }),
  fromJson(type, j) {
    const r = json.safeParse(j);
    return r.success ? { type, ...r.data } : formatZodError(r.error);
  },
};
