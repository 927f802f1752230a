import { type IpAddress, ipToString } from '../base/address.js';
import type { Metadata } from '../wire/metadata/block.js';
import { findTlv } from '../wire/metadata/block.js';
import { ControlReason, type Tlv, TlvType } from '../wire/metadata/tlv.js';
import { type DataPlaneContext, Flag, type TransitInfo } from './context.js';

/**
 * The metadata a router puts on a session's packets, built from session state so it can be sent
 * again (a retransmitted SYN, the next UDP packet) until the handshake completes (2.3):
 * forward metadata with the TLVs of 4.3.1, reverse metadata with those of 4.3.1's second list,
 * and the control messages of 3.7.7 and 4.2.4.
 */

type Context = TransitInfo['context'];

function contextTlv(type: 'forward' | 'reverse', c: Context): Tlv {
  if (c.family === 4 && c.src.version === 4 && c.dst.version === 4)
    return {
      type: type === 'forward' ? TlvType.ForwardContextV4 : TlvType.ReverseContextV4,
      source: c.src.v4,
      destination: c.dst.v4,
      sourcePort: c.srcPort,
      destinationPort: c.dstPort,
      protocol: c.protocol,
    };
  const b = (a: IpAddress) => (a.version === 6 ? a.v6 : new Uint8Array(16));
  return {
    type: type === 'forward' ? TlvType.ForwardContextV6 : TlvType.ReverseContextV6,
    source: b(c.src),
    destination: b(c.dst),
    sourcePort: c.srcPort,
    destinationPort: c.dstPort,
    protocol: c.protocol,
  };
}

/** A session wing's key as a five-tuple context (source, destination, ports, protocol). */
export function contextOfKey(family: 4 | 6, k: Uint32Array, protocol: number): Context {
  if (family === 4)
    return {
      family,
      src: { version: 4, v4: k[0] },
      dst: { version: 4, v4: k[1] },
      srcPort: k[2] >>> 16,
      dstPort: k[2] & 0xffff,
      protocol,
    };
  const bytes = (o: number) => {
    const b = new Uint8Array(16);
    for (let i = 0; i < 4; i++) {
      const w = k[o + i];
      b[4 * i] = w >>> 24;
      b[4 * i + 1] = w >>> 16;
      b[4 * i + 2] = w >>> 8;
      b[4 * i + 3] = w;
    }
    return b;
  };
  return {
    family,
    src: { version: 6, v6: bytes(0) },
    dst: { version: 6, v6: bytes(4) },
    srcPort: k[8] >>> 16,
    dstPort: k[8] & 0xffff,
    protocol,
  };
}

/** The forward or reverse context carried in received metadata, if any. */
export function contextOfMetadata(md: Metadata, which: 'forward' | 'reverse'): Context | undefined {
  const v4 = findTlv(md, which === 'forward' ? TlvType.ForwardContextV4 : TlvType.ReverseContextV4);
  if (v4)
    return {
      family: 4,
      src: { version: 4, v4: v4.source },
      dst: { version: 4, v4: v4.destination },
      srcPort: v4.sourcePort,
      dstPort: v4.destinationPort,
      protocol: v4.protocol,
    };
  const v6 = findTlv(md, which === 'forward' ? TlvType.ForwardContextV6 : TlvType.ReverseContextV6);
  if (v6)
    return {
      family: 6,
      src: { version: 6, v6: v6.source },
      dst: { version: 6, v6: v6.destination },
      srcPort: v6.sourcePort,
      dstPort: v6.destinationPort,
      protocol: v6.protocol,
    };
  return undefined;
}

/** 4.3.1: forward metadata of a new (or moved) session, for the forward wing's packets. */
export function forwardMetadata(ctx: DataPlaneContext, id: number): Metadata {
  const s = ctx.sessions;
  const wing = id * 2;
  const path = ctx.paths.get(s.outPath(wing));
  const transit = ctx.transit.get(id);
  const service = ctx.fib.services[s.service(id)];
  let context: Context;
  let sourceNat: number | undefined;
  if (transit) {
    context = transit.context;
    sourceNat = transit.sourceNat;
  } else {
    s.wingKey(wing, ctx.mdKey, 0);
    context = contextOfKey(s.familyOf(id), ctx.mdKey, s.protocolOf(id));
    // 3.7.1.5: the source NAT of the interface the session leaves on, applied at egress.
    const nat = path ? ctx.router.interfaces[path.iface].sourceNat : undefined;
    sourceNat = nat?.version === 4 ? nat.v4 : undefined;
  }
  const tlvs: Tlv[] = [
    { type: TlvType.SecurityIdentifier, securityId: s.outKeyId(wing) },
    contextTlv('forward', context),
    { type: TlvType.TenantName, name: ctx.tenants.name(s.tenant(id)) || 'global' },
    { type: TlvType.ServiceName, name: service?.model.name ?? 'unknown' },
    { type: TlvType.SessionUuid, uuid: s.uuid(id) },
    { type: TlvType.SourceRouterName, name: ctx.name },
    {
      type: TlvType.SecurityPolicy,
      name: transit?.securityPolicy ?? service?.model.securityPolicy ?? 'none',
    },
    // D-12: the text address of this router's egress waypoint.
    { type: TlvType.PeerPathwayId, name: path ? ipToString(path.localAddress) : '0.0.0.0' },
  ];
  if (sourceNat !== undefined) tlvs.push({ type: TlvType.SourceNatV4, address: sourceNat });
  // 4.2.7: the path this leaves on carries the TCP session as UDP.
  if (s.flags(id) & Flag.TcpAsUdpForward) tlvs.push({ type: TlvType.TcpSynPacket });
  // 4.6.6, 7.4.8, 7.4.15: the payload is encrypted, and the key goes end to end.
  const key = transit ? transit.securityKey : ctx.payloadKeys.get(id)?.toPem();
  if (key !== undefined) tlvs.push({ type: TlvType.SessionEncrypted }, { type: TlvType.SecurityKey, key });
  return { tlvs };
}

/**
 * 3.7.4 / 4.3.1: reverse metadata on the first reverse packets: the reverse context (the
 * five-tuple as the egress router sent the session on toward the destination, NATs applied)
 * and the pathway.
 */
export function reverseMetadata(ctx: DataPlaneContext, id: number): Metadata {
  const s = ctx.sessions;
  const wing = id * 2 + 1;
  const path = ctx.paths.get(s.outPath(wing));
  const transit = ctx.transit.get(id);
  let context = transit?.reverseContext;
  if (!context) {
    s.wingOutput(id * 2, ctx.mdKey, 0);
    context = contextOfKey(s.familyOf(id), ctx.mdKey, s.protocolOf(id));
  }
  const tlvs: Tlv[] = [
    { type: TlvType.SecurityIdentifier, securityId: s.outKeyId(wing) },
    contextTlv('reverse', context),
    { type: TlvType.PeerPathwayId, name: path ? ipToString(path.localAddress) : '0.0.0.0' },
  ];
  // 4.6.3: the reverse direction crosses as UDP too, and says so.
  if (s.flags(id) & Flag.TcpAsUdpReverse) tlvs.push({ type: TlvType.TcpSynPacket });
  // 6.4, 7.4.8: replies are encrypted from this packet on (the egress, or passed on by a transit);
  // 7.4.15: with the key they use, so the ingress knows when a new key has taken over.
  if (transit ? transit.reverseEncrypted : (s.flags(id) & Flag.PayloadEncrypted) !== 0)
    tlvs.push({ type: TlvType.SessionEncrypted });
  const echo = transit ? transit.reverseKey : ctx.payloadKeys.get(id)?.toPem();
  if (echo !== undefined) tlvs.push({ type: TlvType.SecurityKey, key: echo });
  return { tlvs };
}

/**
 * 3.7.7 with 4.2.4: the receiving router's "disable metadata" for a one-way UDP flow, in a
 * packet it makes itself: TLV 18 completes the handshake; TLV 24 marks the packet as one the
 * adjacent peer consumes and drops (R-4.2.4-b). Header TLVs only, so nothing to encrypt.
 */
export function disableForwardMetadata(ctx: DataPlaneContext, id: number): Metadata {
  return {
    tlvs: [
      { type: TlvType.SecurityIdentifier, securityId: ctx.sessions.outKeyId(id * 2 + 1) },
      { type: TlvType.DisableForwardMetadata },
      { type: TlvType.ControlMessage, reason: ControlReason.DisableMetadata },
    ],
  };
}

/** A forward context and tenant as one string (2.10: finding a session an ingress starts again). */
export function contextKey(c: Context, tenant: string): string {
  return `${ipToString(c.src)}:${c.srcPort}>${ipToString(c.dst)}:${c.dstPort}/${c.protocol}/${tenant}`;
}
