import { type IpAddress, ipToString } from '../base/address.js';
import type { InterfaceModel, PeerPathModel, RouterModel } from '../config/model.js';
import type { PathCandidate, PathQuality } from '../policy/path-selection.js';
import { PathMetrics } from './path-metrics.js';

/**
 * A router's peer paths as they are now: configuration plus live state. Whether a path is up
 * and how good it is comes from BFD (issue 5); until then the owner (the emulator, a test, the
 * operator) sets it. A path that is down never gets a new session (2.5).
 */
export interface PathState {
  readonly model: PeerPathModel;
  /** Index of the local interface (RouterModel.interfaces). */
  readonly iface: number;
  /** This router's waypoint on the path: the local interface's address of the peer's family. */
  readonly localAddress: IpAddress;
  /** The peer's waypoint as seen on the wire (R-2.11-a); starts as configured. */
  remoteAddress: IpAddress | undefined;
  up: boolean;
  quality: PathQuality;
  /** Security id of the peer's key new packets are signed with (3.6); 0: none yet. */
  keyId: number;
  /** Path MTU BFD found (5.1.4); 0 until known, then it bounds the interface's. */
  mtu: number;
  /** BFD saw a NAT between the waypoints (5.1.2). */
  natDetected: boolean;
  /**
   * 2.4, 4.2.7: TCP sessions leaving on this path cross it as UDP, because a middlebox on it
   * drops TCP SYNs carrying metadata (the probe found so) or the configuration says always.
   */
  tcpToUdp: boolean;
  /** The TCP metadata probe of this path (2.4, src/dataplane/tcp-probe.ts). */
  readonly probe: TcpProbeState;
  activeSessions: number;
  /** Next-hop index toward the remote waypoint, filled on first use (-1 until then). */
  nextHop: number;
  /** In-line metrics from TLV 26 on session traffic (7.3.7, path-metrics.ts). */
  readonly metrics: PathMetrics;
}

/** A router's peer paths with their interface index and local waypoint (the interface's address). */
export function describePaths(
  router: RouterModel,
): { model: PeerPathModel; iface: number; localAddress: IpAddress }[] {
  const ifaceIndex = new Map(router.interfaces.map((i, n) => [i.name, n]));
  const out: { model: PeerPathModel; iface: number; localAddress: IpAddress }[] = [];
  for (const peer of router.peers)
    for (const p of peer.paths) {
      const iface = ifaceIndex.get(p.interface) ?? -1;
      const ifc: InterfaceModel | undefined = router.interfaces[iface];
      const family = p.remoteAddress?.version ?? 4;
      const local =
        ifc?.addresses.find((a) => a.address.version === family)?.address ?? ifc?.addresses[0]?.address;
      if (!local || iface < 0) continue; // the loader refuses such configurations
      out.push({ model: p, iface, localAddress: local });
    }
  return out;
}

/** Where a path's TCP-with-metadata probe stands (2.4). */
export interface TcpProbeState {
  /** 'idle': nothing sent since the path came up; 'waiting': a probe is out. */
  phase: 'idle' | 'waiting';
  /** Probes sent in this round without an answer. */
  tries: number;
  /** When the last probe went out, and when the last round concluded (-Infinity: never). */
  sentAt: number;
  concludedAt: number;
  /** Wayport pair the round's probes use, on this path's allocator (-1: none held). */
  pair: number;
}

export class PathTable {
  readonly paths: PathState[] = [];
  private readonly byIfaceRemote = new Map<string, number>();

  constructor(router: RouterModel) {
    for (const { model: p, iface, localAddress } of describePaths(router)) {
      this.paths[p.id] = {
        model: p,
        iface,
        localAddress,
        remoteAddress: p.remoteAddress,
        up: true,
        quality: {},
        keyId: 0,
        mtu: 0,
        natDetected: false,
        tcpToUdp: p.tcpToUdp === 'always',
        probe: { phase: 'idle', tries: 0, sentAt: 0, concludedAt: Number.NEGATIVE_INFINITY, pair: -1 },
        activeSessions: 0,
        nextHop: -1,
        metrics: new PathMetrics(router.timers.pathMetricsColorMs),
      };
      if (p.remoteAddress) this.byIfaceRemote.set(`${iface}|${ipToString(p.remoteAddress)}`, p.id);
    }
  }

  get(id: number): PathState | undefined {
    return this.paths[id];
  }

  /** The path whose peer waypoint is `remote`, arriving on interface `iface`, or -1. */
  find(iface: number, remote: IpAddress): number {
    return this.byIfaceRemote.get(`${iface}|${ipToString(remote)}`) ?? -1;
  }

  findByName(peer: string, vector: string): PathState | undefined {
    return this.paths.find((p) => p && p.model.peer === peer && p.model.vector === vector);
  }

  setUp(id: number, up: boolean): void {
    const p = this.paths[id];
    if (p) p.up = up;
  }

  /** The peer's waypoint moved (5.1.3) or was first learned (R-2.11-a). */
  setRemote(id: number, address: IpAddress): void {
    const p = this.paths[id];
    if (!p) return;
    if (p.remoteAddress) {
      const old = `${p.iface}|${ipToString(p.remoteAddress)}`;
      if (this.byIfaceRemote.get(old) === id) this.byIfaceRemote.delete(old);
    }
    p.remoteAddress = address;
    p.nextHop = -1;
    this.byIfaceRemote.set(`${p.iface}|${ipToString(address)}`, id);
  }

  setQuality(id: number, q: PathQuality): void {
    const p = this.paths[id];
    if (p) p.quality = q;
  }

  /** Candidates for path selection among these path ids; with `now`, fresh in-line figures count (SD-48). */
  candidates(ids: readonly number[], now?: number): PathCandidate[] {
    const out: PathCandidate[] = [];
    for (const id of ids) {
      const p = this.paths[id];
      if (!p) continue;
      out.push({
        id,
        vector: p.model.vector,
        up: p.up && p.remoteAddress !== undefined,
        weight: p.model.weight,
        quality: now === undefined ? p.quality : p.metrics.blend(p.quality, now),
        activeSessions: p.activeSessions,
      });
    }
    return out;
  }
}

/**
 * Where packets go next: an interface and a neighbour on it (a gateway or a peer waypoint), or
 * the packet's own destination when undefined. Interned to small numbers so sessions store an
 * index per wing instead of an address.
 */
export interface NextHopEntry {
  readonly iface: number;
  readonly address: IpAddress | undefined;
}

export class NextHopTable {
  readonly entries: NextHopEntry[] = [];
  private readonly index = new Map<string, number>();

  intern(iface: number, address: IpAddress | undefined): number {
    const k = `${iface}|${address ? ipToString(address) : ''}`;
    let i = this.index.get(k);
    if (i === undefined) {
      i = this.entries.length;
      this.entries.push({ iface, address });
      this.index.set(k, i);
    }
    return i;
  }

  get(i: number): NextHopEntry {
    return this.entries[i];
  }
}
