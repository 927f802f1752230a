/**
 * Why a packet was refused. One numeric enum shared by every layer that reads untrusted bytes
 * (wire, crypto, data plane), so a drop is always a value, never an exception, and indexes a
 * counter array directly. Reasons the draft calls security events carry `security: true`.
 */
export enum DropReason {
  /** Not a drop: the check passed. Kept at 0 so `if (reason)` reads naturally. */
  None = 0,

  // IPv4 (RFC 791)
  Ipv4Truncated,
  Ipv4BadVersion,
  Ipv4BadHeaderLength,
  Ipv4BadTotalLength,
  Ipv4BadChecksum,
  // IPv6 (RFC 8200)
  Ipv6Truncated,
  Ipv6BadVersion,
  Ipv6BadPayloadLength,
  Ipv6ExtensionTruncated,
  Ipv6ExtensionChainTooLong,
  // Layer 4
  NotIp,
  TcpTruncated,
  TcpBadDataOffset,
  UdpTruncated,
  UdpBadLength,
  IcmpTruncated,
  L4ChecksumBad,
  /** A non-first fragment carries no L4 header; SVR needs reassembly first (6.5). */
  L4HeaderInLaterFragment,
  /** Metadata and signatures go on whole packets; fragments are reassembled first (6.5). */
  FragmentNeedsReassembly,
  UnsupportedProtocol,

  // SVR metadata header and TLVs (4.6.2.1, 3.7.2.2)
  MetadataTruncated,
  MetadataBadVersion,
  MetadataBadHeaderLength,
  MetadataBadPayloadLength,
  MetadataTlvTruncated,
  MetadataTlvBadLength,
  MetadataTlvBadValue,
  MetadataTlvWrongSection,
  MetadataMissingRequiredTlv,
  MetadataDuplicateTlv,
  // Metadata encryption (4.6.2.2, D-4)
  MetadataNoCipherKey,
  MetadataBadPadding,
  // HMAC (4.5.2, D-1, D-2)
  HmacMissing,
  HmacMismatch,
  // Packet surgery
  NoRoomInBuffer,
  NotTcp,
  NotUdp,
  MetadataNotPresent,

  // Policy (3.7.1.1-3.7.1.4, 4.6.5)
  NoRoute,
  AccessDenied,
  NoPeerPath,
  SlaNotMet,
  // Session state (4.2.3, 3.7.2.5)
  WayportsExhausted,
  SessionLimit,
  TenantSessionLimit,
  SessionLoop,
  SessionExists,
  // Data plane (3.7, 4.6)
  TtlExpired,
  NoSessionOnWaypoint,
  UnknownPeer,
  NotForRouter,
  /** 6.6: ICMP errors carried back along sessions beyond the router's rate (RFC 1812 4.3.2.8). */
  IcmpRateLimited,
  /** 4.6.6, D-9: payload encryption. */
  PayloadKeyMissing,
  PayloadKeyMalformed,
  PayloadBadCiphertext,
  TcpNotSyn,
  UnknownService,
  DnsFailed,
  NatPortsExhausted,
  MtuExceeded,
  /** 6.5: fragments of one datagram overlap (RFC 5722 style: the whole datagram goes). */
  ReassemblyOverlap,
  /** 6.5: a fragment's lengths or offsets cannot belong to a valid datagram. */
  ReassemblyBadLength,
  /** 6.5: the reassembly table is full (bytes or datagrams held). */
  ReassemblyLimit,

  // BFD control packets (RFC 5880 6.8.6, D-6)
  BfdTruncated,
  BfdBadVersion,
  BfdBadLength,
  BfdBadDetectMult,
  BfdMultipoint,
  BfdBadMyDiscriminator,
  BfdBadYourDiscriminator,
  BfdAuthUnsupported,
  BfdAdminDown,
  BfdUnknownPath,
  // BFD metadata and peering (5.1, 3.1, D-5, D-7, D-8)
  BfdMetadataMalformed,
  PeerCertificateRefused,
  PeerNotAuthenticated,
  PeerKeyMalformed,
  PeerKeyBadSignature,
  PeerKeyReplayed,
  MeasureUnexpected,

  // Linux driver offloads (virtio-net header, docs/linux.md)
  GsoUnsupported,
  GsoSegmentFailed,
}

export interface DropReasonInfo {
  /** kebab-case code printed by the CLI, logs and metrics. */
  readonly code: string;
  /** Draft section (or RFC) whose check this enforces. */
  readonly section: string;
  /** The draft asks for a security event to be noted when this happens. */
  readonly security: boolean;
  readonly text: string;
  /**
   * Not an attack, but an operator must hear of it (a refusal of legitimate-looking traffic:
   * wayports exhausted, access denied, screens): logged as a rate-limited `refusal` event.
   */
  readonly notify: boolean;
}

const info = (
  code: string,
  section: string,
  security: boolean,
  text: string,
  notify = false,
): DropReasonInfo => ({
  code,
  section,
  security,
  text,
  notify,
});

/** Indexed by DropReason. */
export const DROP_REASONS: readonly DropReasonInfo[] = [
  info('none', '-', false, 'not dropped'),
  info('ipv4-truncated', 'RFC 791', false, 'shorter than an IPv4 header'),
  info('ipv4-bad-version', 'RFC 791', false, 'IP version field is not 4'),
  info('ipv4-bad-header-length', 'RFC 791', false, 'IHL below 5 or past the end of the packet'),
  info(
    'ipv4-bad-total-length',
    'RFC 791',
    false,
    'total length below the header or beyond the bytes received',
  ),
  info('ipv4-bad-checksum', 'RFC 791', false, 'IPv4 header checksum does not verify'),
  info('ipv6-truncated', 'RFC 8200', false, 'shorter than an IPv6 header'),
  info('ipv6-bad-version', 'RFC 8200', false, 'IP version field is not 6'),
  info('ipv6-bad-payload-length', 'RFC 8200', false, 'payload length beyond the bytes received'),
  info('ipv6-extension-truncated', 'RFC 8200', false, 'an extension header runs past the packet'),
  info('ipv6-extension-chain-too-long', 'RFC 8200', false, 'more extension headers than any sane packet has'),
  info('not-ip', 'RFC 791', false, 'first nibble is neither 4 nor 6'),
  info('tcp-truncated', 'RFC 9293', false, 'shorter than a TCP header'),
  info('tcp-bad-data-offset', 'RFC 9293', false, 'TCP data offset below 5 or past the segment'),
  info('udp-truncated', 'RFC 768', false, 'shorter than a UDP header'),
  info('udp-bad-length', 'RFC 768', false, 'UDP length below 8 or beyond the IP payload'),
  info('icmp-truncated', 'RFC 792', false, 'shorter than an ICMP header'),
  info('l4-checksum-bad', 'RFC 1071', false, 'TCP/UDP/ICMP checksum does not verify'),
  info('l4-header-in-later-fragment', '6.5', false, 'non-first fragment: no transport header to read'),
  info(
    'fragment-needs-reassembly',
    '6.5',
    false,
    'an IP fragment: metadata and signatures need the whole packet',
  ),
  info('unsupported-protocol', '4.1', false, 'protocol is not TCP, UDP or ICMP'),
  info('metadata-truncated', '4.6.2.1', true, 'metadata block shorter than its header says'),
  info('metadata-bad-version', '7.1', true, 'metadata header version is not 1'),
  info('metadata-bad-header-length', '3.7.2.2', true, 'header length below 12 or beyond the block'),
  info('metadata-bad-payload-length', '3.7.2.2', true, 'payload length beyond the block'),
  info('metadata-tlv-truncated', '4.6.2.1', true, 'a TLV runs past the end of its section'),
  info('metadata-tlv-bad-length', '4.6.2.1', true, 'a fixed-size TLV has the wrong length'),
  info('metadata-tlv-bad-value', '4.6.2.1', true, 'a TLV value is not reasonable'),
  info('metadata-tlv-wrong-section', '7', true, 'a header TLV among payload TLVs or the reverse'),
  info('metadata-missing-required-tlv', '4.3', true, 'a TLV that 4.3 requires is absent'),
  info('metadata-duplicate-tlv', '4.6.2.1', true, 'a TLV that may appear once appears twice'),
  info('metadata-no-cipher-key', '3.6', false, 'no key is known for the security identifier in the metadata'),
  info('metadata-bad-padding', '4.6.2.2', true, 'decryption left non-zero padding: wrong key or tampering'),
  info('hmac-missing', '4.5.2', true, 'packet too short to carry the HMAC signature'),
  info('hmac-mismatch', '4.5.2', true, 'HMAC signature does not verify in any allowed time window'),
  info('no-room-in-buffer', '-', false, 'packet buffer has no headroom or tailroom for the change'),
  info('not-tcp', '4.2.7', false, 'operation needs a TCP packet'),
  info('not-udp', '4.6.3', false, 'operation needs a UDP packet'),
  info('metadata-not-present', '4.6.1', false, 'payload does not start with the metadata cookie'),
  info('no-route', '4.6.5', false, 'no service and no route match the destination'),
  info('access-denied', '4.6.5.2', false, 'the tenant may not use the service (deny by default)', true),
  info('no-peer-path', '4.2.2', false, 'no usable peer path to the next-hop peer'),
  info('sla-not-met', '3.7.1.4', false, 'no peer path meets the service policy and best effort is off'),
  info(
    'wayports-exhausted',
    '4.2.3',
    false,
    'every waypoint port pair of the path is in use or in its guard time',
    true,
  ),
  info('session-limit', '-', false, "the router's session limit is reached", true),
  info('tenant-session-limit', '-', false, "the tenant's session limit is reached", true),
  info('session-loop', '3.7.2.5', true, 'a session with this UUID exists: the session loops'),
  info('session-key-in-use', '-', false, 'a wing of the new session matches a live session'),
  info(
    'ttl-expired',
    'RFC 791',
    false,
    'time to live ran out (3.7.2.5: routers decrement it like any router)',
  ),
  info('no-session-on-waypoint', '4.6.1', true, 'a packet on a waypoint with neither metadata nor a session'),
  info('unknown-peer', '2.10', true, 'a packet to a waypoint from an address that is no peer path'),
  info('not-for-router', '8.4', false, 'traffic addressed to the router that it does not serve'),
  info(
    'icmp-rate-limited',
    '6.6',
    false,
    'more ICMP errors to carry back along sessions than the rate allows',
  ),
  info('payload-key-missing', '4.6.6', false, 'an encrypted session with no payload key here'),
  info('payload-key-malformed', '7.4.15', true, 'TLV 45 does not hold a session key'),
  info('payload-bad-ciphertext', 'D-9', true, 'an encrypted payload whose length or padding is wrong'),
  info('tcp-not-syn', '3.7', false, "a TCP packet without a session that is not a SYN can't start one"),
  info('unknown-service', '4.6.5.1', false, 'metadata names a service this router does not know'),
  info('dns-failed', '3.3', false, "the service's name did not resolve for the dns egress action"),
  info('nat-ports-exhausted', '3.7.1.5', false, 'no free port on the source NAT address', true),
  info('mtu-exceeded', '6.5', false, 'too big for the path once signed; the sender was told the MTU'),
  info('reassembly-overlap', '6.5', true, 'overlapping IPv4 fragments: the whole datagram is dropped'),
  info('reassembly-bad-length', '6.5', false, 'IPv4 fragment with impossible length or offset'),
  info('reassembly-limit', '6.5', false, 'reassembly memory or datagram limit reached'),
  info('bfd-truncated', 'RFC 5880', false, 'shorter than a BFD control packet (24 bytes)'),
  info('bfd-bad-version', 'RFC 5880', false, 'BFD version is not 1'),
  info('bfd-bad-length', 'RFC 5880', false, 'BFD length below 24 or beyond the UDP payload'),
  info('bfd-bad-detect-mult', 'RFC 5880', false, 'BFD detect multiplier is zero'),
  info('bfd-multipoint', 'RFC 5880', false, 'BFD multipoint bit is set'),
  info('bfd-bad-my-discriminator', 'RFC 5880', false, 'BFD my discriminator is zero'),
  info(
    'bfd-bad-your-discriminator',
    'RFC 5880',
    false,
    'BFD your discriminator is zero in state Init/Up, or names no session',
  ),
  info(
    'bfd-auth-unsupported',
    'RFC 5880',
    false,
    'BFD authentication bit set: SVR authenticates in metadata',
  ),
  info('bfd-admin-down', 'RFC 5880', false, 'the BFD session is administratively down'),
  info('bfd-unknown-path', '5.1', true, 'BFD from an address that is no peer path of this interface'),
  info('bfd-metadata-malformed', '5.1', true, 'BFD metadata is not a valid pb.bfd.Metadata'),
  info('peer-certificate-refused', '5.1.7', true, "the peer's certificate does not validate"),
  info(
    'peer-not-authenticated',
    '3.1.1',
    true,
    'a key or probe from a peer whose certificate is not validated',
  ),
  info('peer-key-malformed', '5.1.8', true, 'a peer public key that is not two PEM blocks of a P-256 key'),
  info(
    'peer-key-bad-signature',
    '5.1.8',
    true,
    "a peer public key whose signature the peer's certificate denies",
  ),
  info('peer-key-replayed', '5.1.8', true, 'a peer public key for a security id already replaced'),
  info('measure-unexpected', '5.1.5', false, 'a MeasureData response to no probe in flight'),
  info(
    'gso-unsupported',
    'virtio-net',
    false,
    'a super-packet from the kernel that is not TCP with a partial checksum',
  ),
  info('gso-segment-failed', 'virtio-net', false, 'a TCP super-packet that could not be split into segments'),
];

export const DROP_REASON_COUNT = DROP_REASONS.length;

export function dropReasonInfo(r: DropReason): DropReasonInfo {
  const i = DROP_REASONS[r];
  if (i === undefined) throw new RangeError(`unknown DropReason ${r}`);
  return i;
}

/** Counts drops per reason in one typed array: incrementing allocates nothing. */
export class DropCounters {
  readonly counts = new Uint32Array(DROP_REASON_COUNT);

  add(r: DropReason): void {
    this.counts[r]++;
  }

  get(r: DropReason): number {
    return this.counts[r];
  }

  total(): number {
    let t = 0;
    for (let i = 1; i < this.counts.length; i++) t += this.counts[i];
    return t;
  }

  /** Non-zero counters keyed by code, for CLI, API and metrics. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 1; i < this.counts.length; i++)
      if (this.counts[i] > 0) out[DROP_REASONS[i].code] = this.counts[i];
    return out;
  }
}
