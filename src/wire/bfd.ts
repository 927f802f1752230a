import { readU32, writeU32 } from '../base/bytes.js';
import { DropReason } from '../base/drop-reason.js';
import { HeaderView } from './view.js';

/**
 * BFD Control packets (RFC 5880 section 4.1) as SVR carries them on peer paths (draft-menon-svr-02
 * section 5.1, D-6): the 24-byte mandatory section, never an authentication section (SVR
 * authenticates peers in the metadata, 5.1.7), then the protobuf BFD metadata.
 */

/** The mandatory section (RFC 5880 4.1); the metadata follows it. */
export const BFD_CONTROL_LENGTH = 24;
/** RFC 5880 4.1: the only version defined. */
export const BFD_VERSION = 1;
/**
 * The largest value the 8-bit Length field can hold. D-6 puts the metadata inside Length, which
 * only fits while the packet is at most 255 bytes; a longer packet (a certificate, an MTU probe)
 * carries 255, meaning "up to the end of the UDP payload" (see `BfdControl.parse`).
 */
export const BFD_MAX_LENGTH_FIELD = 255;

/** RFC 5880 4.1 Sta (and bfd.SessionState, 6.8.1). */
export enum BfdState {
  AdminDown = 0,
  Down = 1,
  Init = 2,
  Up = 3,
}

/** RFC 5880 4.1 Diag codes. */
export enum BfdDiag {
  None = 0,
  ControlDetectionTimeExpired = 1,
  EchoFunctionFailed = 2,
  NeighborSignaledSessionDown = 3,
  ForwardingPlaneReset = 4,
  PathDown = 5,
  ConcatenatedPathDown = 6,
  AdministrativelyDown = 7,
  ReverseConcatenatedPathDown = 8,
}

/** Flag bits of byte 1, after the 2-bit state (RFC 5880 4.1). */
export const BFD_FLAG_POLL = 0x20;
export const BFD_FLAG_FINAL = 0x10;
export const BFD_FLAG_CPI = 0x08;
export const BFD_FLAG_AUTH = 0x04;
export const BFD_FLAG_DEMAND = 0x02;
export const BFD_FLAG_MULTIPOINT = 0x01;

/** What a sender chooses; version 1, A = 0 and M = 0 are implied (RFC 5880 4.1, D-6). */
export interface BfdControlFields {
  diag: BfdDiag;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** Control Plane Independent (C); false when absent. */
  cpi?: boolean;
  /** Demand mode (D); false when absent. */
  demand?: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  /** Intervals are microseconds on the wire (RFC 5880 4.1). */
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  /** Greater than zero marks a MeasureData packet (draft 5.1). */
  requiredMinEchoRxUs: number;
}

/**
 * A BFD Control packet read in place. `parse()` applies the reception checks of RFC 5880 6.8.6
 * that need no session; the getters then read the fields. Reused across packets like the other
 * header views, so reading allocates nothing.
 */
export class BfdControl extends HeaderView implements BfdControlFields {
  /** Bytes of the packet, header and metadata (the Length field, or more when it saturates). */
  private total = 0;

  /**
   * Check the packet at b[off, off+len), where `len` is the whole UDP payload. DropReason.None
   * on success; the view then points at the packet.
   */
  parse(b: Uint8Array, off: number, len: number): DropReason {
    this.total = 0;
    if (len < BFD_CONTROL_LENGTH || off < 0 || off + len > b.length) return DropReason.BfdTruncated;
    const b0 = b[off];
    const b1 = b[off + 1];
    // RFC 5880 6.8.6, in its order.
    if (b0 >> 5 !== BFD_VERSION) return DropReason.BfdBadVersion;
    const length = b[off + 3];
    // D-6: Length counts the metadata too; it is never beyond the UDP payload.
    if (length < BFD_CONTROL_LENGTH || length > len) return DropReason.BfdBadLength;
    if (b[off + 2] === 0) return DropReason.BfdBadDetectMult;
    if (b1 & BFD_FLAG_MULTIPOINT) return DropReason.BfdMultipoint;
    if (readU32(b, off + 4) === 0) return DropReason.BfdBadMyDiscriminator;
    const state = b1 >> 6;
    if (readU32(b, off + 8) === 0 && state !== BfdState.Down && state !== BfdState.AdminDown)
      return DropReason.BfdBadYourDiscriminator;
    // No authentication is ever in use (bfd.AuthType = 0): SVR authenticates in metadata (5.1.7).
    if (b1 & BFD_FLAG_AUTH) return DropReason.BfdAuthUnsupported;
    this.at(b, off);
    // A saturated Length (255) means the packet runs to the end of the UDP payload.
    this.total = length === BFD_MAX_LENGTH_FIELD ? len : length;
    return DropReason.None;
  }

  get version(): number {
    return this.b[this.o] >> 5;
  }
  get diag(): BfdDiag {
    return this.b[this.o] & 0x1f;
  }
  get state(): BfdState {
    return this.b[this.o + 1] >> 6;
  }
  get poll(): boolean {
    return (this.b[this.o + 1] & BFD_FLAG_POLL) !== 0;
  }
  get final(): boolean {
    return (this.b[this.o + 1] & BFD_FLAG_FINAL) !== 0;
  }
  get cpi(): boolean {
    return (this.b[this.o + 1] & BFD_FLAG_CPI) !== 0;
  }
  get auth(): boolean {
    return (this.b[this.o + 1] & BFD_FLAG_AUTH) !== 0;
  }
  get demand(): boolean {
    return (this.b[this.o + 1] & BFD_FLAG_DEMAND) !== 0;
  }
  get multipoint(): boolean {
    return (this.b[this.o + 1] & BFD_FLAG_MULTIPOINT) !== 0;
  }
  get detectMult(): number {
    return this.b[this.o + 2];
  }
  /** The Length field as on the wire (255 when the packet is 255 bytes or longer). */
  get length(): number {
    return this.b[this.o + 3];
  }
  get myDiscriminator(): number {
    return readU32(this.b, this.o + 4);
  }
  get yourDiscriminator(): number {
    return readU32(this.b, this.o + 8);
  }
  get desiredMinTxUs(): number {
    return readU32(this.b, this.o + 12);
  }
  get requiredMinRxUs(): number {
    return readU32(this.b, this.o + 16);
  }
  get requiredMinEchoRxUs(): number {
    return readU32(this.b, this.o + 20);
  }
  /** Absolute offset in `b` of the BFD metadata (draft 5.1). */
  get metadataOffset(): number {
    return this.o + BFD_CONTROL_LENGTH;
  }
  /** Bytes of metadata after the mandatory section; 0 when there is none or before a parse. */
  get metadataLength(): number {
    return this.total === 0 ? 0 : this.total - BFD_CONTROL_LENGTH;
  }
  /** Header plus metadata, as parsed. */
  get packetLength(): number {
    return this.total;
  }
}

/**
 * Write the 24-byte mandatory section at b[off] for a packet followed by `metadataLength` bytes
 * of metadata (written by the caller). Length = 24 + metadataLength (D-6), saturating at 255 when
 * that does not fit the 8-bit field. Field values are masked to their widths.
 */
export function writeBfdControl(
  b: Uint8Array,
  off: number,
  f: BfdControlFields,
  metadataLength: number,
): void {
  if (!Number.isInteger(metadataLength) || metadataLength < 0)
    throw new RangeError(`writeBfdControl: metadata length ${metadataLength}`);
  if (off < 0 || off + BFD_CONTROL_LENGTH > b.length)
    throw new RangeError('writeBfdControl: buffer too small');
  b[off] = (BFD_VERSION << 5) | (f.diag & 0x1f);
  b[off + 1] =
    ((f.state & 3) << 6) |
    (f.poll ? BFD_FLAG_POLL : 0) |
    (f.final ? BFD_FLAG_FINAL : 0) |
    (f.cpi ? BFD_FLAG_CPI : 0) |
    (f.demand ? BFD_FLAG_DEMAND : 0);
  b[off + 2] = f.detectMult;
  b[off + 3] = Math.min(BFD_CONTROL_LENGTH + metadataLength, BFD_MAX_LENGTH_FIELD);
  writeU32(b, off + 4, f.myDiscriminator);
  writeU32(b, off + 8, f.yourDiscriminator);
  writeU32(b, off + 12, f.desiredMinTxUs);
  writeU32(b, off + 16, f.requiredMinRxUs);
  writeU32(b, off + 20, f.requiredMinEchoRxUs);
}
