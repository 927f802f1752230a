import fc from 'fast-check';
import { type Tlv, TlvType } from '../src/wire/metadata/tlv.js';

/** fast-check generators for every TLV type with values inside their fields' ranges. */

const u = (bits: number) => fc.nat({ max: 2 ** bits - 1 });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const ascii = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 40,
});
const pem = fc.string({
  unit: fc.constantFrom('A', 'b', '9', '+', '/', '=', '\n', '-', ' '),
  minLength: 1,
  maxLength: 80,
});

export function arbitraryTlv(): fc.Arbitrary<Tlv> {
  return fc
    .oneof(
      fc.record({
        type: fc.constant(TlvType.Fragment as const),
        extendedId: u(32),
        originalId: u(16),
        dontFragment: fc.boolean(),
        moreFragments: fc.boolean(),
        fragmentOffset: u(13),
        largestSeenFragment: u(16),
      }),
      fc.record({
        type: fc.constantFrom(TlvType.ForwardContextV4 as const, TlvType.ReverseContextV4 as const),
        source: u(32),
        destination: u(32),
        sourcePort: u(16),
        destinationPort: u(16),
        protocol: u(8),
      }),
      fc.record({
        type: fc.constantFrom(TlvType.ForwardContextV6 as const, TlvType.ReverseContextV6 as const),
        source: bytes(16),
        destination: bytes(16),
        sourcePort: u(16),
        destinationPort: u(16),
        protocol: u(8),
      }),
      fc.record({ type: fc.constant(TlvType.SessionUuid as const), uuid: bytes(16) }),
      fc.record({
        type: fc.constantFrom(
          TlvType.TenantName as const,
          TlvType.ServiceName as const,
          TlvType.SourceRouterName as const,
          TlvType.SecurityPolicy as const,
          TlvType.PeerPathwayId as const,
        ),
        name: ascii,
      }),
      fc.record({ type: fc.constant(TlvType.SecurityKey as const), key: pem }),
      fc.record({
        type: fc.constantFrom(
          TlvType.SessionEncrypted as const,
          TlvType.TcpSynPacket as const,
          TlvType.DisableForwardMetadata as const,
        ),
      }),
      fc.record({ type: fc.constant(TlvType.SecurityIdentifier as const), securityId: u(32) }),
      fc.record({
        type: fc.constantFrom(TlvType.IcmpErrorLocationV4 as const, TlvType.SourceNatV4 as const),
        address: u(32),
      }),
      fc.record({ type: fc.constant(TlvType.IcmpErrorLocationV6 as const), address: bytes(16) }),
      fc.record({ type: fc.constant(TlvType.ControlMessage as const), reason: u(8) }),
      fc.record({
        type: fc.constant(TlvType.PathMetrics as const),
        txColor: u(4),
        txTime: u(28),
        rxColor: u(4),
        rxTime: u(28),
        drop: fc.boolean(),
        previousRxColorCount: u(15),
      }),
      fc.record({ type: fc.constant(TlvType.RemainingSessionTime as const), seconds: u(32) }),
      // fast-check builds records without a prototype; the codecs build plain objects.
    )
    .map((t): Tlv => ({ ...t }));
}
