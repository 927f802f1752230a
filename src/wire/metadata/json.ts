import { z } from 'zod';
import { toHex } from '../../base/bytes.js';
import type { DecodedMetadata, Metadata } from './block.js';
import { METADATA_COOKIE } from './block.js';
import { formatZodError } from './json-fields.js';
import { tlvCodec, tlvCodecByName } from './registry.js';
import { inferMetadataPurpose, type MetadataPurpose, missingTlvs } from './required.js';
import type { JsonObject, Tlv, TlvSection, TlvType } from './tlv.js';

/**
 * The JSON form of a metadata block: what `svr metadata decode --json` prints and
 * `svr metadata encode` reads back (README documents it). Every TLV appears with its type
 * number, the draft's name, its section and its decoded value.
 */
export interface TlvJson {
  type: number;
  name: string;
  draftSection: string;
  length: number;
  value: JsonObject;
}

export interface MetadataJson {
  cookie: string;
  version: number;
  headerLength: number;
  payloadLength: number;
  blockLength: number;
  encrypted: boolean;
  iv: string | null;
  purpose: MetadataPurpose;
  /** Required TLVs (4.3) missing for that purpose: each entry lists the alternatives. */
  missingRequired: string[];
  headerTlvs: TlvJson[];
  payloadTlvs: TlvJson[];
  /** Unknown TLVs skipped on decode (R-4.6.2.1-a); never encoded. */
  skippedTlvs: { type: number; length: number; section: TlvSection }[];
}

export function tlvToJson(t: Tlv): TlvJson {
  const c = tlvCodec(t.type);
  if (!c) throw new TypeError(`no codec for TLV ${t.type}`);
  return {
    type: t.type,
    name: c.name,
    draftSection: c.draftSection,
    length: c.valueLength(t),
    value: c.toJson(t),
  };
}

export function metadataToJson(d: DecodedMetadata): MetadataJson {
  const header: TlvJson[] = [];
  const payload: TlvJson[] = [];
  for (const t of d.tlvs) (tlvCodec(t.type)?.section === 'header' ? header : payload).push(tlvToJson(t));
  const purpose = inferMetadataPurpose(d);
  const missing =
    purpose === 'forward' || purpose === 'reverse' || purpose === 'icmp'
      ? missingTlvs(d, purpose).map((g) => g.map((t) => tlvCodec(t)?.name ?? String(t)).join(' or '))
      : [];
  return {
    cookie: toHex(METADATA_COOKIE),
    version: d.version,
    headerLength: d.headerLength,
    payloadLength: d.payloadLength,
    blockLength: d.blockLength,
    encrypted: d.encrypted,
    iv: d.iv ? toHex(d.iv) : null,
    purpose,
    missingRequired: missing,
    headerTlvs: header,
    payloadTlvs: payload,
    skippedTlvs: d.skipped.map((s) => ({ type: s.type, length: s.length, section: s.section })),
  };
}

const tlvEntry = z
  .object({
    type: z.number().int().min(0).max(65535).optional(),
    name: z.string().optional(),
    value: z.record(z.string(), z.json()).optional(),
  })
  .refine((e) => e.type !== undefined || e.name !== undefined, 'each TLV needs a "type" number or a "name"');

const metadataInput = z.object({
  headerTlvs: z.array(tlvEntry).optional(),
  payloadTlvs: z.array(tlvEntry).optional(),
  tlvs: z.array(tlvEntry).optional(),
});

type TlvEntry = z.infer<typeof tlvEntry>;

function entryToTlv(e: TlvEntry, where: string, expected: TlvSection | undefined): Tlv | string {
  const c = e.type !== undefined ? tlvCodec(e.type) : tlvCodecByName(e.name ?? '');
  if (!c) return `${where}: unknown TLV ${e.type ?? `"${e.name}"`} (svr encodes only the types of D-3)`;
  if (expected && c.section !== expected)
    return `${where}: ${c.name} (type ${c.type}) is a ${c.section} TLV, listed among ${expected} TLVs`;
  const value = (e.value ?? {}) as JsonObject;
  const r = c.fromJson(c.type as TlvType, value);
  return typeof r === 'string' ? `${where}.value: ${r}` : r;
}

/**
 * Read the JSON form back. Accepts `headerTlvs` and `payloadTlvs` (as decode prints them) or one
 * `tlvs` list; all other fields (lengths, cookie, iv) are recomputed on encode and ignored here.
 * Returns the block content or one message naming the first offending field.
 */
export function metadataFromJson(input: unknown): Metadata | string {
  const parsed = metadataInput.safeParse(input);
  if (!parsed.success) return formatZodError(parsed.error);
  const tlvs: Tlv[] = [];
  const lists: [string, TlvEntry[] | undefined, TlvSection | undefined][] = [
    ['headerTlvs', parsed.data.headerTlvs, 'header'],
    ['payloadTlvs', parsed.data.payloadTlvs, 'payload'],
    ['tlvs', parsed.data.tlvs, undefined],
  ];
  const seen = new Set<number>();
  for (const [name, list, section] of lists) {
    for (const [i, e] of (list ?? []).entries()) {
      const t = entryToTlv(e, `${name}[${i}]`, section);
      if (typeof t === 'string') return t;
      if (seen.has(t.type)) return `${name}[${i}]: TLV type ${t.type} appears twice; each may appear once`;
      seen.add(t.type);
      tlvs.push(t);
    }
  }
  return { tlvs };
}
