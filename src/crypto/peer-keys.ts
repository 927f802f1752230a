import { hkdfSync } from 'node:crypto';
import type { Random } from '../base/random.js';
import type { SecurityDefinitions } from '../config/model.js';
import { HmacKey } from './hmac.js';
import { AesCbcMetadataCipher } from './metadata-cipher.js';

/**
 * Peer keys (3.1.2, 3.6, D-5): per peer, versions numbered by security id, each giving the
 * metadata cipher key and the HMAC key. Sessions keep the id current when they started, and
 * older ids stay usable (R-3.6-a), so a key change never breaks traffic in flight.
 */
export interface PeerKey {
  readonly securityId: number;
  /** Undefined when the authority signs nothing (scope none). */
  readonly hmac: HmacKey | undefined;
  /** Undefined when the authority sends payload TLVs in clear. */
  readonly cipher: AesCbcMetadataCipher | undefined;
}

export interface PeerKeyStore {
  /** The key new sessions to this peer use, or undefined when the peer is not in service (3.1.3). */
  current(peer: string): PeerKey | undefined;
  /** A key by its security id (metadata names it, 7.3.2), or undefined when unknown. */
  byId(peer: string, securityId: number): PeerKey | undefined;
  /** The newest key the peer may already use, when newer than `current` (a rekey under way). */
  newest?(peer: string): PeerKey | undefined;
}

/** 64 bytes of key material, laid out as D-5: bytes 0-31 cipher, 32-63 HMAC. */
export function peerKeyFromMaterial(
  material: Uint8Array,
  securityId: number,
  security: SecurityDefinitions,
  random: Random,
  encryptMetadata = true,
): PeerKey {
  const cipherName = security.metadataCipher;
  return {
    securityId,
    hmac:
      security.hmac.scope === 'none'
        ? undefined
        : new HmacKey(security.hmac.method, material.subarray(32, 64)),
    cipher:
      cipherName === 'none' || !encryptMetadata
        ? undefined
        : new AesCbcMetadataCipher(material.subarray(0, cipherName === 'aes-128-cbc' ? 16 : 32), random),
  };
}

/**
 * Keys derived from one secret the whole authority shares, with D-5's HKDF layout (the two
 * router names, lower first, and the security id in the info string): for tools, benchmarks
 * and data-plane tests that run without BFD peering (the emulator's `peering: 'static'`). It
 * gives every pair of routers its own key and every version its own id. Lookups allocate
 * nothing: `byId` runs for every signed packet.
 */
export class StaticPeerKeys implements PeerKeyStore {
  private readonly keys = new Map<string, Map<number, PeerKey>>();
  private readonly currentId = new Map<string, number>();

  constructor(
    private readonly secret: Uint8Array,
    private readonly localName: string,
    private readonly security: SecurityDefinitions,
    private readonly random: Random,
    private readonly encryptMetadata = true,
  ) {}

  current(peer: string): PeerKey | undefined {
    return this.byId(peer, this.currentId.get(peer) ?? 1);
  }

  byId(peer: string, securityId: number): PeerKey | undefined {
    if (securityId < 1) return undefined;
    let versions = this.keys.get(peer);
    if (!versions) {
      versions = new Map();
      this.keys.set(peer, versions);
    }
    let key = versions.get(securityId);
    if (!key) {
      const [lo, hi] = [this.localName, peer].sort();
      const info = `SVR peer key v1|${lo}|${hi}|${securityId}`;
      const material = new Uint8Array(hkdfSync('sha256', this.secret, 'svr static peer keys', info, 64));
      key = peerKeyFromMaterial(material, securityId, this.security, this.random, this.encryptMetadata);
      versions.set(securityId, key);
    }
    return key;
  }

  /** Move a peer to a new security id (a rekey); earlier ids stay usable (R-3.6-a). */
  rekey(peer: string): number {
    const id = (this.currentId.get(peer) ?? 1) + 1;
    this.currentId.set(peer, id);
    return id;
  }
}
