import type { IpAddress } from '../base/address.js';
import type { Clock } from '../base/clock.js';
import { DropReason } from '../base/drop-reason.js';
import { DEFAULT_LIMITS, DEFAULT_TIMERS, type Limits, type Timers } from '../config/model.js';
import type { IpPacket } from '../wire/packet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocol.js';
import { KeyIndex } from './key-index.js';
import {
  type Direction,
  TcpState,
  tcpInGuard,
  tcpNewSynEndsSession,
  tcpNext,
  tcpTimeoutSeconds,
} from './tcp-state.js';
import { TimerWheel } from './timer-wheel.js';
import { UuidIndex } from './uuid-index.js';

/**
 * The session table (2.6, 4.6.4): every session a router knows, each with two wings, forward (as
 * the initiator's packets arrive) and reverse (as the responder's arrive), installed together
 * (the SRX document's wings). A wing is looked up by the SSR walkthrough's 7-tuple: source and
 * destination address and port, protocol, VLAN and ingress interface.
 *
 * Built for a million sessions: records are struct-of-arrays in typed arrays indexed by session
 * id; wings live in open-addressing indexes with the key inline (one for IPv4 with 4-word keys,
 * one for IPv6 with 10-word keys), so a lookup hashes a few numbers and reads one stretch of
 * memory; there are no string or BigInt keys and nothing is allocated per lookup.
 *
 * A wing id is `session * 2 + direction`. What a wing translates to is the other wing's key
 * reversed (symmetric sessions: the reply to what goes out is what comes back), so only the
 * checksum deltas of each direction are stored, not a second copy of every address.
 */

export const KEY_WORDS_V4 = 4;
export const KEY_WORDS_V6 = 10;

/** Put `protocol` into a session key written by keyV4/keyV6 at `off`. */
export function setKeyProtocol(k: Uint32Array, off: number, family: 4 | 6, protocol: number): void {
  const i = off + (family === 4 ? 3 : 9);
  k[i] = ((k[i] & ~0xff) | protocol) >>> 0;
}

/**
 * The address at word `off` of a session key (the layout keyOfPacket writes): one word for
 * IPv4 (source at 0, destination at 1), four for IPv6 (source at 0, destination at 4).
 */
export function keyAddress(k: Uint32Array, off: number, family: 4 | 6): IpAddress {
  if (family === 4) return { version: 4, v4: k[off] };
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = (k[off + (i >> 2)] >>> (24 - 8 * (i & 3))) & 0xff;
  return { version: 6, v6: b };
}

/** Why a session ended: shown to operators, counted in metrics. */
export enum EndReason {
  Idle = 0,
  TcpClosed = 1,
  TcpReset = 2,
  NewSyn = 3,
  Removed = 4,
  /** A move (6.2) that no reverse metadata confirmed in time. */
  MoveUnconfirmed = 5,
}

export const END_REASON_NAMES: readonly string[] = [
  'idle',
  'tcp-closed',
  'tcp-reset',
  'new-syn',
  'removed',
  'move-unconfirmed',
];

/** What the router did with the session at its start (3.7.1 or 3.7.2). */
export enum SessionRole {
  /** Non-SVR traffic routed as plain IP (2.2, 4.1). */
  Plain = 0,
  /** This router inserted the first-packet metadata (3.7.1). */
  Ingress = 1,
  /** Arrived with metadata and leaves SVR here (3.7.2.4). */
  Egress = 2,
  /** Arrived with metadata and goes on to another SVR router (3.7.8). */
  Transit = 3,
}

/**
 * Where a wing's packets go: the peer path they leave on (-1: not over SVR), the security id
 * of that peer's key that signs them (the Session HMAC Key, 3.7.1.7, R-3.6-a), and the index of
 * the next hop (the owner's table of interface and neighbour) to send them to.
 */
export interface WingOut {
  readonly path: number;
  readonly keyId: number;
  readonly nextHop: number;
}

export interface SessionInit {
  /** 16 raw bytes (D-12). */
  readonly uuid: Uint8Array;
  readonly tenant: number;
  /** Service index, or -1 for sessions without one. */
  readonly service: number;
  readonly role: SessionRole;
  /** Protocol of the original packets (TCP, UDP, ICMP), which sets the timers. */
  readonly protocol: number;
  readonly flags?: number;
  /** Forward wing (0) and reverse wing (1). A transit router faces a different peer on each. */
  readonly out: readonly [WingOut, WingOut];
  /** Wayport pair this router allocated on `portPath`, or -1 (the peer allocated, or no SVR). */
  readonly portPair: number;
  readonly portPath: number;
  /**
   * The first packet is a TCP SYN: a TCP session in its close guard that holds one of the new
   * wings ends (3.7.6), as at ingress; a client reusing its port must not wait for the guard at
   * the routers further on.
   */
  readonly newSyn?: boolean;
}

/** Whoever lends the table wayport pairs, so removing a session gives its pair back (R-4.2.3-d). */
export interface PortReleaser {
  release(path: number, pair: number): void;
}

export interface SessionTableOptions {
  readonly clock: Clock;
  readonly timers?: Timers;
  readonly limits?: Limits;
  readonly initialCapacity?: number;
  readonly ports?: PortReleaser;
  /** Called when a session ends, before its record is freed. */
  readonly onEnd?: (id: number, reason: EndReason) => void;
}

export class SessionTable {
  readonly timers: Timers;
  readonly limits: Limits;
  private readonly clock: Clock;
  private readonly ports: PortReleaser | undefined;
  private readonly onEnd: ((id: number, reason: EndReason) => void) | undefined;

  private cap: number;
  private count = 0;
  private freeIds: Int32Array;
  private freeTop: number;

  // Records, one element (or a fixed stride) per session id.
  private live: Uint8Array;
  private family: Uint8Array;
  private protocol: Uint8Array;
  private roleOf: Uint8Array;
  private tcp: Uint8Array;
  private flagsOf: Uint16Array;
  private tenantOf: Uint32Array;
  private serviceOf: Int32Array;
  /** Per wing: peer path out (-1 none), security id of the signing key, next hop index. */
  private outPathOf: Int32Array;
  private outKeyIdOf: Uint32Array;
  private nextHopOf: Int32Array;
  private portPathOf: Int32Array;
  /** Metadata packets counted for the handshake (3.7.7's 11-packet rule). */
  private mdCount: Uint8Array;
  private pairOf: Int32Array;
  private uuidWords: Uint32Array;
  private createdAt: Float64Array;
  private lastActive: Float64Array;
  /** Current idle timeout; the close guard and TCP states change it. */
  private idleMs: Uint32Array;
  private packets: Uint32Array;
  private bytes: Float64Array;
  private deltas: Uint32Array;
  /** Slot of each wing in its index (kept current by the index). */
  private wingPos: Int32Array;

  private readonly v4: KeyIndex;
  private readonly v6: KeyIndex;
  private readonly uuids: UuidIndex;
  private readonly wheel: TimerWheel;
  private tenantCounts = new Uint32Array(64);

  private readonly scratch = new Uint32Array(KEY_WORDS_V6 * 2);
  /** Keys of wings that moved (6.1), still delivered to them until `until`. */
  private readonly moved: { family: 4 | 6; key: Uint32Array; wing: number; until: number }[] = [];
  private readonly moved4 = new KeyIndex(KEY_WORDS_V4, 16);
  private readonly moved6 = new KeyIndex(KEY_WORDS_V6, 16);

  constructor(o: SessionTableOptions) {
    this.clock = o.clock;
    this.timers = o.timers ?? DEFAULT_TIMERS;
    this.limits = o.limits ?? DEFAULT_LIMITS;
    this.ports = o.ports;
    this.onEnd = o.onEnd;
    const cap = Math.max(16, Math.min(o.initialCapacity ?? 1024, this.limits.maxSessions));
    this.cap = cap;
    this.live = new Uint8Array(cap);
    this.family = new Uint8Array(cap);
    this.protocol = new Uint8Array(cap);
    this.roleOf = new Uint8Array(cap);
    this.tcp = new Uint8Array(cap);
    this.flagsOf = new Uint16Array(cap);
    this.tenantOf = new Uint32Array(cap);
    this.serviceOf = new Int32Array(cap);
    this.outPathOf = new Int32Array(cap * 2);
    this.outKeyIdOf = new Uint32Array(cap * 2);
    this.nextHopOf = new Int32Array(cap * 2);
    this.portPathOf = new Int32Array(cap);
    this.mdCount = new Uint8Array(cap);
    this.pairOf = new Int32Array(cap);
    this.uuidWords = new Uint32Array(cap * 4);
    this.createdAt = new Float64Array(cap);
    this.lastActive = new Float64Array(cap);
    this.idleMs = new Uint32Array(cap);
    this.packets = new Uint32Array(cap * 2);
    this.bytes = new Float64Array(cap * 2);
    this.deltas = new Uint32Array(cap * 4);
    this.wingPos = new Int32Array(cap * 2).fill(-1);
    this.freeIds = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.freeIds[i] = cap - 1 - i;
    this.freeTop = cap;
    // Each session has two wings; the indexes grow on their own, starting big enough for `cap`.
    this.v4 = new KeyIndex(KEY_WORDS_V4, Math.ceil((cap * 2) / 0.7), this.wingPos);
    this.v6 = new KeyIndex(KEY_WORDS_V6, 64, this.wingPos);
    this.uuids = new UuidIndex(Math.ceil(cap / 0.7));
    this.wheel = new TimerWheel(100, 4096, cap, this.clock.now());
  }

  // ---- keys ----

  /** The 7-tuple of an IPv4 wing as 4 words: addresses, ports, then protocol|VLAN|interface. */
  static keyV4(
    out: Uint32Array,
    off: number,
    src: number,
    dst: number,
    srcPort: number,
    dstPort: number,
    protocol: number,
    vlan: number,
    iface: number,
  ): void {
    out[off] = src;
    out[off + 1] = dst;
    out[off + 2] = ((srcPort << 16) | dstPort) >>> 0;
    out[off + 3] = (protocol | (vlan << 8) | (iface << 20)) >>> 0;
  }

  /** The 7-tuple of an IPv6 wing as 10 words. */
  static keyV6(
    out: Uint32Array,
    off: number,
    src: Uint8Array,
    srcOff: number,
    dst: Uint8Array,
    dstOff: number,
    srcPort: number,
    dstPort: number,
    protocol: number,
    vlan: number,
    iface: number,
  ): void {
    for (let i = 0; i < 4; i++) {
      const s = srcOff + 4 * i;
      const d = dstOff + 4 * i;
      out[off + i] = ((src[s] << 24) | (src[s + 1] << 16) | (src[s + 2] << 8) | src[s + 3]) >>> 0;
      out[off + 4 + i] = ((dst[d] << 24) | (dst[d + 1] << 16) | (dst[d + 2] << 8) | dst[d + 3]) >>> 0;
    }
    out[off + 8] = ((srcPort << 16) | dstPort) >>> 0;
    out[off + 9] = (protocol | (vlan << 8) | (iface << 20)) >>> 0;
  }

  /** The key of a parsed packet arriving on (vlan, iface); returns its family, or 0 when not IP. */
  static keyOfPacket(pkt: IpPacket, vlan: number, iface: number, out: Uint32Array, off: number): 0 | 4 | 6 {
    if (pkt.version === 4) {
      SessionTable.keyV4(
        out,
        off,
        pkt.ip4.src,
        pkt.ip4.dst,
        pkt.srcPort,
        pkt.dstPort,
        pkt.protocol,
        vlan,
        iface,
      );
      return 4;
    }
    if (pkt.version === 6) {
      const h = pkt.ip6;
      SessionTable.keyV6(
        out,
        off,
        pkt.b,
        h.srcOffset,
        pkt.b,
        h.dstOffset,
        pkt.srcPort,
        pkt.dstPort,
        pkt.protocol,
        vlan,
        iface,
      );
      return 6;
    }
    return 0;
  }

  /** Write the reverse of a key (addresses and ports swapped) for another VLAN and interface. */
  static reverseKey(
    family: 4 | 6,
    k: Uint32Array,
    off: number,
    out: Uint32Array,
    outOff: number,
    vlan: number,
    iface: number,
  ): void {
    const a = family === 4 ? 1 : 4;
    for (let i = 0; i < a; i++) {
      const s = k[off + i];
      out[outOff + i] = k[off + a + i];
      out[outOff + a + i] = s;
    }
    const ports = k[off + 2 * a];
    out[outOff + 2 * a] = ((ports << 16) | (ports >>> 16)) >>> 0;
    out[outOff + 2 * a + 1] = ((k[off + 2 * a + 1] & 0xff) | (vlan << 8) | (iface << 20)) >>> 0;
  }

  // ---- lookup ----

  /** The wing whose key is at k[off..], or -1. */
  lookupV4(k: Uint32Array, off: number): number {
    return this.v4.find(k, off);
  }

  lookupV6(k: Uint32Array, off: number): number {
    return this.v6.find(k, off);
  }

  lookup(family: 4 | 6, k: Uint32Array, off: number): number {
    const w = family === 4 ? this.v4.find(k, off) : this.v6.find(k, off);
    if (w >= 0 || this.moved.length === 0) return w;
    return (family === 4 ? this.moved4 : this.moved6).find(k, off);
  }

  /** Look up `n` IPv4 keys at once (see KeyIndex.findBatch); `homes` is scratch of length >= n. */
  lookupBatchV4(keys: Uint32Array, n: number, homes: Int32Array, out: Int32Array): void {
    this.v4.findBatch(keys, n, homes, out);
  }

  /** The session carrying this UUID (R-3.7.2.5-a), or -1. */
  byUuid(uuid: Uint8Array, off = 0): number {
    return this.uuids.find(this.uuidKey(uuid, off), 0, this.uuidWords);
  }

  private uuidKey(uuid: Uint8Array, off: number): Uint32Array {
    const s = this.scratch;
    for (let i = 0; i < 4; i++) {
      const o = off + 4 * i;
      s[i] = ((uuid[o] << 24) | (uuid[o + 1] << 16) | (uuid[o + 2] << 8) | uuid[o + 3]) >>> 0;
    }
    return s;
  }

  // ---- create and remove ----

  /**
   * Install a session with both wings. Returns the session id, or the negated reason it was
   * refused: the limits, a UUID already present (a loop, R-3.7.2.5-a), or a wing already in use.
   */
  create(
    family: 4 | 6,
    forward: Uint32Array,
    fwdOff: number,
    reverse: Uint32Array,
    revOff: number,
    init: SessionInit,
  ): number {
    if (this.count >= this.limits.maxSessions) return -DropReason.SessionLimit;
    if (init.tenant >= this.tenantCounts.length) this.growTenantCounts(init.tenant);
    if (this.tenantCounts[init.tenant] >= this.limits.maxSessionsPerTenant)
      return -DropReason.TenantSessionLimit;
    const uk = this.uuidKey(init.uuid, 0);
    if (this.uuids.find(uk, 0, this.uuidWords) >= 0) return -DropReason.SessionLoop;
    const index = family === 4 ? this.v4 : this.v6;
    if (init.newSyn)
      for (const [k, o] of [
        [forward, fwdOff],
        [reverse, revOff],
      ] as const) {
        const w = index.find(k, o);
        if (w >= 0 && this.protocol[w >>> 1] === init.protocol && tcpInGuard(this.tcp[w >>> 1] as TcpState))
          this.remove(w >>> 1, EndReason.NewSyn);
      }
    if (index.find(forward, fwdOff) >= 0 || index.find(reverse, revOff) >= 0)
      return -DropReason.SessionExists;
    // Both wings equal (same addresses, ports and interface both ways: a LAND packet) cannot
    // tell its directions apart.
    let same = true;
    for (let i = 0; i < index.keyWords && same; i++) same = forward[fwdOff + i] === reverse[revOff + i];
    if (same) return -DropReason.SessionExists;
    if (this.freeTop === 0) this.grow();
    const id = this.freeIds[--this.freeTop];
    index.insert(forward, fwdOff, id * 2);
    index.insert(reverse, revOff, id * 2 + 1);
    const now = this.clock.now();
    this.live[id] = 1;
    this.family[id] = family;
    this.protocol[id] = init.protocol;
    this.roleOf[id] = init.role;
    this.tcp[id] = TcpState.None;
    this.flagsOf[id] = init.flags ?? 0;
    this.tenantOf[id] = init.tenant;
    this.serviceOf[id] = init.service;
    for (let d = 0; d < 2; d++) {
      const o = init.out[d];
      this.outPathOf[id * 2 + d] = o.path;
      this.outKeyIdOf[id * 2 + d] = o.keyId;
      this.nextHopOf[id * 2 + d] = o.nextHop;
    }
    this.portPathOf[id] = init.portPath;
    this.mdCount[id] = 0;
    this.pairOf[id] = init.portPair;
    this.uuidWords.set(uk.subarray(0, 4), id * 4);
    this.uuids.insert(id, this.uuidWords);
    this.createdAt[id] = now;
    this.lastActive[id] = now;
    this.packets[id * 2] = 0;
    this.packets[id * 2 + 1] = 0;
    this.bytes[id * 2] = 0;
    this.bytes[id * 2 + 1] = 0;
    this.deltas.fill(0, id * 4, id * 4 + 4);
    this.idleMs[id] = this.initialIdleMs(init.protocol);
    this.wheel.schedule(id, now + this.idleMs[id]);
    this.tenantCounts[init.tenant]++;
    this.count++;
    return id;
  }

  /** End a session: both wings, its UUID, its timer and its wayport pair go (R-4.2.3-d). */
  remove(id: number, reason: EndReason = EndReason.Removed): void {
    if (id < 0 || id >= this.cap || !this.live[id]) return;
    this.onEnd?.(id, reason);
    const index = this.family[id] === 4 ? this.v4 : this.v6;
    const f = this.wingPos[id * 2];
    const r = this.wingPos[id * 2 + 1];
    // Remove by key, not slot: removing the first wing may shift the second.
    const kw = index.keyWords;
    const s = this.scratch;
    index.keyAt(f, s, 0);
    index.keyAt(r, s, kw);
    index.remove(s, 0);
    index.remove(s, kw);
    this.wingPos[id * 2] = -1;
    this.wingPos[id * 2 + 1] = -1;
    this.uuids.remove(id, this.uuidWords);
    this.wheel.cancel(id);
    const pair = this.pairOf[id];
    if (pair >= 0 && this.ports) this.ports.release(this.portPathOf[id], pair);
    this.tenantCounts[this.tenantOf[id]]--;
    this.live[id] = 0;
    this.sweepMoved(this.clock.now(), id);
    this.freeIds[this.freeTop++] = id;
    this.count--;
  }

  // ---- per packet ----

  /**
   * Account a packet on a wing: counters and activity (idle timers are lazy: the wheel checks
   * activity when it fires). In the close guard, activity does not extend the session (3.7.6).
   */
  touch(wing: number, bytes: number): void {
    const id = wing >>> 1;
    this.packets[wing]++;
    this.bytes[wing] += bytes;
    if (!tcpInGuard(this.tcp[id])) this.lastActive[id] = this.clock.now();
  }

  /** Advance TCP tracking for a packet with these flags on a wing; returns the new state. */
  trackTcp(wing: number, flags: number): TcpState {
    const id = wing >>> 1;
    const before = this.tcp[id] as TcpState;
    const after = tcpNext(before, (wing & 1) as Direction, flags);
    if (after !== before) {
      this.tcp[id] = after;
      this.idleMs[id] = tcpTimeoutSeconds(after, this.timers) * 1000;
      if (tcpInGuard(after)) {
        // The guard runs from now, whatever comes after (3.7.6).
        const now = this.clock.now();
        this.lastActive[id] = now;
        this.wheel.schedule(id, now + this.idleMs[id]);
      }
    }
    return after;
  }

  /**
   * 3.7.6: a SYN arriving for a session in its close guard ends that session at once, so the
   * packet can start a new one. True when the session was ended.
   */
  endOnNewSyn(wing: number, flags: number): boolean {
    const id = wing >>> 1;
    if (!tcpNewSynEndsSession(this.tcp[id] as TcpState, flags)) return false;
    this.remove(id, EndReason.NewSyn);
    return true;
  }

  /** End sessions whose timers ran out; returns how many ended. */
  expire(): number {
    const now = this.clock.now();
    this.sweepMoved(now);
    let ended = 0;
    this.wheel.advance(now, (id) => {
      const due = this.lastActive[id] + this.idleMs[id];
      if (due > now) {
        // Active since it was scheduled: push the deadline out (lazy idle timer).
        this.wheel.schedule(id, due);
        return;
      }
      const t = this.tcp[id] as TcpState;
      this.remove(
        id,
        t === TcpState.Closed
          ? EndReason.TcpClosed
          : t === TcpState.Reset
            ? EndReason.TcpReset
            : EndReason.Idle,
      );
      ended++;
    });
    return ended;
  }

  private initialIdleMs(protocol: number): number {
    const t = this.timers;
    if (protocol === IPPROTO_TCP) return t.tcpSetupSeconds * 1000;
    if (protocol === IPPROTO_UDP) return t.udpIdleSeconds * 1000;
    if (protocol === IPPROTO_ICMP || protocol === IPPROTO_ICMPV6) return t.icmpIdleSeconds * 1000;
    return t.udpIdleSeconds * 1000;
  }

  // ---- fields ----

  get size(): number {
    return this.count;
  }

  get capacity(): number {
    return this.cap;
  }

  sessionsOfTenant(tenant: number): number {
    return tenant < this.tenantCounts.length ? this.tenantCounts[tenant] : 0;
  }

  isLive(id: number): boolean {
    return id >= 0 && id < this.cap && this.live[id] === 1;
  }

  familyOf(id: number): 4 | 6 {
    return this.family[id] === 6 ? 6 : 4;
  }
  protocolOf(id: number): number {
    return this.protocol[id];
  }
  role(id: number): SessionRole {
    return this.roleOf[id] as SessionRole;
  }
  tcpState(id: number): TcpState {
    return this.tcp[id] as TcpState;
  }
  flags(id: number): number {
    return this.flagsOf[id];
  }
  setFlags(id: number, f: number): void {
    this.flagsOf[id] = f;
  }
  tenant(id: number): number {
    return this.tenantOf[id];
  }
  service(id: number): number {
    return this.serviceOf[id];
  }
  /** The peer path a wing's packets leave on, or -1 (not over SVR). */
  outPath(wing: number): number {
    return this.outPathOf[wing];
  }
  /** The peer path a wing's packets arrive on: the other wing's way out. */
  inPath(wing: number): number {
    return this.outPathOf[wing ^ 1];
  }
  /** Security id of the key that signs a wing's outgoing packets (R-3.6-a: fixed per session). */
  outKeyId(wing: number): number {
    return this.outKeyIdOf[wing];
  }
  nextHop(wing: number): number {
    return this.nextHopOf[wing];
  }
  /** Sign a wing's packets with another key version (a rekey, 3.6: the old one retires). */
  setOutKeyId(wing: number, securityId: number): void {
    this.outKeyIdOf[wing] = securityId;
  }
  /**
   * Give a wing a new key (5.1.3: the peer's waypoint address changed), keeping everything
   * else; the other wing's output follows, as it is this key reversed. False when the new key
   * is another wing's.
   */
  rekeyWing(wing: number, key: Uint32Array, off: number): boolean {
    const id = wing >>> 1;
    if (!this.live[id]) return false;
    const index = this.family[id] === 4 ? this.v4 : this.v6;
    if (index.find(key, off) >= 0) return false;
    const s = this.scratch;
    index.keyAt(this.wingPos[wing], s, 0);
    index.remove(s, 0);
    index.insert(key, off, wing);
    return true;
  }
  /**
   * 6.1: re-key a wing for a session move. Its old key still reaches it for `graceMs`, so packets
   * already in flight on the old path are not lost. False when the new key is taken.
   */
  moveWing(wing: number, key: Uint32Array, off: number, graceMs: number): boolean {
    const id = wing >>> 1;
    if (!this.live[id]) return false;
    const family = this.family[id] as 4 | 6;
    const index = family === 4 ? this.v4 : this.v6;
    const old = new Uint32Array(index.keyWords);
    index.keyAt(this.wingPos[wing], old, 0);
    if (!this.rekeyWing(wing, key, off)) return false;
    const aliases = family === 4 ? this.moved4 : this.moved6;
    aliases.remove(old, 0);
    aliases.insert(old, 0, wing);
    this.moved.push({ family, key: old, wing, until: this.clock.now() + graceMs });
    return true;
  }

  /** Forget moved wings' old keys whose time is up, or whose session ended. */
  private sweepMoved(now: number, endedId = -1): void {
    if (this.moved.length === 0) return;
    let kept = 0;
    for (const m of this.moved) {
      const id = m.wing >>> 1;
      if (m.until > now && id !== endedId && this.live[id]) this.moved[kept++] = m;
      else (m.family === 4 ? this.moved4 : this.moved6).remove(m.key, 0);
    }
    this.moved.length = kept;
  }

  /** 2.10: a session merged with the one its ingress started again takes the new UUID. */
  setUuid(id: number, uuid: Uint8Array): boolean {
    if (!this.live[id]) return false;
    const uk = this.uuidKey(uuid, 0);
    if (this.uuids.find(uk, 0, this.uuidWords) >= 0) return false;
    this.uuids.remove(id, this.uuidWords);
    this.uuidWords.set(uk.subarray(0, 4), id * 4);
    this.uuids.insert(id, this.uuidWords);
    return true;
  }

  /** The wayport pair a session holds after a move (the old one goes back to its allocator). */
  setPortPair(id: number, path: number, pair: number): void {
    const old = this.pairOf[id];
    if (old >= 0 && this.ports) this.ports.release(this.portPathOf[id], old);
    this.portPathOf[id] = path;
    this.pairOf[id] = pair;
  }

  /** Start counting metadata packets again (a moved session carries metadata anew, 6.1). */
  resetMetadataCount(id: number): void {
    this.mdCount[id] = 0;
  }

  /** Re-point a wing (a session move, 6.1). */
  setWingOut(wing: number, o: WingOut): void {
    this.outPathOf[wing] = o.path;
    this.outKeyIdOf[wing] = o.keyId;
    this.nextHopOf[wing] = o.nextHop;
  }
  portPath(id: number): number {
    return this.portPathOf[id];
  }
  metadataCount(id: number): number {
    return this.mdCount[id];
  }
  /** Count one more metadata packet (saturating); returns the new count. */
  countMetadata(id: number): number {
    if (this.mdCount[id] < 255) this.mdCount[id]++;
    return this.mdCount[id];
  }
  portPair(id: number): number {
    return this.pairOf[id];
  }
  createdMs(id: number): number {
    return this.createdAt[id];
  }
  lastActiveMs(id: number): number {
    return this.lastActive[id];
  }
  /** Milliseconds left before the session ends if nothing more arrives. */
  remainingMs(id: number): number {
    return Math.max(0, this.lastActive[id] + this.idleMs[id] - this.clock.now());
  }
  packetCount(wing: number): number {
    return this.packets[wing];
  }
  byteCount(wing: number): number {
    return this.bytes[wing];
  }
  uuid(id: number, out: Uint8Array = new Uint8Array(16), off = 0): Uint8Array {
    for (let i = 0; i < 4; i++) {
      const w = this.uuidWords[id * 4 + i];
      out[off + 4 * i] = w >>> 24;
      out[off + 4 * i + 1] = w >>> 16;
      out[off + 4 * i + 2] = w >>> 8;
      out[off + 4 * i + 3] = w;
    }
    return out;
  }

  /** Checksum deltas a wing's packets are translated with (R-4.6.4-g). */
  setDeltas(wing: number, ipDelta: number, l4Delta: number): void {
    this.deltas[wing * 2] = ipDelta;
    this.deltas[wing * 2 + 1] = l4Delta;
  }
  ipDelta(wing: number): number {
    return this.deltas[wing * 2];
  }
  l4Delta(wing: number): number {
    return this.deltas[wing * 2 + 1];
  }

  /** Copy a wing's key into out[off..]; returns the key width in words. */
  wingKey(wing: number, out: Uint32Array, off: number): number {
    const id = wing >>> 1;
    const index = this.family[id] === 4 ? this.v4 : this.v6;
    index.keyAt(this.wingPos[wing], out, off);
    return index.keyWords;
  }

  /**
   * What packets of `wing` leave as: the other wing's key reversed (symmetric session), written
   * as a key (with the other wing's VLAN and interface as egress).
   */
  wingOutput(wing: number, out: Uint32Array, off: number): number {
    const id = wing >>> 1;
    const other = wing ^ 1;
    const fam = this.familyOf(id);
    const kw = this.wingKey(other, this.scratch, 0);
    const meta = this.scratch[kw - 1];
    SessionTable.reverseKey(fam, this.scratch, 0, out, off, (meta >>> 8) & 0xfff, meta >>> 20);
    return kw;
  }

  /** Live session ids, for display and tests (allocates). */
  ids(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.cap; i++) if (this.live[i]) out.push(i);
    return out;
  }

  /** Bytes of the IPv4 wing index alone (benchmarks compare it with the machine's caches). */
  wingIndexBytes(): number {
    return this.v4.byteLength;
  }

  /** Bytes of typed-array memory the table holds. */
  byteLength(): number {
    const arrays = [
      this.live,
      this.family,
      this.protocol,
      this.roleOf,
      this.tcp,
      this.flagsOf,
      this.tenantOf,
      this.serviceOf,
      this.outPathOf,
      this.outKeyIdOf,
      this.nextHopOf,
      this.portPathOf,
      this.mdCount,
      this.pairOf,
      this.uuidWords,
      this.createdAt,
      this.lastActive,
      this.idleMs,
      this.packets,
      this.bytes,
      this.deltas,
      this.wingPos,
      this.freeIds,
    ];
    return (
      arrays.reduce((n, a) => n + a.byteLength, 0) +
      this.v4.byteLength +
      this.v6.byteLength +
      this.uuids.byteLength
    );
  }

  // ---- growth ----

  private grow(): void {
    const cap = Math.min(this.cap * 2, Math.max(this.limits.maxSessions, this.cap + 1));
    const g = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(
      a: T,
      per = 1,
    ): T => {
      const b = new (a.constructor as { new (n: number): T })(cap * per);
      b.set(a);
      return b;
    };
    this.live = g(this.live);
    this.family = g(this.family);
    this.protocol = g(this.protocol);
    this.roleOf = g(this.roleOf);
    this.tcp = g(this.tcp);
    this.flagsOf = g(this.flagsOf);
    this.tenantOf = g(this.tenantOf);
    this.serviceOf = g(this.serviceOf);
    this.outPathOf = g(this.outPathOf, 2);
    this.outKeyIdOf = g(this.outKeyIdOf, 2);
    this.nextHopOf = g(this.nextHopOf, 2);
    this.portPathOf = g(this.portPathOf);
    this.mdCount = g(this.mdCount);
    this.pairOf = g(this.pairOf);
    this.uuidWords = g(this.uuidWords, 4);
    this.createdAt = g(this.createdAt);
    this.lastActive = g(this.lastActive);
    this.idleMs = g(this.idleMs);
    this.packets = g(this.packets, 2);
    this.bytes = g(this.bytes, 2);
    this.deltas = g(this.deltas, 4);
    const pos = new Int32Array(cap * 2).fill(-1);
    pos.set(this.wingPos);
    this.wingPos = pos;
    this.v4.setPositions(pos);
    this.v6.setPositions(pos);
    const free = new Int32Array(cap);
    // Every id below the old capacity is live (we only grow when none is free).
    let top = 0;
    for (let i = cap - 1; i >= this.cap; i--) free[top++] = i;
    this.freeIds = free;
    this.freeTop = top;
    this.wheel.ensureCapacity(cap);
    this.cap = cap;
  }

  private growTenantCounts(tenant: number): void {
    let n = this.tenantCounts.length;
    while (n <= tenant) n *= 2;
    const t = new Uint32Array(n);
    t.set(this.tenantCounts);
    this.tenantCounts = t;
  }
}
