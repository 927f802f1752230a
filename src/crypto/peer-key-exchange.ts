import { createPublicKey, diffieHellman, hkdfSync, type KeyObject, sign, verify } from 'node:crypto';

/**
 * The signed ephemeral public keys of 5.1.8 and the key they give (D-5, D-8). A router signs
 * its fresh P-256 public key with its certificate's key, over the key, the security id and both
 * router names, so a key cannot be replayed for another id or another pair of routers. Names are
 * the authentication names, router/authority (5.1.7).
 */

const PUBLIC_KEY = 'PUBLIC KEY';
const SIGNATURE = 'SVR SIGNATURE';

function pem(der: Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** D-8: SPKI DER || security id (4 bytes, big-endian) || sender || 0x00 || receiver. */
function signedData(spki: Uint8Array, securityId: number, sender: string, receiver: string): Uint8Array {
  const s = Buffer.from(sender, 'ascii');
  const r = Buffer.from(receiver, 'ascii');
  const out = new Uint8Array(spki.length + 4 + s.length + 1 + r.length);
  out.set(spki);
  new DataView(out.buffer).setUint32(spki.length, securityId >>> 0);
  out.set(s, spki.length + 4);
  out.set(r, spki.length + 5 + s.length);
  return out;
}

export function signPeerPublicKey(o: {
  ephemeralPublicKey: KeyObject;
  securityId: number;
  sender: string;
  receiver: string;
  routerPrivateKey: KeyObject;
}): string {
  const spki = new Uint8Array(o.ephemeralPublicKey.export({ type: 'spki', format: 'der' }));
  const sig = sign('sha256', signedData(spki, o.securityId, o.sender, o.receiver), o.routerPrivateKey);
  return pem(spki, PUBLIC_KEY) + pem(new Uint8Array(sig), SIGNATURE);
}

/** The body of one PEM block with this label, or undefined (strict RFC 7468 text). */
function block(text: string, label: string): Uint8Array | undefined {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const a = text.indexOf(begin);
  const b = text.indexOf(end, a + begin.length);
  if (a < 0 || b < 0) return undefined;
  const body = text.slice(a + begin.length, b).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length === 0 || body.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(body, 'base64'));
}

export type SignedKeyCheck =
  | { ok: true; publicKey: KeyObject; spki: Uint8Array }
  | { ok: false; reason: 'malformed' | 'not-p256' | 'bad-signature' };

export function verifySignedPeerKey(
  signed: string,
  o: { securityId: number; sender: string; receiver: string; routerPublicKey: KeyObject },
): SignedKeyCheck {
  if (typeof signed !== 'string' || signed.length > 4096) return { ok: false, reason: 'malformed' };
  const spki = block(signed, PUBLIC_KEY);
  const sig = block(signed, SIGNATURE);
  if (!spki || !sig) return { ok: false, reason: 'malformed' };
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    return { ok: false, reason: 'not-p256' };
  let good = false;
  try {
    good = verify('sha256', signedData(spki, o.securityId, o.sender, o.receiver), o.routerPublicKey, sig);
  } catch {
    good = false;
  }
  return good ? { ok: true, publicKey, spki } : { ok: false, reason: 'bad-signature' };
}

/** The uncompressed point (0x04 || X || Y) of a P-256 public key. */
function point(k: KeyObject): Uint8Array {
  const jwk = k.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x ?? '', 'base64url');
  const y = Buffer.from(jwk.y ?? '', 'base64url');
  return Uint8Array.of(4, ...x, ...y);
}

/**
 * D-5: ECDH P-256, then HKDF-SHA256 with salt = both public keys (uncompressed, the lower
 * router name's first) and info = "SVR peer key v1|lower|higher|id": 64 bytes, the metadata
 * cipher key (0-31) and the HMAC key (32-63).
 */
export function derivePeerKeyMaterial(o: {
  privateKey: KeyObject;
  peerPublicKey: KeyObject;
  localName: string;
  peerName: string;
  securityId: number;
}): Uint8Array {
  const secret = diffieHellman({ privateKey: o.privateKey, publicKey: o.peerPublicKey });
  const mine = point(createPublicKey(o.privateKey));
  const theirs = point(o.peerPublicKey);
  const localLow = o.localName < o.peerName;
  const [lo, hi] = localLow ? [o.localName, o.peerName] : [o.peerName, o.localName];
  const salt = localLow ? Buffer.concat([mine, theirs]) : Buffer.concat([theirs, mine]);
  const info = `SVR peer key v1|${lo}|${hi}|${o.securityId}`;
  return new Uint8Array(hkdfSync('sha256', secret, salt, info, 64));
}
