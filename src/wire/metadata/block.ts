import { readU16, readU32, writeU16 } from '../../base/bytes.js';
import { DropReason } from '../../base/drop-reason.js';
import { tlvCodec } from './registry.js';
import type { Tlv, TlvOf, TlvSection, TlvType } from './tlv.js';

/** 7.1: the eight-byte cookie that starts every metadata block. */
export const METADATA_COOKIE = Uint8Array.of(0x4c, 0x48, 0xdb, 0xc6, 0xdd, 0xf6, 0x67, 0x0c);
const COOKIE_HI = 0x4c48dbc6;
const COOKIE_LO = 0xddf6670c;
export const METADATA_HEADER_LENGTH = 12;
export const METADATA_VERSION = 1;
/** 12-bit header length field (D-3). */
export const METADATA_MAX_HEADER_LENGTH = 0xfff;
export const METADATA_MAX_PAYLOAD_LENGTH = 0xffff;
export const TLV_HEADER_LENGTH = 4;
/** AES block and IV size (4.4): both 16 bytes for AES-128 and AES-256. */
export const CIPHER_BLOCK = 16;

/** True when b[off, off+8) is the metadata cookie (4.6.1): the one DPI test on every packet. */
export function hasCookie(b: Uint8Array, off: number, end: number): boolean {
  return end - off >= 8 && readU32(b, off) === COOKIE_HI && readU32(b, off + 4) === COOKIE_LO;
}

/**
 * What the metadata codec needs from a cipher (D-4); crypto/ implements it, so this layer holds
 * no keys. Both work in place on whole 16-byte blocks.
 */
export interface MetadataBlockCipher {
  /** Encrypt b[off, off+len) in place, then write the IV used at b[off+len, off+len+16). */
  encrypt(b: Uint8Array, off: number, len: number): void;
  /** Decrypt b[off, off+len) in place with the IV found at b[off+len, off+len+16). */
  decrypt(b: Uint8Array, off: number, len: number): void;
}

/** A metadata block's content. Header TLVs are always written first, whatever the order here. */
export interface Metadata {
  readonly tlvs: readonly Tlv[];
}

export interface SkippedTlv {
  readonly type: number;
  readonly length: number;
  readonly section: TlvSection;
}

export interface DecodedMetadata extends Metadata {
  readonly version: number;
  /** Header bytes including the 12-byte fixed header (D-3). */
  readonly headerLength: number;
  /** Payload TLV bytes before padding (D-3). */
  readonly payloadLength: number;
  /** Bytes the block occupies in the packet. */
  readonly blockLength: number;
  readonly encrypted: boolean;
  /** The IV found after the ciphertext, when encrypted. */
  readonly iv: Uint8Array | undefined;
  /** Unknown TLVs: skipped, never forwarded (R-4.6.2.1-a). */
  readonly skipped: readonly SkippedTlv[];
}

/** Payload bytes after zero padding to the cipher block (D-4). */
export function paddedLength(payloadLength: number): number {
  return (payloadLength + CIPHER_BLOCK - 1) & ~(CIPHER_BLOCK - 1);
}

/** Block size on the wire (D-4): header + (padded payload + IV when encrypted and non-empty). */
export function blockLengthFor(headerLength: number, payloadLength: number, encrypted: boolean): number {
  if (payloadLength === 0) return headerLength;
  return encrypted ? headerLength + paddedLength(payloadLength) + CIPHER_BLOCK : headerLength + payloadLength;
}

function sectionLengths(md: Metadata): { header: number; payload: number } {
  let header = METADATA_HEADER_LENGTH;
  let payload = 0;
  for (const t of md.tlvs) {
    const c = tlvCodec(t.type);
    if (!c) throw new TypeError(`no codec for TLV type ${t.type}`);
    const n = TLV_HEADER_LENGTH + c.valueLength(t);
    if (c.section === 'header') header += n;
    else payload += n;
  }
  return { header, payload };
}

/** Why `md` cannot be encoded (a field would overflow), or undefined when it can. */
export function metadataSizeError(md: Metadata): string | undefined {
  for (const t of md.tlvs) {
    const c = tlvCodec(t.type);
    if (!c) return `no codec for TLV type ${t.type}`;
    if (c.valueLength(t) > 0xffff) return `${c.name} value longer than 65535 bytes`;
  }
  const { header, payload } = sectionLengths(md);
  if (header > METADATA_MAX_HEADER_LENGTH)
    return `header TLVs make ${header} bytes; the field holds at most 4095`;
  if (payload > METADATA_MAX_PAYLOAD_LENGTH)
    return `payload TLVs make ${payload} bytes; the field holds at most 65535`;
  return undefined;
}

/** Bytes `encodeMetadata` will write. */
export function encodedLength(md: Metadata, encrypted: boolean): number {
  const { header, payload } = sectionLengths(md);
  return blockLengthFor(header, payload, encrypted);
}

function writeSection(md: Metadata, section: TlvSection, b: Uint8Array, o: number): number {
  for (const t of md.tlvs) {
    const c = tlvCodec(t.type);
    if (!c || c.section !== section) continue;
    const len = c.valueLength(t);
    writeU16(b, o, t.type);
    writeU16(b, o + 2, len);
    c.write(t, b, o + TLV_HEADER_LENGTH);
    o += TLV_HEADER_LENGTH + len;
  }
  return o;
}

/**
 * Write a metadata block at b[off..]: header, header TLVs, payload TLVs, then (with a cipher and
 * a non-empty payload) zero padding, encryption in place and the IV (4.4, D-4). Returns the
 * block length. The caller sizes the space with `encodedLength`; too little is a programmer error.
 */
export function encodeMetadata(
  md: Metadata,
  b: Uint8Array,
  off: number,
  cipher?: MetadataBlockCipher,
): number {
  const { header, payload } = sectionLengths(md);
  if (header > METADATA_MAX_HEADER_LENGTH || payload > METADATA_MAX_PAYLOAD_LENGTH)
    throw new RangeError(metadataSizeError(md));
  const total = blockLengthFor(header, payload, cipher !== undefined);
  if (off + total > b.length) throw new RangeError(`metadata block needs ${total} bytes at ${off}`);
  b.set(METADATA_COOKIE, off);
  writeU16(b, off + 8, (METADATA_VERSION << 12) | header);
  writeU16(b, off + 10, payload);
  let o = writeSection(md, 'header', b, off + METADATA_HEADER_LENGTH);
  o = writeSection(md, 'payload', b, o);
  if (cipher && payload > 0) {
    const padded = paddedLength(payload);
    b.fill(0, o, off + header + padded);
    cipher.encrypt(b, off + header, padded);
  }
  return total;
}

/** Encode into a new array of exactly the block's size. */
export function encodeMetadataBlock(md: Metadata, cipher?: MetadataBlockCipher): Uint8Array {
  const out = new Uint8Array(encodedLength(md, cipher !== undefined));
  encodeMetadata(md, out, 0, cipher);
  return out;
}

/** The empty block of 4.2.6: cookie, version 1, header length 12, no TLVs. */
export function falsePositiveHeader(): Uint8Array {
  return encodeMetadataBlock({ tlvs: [] });
}

const seen = new Uint8Array(256);

function walkSection(
  b: Uint8Array,
  o: number,
  end: number,
  section: TlvSection,
  tlvs: Tlv[],
  skipped: SkippedTlv[],
): DropReason {
  while (o < end) {
    if (o + TLV_HEADER_LENGTH > end) return DropReason.MetadataTlvTruncated;
    const type = readU16(b, o);
    const len = readU16(b, o + 2);
    const v = o + TLV_HEADER_LENGTH;
    if (v + len > end) return DropReason.MetadataTlvTruncated;
    const c = tlvCodec(type);
    if (!c) {
      skipped.push({ type, length: len, section });
    } else {
      if (c.section !== section) return DropReason.MetadataTlvWrongSection;
      if (c.fixedLength !== undefined && len !== c.fixedLength) return DropReason.MetadataTlvBadLength;
      if (seen[type]) return DropReason.MetadataDuplicateTlv;
      seen[type] = 1;
      const r = c.read(type, b, v, len);
      if (typeof r === 'number') return r;
      tlvs.push(r);
    }
    o = v + len;
  }
  return DropReason.None;
}

/**
 * Decode the metadata block at b[off, end) with every reasonableness check of 4.6.2.1 and
 * 3.7.2.2. `end` may extend past the block (the packet's payload follows it).
 *
 * With a cipher and a non-zero payload length the payload is taken as encrypted (R-4.6.2.2-a) and
 * decrypted **in place**; the caller has verified the HMAC first (R-4.6.1-b) and strips the block
 * afterwards. Returns the decoded block or why it was refused; never throws on bad bytes.
 */
export function decodeMetadata(
  b: Uint8Array,
  off: number,
  end: number,
  cipher?: MetadataBlockCipher,
): DecodedMetadata | DropReason {
  const avail = end - off;
  if (avail < METADATA_HEADER_LENGTH)
    return hasCookie(b, off, end) ? DropReason.MetadataTruncated : DropReason.MetadataNotPresent;
  if (!hasCookie(b, off, end)) return DropReason.MetadataNotPresent;
  const word = readU16(b, off + 8);
  const version = word >>> 12;
  if (version !== METADATA_VERSION) return DropReason.MetadataBadVersion;
  const headerLength = word & 0x0fff;
  if (headerLength < METADATA_HEADER_LENGTH || headerLength > avail)
    return DropReason.MetadataBadHeaderLength;
  const payloadLength = readU16(b, off + 10);
  const encrypted = cipher !== undefined && payloadLength > 0;
  const blockLength = blockLengthFor(headerLength, payloadLength, encrypted);
  if (blockLength > avail) return DropReason.MetadataBadPayloadLength;

  let iv: Uint8Array | undefined;
  const p = off + headerLength;
  if (encrypted) {
    const padded = paddedLength(payloadLength);
    iv = b.slice(p + padded, p + padded + CIPHER_BLOCK);
    cipher.decrypt(b, p, padded);
    // D-4: the padding must come out as zeros, else the key is wrong or the block was altered.
    for (let i = p + payloadLength; i < p + padded; i++) if (b[i] !== 0) return DropReason.MetadataBadPadding;
  }

  const tlvs: Tlv[] = [];
  const skipped: SkippedTlv[] = [];
  seen.fill(0);
  let r = walkSection(b, off + METADATA_HEADER_LENGTH, p, 'header', tlvs, skipped);
  if (r) return r;
  r = walkSection(b, p, p + payloadLength, 'payload', tlvs, skipped);
  if (r) return r;
  return { tlvs, skipped, version, headerLength, payloadLength, blockLength, encrypted, iv };
}

/** Read just the fixed header: enough to size a block without decoding it. */
export function peekMetadataHeader(
  b: Uint8Array,
  off: number,
  end: number,
): { headerLength: number; payloadLength: number } | DropReason {
  if (!hasCookie(b, off, end)) return DropReason.MetadataNotPresent;
  if (end - off < METADATA_HEADER_LENGTH) return DropReason.MetadataTruncated;
  const word = readU16(b, off + 8);
  if (word >>> 12 !== METADATA_VERSION) return DropReason.MetadataBadVersion;
  return { headerLength: word & 0x0fff, payloadLength: readU16(b, off + 10) };
}

/** The first TLV of a type in a decoded or built block. */
export function findTlv<K extends TlvType>(md: Metadata, type: K): TlvOf<K> | undefined {
  for (const t of md.tlvs) if (t.type === type) return t as TlvOf<K>;
  return undefined;
}

/**
 * The Security Identifier in a block's clear header TLVs, or -1. A receiver reads it only to
 * choose which key verifies the HMAC (R-4.6.1-b: verification still comes before any metadata
 * check); the header is never encrypted (7).
 */
export function peekSecurityId(b: Uint8Array, off: number, end: number): number {
  if (!hasCookie(b, off, end) || end - off < METADATA_HEADER_LENGTH) return -1;
  const hl = readU16(b, off + 8) & 0x0fff;
  const hEnd = Math.min(off + hl, end);
  let o = off + METADATA_HEADER_LENGTH;
  while (o + TLV_HEADER_LENGTH <= hEnd) {
    const type = readU16(b, o);
    const len = readU16(b, o + 2);
    if (o + TLV_HEADER_LENGTH + len > hEnd) return -1;
    if (type === 16 && len === 4) return readU32(b, o + TLV_HEADER_LENGTH);
    o += TLV_HEADER_LENGTH + len;
  }
  return -1;
}
