import { type IpAddress, ipToString } from '../base/address.js';
import { DROP_REASONS, DropCounters, type DropReason } from '../base/drop-reason.js';
import type { EventLog } from '../base/events.js';
import { PacketBuffer } from '../base/packet-buffer.js';
import type { Random } from '../base/random.js';
import type { Scheduler } from '../base/scheduler.js';
import type { AuthorityModel, RouterModel } from '../config/model.js';
import type { PayloadCipher } from '../crypto/payload-cipher.js';
import type { PeerKey, PeerKeyStore } from '../crypto/peer-keys.js';
import type { Driver } from '../drivers/driver.js';
import { Fib, type FibService } from '../policy/fib.js';
import type { SelectionState } from '../policy/path-selection.js';
import { TenantResolver, TenantTable } from '../policy/tenant.js';
import { NatPortPool } from '../session/nat-ports.js';
import { type EndReason, KEY_WORDS_V6, SessionRole, SessionTable } from '../session/session-table.js';
import { WayportPool } from '../session/wayports.js';
import { Ipv4Reassembly } from '../wire/ip4-reassembly.js';
import { IpPacket } from '../wire/packet.js';
import { RewriteTarget } from '../wire/translation.js';
import type { DnsResolver } from './dns.js';
import { NextHopTable, PathTable } from './paths.js';
import { SvrReassembly } from './svr-fragments.js';

/** Session flags (SessionTable.flags) the data plane keeps. */
export enum Flag {
  /** We owe the peer forward metadata on the forward wing's packets (2.3, 3.7.1.11). */
  ForwardMetadata = 1,
  /** We owe the peer reverse metadata on the reverse wing's packets (3.7.4). */
  ReverseMetadata = 2,
  /** A reverse packet has been seen: the flow is not one-way (3.7.7). */
  ReverseSeen = 4,
  /** Disable Forward Metadata (TLV 18) has been sent for this one-way flow (3.7.7). */
  DisableSent = 8,
  /** ICMP echo carried in UDP between routers (6.6). */
  IcmpInUdp = 16,
  /** Egress applied a source NAT (TLV 25) with a pool port to give back at the end. */
  SourceNat = 32,
  /** A wing's peer path went out of service: the session is to move (6.1, resilience work). */
  MovePending = 64,
  /** 4.2.7: the path the forward wing leaves on carries this TCP session as UDP. */
  TcpAsUdpForward = 1024,
  /** 4.2.7, 4.6.3: the path the reverse wing leaves on carries it as UDP (TLV 12 came in). */
  TcpAsUdpReverse = 2048,
  /** 4.6.6, D-9: the session's payload is encrypted between its ingress and egress (a key is held). */
  PayloadEncrypted = 4096,
  /** At the ingress: the egress confirmed (TLV 11 in reverse metadata) that replies come encrypted. */
  ReverseEncrypted = 8192,
  /** 6.4: an adaptive session whose client has not sent payload yet (undecided). */
  AdaptivePending = 16384,
  /** 7.4.15 at the egress: a new payload key arrived; the next reply echoes it in metadata. */
  KeyEchoOwed = 32768,
}

/** 4.2.7: does a wing's packets leave on a path that carries the TCP session as UDP? */
export function leavesAsUdp(flags: number, wing: number): boolean {
  return (flags & ((wing & 1) === 0 ? Flag.TcpAsUdpForward : Flag.TcpAsUdpReverse)) !== 0;
}

/**
 * What a transit router must remember to rebuild the metadata it sends on (3.7.2.4, 3.7.8): the
 * values it clones from the previous hop, and the reverse context from the next.
 */
export interface TransitInfo {
  readonly context: {
    family: 4 | 6;
    src: IpAddress;
    dst: IpAddress;
    srcPort: number;
    dstPort: number;
    protocol: number;
  };
  readonly sourceNat: number | undefined;
  readonly securityPolicy: string;
  reverseContext: TransitInfo['context'] | undefined;
  /** 4.6.6: the session's payload key (TLV 45) as received, passed on untouched. */
  securityKey: string | undefined;
  /** The next router said (TLV 11 in reverse metadata) that replies come encrypted. */
  reverseEncrypted: boolean;
  /** The key the next router echoed in reverse metadata (7.4.15), passed back on. */
  reverseKey: string | undefined;
}

/** Counters beyond drops, for `show` commands, metrics and the demo. */
export interface DataPlaneStats {
  rx: number;
  tx: number;
  /** Packets translated from session state alone (3.7.3). */
  fastPath: number;
  metadataSent: number;
  metadataReceived: number;
  sessionsCreated: number;
  /** Sessions moved to another path, here or by the peer (6.1). */
  sessionsMoved: number;
  plainForwarded: number;
  controlSent: number;
  controlReceived: number;
  /** Path probes for middleboxes (2.4, tcp-probe.ts), answers included. */
  probesSent: number;
  probesReceived: number;
  icmpSent: number;
  /** ICMP errors about session packets sent back along their sessions (6.6). */
  icmpRelayed: number;
  /** 6.5: pieces of packets too big for their peer path, sent and received (SD-41). */
  piecesSent: number;
  piecesReceived: number;
}

export interface DataPlaneOptions {
  readonly authority: AuthorityModel;
  readonly router: RouterModel;
  readonly driver: Driver;
  readonly scheduler: Scheduler;
  readonly random: Random;
  readonly keys: PeerKeyStore;
  readonly dns: DnsResolver;
  readonly events: EventLog;
  /**
   * Control traffic addressed to a waypoint (BFD, 5.1): handed over whole; the receiver owns
   * the buffer. Without it such packets are dropped like any other non-SVR packet.
   */
  readonly control?: ControlHook;
}

export interface ControlHook {
  /** UDP destination port of control packets (D-6: BFD on 1280). */
  readonly port: number;
  receive(pb: PacketBuffer, pkt: IpPacket, iface: number): void;
}

/**
 * One router's data-plane state: configuration turned into lookup tables, the session table,
 * wayports, paths and keys, plus scratch space reused for every packet.
 */
export class DataPlaneContext {
  readonly authority: AuthorityModel;
  readonly router: RouterModel;
  readonly name: string;
  readonly driver: Driver;
  readonly scheduler: Scheduler;
  readonly random: Random;
  readonly keys: PeerKeyStore;
  readonly dns: DnsResolver;
  readonly events: EventLog;
  readonly control: ControlHook | undefined;

  readonly tenants: TenantTable;
  readonly tenantResolver: TenantResolver;
  readonly fib: Fib;
  readonly sessions: SessionTable;
  readonly wayports: WayportPool;
  readonly natPorts = new NatPortPool();
  readonly paths: PathTable;
  readonly nextHops = new NextHopTable();
  readonly servicesByName = new Map<string, FibService>();
  readonly selection = new Map<number, SelectionState>();
  readonly natRoundRobin = new Map<number, number>();
  readonly transit = new Map<number, TransitInfo>();
  /**
   * 2.10: sessions this router carries for a peer, by their forward context (original five-tuple
   * and tenant), so that an ingress that lost its state and starts the session again is merged
   * into it rather than given a second one.
   */
  readonly byContext = new Map<string, number>();
  /** 2.10: when each reversed five-tuple last asked its peer for metadata (one request a second). */
  readonly metadataRequests = new Map<string, number>();
  /** 4.6.6: payload keys of encrypted sessions this router starts or ends (payload-encryption.ts). */
  readonly payloadKeys = new Map<number, PayloadCipher>();
  /** At an ingress that rekeyed: the key replies still come in until the egress echoes the new one. */
  readonly payloadRxKeys = new Map<number, PayloadCipher>();
  /** 6.6: ICMP errors carried or made again in the current second (icmp-errors.ts). */
  readonly icmpRate = { second: -1, count: 0 };
  private readonly contextOf = new Map<number, string>();
  readonly drops = new DropCounters();
  /** 6.5: IPv4 fragments waiting to be whole before any SVR processing. */
  readonly reassembly = new Ipv4Reassembly();
  /** 6.5: pieces of packets a peer cut for its path (SD-41), by path and extended ID. */
  readonly svrReassembly = new SvrReassembly();
  /** -1 until the first packet is cut (the random start is drawn then, not at construction). */
  private fragmentId = -1;
  readonly stats: DataPlaneStats = {
    rx: 0,
    tx: 0,
    fastPath: 0,
    metadataSent: 0,
    metadataReceived: 0,
    sessionsCreated: 0,
    sessionsMoved: 0,
    plainForwarded: 0,
    controlSent: 0,
    controlReceived: 0,
    probesSent: 0,
    probesReceived: 0,
    icmpSent: 0,
    icmpRelayed: 0,
    piecesSent: 0,
    piecesReceived: 0,
  };

  /** Interface index by name. */
  readonly ifaceIndex = new Map<string, number>();
  /** Per interface: VLAN and whether it faces peers. */
  readonly ifaceVlan: number[];
  readonly ifaceWan: boolean[];
  private readonly own4 = new Set<number>();
  private readonly own6 = new Set<string>();

  // Scratch, reused for every packet.
  readonly pkt = new IpPacket();
  readonly key = new Uint32Array(KEY_WORDS_V6 * 2);
  readonly out = new Uint32Array(KEY_WORDS_V6);
  /** For building metadata, apart from `out`, which holds a packet's rewrite meanwhile. */
  readonly mdKey = new Uint32Array(KEY_WORDS_V6);
  readonly target = new RewriteTarget();

  constructor(o: DataPlaneOptions) {
    this.authority = o.authority;
    this.router = o.router;
    this.name = o.router.name;
    this.driver = o.driver;
    this.scheduler = o.scheduler;
    this.random = o.random;
    this.keys = o.keys;
    this.dns = o.dns;
    this.events = o.events;
    this.control = o.control;
    this.tenants = new TenantTable(o.authority.tenants.map((t) => t.name));
    this.tenantResolver = TenantResolver.forRouter(o.authority, o.router, this.tenants);
    this.fib = new Fib(o.authority, o.router, this.tenants);
    for (const s of this.fib.services) this.servicesByName.set(s.model.name, s);
    this.paths = new PathTable(o.router);
    this.wayports = new WayportPool(
      this.paths.paths
        .filter((p) => p !== undefined)
        .map((p) => ({ id: p.model.id, range: o.router.interfaces[p.iface].wayports })),
      o.router.timers.portGuardSeconds,
      o.scheduler,
      o.random,
    );
    this.sessions = new SessionTable({
      clock: o.scheduler,
      timers: o.router.timers,
      limits: o.router.limits,
      // Room for a busy branch from the start: growing means rehashing every wing.
      initialCapacity: Math.min(o.router.limits.maxSessions, 65_536),
      ports: this.wayports,
      onEnd: (id, reason) => this.sessionEnded(id, reason),
    });
    for (const [n, i] of o.router.interfaces.entries()) this.ifaceIndex.set(i.name, n);
    this.ifaceVlan = o.router.interfaces.map((i) => i.vlan);
    this.ifaceWan = o.router.interfaces.map((i) => i.role === 'wan');
    for (const i of o.router.interfaces)
      for (const a of i.addresses) {
        if (a.address.version === 4) this.own4.add(a.address.v4);
        else this.own6.add(ipToString(a.address));
      }
  }

  /** 6.5: a new extended ID for the pieces of one packet (TLV 1). */
  nextFragmentId(): number {
    // Random at first, so that a restarted router's pieces do not meet its old ones at the peer.
    this.fragmentId = this.fragmentId < 0 ? this.random.u32() : (this.fragmentId + 1) >>> 0;
    return this.fragmentId;
  }

  /** Is this one of the router's own addresses (a waypoint or an interface address)? */
  isOwn(pkt: IpPacket): boolean {
    if (pkt.version === 4) return this.own4.has(pkt.ip4.dst);
    return this.own6.size > 0 && this.own6.has(ipToString({ version: 6, v6: pkt.ip6.dstBytes() }));
  }

  /** Index of an interface by name, or -1. */
  iface(name: string | undefined): number {
    return name === undefined ? -1 : (this.ifaceIndex.get(name) ?? -1);
  }

  selectionState(service: number): SelectionState {
    let s = this.selection.get(service);
    if (!s) {
      s = { next: 0 };
      this.selection.set(service, s);
    }
    return s;
  }

  /** The key that signs and encrypts packets on a path, by the security id the session uses. */
  keyOn(path: number, securityId: number): PeerKey | undefined {
    const p = this.paths.get(path);
    return p ? this.keys.byId(p.model.peer, securityId) : undefined;
  }

  now(): number {
    return this.scheduler.now();
  }

  /** Count a drop, note it as a security event when the draft says so, and free the buffer. */
  drop(
    pb: PacketBuffer | undefined,
    r: DropReason,
    security = false,
    detail?: Record<string, string | number>,
  ): void {
    this.drops.add(r);
    if (security) this.events.security(this.now(), r, detail);
    else if (DROP_REASONS[r].notify) this.events.refusal(this.now(), r, detail);
    if (pb) this.driver.release(pb);
  }

  send(iface: number, pb: PacketBuffer, nextHop: IpAddress | undefined): void {
    this.stats.tx++;
    this.driver.send(iface, pb, nextHop);
  }

  /** MTU of the interface a next hop is on. */
  outMtu(nextHop: number): number {
    return this.router.interfaces[this.nextHops.get(nextHop).iface]?.mtu ?? 1500;
  }

  sendVia(nextHop: number, pb: PacketBuffer): void {
    const h = this.nextHops.get(nextHop);
    this.send(h.iface, pb, h.address);
  }

  /** Remember the forward context of a session from a peer (2.10). */
  rememberContext(id: number, key: string): void {
    this.byContext.set(key, id);
    this.contextOf.set(id, key);
  }

  private sessionEnded(id: number, _reason: EndReason): void {
    const s = this.sessions;
    // Paths keep a count of their sessions for least-busy balancing.
    for (const wing of [id * 2, id * 2 + 1]) {
      const p = this.paths.get(s.outPath(wing));
      if (p && s.role(id) !== SessionRole.Plain && (wing & 1) === 0)
        p.activeSessions = Math.max(0, p.activeSessions - 1);
    }
    if (s.flags(id) & Flag.SourceNat) {
      // The NAT address and port are the destination of the reverse wing's key (the LAN side).
      const k = this.out;
      s.wingKey(id * 2 + 1, k, 0);
      this.natPorts.release(k[1], k[2] & 0xffff);
    }
    this.transit.delete(id);
    this.payloadKeys.delete(id);
    this.payloadRxKeys.delete(id);
    const k = this.contextOf.get(id);
    if (k !== undefined) {
      this.contextOf.delete(id);
      if (this.byContext.get(k) === id) this.byContext.delete(k);
    }
  }

  /** A copy of a packet in a fresh buffer with headroom (for generated packets). */
  fresh(bytes: Uint8Array): PacketBuffer {
    const pb = this.driver.allocate();
    if (pb.data.length - pb.start < bytes.length) return PacketBuffer.from(bytes);
    pb.data.set(bytes, pb.start);
    pb.end = pb.start + bytes.length;
    return pb;
  }
}
