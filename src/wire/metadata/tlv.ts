import type { DropReason } from '../../base/drop-reason.js';

/** TLV type numbers of draft section 7 (D-3). */
export enum TlvType {
  Fragment = 1,
  ForwardContextV4 = 2,
  ForwardContextV6 = 3,
  ReverseContextV4 = 4,
  ReverseContextV6 = 5,
  SessionUuid = 6,
  TenantName = 7,
  ServiceName = 10,
  SessionEncrypted = 11,
  TcpSynPacket = 12,
  SourceRouterName = 14,
  SecurityPolicy = 15,
  SecurityIdentifier = 16,
  DisableForwardMetadata = 18,
  PeerPathwayId = 19,
  IcmpErrorLocationV4 = 20,
  IcmpErrorLocationV6 = 21,
  ControlMessage = 24,
  SourceNatV4 = 25,
  PathMetrics = 26,
  RemainingSessionTime = 42,
  SecurityKey = 45,
}

/** Header TLVs are never encrypted; payload TLVs may be (7, 7.2). No TLV may be in both. */
export type TlvSection = 'header' | 'payload';

/** SVR Control Message drop reasons (7.3.6). */
export enum ControlReason {
  Unknown = 0,
  KeepAlive = 1,
  EnableMetadata = 2,
  DisableMetadata = 3,
  /** 6.2 names "flow moved" without a number in 7.3.6; svr uses 4 (docs/spec-decisions.md SD-30). */
  FlowMoved = 4,
  /**
   * 2.4: "determine through testing if there is ... middlebox": svr's probe of a path, a TCP SYN
   * (answered by a SYN/ACK) carrying this reason; 5 is svr's (docs/spec-decisions.md SD-32).
   */
  PathProbe = 5,
}

// ---- Typed values, one interface per TLV ----

/** 7.3.1: fragment binding, with the original IP fragment fields. */
export interface FragmentTlv {
  readonly type: TlvType.Fragment;
  readonly extendedId: number;
  readonly originalId: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** In 8-byte units, as in the IP header. */
  readonly fragmentOffset: number;
  readonly largestSeenFragment: number;
}

/** 7.4.1-7.4.4: a five-tuple. Forward: the original packet; reverse: the egress router's view. */
export interface ContextV4Tlv {
  readonly type: TlvType.ForwardContextV4 | TlvType.ReverseContextV4;
  readonly source: number;
  readonly destination: number;
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly protocol: number;
}

export interface ContextV6Tlv {
  readonly type: TlvType.ForwardContextV6 | TlvType.ReverseContextV6;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly protocol: number;
}

/** 7.4.5: RFC 4122 UUID as 16 raw bytes (D-12). */
export interface SessionUuidTlv {
  readonly type: TlvType.SessionUuid;
  readonly uuid: Uint8Array;
}

/** 7.4.6, 7.4.7, 7.4.10, 7.4.11, 7.4.12: ASCII names (D-12). */
export interface NameTlv {
  readonly type:
    | TlvType.TenantName
    | TlvType.ServiceName
    | TlvType.SourceRouterName
    | TlvType.SecurityPolicy
    | TlvType.PeerPathwayId;
  readonly name: string;
}

/** 7.4.15: the session's payload key as PEM-style text (D-9). */
export interface SecurityKeyTlv {
  readonly type: TlvType.SecurityKey;
  readonly key: string;
}

/** 7.4.8, 7.4.9, 7.3.3: presence is the value. */
export interface FlagTlv {
  readonly type: TlvType.SessionEncrypted | TlvType.TcpSynPacket | TlvType.DisableForwardMetadata;
}

/** 7.3.2: which peer key version encrypted and signed this metadata. */
export interface SecurityIdentifierTlv {
  readonly type: TlvType.SecurityIdentifier;
  readonly securityId: number;
}

/** 7.3.4, 7.4.13: one IPv4 address. */
export interface AddressV4Tlv {
  readonly type: TlvType.IcmpErrorLocationV4 | TlvType.SourceNatV4;
  readonly address: number;
}

/** 7.3.5: one IPv6 address. */
export interface AddressV6Tlv {
  readonly type: TlvType.IcmpErrorLocationV6;
  readonly address: Uint8Array;
}

/** 7.3.6 */
export interface ControlMessageTlv {
  readonly type: TlvType.ControlMessage;
  readonly reason: number;
}

/** 7.3.7: alternate-marking colours and times (RFC 8321). */
export interface PathMetricsTlv {
  readonly type: TlvType.PathMetrics;
  /** 4 bits */
  readonly txColor: number;
  /** 28 bits, ms since the transmit colour started */
  readonly txTime: number;
  readonly rxColor: number;
  readonly rxTime: number;
  readonly drop: boolean;
  /** 15 bits */
  readonly previousRxColorCount: number;
}

/** 7.4.14 */
export interface RemainingSessionTimeTlv {
  readonly type: TlvType.RemainingSessionTime;
  readonly seconds: number;
}

export type Tlv =
  | FragmentTlv
  | ContextV4Tlv
  | ContextV6Tlv
  | SessionUuidTlv
  | NameTlv
  | SecurityKeyTlv
  | FlagTlv
  | SecurityIdentifierTlv
  | AddressV4Tlv
  | AddressV6Tlv
  | ControlMessageTlv
  | PathMetricsTlv
  | RemainingSessionTimeTlv;

/** The typed value for one TLV type number. */
export type TlvOf<K extends TlvType> = Tlv extends infer U
  ? U extends Tlv
    ? K extends U['type']
      ? U
      : never
    : never
  : never;

/** JSON form of a value: what the CLI prints and reads. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

/**
 * Everything svr knows about one TLV type: its place, name, size and how it reads, writes and
 * prints. Reading returns a DropReason for unreasonable values (4.6.2.1), never throws.
 */
export interface TlvCodec<T extends Tlv = Tlv> {
  readonly type: T['type'];
  /** The draft's name for it. */
  readonly name: string;
  /** Draft section that defines it. */
  readonly draftSection: string;
  readonly section: TlvSection;
  /** Value length when fixed; undefined for variable-length TLVs. */
  readonly fixedLength: number | undefined;
  valueLength(v: T): number;
  write(v: T, b: Uint8Array, off: number): void;
  read(type: T['type'], b: Uint8Array, off: number, len: number): T | DropReason;
  toJson(v: T): JsonObject;
  /** Parse the JSON form; a string is an error message naming the offending field. */
  fromJson(type: T['type'], j: JsonObject): T | string;
}
