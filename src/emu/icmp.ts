import type { IpAddress } from '../base/address.js';
import { buildPacket } from '../wire/builder.js';
import {
  ICMP4_DEST_UNREACHABLE,
  ICMP4_ECHO_REPLY,
  ICMP4_TIME_EXCEEDED,
  ICMP6_DEST_UNREACHABLE,
  ICMP6_ECHO_REPLY,
  ICMP6_PACKET_TOO_BIG,
  ICMP6_TIME_EXCEEDED,
} from '../wire/icmp.js';
import type { IpPacket } from '../wire/packet.js';
import { packetDestination, packetSource } from '../wire/packet.js';

/** The ICMP messages emulated hosts and routers make: errors (RFC 792, 4443) and echo replies. */

export type IcmpErrorKind =
  | 'time-exceeded'
  | 'reassembly-time-exceeded'
  | 'net-unreachable'
  | 'host-unreachable'
  | 'protocol-unreachable'
  | 'port-unreachable'
  /** IPv4 "fragmentation needed and DF set" (code 4) or IPv6 "packet too big". */
  | 'too-big';

const V4: Record<IcmpErrorKind, [number, number]> = {
  'time-exceeded': [ICMP4_TIME_EXCEEDED, 0],
  'reassembly-time-exceeded': [ICMP4_TIME_EXCEEDED, 1],
  'net-unreachable': [ICMP4_DEST_UNREACHABLE, 0],
  'host-unreachable': [ICMP4_DEST_UNREACHABLE, 1],
  'protocol-unreachable': [ICMP4_DEST_UNREACHABLE, 2],
  'port-unreachable': [ICMP4_DEST_UNREACHABLE, 3],
  'too-big': [ICMP4_DEST_UNREACHABLE, 4],
};

const V6: Record<IcmpErrorKind, [number, number]> = {
  'time-exceeded': [ICMP6_TIME_EXCEEDED, 0],
  'reassembly-time-exceeded': [ICMP6_TIME_EXCEEDED, 1],
  'net-unreachable': [ICMP6_DEST_UNREACHABLE, 0],
  'host-unreachable': [ICMP6_DEST_UNREACHABLE, 3],
  // IPv6 has no protocol unreachable; parameter problem is out of scope here.
  'protocol-unreachable': [ICMP6_DEST_UNREACHABLE, 4],
  'port-unreachable': [ICMP6_DEST_UNREACHABLE, 4],
  'too-big': [ICMP6_PACKET_TOO_BIG, 0],
};

/** RFC 1812 4.3.2.3 / RFC 4443 2.4(c): quote as much as fits in a minimum-MTU datagram. */
const MAX_ERROR_V4 = 576;
const MAX_ERROR_V6 = 1280;

/**
 * An ICMP error about `offending` from `from`, or undefined when none may be sent: never about
 * an ICMP error, a later fragment, or across address families (RFC 1122 3.2.2, RFC 4443 2.4(e)).
 * `mtu` is the next-hop MTU for `too-big`.
 */
export function icmpErrorPacket(
  offending: IpPacket,
  from: IpAddress,
  kind: IcmpErrorKind,
  mtu = 0,
): Uint8Array | undefined {
  const v6 = offending.version === 6;
  if (offending.version === 0 || from.version !== offending.version) return undefined;
  if (offending.isLaterFragment) return undefined;
  if (offending.isIcmp && offending.icmp.isError) return undefined;
  const [type, code] = (v6 ? V6 : V4)[kind];
  const room = (v6 ? MAX_ERROR_V6 - 48 : MAX_ERROR_V4 - 28) & ~3;
  const quoted = offending.b.slice(offending.start, offending.start + Math.min(offending.length, room));
  return buildPacket({
    src: from,
    dst: packetSource(offending),
    l4: { protocol: 'icmp', type, code, restOfHeader: kind === 'too-big' ? (v6 ? mtu : mtu & 0xffff) : 0 },
    payload: quoted,
  });
}

/** The echo reply to an echo request, from the address it was sent to. */
export function echoReplyPacket(request: IpPacket): Uint8Array {
  const v6 = request.version === 6;
  return buildPacket({
    src: packetDestination(request),
    dst: packetSource(request),
    l4: {
      protocol: 'icmp',
      type: v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHO_REPLY,
      identifier: request.icmp.identifier,
      sequence: request.icmp.sequence,
    },
    payload: request.b.slice(request.payloadOffset, request.payloadEnd),
  });
}
