import { z } from 'zod';
import { readU16, readU32, writeU16, writeU32 } from '../../../base/bytes.js';
import { formatZodError, ipv4Field, ipv4ToString, ipv6Field, ipv6ToString, u8, u16 } from '../json-fields.js';
import { type ContextV4Tlv, type ContextV6Tlv, type TlvCodec, TlvType } from '../tlv.js';

const json4 = z.strictObject({
  source: ipv4Field,
  destination: ipv4Field,
  sourcePort: u16,
  destinationPort: u16,
  protocol: u8,
});
const json6 = z.strictObject({
  source: ipv6Field,
  destination: ipv6Field,
  sourcePort: u16,
  destinationPort: u16,
  protocol: u8,
});

function v4(type: ContextV4Tlv['type'], name: string, draftSection: string): TlvCodec<ContextV4Tlv> {
  return {
    type,
    name,
    draftSection,
    section: 'payload',
    fixedLength: 13,
    valueLength: () => 13,
    write(v, b, o) {
      writeU32(b, o, v.source);
      writeU32(b, o + 4, v.destination);
      writeU16(b, o + 8, v.sourcePort);
      writeU16(b, o + 10, v.destinationPort);
      b[o + 12] = v.protocol;
    },
    read: (t, b, o) => ({
      type: t,
      source: readU32(b, o),
      destination: readU32(b, o + 4),
      sourcePort: readU16(b, o + 8),
      destinationPort: readU16(b, o + 10),
      protocol: b[o + 12],
    }),
    toJson: (v) => ({
      source: ipv4ToString(v.source),
      destination: ipv4ToString(v.destination),
      sourcePort: v.sourcePort,
      destinationPort: v.destinationPort,
      protocol: v.protocol,
    }),
    fromJson(t, j) {
      const r = json4.safeParse(j);
      return r.success ? { type: t, ...r.data } : formatZodError(r.error);
    },
  };
}

function v6(type: ContextV6Tlv['type'], name: string, draftSection: string): TlvCodec<ContextV6Tlv> {
  return {
    type,
    name,
    draftSection,
    section: 'payload',
    fixedLength: 37,
    valueLength: () => 37,
    write(v, b, o) {
      b.set(v.source, o);
      b.set(v.destination, o + 16);
      writeU16(b, o + 32, v.sourcePort);
      writeU16(b, o + 34, v.destinationPort);
      b[o + 36] = v.protocol;
    },
    read: (t, b, o) => ({
      type: t,
      source: b.slice(o, o + 16),
      destination: b.slice(o + 16, o + 32),
      sourcePort: readU16(b, o + 32),
      destinationPort: readU16(b, o + 34),
      protocol: b[o + 36],
    }),
    toJson: (v) => ({
      source: ipv6ToString(v.source),
      destination: ipv6ToString(v.destination),
      sourcePort: v.sourcePort,
      destinationPort: v.destinationPort,
      protocol: v.protocol,
    }),
    fromJson(t, j) {
      const r = json6.safeParse(j);
      return r.success ? { type: t, ...r.data } : formatZodError(r.error);
    },
  };
}

/** 7.4.1: the original five-tuple of the packet (the Forward Session Key). */
export const forwardContextV4Codec = v4(TlvType.ForwardContextV4, 'Forward Context IPv4', '7.4.1');
/** 7.4.2 */
export const forwardContextV6Codec = v6(TlvType.ForwardContextV6, 'Forward Context IPv6', '7.4.2');
/** 7.4.3: the five-tuple as the egress router sends it on (after its NATs). */
export const reverseContextV4Codec = v4(TlvType.ReverseContextV4, 'Reverse Context IPv4', '7.4.3');
/** 7.4.4 */
export const reverseContextV6Codec = v6(TlvType.ReverseContextV6, 'Reverse Context IPv6', '7.4.4');
