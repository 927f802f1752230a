import { DropReason } from '../base/drop-reason.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import type { SecurityPolicyModel } from '../config/model.js';
import { PayloadCipher } from '../crypto/payload-cipher.js';
import type { IpPacket } from '../wire/packet.js';
import { type DataPlaneContext, Flag } from './context.js';

/**
 * Payload encryption of sessions (4.6.6, 6.4, D-9; docs/spec-decisions.md SD-43, SD-44).
 *
 * The router that starts a session owns its key (4.6.6: "the responsibility for the key is always
 * the source of the SVR session"): a fresh random key per session, sent end to end in TLV 45
 * inside the (hop-by-hop encrypted) forward metadata with TLV 11. The ingress encrypts what comes
 * from its LAN and decrypts what goes back to it; the egress does the opposite; routers between
 * pass the payload untouched and forward the key. Only packets with payload are encrypted (an
 * empty TCP segment stays empty), so a receiver decrypts exactly the packets that carry bytes.
 *
 * Adaptive (6.4): a session starts in clear; the first packet from the client with payload
 * decides. A TLS or DTLS ClientHello leaves it in clear; anything else turns encryption on from
 * that packet, which carries the key in metadata. Reverse metadata with TLV 11 tells the ingress
 * from which packet on the way back is encrypted.
 */

/** The security policy of a session's service, whole. */
function policyOf(ctx: DataPlaneContext, service: number): SecurityPolicyModel | undefined {
  const name = ctx.fib.services[service]?.model.securityPolicy ?? 'none';
  return ctx.authority.securityPolicies.find((p) => p.name === name);
}

/** The payload encryption of a session's service. */
export function sessionPolicy(ctx: DataPlaneContext, service: number): SecurityPolicyModel['encryption'] {
  return policyOf(ctx, service)?.encryption ?? 'none';
}

/** Give session `id` a new key of its policy's size (adaptive: AES-256) and mark it encrypted. */
export function newSessionKey(
  ctx: DataPlaneContext,
  id: number,
  policy: SecurityPolicyModel['encryption'],
): void {
  const key = new Uint8Array(policy === 'aes-cbc-128' ? 16 : 32);
  ctx.random.fill(key);
  const c = new PayloadCipher(key);
  c.bornAt = ctx.now();
  c.lifetimeMs = (policyOf(ctx, ctx.sessions.service(id))?.rekeySeconds ?? 0) * 1000;
  ctx.payloadKeys.set(id, c);
  ctx.sessions.setFlags(id, ctx.sessions.flags(id) | Flag.PayloadEncrypted);
}

/**
 * 4.6.6, 7.4.15 at the ingress, before it encrypts a packet from its LAN: a key past its lifetime
 * is replaced, and this packet carries the new one in metadata (encrypted with it). Replies may
 * still come under the old key until the egress echoes the new one in reverse metadata.
 */
export function rekeyIfDue(ctx: DataPlaneContext, id: number): void {
  const c = ctx.payloadKeys.get(id);
  if (!c || c.lifetimeMs === 0 || ctx.now() - c.bornAt < c.lifetimeMs) return;
  if (!ctx.payloadRxKeys.has(id)) ctx.payloadRxKeys.set(id, c);
  newSessionKey(ctx, id, c.algorithm === 'aes-128-cbc' ? 'aes-cbc-128' : 'aes-cbc-256');
  const s = ctx.sessions;
  s.setFlags(id, s.flags(id) | Flag.ForwardMetadata);
  ctx.events.emit(ctx.now(), 'session', 'payload-rekeyed', `session ${id} has a new payload key (7.4.15)`);
}

/** TLV 45's key for session `id` (a peer sent it): kept, and the session marked encrypted. */
export function learnSessionKey(ctx: DataPlaneContext, id: number, pem: string): DropReason {
  const c = PayloadCipher.fromPem(pem);
  if (!c) return DropReason.PayloadKeyMalformed;
  ctx.payloadKeys.set(id, c);
  ctx.sessions.setFlags(id, ctx.sessions.flags(id) | Flag.PayloadEncrypted);
  return DropReason.None;
}

/** Replace the payload with IV || ciphertext (lengths and the L4 checksum made again). */
export function encryptPayload(
  ctx: DataPlaneContext,
  pb: PacketBuffer,
  pkt: IpPacket,
  id: number,
): DropReason {
  const c = ctx.payloadKeys.get(id);
  if (!c) return DropReason.PayloadKeyMissing;
  const at = pkt.payloadOffset;
  const n = pkt.end - at;
  if (pb.data.length - at < PayloadCipher.sealedLength(n)) return DropReason.NoRoomInBuffer;
  const sealed = c.seal(pkt.b.subarray(at, pkt.end), ctx.random);
  pkt.b.set(sealed, at);
  pkt.setEnd(at + sealed.length);
  pb.end = pkt.end;
  pkt.updateL4Checksum();
  return DropReason.None;
}

/**
 * Replace IV || ciphertext with the plaintext; a payload that does not decrypt is refused.
 * `reply`: a reply at the ingress, which may still be under the key before a rekey.
 */
export function decryptPayload(
  ctx: DataPlaneContext,
  pb: PacketBuffer,
  pkt: IpPacket,
  id: number,
  reply = false,
): DropReason {
  const c = (reply ? ctx.payloadRxKeys.get(id) : undefined) ?? ctx.payloadKeys.get(id);
  if (!c) return DropReason.PayloadKeyMissing;
  const at = pkt.payloadOffset;
  const plain = c.open(pkt.b.subarray(at, pkt.end));
  if (!plain) return DropReason.PayloadBadCiphertext;
  pkt.b.set(plain, at);
  pkt.setEnd(at + plain.length);
  pb.end = pkt.end;
  pkt.updateL4Checksum();
  return DropReason.None;
}

/** 6.4: does the payload open a TLS (or DTLS) handshake with a ClientHello? */
export function isClientHello(pkt: IpPacket): boolean {
  const b = pkt.b;
  const o = pkt.payloadOffset;
  const n = pkt.end - o;
  // TLS record: type 22 (handshake), version 3.x, length, then handshake type 1 (ClientHello).
  if (pkt.isTcp) return n >= 6 && b[o] === 22 && b[o + 1] === 3 && b[o + 2] <= 4 && b[o + 5] === 1;
  // DTLS record: type 22, version 254.x, epoch and sequence (8), length (2), then handshake type 1.
  return n >= 14 && b[o] === 22 && b[o + 1] === 254 && b[o + 13] === 1;
}

/**
 * 6.4 at the ingress, for a packet from the client with payload on an adaptive session not yet
 * decided: returns true when it turns encryption on (the packet then owes forward metadata).
 */
export function adaptiveDecides(ctx: DataPlaneContext, id: number, pkt: IpPacket): boolean {
  const s = ctx.sessions;
  s.setFlags(id, s.flags(id) & ~Flag.AdaptivePending);
  if (isClientHello(pkt)) return false;
  newSessionKey(ctx, id, 'adaptive');
  s.setFlags(id, s.flags(id) | Flag.ForwardMetadata);
  ctx.events.emit(
    ctx.now(),
    'session',
    'payload-encrypted',
    `session ${id} is not TLS: its payload is encrypted from now on (6.4)`,
  );
  return true;
}
