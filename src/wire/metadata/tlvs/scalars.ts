import { z } from 'zod';
import { readU32, writeU32 } from '../../../base/bytes.js';
import { formatZodError, ipv4Field, ipv4ToString, ipv6Field, ipv6ToString, u8, u32 } from '../json-fields.js';
import {
  type AddressV4Tlv,
  type AddressV6Tlv,
  type ControlMessageTlv,
  ControlReason,
  type RemainingSessionTimeTlv,
  type SecurityIdentifierTlv,
  type TlvCodec,
  TlvType,
} from '../tlv.js';

const securityIdJson = z.strictObject({ securityId: u32 });

/** 7.3.2 Security Identifier: the peer key version (D-5). */
export const securityIdentifierCodec: TlvCodec<SecurityIdentifierTlv> = {
  type: TlvType.SecurityIdentifier,
  name: 'Security Identifier',
  draftSection: '7.3.2',
  section: 'header',
  fixedLength: 4,
  valueLength: () => 4,
  write: (v, b, o) => writeU32(b, o, v.securityId),
  read: (type, b, o) => ({ type, securityId: readU32(b, o) }),
  toJson: (v) => ({ securityId: v.securityId }),
  fromJson(type, j) {
    const r = securityIdJson.safeParse(j);
    return r.success ? { type, securityId: r.data.securityId } : formatZodError(r.error);
  },
};

const addr4Json = z.strictObject({ address: ipv4Field });

function address4(
  type: AddressV4Tlv['type'],
  name: string,
  draftSection: string,
  section: 'header' | 'payload',
) {
  const codec: TlvCodec<AddressV4Tlv> = {
    type,
    name,
    draftSection,
    section,
    fixedLength: 4,
    valueLength: () => 4,
    write: (v, b, o) => writeU32(b, o, v.address),
    read: (t, b, o) => ({ type: t, address: readU32(b, o) }),
    toJson: (v) => ({ address: ipv4ToString(v.address) }),
    fromJson(t, j) {
      const r = addr4Json.safeParse(j);
      return r.success ? { type: t, address: r.data.address } : formatZodError(r.error);
    },
  };
  return codec;
}

/** 7.3.4: where an ICMP error came from, carried back to the session's origin (6.6). */
export const icmpErrorLocationV4Codec = address4(
  TlvType.IcmpErrorLocationV4,
  'IPv4 ICMP Error Location Address',
  '7.3.4',
  'header',
);
/** 7.4.13: the source NAT address the egress router applies (R-7.4.13-a). */
export const sourceNatV4Codec = address4(TlvType.SourceNatV4, 'IPv4 Source NAT Address', '7.4.13', 'payload');

const addr6Json = z.strictObject({ address: ipv6Field });

/** 7.3.5 */
export const icmpErrorLocationV6Codec: TlvCodec<AddressV6Tlv> = {
  type: TlvType.IcmpErrorLocationV6,
  name: 'IPv6 ICMP Error Location Address',
  draftSection: '7.3.5',
  section: 'header',
  fixedLength: 16,
  valueLength: () => 16,
  write: (v, b, o) => b.set(v.address, o),
  read: (type, b, o) => ({ type, address: b.slice(o, o + 16) }),
  toJson: (v) => ({ address: ipv6ToString(v.address) }),
  fromJson(type, j) {
    const r = addr6Json.safeParse(j);
    return r.success ? { type, address: r.data.address } : formatZodError(r.error);
  },
};

const CONTROL_NAMES: Record<number, string> = {
  [ControlReason.Unknown]: 'unknown',
  [ControlReason.KeepAlive]: 'keep-alive',
  [ControlReason.EnableMetadata]: 'enable-metadata',
  [ControlReason.DisableMetadata]: 'disable-metadata',
  [ControlReason.FlowMoved]: 'flow-moved',
};

export function controlReasonName(r: number): string {
  return CONTROL_NAMES[r] ?? `reason-${r}`;
}

const controlJson = z.strictObject({ reason: u8, meaning: z.string().optional() });

/**
 * 7.3.6 SVR Control Message. Reasons beyond 3 decode (a newer peer may send them) and the data
 * plane treats them as unknown, which 7.3.6 reserves 0 for.
 */
export const controlMessageCodec: TlvCodec<ControlMessageTlv> = {
  type: TlvType.ControlMessage,
  name: 'SVR Control Message',
  draftSection: '7.3.6',
  section: 'header',
  fixedLength: 1,
  valueLength: () => 1,
  write: (v, b, o) => {
    b[o] = v.reason;
  },
  read: (type, b, o) => ({ type, reason: b[o] }),
  toJson: (v) => ({ reason: v.reason, meaning: controlReasonName(v.reason) }),
  fromJson(type, j) {
    const r = controlJson.safeParse(j);
    return r.success ? { type, reason: r.data.reason } : formatZodError(r.error);
  },
};

const remainingJson = z.strictObject({ seconds: u32 });

/** 7.4.14 */
export const remainingSessionTimeCodec: TlvCodec<RemainingSessionTimeTlv> = {
  type: TlvType.RemainingSessionTime,
  name: 'Remaining Session Time',
  draftSection: '7.4.14',
  section: 'payload',
  fixedLength: 4,
  valueLength: () => 4,
  write: (v, b, o) => writeU32(b, o, v.seconds),
  read: (type, b, o) => ({ type, seconds: readU32(b, o) }),
  toJson: (v) => ({ seconds: v.seconds }),
  fromJson(type, j) {
    const r = remainingJson.safeParse(j);
    return r.success ? { type, seconds: r.data.seconds } : formatZodError(r.error);
  },
};
