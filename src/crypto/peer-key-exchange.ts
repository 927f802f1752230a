import { createPublicKey, diffieHellman, hkdfSync, type KeyObject, verify } from 'node:crypto';
import { signEcdsaSha256, toPem } from './certificates.js';

/**
 * The signed ephemeral public keys of 3.1.2 and 5.1.8, and the key they give (D-5, D-8). A router
 * signs its fresh P-256 public key with its certificate's key, over the key, the security id and
 * both router names, so a signed key cannot be replayed for another id or another pair of routers.
 * Names are the authentication names, router/authority (5.1.7).
 */

const PUBLIC_KEY = 'PUBLIC KEY';
const SIGNATURE = 'SVR SIGNATURE';

/** A bound on what we parse from BFD metadata: the real text is about 330 characters. */
const MAX_SIGNED = 4096;

/** D-12: names are printable ASCII; NUL is D-8's separator and must not occur inside one. */
function validName(s: string): boolean {
  return typeof s === 'string' && /^[!-~]+$/.test(s);
}

function validId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= 0xffff_ffff;
}

/** D-8: SPKI DER || security id (4 bytes, big-endian) || sender || 0x00 || receiver. */
function signedData(spki: Uint8Array, securityId: number, sender: string, receiver: string): Uint8Array {
  const s = Buffer.from(sender, 'latin1'); // printable ASCII (validName): one byte per character
  const r = Buffer.from(receiver, 'latin1');
  const out = new Uint8Array(spki.length + 4 + s.length + 1 + r.length);
  out.set(spki);
  new DataView(out.buffer).setUint32(spki.length, securityId);
  out.set(s, spki.length + 4);
  out[spki.length + 4 + s.length] = 0;
  out.set(r, spki.length + 5 + s.length);
  return out;
}

function isP256(k: KeyObject): boolean {
  return k.asymmetricKeyType === 'ec' && k.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/**
 * 5.1.8, D-8: the `PeerPublicKey.signed_key` text for an ephemeral key: a PUBLIC KEY block
 * (SubjectPublicKeyInfo DER) then an SVR SIGNATURE block (DER ECDSA-SHA256). Throws on a
 * programmer error: a name that is not printable ASCII, an id outside 32 bits, a key not P-256.
 */
export function signPeerPublicKey(o: {
  ephemeralPublicKey: KeyObject;
  securityId: number;
  sender: string;
  receiver: string;
  routerPrivateKey: KeyObject;
}): string {
  if (!validName(o.sender) || !validName(o.receiver))
    throw new Error(`router names are printable ASCII (D-12): "${o.sender}", "${o.receiver}"`);
  if (!validId(o.securityId)) throw new Error(`a security id is a 32-bit unsigned integer: ${o.securityId}`);
  if (!isP256(o.ephemeralPublicKey)) throw new Error('the ephemeral key must be P-256 (3.1.1)');
  const spki = new Uint8Array(o.ephemeralPublicKey.export({ type: 'spki', format: 'der' }));
  // DER ECDSA-SHA256, reproducible for emulated keys (signEcdsaSha256).
  const sig = signEcdsaSha256(signedData(spki, o.securityId, o.sender, o.receiver), o.routerPrivateKey);
  return toPem(spki, PUBLIC_KEY) + toPem(sig, SIGNATURE);
}

/**
 * D-8's text: exactly a PUBLIC KEY block then an SVR SIGNATURE block. Whitespace around blocks and
 * lines is allowed; anything else (other blocks, RFC 7468 explanatory text) is malformed: this is
 * a wire format, not a file.
 */
const SIGNED_KEY =
  /^\s*-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]*)-----END PUBLIC KEY-----\s*-----BEGIN SVR SIGNATURE-----([A-Za-z0-9+/=\s]*)-----END SVR SIGNATURE-----\s*$/;

/** Strict, canonical base64 (RFC 4648 4, padded), whitespace ignored; undefined otherwise. */
function base64(body: string): Uint8Array | undefined {
  const b = body.replace(/\s+/g, '');
  if (b.length === 0 || b.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(b)) return undefined;
  const out = Buffer.from(b, 'base64');
  // Non-zero padding bits would let two texts carry the same bytes: refuse them.
  return out.toString('base64') === b ? new Uint8Array(out) : undefined;
}

export type SignedKeyCheck =
  | { ok: true; publicKey: KeyObject; spki: Uint8Array }
  | { ok: false; reason: 'malformed' | 'not-p256' | 'bad-signature' };

/**
 * 5.1.8, D-8: check a peer's signed ephemeral key with the public key of its validated certificate
 * (5.1.7), for this security id, sender and receiver. Never throws: the text comes off the wire.
 */
export function verifySignedPeerKey(
  signed: string,
  o: { securityId: number; sender: string; receiver: string; routerPublicKey: KeyObject },
): SignedKeyCheck {
  if (typeof signed !== 'string' || signed.length > MAX_SIGNED) return { ok: false, reason: 'malformed' };
  const m = SIGNED_KEY.exec(signed);
  const spki = m ? base64(m[1]) : undefined;
  const sig = m ? base64(m[2]) : undefined;
  if (!spki || !sig) return { ok: false, reason: 'malformed' };
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (!isP256(publicKey)) return { ok: false, reason: 'not-p256' };
  // Names or ids no router could have signed never verify (and cannot collide through a NUL).
  if (!validName(o.sender) || !validName(o.receiver) || !validId(o.securityId))
    return { ok: false, reason: 'bad-signature' };
  let good = false;
  try {
    good = verify('sha256', signedData(spki, o.securityId, o.sender, o.receiver), o.routerPublicKey, sig);
  } catch {
    good = false;
  }
  return good ? { ok: true, publicKey, spki } : { ok: false, reason: 'bad-signature' };
}

/** The uncompressed point (0x04 || X || Y, 65 bytes) of a P-256 public key. */
function point(k: KeyObject): Uint8Array {
  if (!isP256(k)) throw new Error('not a P-256 key (3.1.1)');
  const jwk = k.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  return Uint8Array.of(4, ...x, ...y);
}

/**
 * 3.1.2, D-5: ECDH P-256, then HKDF-SHA256 with ikm = the shared secret, salt = both public keys
 * (uncompressed, the lower router name's first) and info = "SVR peer key v1|lower|higher|id":
 * 64 bytes, the metadata cipher key (0-31) and the HMAC key (32-63). Both routers compute the same
 * bytes. Names compare as plain strings (ASCII, so byte order). Throws on a programmer error:
 * equal names, keys that are not P-256, an id outside 32 bits.
 */
export function derivePeerKeyMaterial(o: {
  privateKey: KeyObject;
  peerPublicKey: KeyObject;
  localName: string;
  peerName: string;
  securityId: number;
}): Uint8Array {
  if (o.localName === o.peerName) throw new Error(`a router does not peer with itself: "${o.localName}"`);
  if (!validId(o.securityId)) throw new Error(`a security id is a 32-bit unsigned integer: ${o.securityId}`);
  const mine = point(createPublicKey(o.privateKey));
  const theirs = point(o.peerPublicKey);
  const secret = diffieHellman({ privateKey: o.privateKey, publicKey: o.peerPublicKey });
  const localLow = o.localName < o.peerName;
  const [lo, hi] = localLow ? [o.localName, o.peerName] : [o.peerName, o.localName];
  const salt = localLow ? Buffer.concat([mine, theirs]) : Buffer.concat([theirs, mine]);
  const info = Buffer.from(`SVR peer key v1|${lo}|${hi}|${o.securityId}`, 'latin1');
  return new Uint8Array(hkdfSync('sha256', secret, salt, info, 64));
}
