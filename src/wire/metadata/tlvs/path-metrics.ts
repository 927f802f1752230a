import { z } from 'zod';
import { readU16, readU32, writeU16, writeU32 } from '../../../base/bytes.js';
import { formatZodError, uint } from '../json-fields.js';
import { type PathMetricsTlv, type TlvCodec, TlvType } from '../tlv.js';

const json = z.strictObject({
  txColor: uint(4),
  txTime: uint(28),
  rxColor: uint(4),
  rxTime: uint(28),
  drop: z.boolean(),
  previousRxColorCount: uint(15),
});

/**
 * 7.3.7 Path Metrics: 4-bit colour + 28-bit time, twice, then the drop bit and a 15-bit count
 * of packets received in the previous colour (RFC 8321 alternate marking).
 */
export const pathMetricsCodec: TlvCodec<PathMetricsTlv> = {
  type: TlvType.PathMetrics,
  name: 'Path Metrics',
  draftSection: '7.3.7',
  section: 'header',
  fixedLength: 10,
  valueLength: () => 10,
  write(v, b, o) {
    writeU32(b, o, (((v.txColor & 0xf) << 28) | (v.txTime & 0x0fffffff)) >>> 0);
    writeU32(b, o + 4, (((v.rxColor & 0xf) << 28) | (v.rxTime & 0x0fffffff)) >>> 0);
    writeU16(b, o + 8, (v.drop ? 0x8000 : 0) | (v.previousRxColorCount & 0x7fff));
  },
  read(type, b, o) {
    const tx = readU32(b, o);
    const rx = readU32(b, o + 4);
    const last = readU16(b, o + 8);
    return {
      type,
      txColor: tx >>> 28,
      txTime: tx & 0x0fffffff,
      rxColor: rx >>> 28,
      rxTime: rx & 0x0fffffff,
      drop: (last & 0x8000) !== 0,
      previousRxColorCount: last & 0x7fff,
    };
  },
  toJson: (v) => ({
    txColor: v.txColor,
    txTime: v.txTime,
    rxColor: v.rxColor,
    rxTime: v.rxTime,
    drop: v.drop,
    previousRxColorCount: v.previousRxColorCount,
  }),
  fromJson(type, j) {
    const r = json.safeParse(j);
    return r.success ? { type, ...r.data } : formatZodError(r.error);
  },
};
