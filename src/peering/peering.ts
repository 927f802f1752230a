import { type IpAddress, ipToString, sameAddress } from '../base/address.js';
import { DropReason, dropReasonInfo } from '../base/drop-reason.js';
import type { EventLog } from '../base/events.js';
import type { Random } from '../base/random.js';
import type { Scheduler, TimerHandle } from '../base/scheduler.js';
import type { Peering as PeeringSettings, SecurityDefinitions } from '../config/model.js';
import { CertificateValidator, type RouterCredentials } from '../crypto/certificates.js';
import {
  BFD_CONTROL_LENGTH,
  BfdControl,
  type BfdControlFields,
  BfdDiag,
  BfdState,
  writeBfdControl,
} from '../wire/bfd.js';
import {
  type BfdMetadata,
  decodeBfdMetadata,
  encodeBfdMetadata,
  encodePadding,
  type MeasureData,
  type NodeInfo,
  type SessionData,
  type Tuple,
} from './bfd-metadata.js';
import { BfdSession } from './bfd-session.js';
import { EcdhPeerKeys } from './peer-keys.js';
import { type QualityFigures, QualityMeter } from './quality.js';

/**
 * Peer paths managed with BFD and BFD metadata (sections 3.1, 5.1, D-5..D-8): one BFD session
 * per path, carrying in its metadata the router certificate until the peer has it (5.1.7), the
 * addresses each side sends from and sees (NAT and address changes, 5.1.1-5.1.3), quality and
 * MTU probes (5.1.4, 5.1.5), the node's start time (5.1.6) and signed ECDH public keys (5.1.8).
 *
 * A path is usable for sessions only when its BFD session is Up, the peer's certificate was
 * validated on it, and the peer has a current key (3.1.3): the router hears of every change
 * through `PeeringHost` and never sends metadata on anything else (2.5).
 */

export interface PeeringPath {
  readonly id: number;
  readonly peer: string;
  readonly vector: string;
  readonly iface: number;
  readonly localAddress: IpAddress;
  readonly remoteAddress: IpAddress | undefined;
  readonly ifaceMtu: number;
}

export interface PathStatus {
  readonly id: number;
  readonly peer: string;
  readonly vector: string;
  readonly usable: boolean;
  readonly bfd: BfdState;
  readonly authenticated: boolean;
  readonly natDetected: boolean;
  readonly local: IpAddress;
  readonly remote: IpAddress | undefined;
  readonly remotePort: number;
  /** 0 until discovered. */
  readonly mtu: number;
  readonly quality: QualityFigures | undefined;
  readonly probesSent: number;
  readonly probesAnswered: number;
}

export type PathChange = 'usable' | 'quality' | 'mtu' | 'remote' | 'nat';

export interface PeeringHost {
  /** Send a UDP datagram from the path's local waypoint. */
  transmit(
    path: number,
    dst: IpAddress,
    srcPort: number,
    dstPort: number,
    payload: Uint8Array,
    dontFragment: boolean,
  ): void;
  pathChanged(path: number, what: PathChange, status: PathStatus): void;
  /** The key new sessions with `peer` use changed (0: none). */
  keyChanged(peer: string, securityId: number): void;
  drop(reason: DropReason, security: boolean, detail?: Record<string, string | number>): void;
}

export interface PeeringOptions {
  readonly authority: string;
  readonly routerName: string;
  readonly settings: PeeringSettings;
  readonly credentials: RouterCredentials;
  readonly security: SecurityDefinitions;
  readonly encryptMetadata?: boolean;
  readonly scheduler: Scheduler;
  readonly random: Random;
  readonly events: EventLog;
  readonly paths: readonly PeeringPath[];
  readonly host: PeeringHost;
}

/** Spacing of the probes of one burst, so they measure the path and not each other. */
const PROBE_SPACING_MS = 50;
const MTU_PROBE_SPACING_MS = 20;
/** RFC 5880 Required Min Echo RX > 0 marks a MeasureData packet (5.1). */
const MEASURE_ECHO_RX_US = 1000;

interface Extra {
  readonly measure: MeasureData;
  /** Grow the IP packet to this many bytes (an MTU probe, 5.1.4). */
  readonly size?: number;
}

class PathPeer {
  remote: IpAddress | undefined;
  remotePort: number;
  bfd!: BfdSession;
  certValidated = false;
  /** The peer sent its certificate on a path we had validated: it lacks ours (3.1.1). */
  peerAskedCert = false;
  /** Our last packet on the path carried our certificate. */
  lastSentCert = false;
  natByPeer = false;
  natBySelf = false;
  seen: { address: IpAddress; port: number } | undefined;
  usable = false;
  meter: QualityMeter;
  quality: QualityFigures | undefined;
  timers: TimerHandle[] = [];
  probeTimer: TimerHandle | undefined;
  mtuTimer: TimerHandle | undefined;
  mtu = 0;
  mtuBest = 0;
  readonly mtuProbes = new Map<number, number>();
  nextTransId = 1;
  responseSerial = 0;
  extra: Extra | undefined;
  refusal: string | undefined;

  constructor(
    readonly d: PeeringPath,
    readonly peer: PeerInfo,
    port: number,
    settings: PeeringSettings,
  ) {
    this.remote = d.remoteAddress;
    this.remotePort = port;
    this.meter = new QualityMeter(settings.qualityWindow, settings.qualityTimeoutMs);
  }

  get nat(): boolean {
    return this.natByPeer || this.natBySelf;
  }
}

class PeerInfo {
  createTimestamp: number | undefined;
  readonly paths: PathPeer[] = [];
  constructor(
    readonly name: string,
    readonly authName: string,
  ) {}
}

export class Peering {
  readonly keys: EcdhPeerKeys;
  private readonly validator: CertificateValidator;
  private readonly paths: PathPeer[] = [];
  private readonly byDisc = new Map<number, PathPeer>();
  private readonly peers = new Map<string, PeerInfo>();
  private readonly allowedPeers: Set<string>;
  private readonly authName: string;
  private readonly startedAt: number;
  private readonly view = new BfdControl();
  private readonly s: PeeringSettings;

  constructor(private readonly o: PeeringOptions) {
    this.s = o.settings;
    this.authName = `${o.routerName}/${o.authority}`;
    this.startedAt = o.scheduler.now();
    this.validator = new CertificateValidator(o.credentials.caCertificatePem, o.scheduler);
    this.keys = new EcdhPeerKeys({
      localName: this.authName,
      routerKey: o.credentials.privateKey,
      security: o.security,
      random: o.random,
      scheduler: o.scheduler,
      guardSeconds: this.s.keyGuardSeconds,
      rekeySeconds: this.s.rekeyIntervalSeconds,
      encryptMetadata: o.encryptMetadata,
      events: {
        onCurrent: (peer, sid) => this.keyCurrent(peer, sid),
        onSendNeeded: (peer, path) => this.sendNeeded(peer, path),
      },
    });
    this.allowedPeers = new Set(o.paths.map((p) => p.peer));
    for (const d of o.paths) {
      let peer = this.peers.get(d.peer);
      if (!peer) {
        peer = new PeerInfo(d.peer, `${d.peer}/${o.authority}`);
        this.peers.set(d.peer, peer);
      }
      const p = new PathPeer(d, peer, this.s.bfdPort, this.s);
      p.bfd = new BfdSession({
        scheduler: o.scheduler,
        random: o.random,
        desiredMinTxMs: this.s.desiredMinTxMs,
        requiredMinRxMs: this.s.requiredMinRxMs,
        detectMult: this.s.detectMultiplier,
        send: (f) => this.sendControl(p, f),
        onStateChange: (from, to, diag) => this.bfdChanged(p, from, to, diag),
      });
      this.byDisc.set(p.bfd.localDiscriminator, p);
      this.paths[d.id] = p;
      peer.paths.push(p);
    }
  }

  start(): void {
    for (const p of this.paths) if (p?.remote) p.bfd.start();
  }

  stop(): void {
    for (const p of this.paths) {
      if (!p) continue;
      p.bfd.stop();
      this.stopProbes(p);
    }
    this.keys.stop();
  }

  /** A new key with `peer` now (5.1.8: rekeying on demand). */
  rekey(peer: string): number | undefined {
    const id = this.keys.rekey(peer);
    if (id !== undefined) this.sendNeeded(peer, -1);
    return id;
  }

  /** Take a path out of service by hand, or put it back (RFC 5880 AdminDown). */
  setAdminDown(path: number, down: boolean): void {
    this.paths[path]?.bfd.setAdminDown(down);
  }

  status(): PathStatus[] {
    return this.paths.filter((p) => p !== undefined).map((p) => this.statusOf(p));
  }

  pathStatus(path: number): PathStatus | undefined {
    const p = this.paths[path];
    return p ? this.statusOf(p) : undefined;
  }

  /** Is the peer in service (3.1.3): an authenticated path that is up, and a key? */
  inService(peer: string): boolean {
    return this.peers.get(peer)?.paths.some((p) => p.usable) ?? false;
  }

  private statusOf(p: PathPeer): PathStatus {
    return {
      id: p.d.id,
      peer: p.d.peer,
      vector: p.d.vector,
      usable: p.usable,
      bfd: p.bfd.state,
      authenticated: p.certValidated,
      natDetected: p.nat,
      local: p.d.localAddress,
      remote: p.remote,
      remotePort: p.remotePort,
      mtu: p.mtu,
      quality: p.quality,
      probesSent: p.meter.sentTotal,
      probesAnswered: p.meter.answeredTotal,
    };
  }

  // ---- receiving (5.1) ----

  /** A UDP datagram to the BFD port of a waypoint on interface `iface`. */
  receive(iface: number, src: IpAddress, srcPort: number, b: Uint8Array, off: number, len: number): void {
    const c = this.view;
    const r = c.parse(b, off, len);
    if (r) {
      this.drop(r, false, { iface, source: ipToString(src) });
      return;
    }
    let p: PathPeer | undefined;
    if (c.yourDiscriminator !== 0) {
      p = this.byDisc.get(c.yourDiscriminator);
      if (!p) {
        this.drop(DropReason.BfdBadYourDiscriminator, false, { iface, source: ipToString(src) });
        return;
      }
    } else p = this.findPath(iface, src);
    if (!p || p.d.iface !== iface) {
      this.drop(DropReason.BfdUnknownPath, true, { iface, source: ipToString(src) });
      return;
    }
    let md: BfdMetadata | undefined;
    if (c.metadataLength > 0) {
      const m = decodeBfdMetadata(b, off + BFD_CONTROL_LENGTH, c.metadataLength);
      if (typeof m === 'number') {
        this.drop(m, true, { path: p.d.id, source: ipToString(src) });
        return;
      }
      md = m;
    }
    const peer = p.peer;
    if (md?.nodeInfo) this.nodeInfo(peer, md.nodeInfo);
    this.learnAddress(p, src, srcPort);
    if (md?.sessionData) this.sessionData(p, md.sessionData, src, srcPort);
    if (md?.peerAuth && !this.certificate(p, peer, md.peerAuth.certificate)) return;
    const br = p.bfd.receive(c);
    if (br) {
      this.drop(br, false, { path: p.d.id });
      return;
    }
    if (md?.peerKey) {
      // A key may overtake the certificate on a path (the peer validated us first): it is
      // read once the peer is authenticated on any path, and sent again until answered.
      const kr = this.keys.receive(p.d.peer, p.d.id, md.peerKey);
      if (kr && kr !== DropReason.PeerNotAuthenticated) this.drop(kr, true, { path: p.d.id, peer: p.d.peer });
    } else if (p.certValidated) this.keys.peerPacketWithoutKey(p.d.peer, p.d.id);
    if (md?.measure) this.measure(p, md.measure);
    this.update(p);
  }

  private findPath(iface: number, src: IpAddress): PathPeer | undefined {
    for (const p of this.paths)
      if (p && p.d.iface === iface && p.remote && sameAddress(p.remote, src)) return p;
    return undefined;
  }

  /** R-2.11-a, 5.1.3: the peer's waypoint is where its packets come from. */
  private learnAddress(p: PathPeer, src: IpAddress, srcPort: number): void {
    p.seen = { address: src, port: srcPort };
    p.remotePort = srcPort; // a NAT maps the BFD port (5.1.2)
    if (p.remote && sameAddress(p.remote, src)) return;
    const old = p.remote;
    p.remote = src;
    this.o.events.emit(
      this.now(),
      'info',
      'peer-address-changed',
      `peer ${p.d.peer} moved to ${ipToString(src)}`,
      {
        path: p.d.id,
        from: old ? ipToString(old) : '',
        to: ipToString(src),
      },
    );
    // 3.1.1: a moved peer authenticates again; our certificate asks for its own.
    p.certValidated = false;
    this.o.host.pathChanged(p.d.id, 'remote', this.statusOf(p));
  }

  /** 5.1.2: compare the addresses each side sends from with what the other sees. */
  private sessionData(p: PathPeer, sd: SessionData, src: IpAddress, srcPort: number): void {
    const o = sd.originalTuple;
    const byPeer =
      !sameAddress(o.sourceAddress, src) || (o.sourcePort !== undefined && o.sourcePort !== srcPort);
    const rcv = sd.receivedTuple;
    const known = !isZero(rcv.sourceAddress);
    const bySelf =
      known &&
      (!sameAddress(rcv.sourceAddress, p.d.localAddress) ||
        (rcv.sourcePort !== undefined && rcv.sourcePort !== this.s.bfdPort));
    const before = p.nat;
    p.natByPeer = byPeer;
    if (known) p.natBySelf = bySelf;
    if (p.nat !== before) {
      this.o.events.emit(
        this.now(),
        'info',
        p.nat ? 'nat-detected' : 'nat-gone',
        `${p.nat ? 'a NAT is' : 'no NAT is'} on the path to ${p.d.peer} (${p.d.vector})`,
        {
          path: p.d.id,
          peerSendsFrom: `${ipToString(o.sourceAddress)}:${o.sourcePort ?? 0}`,
          seenFrom: `${ipToString(src)}:${srcPort}`,
        },
      );
      this.o.host.pathChanged(p.d.id, 'nat', this.statusOf(p));
    }
  }

  /** 5.1.6: a new start time means the peer restarted: it lost its keys and our certificate. */
  private nodeInfo(peer: PeerInfo, n: NodeInfo): void {
    if (peer.createTimestamp === undefined) {
      peer.createTimestamp = n.createTimestamp;
      return;
    }
    if (peer.createTimestamp === n.createTimestamp) return;
    peer.createTimestamp = n.createTimestamp;
    this.o.events.emit(this.now(), 'info', 'peer-restarted', `peer ${peer.name} restarted`, {
      peer: peer.name,
      started: n.createTimestamp,
    });
    for (const p of peer.paths) p.certValidated = false;
    this.keys.reset(peer.name);
  }

  /** 5.1.7: validate once per peer (cached), on every path it arrives on. */
  private certificate(p: PathPeer, peer: PeerInfo, pem: string): boolean {
    const check = this.validator.validate(pem, this.o.authority, this.allowedPeers);
    const refusal = !check.ok
      ? check.message
      : check.router !== p.d.peer
        ? `certificate "${check.name}" arrived on a path to "${peer.authName}"`
        : undefined;
    if (refusal !== undefined || !check.ok) {
      const first = p.refusal !== refusal;
      p.refusal = refusal;
      p.certValidated = false;
      this.o.host.drop(DropReason.PeerCertificateRefused, false);
      // One security event per distinct refusal, not one per BFD packet.
      if (first)
        this.o.events.security(this.now(), DropReason.PeerCertificateRefused, {
          path: p.d.id,
          peer: p.d.peer,
          reason: refusal ?? '',
        });
      this.update(p);
      return false;
    }
    p.refusal = undefined;
    const was = p.certValidated;
    // A certificate on a path we had validated, while we were not sending ours, asks for ours
    // (3.1.1); one that crosses ours is not a request, or the two would echo forever.
    if (was && !p.lastSentCert) p.peerAskedCert = true;
    p.certValidated = true;
    this.keys.setIdentity(p.d.peer, peer.authName, check.publicKey);
    if (!was)
      this.o.events.emit(this.now(), 'info', 'peer-authenticated', `${peer.authName} authenticated`, {
        path: p.d.id,
        vector: p.d.vector,
      });
    // 3.1.2: the first authenticated path starts the key exchange.
    if (!this.keys.current(p.d.peer) && this.keys.rekey(p.d.peer) !== undefined) p.bfd.sendNow();
    return true;
  }

  private measure(p: PathPeer, m: MeasureData): void {
    if (m.request) {
      if (!p.certValidated) {
        this.drop(DropReason.PeerNotAuthenticated, true, { path: p.d.id });
        return;
      }
      // 5.1.5: every request gets a response with our own serial.
      p.responseSerial = (p.responseSerial + 1) >>> 0;
      this.sendExtra(p, {
        measure: {
          response: { requestTransId: m.request.transId, responseTransId: p.responseSerial },
          mtuDiscovery: m.mtuDiscovery,
        },
      });
      return;
    }
    if (!m.response) return;
    const t = m.response.requestTransId;
    const size = p.mtuProbes.get(t);
    if (size !== undefined) {
      p.mtuProbes.delete(t);
      p.mtuBest = Math.max(p.mtuBest, size);
      return;
    }
    if (!p.meter.answered(t, this.now())) this.drop(DropReason.MeasureUnexpected, false, { path: p.d.id });
  }

  // ---- sending ----

  private sendControl(p: PathPeer, f: BfdControlFields): void {
    const remote = p.remote;
    if (!remote) return;
    const peer = p.peer;
    const md: BfdMetadata = {
      sessionData: {
        originalTuple: tuple(p.d.localAddress, remote, this.s.bfdPort, p.remotePort),
        receivedTuple: p.seen
          ? tuple(p.seen.address, p.d.localAddress, p.seen.port, this.s.bfdPort)
          : tuple(zeroIp(remote), zeroIp(remote), 0, 0),
        peerName: this.authName,
        routerName: peer.authName,
      },
      nodeInfo: { id: 0, createTimestamp: this.startedAt },
    };
    // R-5.1.7-a: the certificate goes on every packet until the peer's is validated, and once
    // more whenever the peer shows it lacks ours.
    p.lastSentCert = !p.certValidated || p.peerAskedCert;
    if (p.lastSentCert) {
      md.peerAuth = { certificate: this.o.credentials.certificatePem };
      p.peerAskedCert = false;
    }
    if (p.certValidated) {
      const k = this.keys.outgoing(p.d.peer);
      if (k) md.peerKey = k;
    }
    let fields = f;
    const x = p.extra;
    if (x) {
      md.measure = x.measure;
      fields = { ...f, requiredMinEchoRxUs: MEASURE_ECHO_RX_US };
    }
    const body = encodeBfdMetadata(md);
    let pad = 0;
    if (x?.size !== undefined) {
      const headers = (remote.version === 4 ? 20 : 40) + 8 + BFD_CONTROL_LENGTH;
      pad = Math.max(0, x.size - headers - body.length);
      if (pad === 1) pad = 0; // padding is at least a tag and a length
    }
    const payload = new Uint8Array(BFD_CONTROL_LENGTH + body.length + pad);
    writeBfdControl(payload, 0, fields, body.length + pad);
    payload.set(body, BFD_CONTROL_LENGTH);
    if (pad > 0) payload.set(encodePadding(pad), BFD_CONTROL_LENGTH + body.length);
    this.o.host.transmit(p.d.id, remote, this.s.bfdPort, p.remotePort, payload, x?.size !== undefined);
  }

  private sendExtra(p: PathPeer, x: Extra): void {
    p.extra = x;
    try {
      p.bfd.sendNow();
    } finally {
      p.extra = undefined;
    }
  }

  private sendNeeded(peer: string, path: number): void {
    if (path >= 0) {
      this.paths[path]?.bfd.sendNow();
      return;
    }
    for (const p of this.peers.get(peer)?.paths ?? []) if (p.certValidated) p.bfd.sendNow();
  }

  // ---- state ----

  private bfdChanged(p: PathPeer, from: BfdState, to: BfdState, diag: number): void {
    this.o.events.emit(
      this.now(),
      'info',
      'bfd-state',
      `path ${p.d.vector} to ${p.d.peer}: ${BfdState[from]} -> ${BfdState[to]}${diag ? ` (${BfdDiag[diag] ?? diag})` : ''}`,
      {
        path: p.d.id,
        from: BfdState[from],
        to: BfdState[to],
        diag,
      },
    );
    this.update(p);
  }

  private keyCurrent(peer: string, securityId: number): void {
    this.o.host.keyChanged(peer, securityId);
    if (securityId > 0)
      this.o.events.emit(this.now(), 'info', 'peer-key', `key ${securityId} in use with ${peer}`, {
        peer,
        securityId,
      });
    for (const p of this.peers.get(peer)?.paths ?? []) this.update(p);
  }

  /** 3.1.3: usable = BFD Up, authenticated, and a key with the peer. */
  private update(p: PathPeer): void {
    const usable =
      p.bfd.state === BfdState.Up && p.certValidated && this.keys.current(p.d.peer) !== undefined;
    if (usable === p.usable) return;
    p.usable = usable;
    this.o.events.emit(
      this.now(),
      'info',
      usable ? 'path-up' : 'path-down',
      `path ${p.d.vector} to ${p.d.peer} ${usable ? 'in service' : 'out of service'}`,
      {
        path: p.d.id,
      },
    );
    if (usable) this.startProbes(p);
    else {
      this.stopProbes(p);
      p.meter.reset();
      p.quality = undefined;
    }
    this.o.host.pathChanged(p.d.id, 'usable', this.statusOf(p));
  }

  // ---- probes (5.1.4, 5.1.5) ----

  private startProbes(p: PathPeer): void {
    const sched = this.o.scheduler;
    const jitter = () => this.o.random.u32() % 100;
    if (this.s.qualityProbes > 0) {
      const burst = () => {
        this.burst(p);
        p.probeTimer = sched.at(sched.now() + this.s.qualityIntervalSeconds * 1000, burst);
      };
      p.probeTimer = sched.at(sched.now() + 10 + jitter(), burst);
    }
    if (this.s.mtuIntervalSeconds > 0) {
      const discover = () => {
        this.discoverMtu(p);
        p.mtuTimer = sched.at(sched.now() + this.s.mtuIntervalSeconds * 1000, discover);
      };
      p.mtuTimer = sched.at(sched.now() + 200 + jitter(), discover);
    }
  }

  private stopProbes(p: PathPeer): void {
    const sched = this.o.scheduler;
    if (p.probeTimer) sched.cancel(p.probeTimer);
    if (p.mtuTimer) sched.cancel(p.mtuTimer);
    for (const t of p.timers) sched.cancel(t);
    p.probeTimer = undefined;
    p.mtuTimer = undefined;
    p.timers = [];
    p.mtuProbes.clear();
  }

  private later(p: PathPeer, delayMs: number, fn: () => void): void {
    const sched = this.o.scheduler;
    const h = sched.at(sched.now() + delayMs, () => {
      p.timers = p.timers.filter((t) => t !== h);
      fn();
    });
    p.timers.push(h);
  }

  private burst(p: PathPeer): void {
    p.meter.beginBurst();
    const n = this.s.qualityProbes;
    for (let i = 0; i < n; i++)
      this.later(p, i * PROBE_SPACING_MS, () => {
        const id = this.transId(p);
        p.meter.sent(id, this.now());
        this.sendExtra(p, { measure: { request: { transId: id } } });
      });
    this.later(p, (n - 1) * PROBE_SPACING_MS + this.s.qualityTimeoutMs + 1, () => {
      p.meter.expire(this.now());
      const q = p.meter.figures();
      if (!q) return;
      p.quality = q;
      this.o.host.pathChanged(p.d.id, 'quality', this.statusOf(p));
    });
  }

  private discoverMtu(p: PathPeer): void {
    const top = p.d.ifaceMtu;
    const sizes: number[] = [];
    for (let s = Math.min(this.s.mtuMin, top); s < top; s += this.s.mtuStep) sizes.push(s);
    sizes.push(top);
    p.mtuBest = 0;
    p.mtuProbes.clear();
    sizes.forEach((size, i) => {
      this.later(p, i * MTU_PROBE_SPACING_MS, () => {
        const id = this.transId(p);
        p.mtuProbes.set(id, size);
        this.sendExtra(p, { measure: { request: { transId: id }, mtuDiscovery: true }, size });
      });
    });
    this.later(p, sizes.length * MTU_PROBE_SPACING_MS + this.s.qualityTimeoutMs, () => {
      p.mtuProbes.clear();
      if (p.mtuBest === 0 || p.mtuBest === p.mtu) return;
      p.mtu = p.mtuBest;
      this.o.events.emit(this.now(), 'info', 'path-mtu', `path ${p.d.vector} to ${p.d.peer}: MTU ${p.mtu}`, {
        path: p.d.id,
        mtu: p.mtu,
      });
      this.o.host.pathChanged(p.d.id, 'mtu', this.statusOf(p));
    });
  }

  private transId(p: PathPeer): number {
    const id = p.nextTransId;
    p.nextTransId = p.nextTransId >= 0xffff_fffe ? 1 : p.nextTransId + 1;
    return id;
  }

  private drop(r: DropReason, security: boolean, detail?: Record<string, string | number>): void {
    this.o.host.drop(r, security || dropReasonInfo(r).security, detail);
  }

  private now(): number {
    return this.o.scheduler.now();
  }
}

function tuple(src: IpAddress, dst: IpAddress, srcPort: number, dstPort: number): Tuple {
  return { sourceAddress: src, destAddress: dst, sourcePort: srcPort, destPort: dstPort, protocol: 17 };
}

function zeroIp(like: IpAddress): IpAddress {
  return like.version === 4 ? { version: 4, v4: 0 } : { version: 6, v6: new Uint8Array(16) };
}

function isZero(a: IpAddress): boolean {
  return a.version === 4 ? a.v4 === 0 : a.v6.every((x) => x === 0);
}
