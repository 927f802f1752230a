import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { IpAddress } from '../base/address.js';
import { DropReason } from '../base/drop-reason.js';

/**
 * The BFD metadata codec (draft-menon-svr-02 section 5.1, D-6): `pb.bfd.Metadata` of
 * proto/bfd-metadata.proto, appended after the 24-byte BFD Control packet. Decoding is of
 * untrusted bytes, so it never throws: anything protobufjs refuses, and anything it accepts that
 * this router cannot use (odd address sizes, both a request and a response, huge strings, uint64
 * beyond 2^53), is `DropReason.BfdMetadataMalformed`. Unknown fields are skipped (proto2), which
 * is what lets `encodePadding` grow MTU probes (5.1.4).
 */

/** The draft's ip.Tuple: addresses are 4 or 16 bytes on the wire. */
export interface Tuple {
  sourceAddress: IpAddress;
  destAddress: IpAddress;
  sourcePort?: number;
  destPort?: number;
  protocol?: number;
}

/**
 * 5.1.1-5.1.3: the addresses a router sends from and those it sees. On the wire: original_ipTuple,
 * received_ipTuple, peername, routername.
 */
export interface SessionData {
  originalTuple: Tuple;
  receivedTuple: Tuple;
  peerName?: string;
  routerName?: string;
}

/** 5.1.4, 5.1.5: quality and MTU probes; at most one of request and response. */
export interface MeasureData {
  request?: { transId: number };
  response?: { requestTransId: number; responseTransId: number };
  mtuDiscovery?: boolean;
}

/** 5.1.6: uint64 fields as safe JS integers (milliseconds fit until year 287 396). */
export interface NodeInfo {
  id: number;
  createTimestamp: number;
  timeValue?: number;
}

/** 5.1.7: the PEM router certificate (D-7). */
export interface PeerAuth {
  certificate: string;
}

/** 5.1.8, D-8: a signed ephemeral public key. */
export interface PeerPublicKey {
  signedKey: string;
  securityId?: number;
  isResponse?: boolean;
}

export interface BfdMetadata {
  sessionData?: SessionData;
  measure?: MeasureData;
  nodeInfo?: NodeInfo;
  peerAuth?: PeerAuth;
  peerKey?: PeerPublicKey;
}

/** Longest string accepted in either direction: a PEM certificate chain is far smaller. */
export const BFD_METADATA_MAX_STRING = 8192;
/** Field number of `encodePadding`'s field: unknown to pb.bfd.Metadata, skipped by receivers. */
export const BFD_PADDING_FIELD = 15;
/** Its tag: field 15, wire type 2 (length-delimited). */
const PADDING_TAG = (BFD_PADDING_FIELD << 3) | 2;

// Loaded once. The compiled module is dist/src/peering/bfd-metadata.js, the schema <root>/proto.
const root = protobuf.loadSync(fileURLToPath(new URL('../../../proto/bfd-metadata.proto', import.meta.url)));
const MetadataType = root.lookupType('pb.bfd.Metadata');
// protobufjs applies "last one wins" to MeasureData's oneof and forgets the other member; a
// sender that sets both is broken, so decode them as two plain optional fields (the same bytes
// on the wire) and refuse the pair in `metadataIn`. The encoder never writes both.
{
  const measure = root.lookupType('pb.bfd.MeasureData');
  const oneof = measure.oneofs?.type;
  if (!oneof) throw new Error('bfd-metadata.proto: MeasureData has no oneof "type"');
  for (const f of [...oneof.fieldsArray]) oneof.remove(f);
  measure.remove(oneof);
}

/** A decoded message or plain object, read field by field. */
type Fields = { readonly [k: string]: unknown };

class Malformed extends Error {}

// ---- encoding ----

/**
 * Encode metadata. Values out of their proto range (an address neither IPv4 nor IPv6, a uint32
 * beyond 2^32-1, a uint64 not a safe integer, a string over 8 KiB, both request and response)
 * are programmer errors and throw RangeError.
 */
export function encodeBfdMetadata(m: BfdMetadata): Uint8Array {
  const o: Record<string, unknown> = {};
  if (m.sessionData) {
    const s = m.sessionData;
    const sd: Record<string, unknown> = {
      originalIpTuple: tupleOut(s.originalTuple),
      receivedIpTuple: tupleOut(s.receivedTuple),
    };
    if (s.peerName !== undefined) sd.peername = strOut(s.peerName);
    if (s.routerName !== undefined) sd.routername = strOut(s.routerName);
    o.sessionData = sd;
  }
  if (m.measure) {
    const x = m.measure;
    if (x.request && x.response) throw new RangeError('MeasureData: both a request and a response');
    const md: Record<string, unknown> = {};
    if (x.request) md.request = { transId: u32Out(x.request.transId) };
    if (x.response)
      md.response = {
        requestTransId: u32Out(x.response.requestTransId),
        responseTransId: u32Out(x.response.responseTransId),
      };
    if (x.mtuDiscovery !== undefined) md.mtuDiscovery = x.mtuDiscovery;
    o.measure = md;
  }
  if (m.nodeInfo) {
    const n = m.nodeInfo;
    const ni: Record<string, unknown> = { id: u32Out(n.id), createTimestamp: u64Out(n.createTimestamp) };
    if (n.timeValue !== undefined) ni.timeValue = u64Out(n.timeValue);
    o.nodeInfo = ni;
  }
  if (m.peerAuth) o.peerAuth = { certificate: strOut(m.peerAuth.certificate) };
  if (m.peerKey) {
    const k = m.peerKey;
    const pk: Record<string, unknown> = { signedKey: strOut(k.signedKey) };
    if (k.securityId !== undefined) pk.securityId = u32Out(k.securityId);
    if (k.isResponse !== undefined) pk.isResponse = k.isResponse;
    o.peerKey = pk;
  }
  return MetadataType.encode(o).finish();
}

function tupleOut(t: Tuple): Record<string, unknown> {
  const o: Record<string, unknown> = {
    sourceAddress: addrOut(t.sourceAddress),
    destAddress: addrOut(t.destAddress),
  };
  if (t.sourcePort !== undefined) o.sourcePort = u32Out(t.sourcePort);
  if (t.destPort !== undefined) o.destPort = u32Out(t.destPort);
  if (t.protocol !== undefined) o.protocol = u32Out(t.protocol);
  return o;
}

function addrOut(a: IpAddress): Uint8Array {
  if (a.version === 6) {
    if (a.v6.length !== 16) throw new RangeError(`IPv6 address of ${a.v6.length} bytes`);
    return a.v6;
  }
  const v = u32Out(a.v4);
  return new Uint8Array([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]);
}

function u32Out(v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new RangeError(`not a uint32: ${v}`);
  return v;
}

function u64Out(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a safe uint64: ${v}`);
  return v;
}

function strOut(s: string): string {
  if (Buffer.byteLength(s, 'utf8') > BFD_METADATA_MAX_STRING)
    throw new RangeError(`string over ${BFD_METADATA_MAX_STRING} bytes`);
  return s;
}

// ---- decoding ----

/**
 * Decode the metadata at b[off, off+len) (the whole of `b` by default). Never throws: bad input
 * gives DropReason.BfdMetadataMalformed.
 */
export function decodeBfdMetadata(b: Uint8Array, off = 0, len = b.length - off): BfdMetadata | DropReason {
  if (!Number.isInteger(off) || !Number.isInteger(len) || off < 0 || len < 0 || off + len > b.length)
    return DropReason.BfdMetadataMalformed;
  try {
    // protobufjs throws on truncation, bad varints and wire types, depth, and missing required fields.
    const m = MetadataType.decode(b.subarray(off, off + len)) as unknown as Fields;
    return metadataIn(m);
  } catch {
    return DropReason.BfdMetadataMalformed;
  }
}

function metadataIn(m: Fields): BfdMetadata {
  const out: BfdMetadata = {};
  const sd = msg(m, 'sessionData');
  if (sd) {
    const s: SessionData = {
      originalTuple: tupleIn(reqMsg(sd, 'originalIpTuple')),
      receivedTuple: tupleIn(reqMsg(sd, 'receivedIpTuple')),
    };
    const peer = str(sd, 'peername');
    if (peer !== undefined) s.peerName = peer;
    const router = str(sd, 'routername');
    if (router !== undefined) s.routerName = router;
    out.sessionData = s;
  }
  const md = msg(m, 'measure');
  if (md) {
    const x: MeasureData = {};
    const req = msg(md, 'request');
    const resp = msg(md, 'response');
    // A oneof: a sender that sets both is broken, not "last one wins" (5.1.5 pairs each with an id).
    if (req && resp) throw new Malformed('request and response');
    if (req) x.request = { transId: reqU32(req, 'transId') };
    if (resp)
      x.response = {
        requestTransId: reqU32(resp, 'requestTransId'),
        responseTransId: reqU32(resp, 'responseTransId'),
      };
    const mtu = bool(md, 'mtuDiscovery');
    if (mtu !== undefined) x.mtuDiscovery = mtu;
    out.measure = x;
  }
  const ni = msg(m, 'nodeInfo');
  if (ni) {
    const n: NodeInfo = { id: reqU32(ni, 'id'), createTimestamp: u64(ni, 'createTimestamp') ?? missing() };
    const tv = u64(ni, 'timeValue');
    if (tv !== undefined) n.timeValue = tv;
    out.nodeInfo = n;
  }
  const pa = msg(m, 'peerAuth');
  if (pa) out.peerAuth = { certificate: str(pa, 'certificate') ?? missing() };
  const pk = msg(m, 'peerKey');
  if (pk) {
    const k: PeerPublicKey = { signedKey: str(pk, 'signedKey') ?? missing() };
    const sid = u32(pk, 'securityId');
    if (sid !== undefined) k.securityId = sid;
    const resp = bool(pk, 'isResponse');
    if (resp !== undefined) k.isResponse = resp;
    out.peerKey = k;
  }
  return out;
}

function tupleIn(t: Fields): Tuple {
  const out: Tuple = {
    sourceAddress: addrIn(bytes(t, 'sourceAddress') ?? missing()),
    destAddress: addrIn(bytes(t, 'destAddress') ?? missing()),
  };
  const sp = u32(t, 'sourcePort');
  if (sp !== undefined) out.sourcePort = sp;
  const dp = u32(t, 'destPort');
  if (dp !== undefined) out.destPort = dp;
  const pr = u32(t, 'protocol');
  if (pr !== undefined) out.protocol = pr;
  return out;
}

function addrIn(b: Uint8Array): IpAddress {
  if (b.length === 4) return { version: 4, v4: ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0 };
  if (b.length === 16) {
    // A copy: protobufjs hands out a view of the packet buffer, which the router reuses (and
    // Buffer#slice would be a view too).
    const v6 = new Uint8Array(16);
    v6.set(b);
    return { version: 6, v6 };
  }
  throw new Malformed('address size');
}

// Presence is an own property of a decoded message: the prototype holds the proto2 defaults.
function has(m: Fields, k: string): boolean {
  return Object.hasOwn(m, k) && m[k] !== undefined && m[k] !== null;
}

function missing(): never {
  throw new Malformed('missing required field');
}

function msg(m: Fields, k: string): Fields | undefined {
  if (!has(m, k)) return undefined;
  const v = m[k];
  if (typeof v !== 'object' || v === null) throw new Malformed(k);
  return v as Fields;
}

function reqMsg(m: Fields, k: string): Fields {
  return msg(m, k) ?? missing();
}

function str(m: Fields, k: string): string | undefined {
  if (!has(m, k)) return undefined;
  const v = m[k];
  if (typeof v !== 'string' || Buffer.byteLength(v, 'utf8') > BFD_METADATA_MAX_STRING) throw new Malformed(k);
  return v;
}

function bytes(m: Fields, k: string): Uint8Array | undefined {
  if (!has(m, k)) return undefined;
  const v = m[k];
  if (!(v instanceof Uint8Array)) throw new Malformed(k);
  return v;
}

function bool(m: Fields, k: string): boolean | undefined {
  if (!has(m, k)) return undefined;
  const v = m[k];
  if (typeof v !== 'boolean') throw new Malformed(k);
  return v;
}

function u32(m: Fields, k: string): number | undefined {
  if (!has(m, k)) return undefined;
  const v = m[k];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new Malformed(k);
  return v;
}

function reqU32(m: Fields, k: string): number {
  return u32(m, k) ?? missing();
}

/** uint64 arrives as a Long (or a number without long.js); refuse what a double cannot hold. */
function u64(m: Fields, k: string): number | undefined {
  if (!has(m, k)) return undefined;
  const v = m[k];
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const { low, high } = v;
    if (typeof low !== 'number' || typeof high !== 'number') throw new Malformed(k);
    n = (high >>> 0) * 0x1_0000_0000 + (low >>> 0);
  } else throw new Malformed(k);
  if (!Number.isSafeInteger(n) || n < 0) throw new Malformed(k);
  return n;
}

// ---- padding ----

/**
 * Exactly `bytes` bytes (at least 2) forming one length-delimited field number 15 of zeros: a
 * field pb.bfd.Metadata does not define, which every proto2 receiver skips, appended to grow an
 * MTU probe (5.1.4) while the metadata stays valid protobuf. Its length varint takes as many
 * bytes as make the total exact; at the two sizes a minimal varint cannot reach (130 and 16 387)
 * it is one byte longer than minimal, which protobuf parsers accept.
 */
export function encodePadding(bytes: number): Uint8Array {
  if (!Number.isInteger(bytes) || bytes < 2 || bytes > 0x0fff_ffff)
    throw new RangeError(`padding of ${bytes} bytes`);
  // Smallest varint size k that can carry n = bytes - 1 - k.
  let k = 1;
  while (bytes - 1 - k >= 2 ** (7 * k)) k++;
  const n = bytes - 1 - k;
  const out = new Uint8Array(bytes);
  out[0] = PADDING_TAG;
  for (let i = 0; i < k; i++) out[1 + i] = ((n / 2 ** (7 * i)) & 0x7f) | (i < k - 1 ? 0x80 : 0);
  return out;
}
