import type { DropReason } from '../../base/drop-reason.js';
import type { JsonObject, Tlv, TlvCodec, TlvOf, TlvSection, TlvType } from './tlv.js';
import {
  forwardContextV4Codec,
  forwardContextV6Codec,
  reverseContextV4Codec,
  reverseContextV6Codec,
} from './tlvs/context.js';
import { disableForwardMetadataCodec, sessionEncryptedCodec, tcpSynPacketCodec } from './tlvs/flags.js';
import { fragmentCodec } from './tlvs/fragment.js';
import {
  peerPathwayIdCodec,
  securityKeyCodec,
  securityPolicyCodec,
  serviceNameCodec,
  sourceRouterNameCodec,
  tenantNameCodec,
} from './tlvs/names.js';
import { pathMetricsCodec } from './tlvs/path-metrics.js';
import {
  controlMessageCodec,
  icmpErrorLocationV4Codec,
  icmpErrorLocationV6Codec,
  remainingSessionTimeCodec,
  securityIdentifierCodec,
  sourceNatV4Codec,
} from './tlvs/scalars.js';
import { sessionUuidCodec } from './tlvs/uuid.js';

/**
 * A codec seen through the union of all values. Safe because the table below is keyed by each
 * codec's own type and every call dispatches on the value's `type`: one cast, here, instead of
 * one at every call site.
 */
export interface AnyTlvCodec {
  readonly type: TlvType;
  readonly name: string;
  readonly draftSection: string;
  readonly section: TlvSection;
  readonly fixedLength: number | undefined;
  valueLength(v: Tlv): number;
  write(v: Tlv, b: Uint8Array, off: number): void;
  read(type: TlvType, b: Uint8Array, off: number, len: number): Tlv | DropReason;
  toJson(v: Tlv): JsonObject;
  fromJson(type: TlvType, j: JsonObject): Tlv | string;
}

const ALL: { [K in TlvType]: TlvCodec<TlvOf<K>> } = {
  1: fragmentCodec,
  2: forwardContextV4Codec,
  3: forwardContextV6Codec,
  4: reverseContextV4Codec,
  5: reverseContextV6Codec,
  6: sessionUuidCodec,
  7: tenantNameCodec,
  10: serviceNameCodec,
  11: sessionEncryptedCodec,
  12: tcpSynPacketCodec,
  14: sourceRouterNameCodec,
  15: securityPolicyCodec,
  16: securityIdentifierCodec,
  18: disableForwardMetadataCodec,
  19: peerPathwayIdCodec,
  20: icmpErrorLocationV4Codec,
  21: icmpErrorLocationV6Codec,
  24: controlMessageCodec,
  25: sourceNatV4Codec,
  26: pathMetricsCodec,
  42: remainingSessionTimeCodec,
  45: securityKeyCodec,
};

const BY_TYPE: (AnyTlvCodec | undefined)[] = new Array(256).fill(undefined);
for (const c of Object.values(ALL)) BY_TYPE[c.type] = c as unknown as AnyTlvCodec;

/** Every TLV type svr knows, in type-number order. */
export const TLV_CODECS: readonly AnyTlvCodec[] = BY_TYPE.filter((c): c is AnyTlvCodec => c !== undefined);

/** The codec for a type number, or undefined for a TLV this implementation does not know. */
export function tlvCodec(type: number): AnyTlvCodec | undefined {
  return type < 256 ? BY_TYPE[type] : undefined;
}

export function tlvCodecByName(name: string): AnyTlvCodec | undefined {
  const n = name.toLowerCase();
  return TLV_CODECS.find((c) => c.name.toLowerCase() === n);
}

export function tlvName(type: number): string {
  return tlvCodec(type)?.name ?? `unknown TLV ${type}`;
}
