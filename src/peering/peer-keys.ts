import type { KeyObject } from 'node:crypto';
import { DropReason } from '../base/drop-reason.js';
import type { Random } from '../base/random.js';
import type { Scheduler, TimerHandle } from '../base/scheduler.js';
import type { SecurityDefinitions } from '../config/model.js';
import { type P256KeyPair, p256KeyPairFromRandom } from '../crypto/certificates.js';
import {
  derivePeerKeyMaterial,
  signPeerPublicKey,
  verifySignedPeerKey,
} from '../crypto/peer-key-exchange.js';
import { type PeerKey, type PeerKeyStore, peerKeyFromMaterial } from '../crypto/peer-keys.js';
import type { PeerPublicKey } from './bfd-metadata.js';

/**
 * Peer keys by ECDH over BFD (3.1.2, 3.6, 5.1.8, D-5, D-8). Per peer, an exchange at a time:
 * the initiator sends a fresh signed public key for the next security id, the responder answers
 * with its own for the same id, and both derive the same key. A new key is used for sending only
 * once the other side is known to have it (the initiator: the response came; the responder: the
 * initiator's next packet on that path came without its request), so no packet is ever signed
 * with a key the receiver lacks. Replaced keys stay usable for the guard time (R-3.6-a).
 *
 * When both sides start an exchange for the same id at once, each request also serves as the
 * other's response: both hold the other's public key for that id and derive the same key.
 */

/** An exchange unanswered this long may be replaced by a new one. */
const STALE_EXCHANGE_MS = 30_000;

interface Exchange {
  readonly securityId: number;
  readonly startedAt: number;
  readonly keys: P256KeyPair;
  /** Our signed public key for this id (D-8), sent until the exchange completes. */
  readonly signed: string;
  initiator: boolean;
  /** The peer's public key (SPKI DER, hex) for this id, once received. */
  peerSpki: string | undefined;
  /** Derived: usable for receiving. */
  key: PeerKey | undefined;
  /** Path a request came on, whose next packet without it confirms our response arrived. */
  respondPath: number;
}

class PeerState {
  readonly versions = new Map<number, PeerKey>();
  readonly retire = new Map<number, TimerHandle>();
  current: PeerKey | undefined;
  /** The peer's public key of the current id (SPKI hex), to recognise late copies. */
  currentSpki: string | undefined;
  exchange: Exchange | undefined;
  /** Highest security id finished with this peer: requests at or below it are replays. */
  highest = 0;
  rekeyTimer: TimerHandle | undefined;
}

export interface PeerKeyEvents {
  /** A peer's key for new sessions changed (3.1.3: a peer needs one to be in service). */
  onCurrent(peer: string, securityId: number): void;
  /** An exchange step wants a BFD packet now (a response, or a request to start). */
  onSendNeeded(peer: string, path: number): void;
}

export interface EcdhPeerKeysOptions {
  /** This router's authentication name, router/authority (5.1.7). */
  readonly localName: string;
  readonly routerKey: KeyObject;
  readonly security: SecurityDefinitions;
  readonly random: Random;
  readonly scheduler: Scheduler;
  readonly guardSeconds: number;
  readonly rekeySeconds: number;
  readonly encryptMetadata?: boolean;
  readonly events: PeerKeyEvents;
}

export type PeerKeyResult = DropReason;

export class EcdhPeerKeys implements PeerKeyStore {
  private readonly peers = new Map<string, PeerState>();
  /** Peer (short name) to authentication name, and the certificate key that signs its keys. */
  private readonly identity = new Map<string, { authName: string; publicKey: KeyObject | undefined }>();
  /** Keys derived so far, for `show peers` and the figures. */
  computed = 0;

  constructor(private readonly o: EcdhPeerKeysOptions) {}

  private state(peer: string): PeerState {
    let s = this.peers.get(peer);
    if (!s) {
      s = new PeerState();
      this.peers.set(peer, s);
    }
    return s;
  }

  current(peer: string): PeerKey | undefined {
    return this.peers.get(peer)?.current;
  }

  byId(peer: string, securityId: number): PeerKey | undefined {
    const s = this.peers.get(peer);
    if (!s) return undefined;
    const k = s.versions.get(securityId);
    if (k) return k;
    // Derived and not yet current: the peer may already send with it.
    return s.exchange?.securityId === securityId ? s.exchange.key : undefined;
  }

  newest(peer: string): PeerKey | undefined {
    const s = this.peers.get(peer);
    return s?.exchange?.key ?? s?.current;
  }

  /** The peer's authentication name and the public key of its validated certificate. */
  setIdentity(peer: string, authName: string, publicKey: KeyObject | undefined): void {
    this.identity.set(peer, { authName, publicKey });
  }

  /** Start an exchange for the next security id, unless one is under way (5.1.8). */
  rekey(peer: string): number | undefined {
    const s = this.state(peer);
    // One exchange at a time; one that never finished may be replaced after a while.
    const now = this.o.scheduler.now();
    if (s.exchange && now - s.exchange.startedAt < STALE_EXCHANGE_MS) return undefined;
    const id = this.identity.get(peer);
    if (!id) return undefined;
    const next = Math.max(s.highest, s.current?.securityId ?? 0, s.exchange?.securityId ?? 0) + 1;
    s.exchange = this.newExchange(peer, next, true);
    return next;
  }

  /** What to put in BFD metadata to this peer now, if anything. */
  outgoing(peer: string): PeerPublicKey | undefined {
    const x = this.peers.get(peer)?.exchange;
    if (!x) return undefined;
    // Initiator: the request until the response comes. Responder: the response until confirmed.
    if (x.initiator && x.key) return undefined;
    return { signedKey: x.signed, securityId: x.securityId, isResponse: !x.initiator };
  }

  /** A BFD packet from the peer on `path` without a peer key. */
  peerPacketWithoutKey(peer: string, path: number): void {
    const s = this.peers.get(peer);
    const x = s?.exchange;
    if (s && x && !x.initiator && x.key && x.respondPath === path) this.promote(peer, s, x);
  }

  /** A peer public key from BFD metadata on `path` (5.1.8). */
  receive(peer: string, path: number, m: PeerPublicKey): DropReason {
    const id = this.identity.get(peer);
    if (!id?.publicKey) return DropReason.PeerNotAuthenticated;
    const sid = m.securityId ?? 0;
    if (sid < 1 || sid > 0xffff_fff0) return DropReason.PeerKeyMalformed;
    const v = verifySignedPeerKey(m.signedKey, {
      securityId: sid,
      sender: id.authName,
      receiver: this.o.localName,
      routerPublicKey: id.publicKey,
    });
    if (!v.ok)
      return v.reason === 'bad-signature' ? DropReason.PeerKeyBadSignature : DropReason.PeerKeyMalformed;
    const spki = Buffer.from(v.spki).toString('hex');
    const s = this.state(peer);
    let x = s.exchange;
    // A late copy of the last exchange (sent on several packets and paths): harmless.
    if (sid === s.current?.securityId && spki === s.currentSpki) return DropReason.None;
    if (sid <= s.highest && !(x && x.securityId === sid)) return DropReason.PeerKeyReplayed;
    if (m.isResponse) {
      // An answer to our request for this id, or (both asked at once) proof the peer derived it.
      if (!x || x.securityId !== sid) return DropReason.PeerKeyReplayed;
      if (!x.key) {
        if (!x.initiator) return DropReason.PeerKeyReplayed;
        this.derive(peer, x, v.publicKey, spki);
      } else if (x.peerSpki !== spki) return DropReason.PeerKeyReplayed;
      this.promote(peer, s, x);
      return DropReason.None;
    }
    if (x && x.securityId === sid) {
      if (x.key) {
        if (x.peerSpki !== spki) return DropReason.PeerKeyReplayed;
      } else {
        // Both asked for the same id at once: their request answers ours (see above).
        this.derive(peer, x, v.publicKey, spki);
        x.initiator = false;
      }
      x.respondPath = path;
      this.o.events.onSendNeeded(peer, path);
      return DropReason.None;
    }
    if (x && x.securityId > sid) return DropReason.PeerKeyReplayed;
    // A request for a newer id than any we know: answer it (abandoning a lower request of ours).
    x = this.newExchange(peer, sid, false);
    s.exchange = x;
    this.derive(peer, x, v.publicKey, spki);
    x.respondPath = path;
    this.o.events.onSendNeeded(peer, path);
    return DropReason.None;
  }

  /** The peer restarted (5.1.6): it lost its keys; start over from security id 1. */
  reset(peer: string): void {
    const s = this.peers.get(peer);
    if (!s) return;
    for (const t of s.retire.values()) this.o.scheduler.cancel(t);
    if (s.rekeyTimer) this.o.scheduler.cancel(s.rekeyTimer);
    this.peers.delete(peer);
    this.o.events.onCurrent(peer, 0);
  }

  /** Security ids usable now with a peer, for `show peers`. */
  usableIds(peer: string): number[] {
    const s = this.peers.get(peer);
    return s ? [...s.versions.keys()].sort((a, b) => a - b) : [];
  }

  stop(): void {
    for (const p of this.peers.keys()) {
      const s = this.peers.get(p);
      if (!s) continue;
      for (const t of s.retire.values()) this.o.scheduler.cancel(t);
      if (s.rekeyTimer) this.o.scheduler.cancel(s.rekeyTimer);
    }
  }

  private newExchange(peer: string, securityId: number, initiator: boolean): Exchange {
    const keys = p256KeyPairFromRandom(this.o.random);
    const authName = this.identity.get(peer)?.authName ?? peer;
    return {
      securityId,
      startedAt: this.o.scheduler.now(),
      keys,
      signed: signPeerPublicKey({
        ephemeralPublicKey: keys.publicKey,
        securityId,
        sender: this.o.localName,
        receiver: authName,
        routerPrivateKey: this.o.routerKey,
      }),
      initiator,
      peerSpki: undefined,
      key: undefined,
      respondPath: -1,
    };
  }

  private derive(peer: string, x: Exchange, peerPublicKey: KeyObject, spki: string): void {
    const authName = this.identity.get(peer)?.authName ?? peer;
    const material = derivePeerKeyMaterial({
      privateKey: x.keys.privateKey,
      peerPublicKey,
      localName: this.o.localName,
      peerName: authName,
      securityId: x.securityId,
    });
    x.peerSpki = spki;
    x.key = peerKeyFromMaterial(
      material,
      x.securityId,
      this.o.security,
      this.o.random,
      this.o.encryptMetadata ?? true,
    );
    this.computed++;
  }

  /** Both sides have the key: new sessions use it; older ones retire after the guard time. */
  private promote(peer: string, s: PeerState, x: Exchange): void {
    const key = x.key;
    if (!key) return;
    s.exchange = undefined;
    s.versions.set(x.securityId, key);
    s.highest = Math.max(s.highest, x.securityId);
    s.current = key;
    s.currentSpki = x.peerSpki;
    const sched = this.o.scheduler;
    for (const old of s.versions.keys()) {
      if (old === x.securityId || s.retire.has(old)) continue;
      s.retire.set(
        old,
        sched.at(sched.now() + this.o.guardSeconds * 1000, () => {
          s.retire.delete(old);
          s.versions.delete(old);
        }),
      );
    }
    if (s.rekeyTimer) sched.cancel(s.rekeyTimer);
    // 3.1.2: either side may rekey; on the interval only the lower name does, so the two
    // routers do not race every time.
    const authName = this.identity.get(peer)?.authName ?? peer;
    if (this.o.localName < authName)
      s.rekeyTimer = sched.at(sched.now() + this.o.rekeySeconds * 1000, () => {
        s.rekeyTimer = undefined;
        if (this.rekey(peer) !== undefined) this.o.events.onSendNeeded(peer, -1);
      });
    this.o.events.onCurrent(peer, x.securityId);
  }
}
