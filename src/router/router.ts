import { type IpAddress, ipToString, sameAddress } from '../base/address.js';
import { DropReason } from '../base/drop-reason.js';
import { EventLog, type RouterEvent } from '../base/events.js';
import type { PacketBuffer } from '../base/packet-buffer.js';
import type { TimerHandle } from '../base/scheduler.js';
import type { RouterModel } from '../config/model.js';
import type { RouterCredentials } from '../crypto/certificates.js';
import type { PeerKeyStore } from '../crypto/peer-keys.js';
import { type ControlHook, type DataPlaneOptions, Flag } from '../dataplane/context.js';
import { DataPlane } from '../dataplane/dataplane.js';
import { sendKeepAlive, sendMoveControl } from '../dataplane/generated.js';
import { retargetPath } from '../dataplane/path-changes.js';
import { inlineSlaMisses } from '../dataplane/path-metrics.js';
import { describePaths } from '../dataplane/paths.js';
import { nextHopToward, pathNextHop } from '../dataplane/routing.js';
import { moveSession } from '../dataplane/session-move.js';
import { probePaths } from '../dataplane/tcp-probe.js';
import { type PathChange, type PathStatus, Peering } from '../peering/peering.js';
import { meetsSla } from '../policy/path-selection.js';
import { END_REASON_NAMES, EndReason, keyAddress, SessionRole } from '../session/session-table.js';
import { TCP_STATE_NAMES } from '../session/tcp-state.js';
import { buildPacketBuffer } from '../wire/builder.js';
import { type IpPacket, packetSource } from '../wire/packet.js';
import { protocolName } from '../wire/protocol.js';

/**
 * What a data plane needs, with the router named instead of given, and an event sink. Keys come
 * one of two ways: from BFD peering (certificates and ECDH, 5.1: give `credentials`), or from a
 * fixed store (`keys`: tools and tests; every path counts as up, no BFD runs).
 */
export interface RouterOptions extends Omit<DataPlaneOptions, 'router' | 'events' | 'keys' | 'control'> {
  readonly name: string;
  readonly onEvent?: (e: RouterEvent) => void;
  readonly credentials?: RouterCredentials;
  readonly keys?: PeerKeyStore;
  /** False sends payload TLVs in clear (debugging, 7.4); with `credentials` only. */
  readonly encryptMetadata?: boolean;
}

/** One row of `show sessions`, like SSR's. */
export interface SessionRow {
  id: number;
  uuid: string;
  role: string;
  direction: 'forward' | 'reverse';
  service: string;
  tenant: string;
  protocol: string;
  source: string;
  destination: string;
  interface: string;
  path: string;
  tcpState: string;
  packets: number;
  bytes: number;
  ageSeconds: number;
  idleTimeoutSeconds: number;
}

const ROLE_NAMES = ['plain', 'ingress', 'egress', 'transit'];

/**
 * An svr router: configuration, the data plane and its timers wired to a driver. The driver can
 * be the emulator's or Linux's; the router does not know which.
 */
export class SvrRouter {
  readonly model: RouterModel;
  readonly dataPlane: DataPlane;
  readonly events: EventLog;
  /** BFD peering (5.1), when the router has credentials. */
  readonly peering: Peering | undefined;
  private timer: TimerHandle | undefined;

  constructor(private readonly o: RouterOptions) {
    const model = o.authority.routers.find((r) => r.name === o.name);
    if (!model) throw new Error(`router ${o.name} is not in the authority's configuration`);
    if (!o.keys === !o.credentials) throw new Error('give a router either credentials or keys');
    this.model = model;
    this.events = new EventLog(o.name, 1000, o.onEvent);
    if (o.credentials) {
      this.peering = new Peering({
        authority: o.authority.name,
        routerName: model.name,
        settings: model.peering,
        credentials: o.credentials,
        security: o.authority.security,
        encryptMetadata: o.encryptMetadata,
        scheduler: o.scheduler,
        random: o.random,
        events: this.events,
        paths: describePaths(model).map((d) => ({
          id: d.model.id,
          peer: d.model.peer,
          vector: d.model.vector,
          iface: d.iface,
          localAddress: d.localAddress,
          remoteAddress: d.model.remoteAddress,
          ifaceMtu: model.interfaces[d.iface]?.mtu ?? 1500,
        })),
        host: {
          transmit: (path, dst, sp, dp, payload, df) => this.transmitControl(path, dst, sp, dp, payload, df),
          pathChanged: (path, what, st) => this.pathChanged(path, what, st),
          keyChanged: (peer, sid) => {
            for (const p of this.dataPlane.ctx.paths.paths) if (p && p.model.peer === peer) p.keyId = sid;
          },
          drop: (r, security, detail) => this.dataPlane.ctx.drop(undefined, r, security, detail),
        },
      });
    }
    const peering = this.peering;
    const control: ControlHook | undefined = peering && {
      port: model.peering.bfdPort,
      receive: (pb: PacketBuffer, pkt: IpPacket, iface: number) => {
        peering.receive(
          iface,
          packetSource(pkt),
          pkt.srcPort,
          pkt.b,
          pkt.payloadOffset,
          pkt.end - pkt.payloadOffset,
        );
        o.driver.release(pb);
      },
    };
    const keys = peering?.keys ?? o.keys;
    if (!keys) throw new Error('unreachable: keys or credentials');
    this.dataPlane = new DataPlane({ ...o, keys, router: model, events: this.events, control });
    // 3.1.3: with peering, a path carries sessions only once BFD, authentication and keys agree.
    if (peering) for (const p of this.dataPlane.ctx.paths.paths) if (p) p.up = false;
  }

  get name(): string {
    return this.model.name;
  }

  start(): void {
    this.o.driver.start((batch) => this.dataPlane.receive(batch));
    this.peering?.start();
    this.tick();
  }

  stop(): void {
    if (this.timer) this.o.scheduler.cancel(this.timer);
    this.timer = undefined;
    this.peering?.stop();
    this.o.driver.stop();
  }

  /** A BFD datagram from a path's waypoint (5.1). */
  private transmitControl(
    path: number,
    dst: IpAddress,
    srcPort: number,
    dstPort: number,
    payload: Uint8Array,
    dontFragment: boolean,
  ): void {
    const ctx = this.dataPlane.ctx;
    const ps = ctx.paths.get(path);
    if (!ps || dst.version !== ps.localAddress.version) return;
    const pb = buildPacketBuffer({
      src: ps.localAddress,
      dst,
      l4: { protocol: 'udp', srcPort, dstPort },
      payload,
      ttl: 255,
      dontFragment,
    });
    const same = ps.remoteAddress !== undefined && sameAddress(ps.remoteAddress, dst);
    const hop = same ? pathNextHop(ctx, ps) : nextHopToward(ctx, dst, ps.iface);
    if (hop < 0) {
      ctx.drop(pb, DropReason.NoRoute);
      return;
    }
    ctx.sendVia(hop, pb);
  }

  /** 6.2: sessions marked to move, and since which tick (-1: marked, not yet seen by a tick). */
  private readonly pendingSince = new Map<number, number>();
  /** 6.2: moves announced by control messages, waiting for reverse metadata. */
  private readonly announced = new Map<number, { started: number; last: number }>();

  /**
   * 6.2: a session marked to move that no packet moved within `quiescentMoveIntervalSeconds`
   * (1 s) moves anyway, announced by a "flow moved" control message every second until reverse
   * metadata confirms it; unconfirmed after `quiescentMoveDurationSeconds` (5 s), it ends.
   */
  private quiescentMoves(): void {
    const ctx = this.dataPlane.ctx;
    const s = ctx.sessions;
    const now = ctx.now();
    const every = this.model.timers.quiescentMoveIntervalSeconds * 1000;
    const within = this.model.timers.quiescentMoveDurationSeconds * 1000;
    for (const [id, a] of this.announced) {
      if (!s.isLive(id) || (s.flags(id) & Flag.ForwardMetadata) === 0) this.announced.delete(id);
      else if (now - a.started >= within) {
        s.remove(id, EndReason.MoveUnconfirmed);
        this.announced.delete(id);
        this.events.emit(
          now,
          'session',
          'move-unconfirmed',
          `session ${id} ended: no reverse metadata for its move`,
          {
            session: id,
          },
        );
      } else if (now - a.last >= every) {
        sendMoveControl(this.dataPlane, id * 2);
        a.last = now;
      }
    }
    for (const [id, since] of this.pendingSince) {
      if (!s.isLive(id) || (s.flags(id) & Flag.MovePending) === 0) {
        this.pendingSince.delete(id);
        continue;
      }
      if (s.portPath(id) < 0 || s.portPath(id) !== s.outPath(id * 2)) continue; // the peer's to move
      // The clock starts at the first tick after the session was marked.
      if (since < 0) this.pendingSince.set(id, now);
      else if (now - since >= every && moveSession(ctx, id) === DropReason.None) {
        this.pendingSince.delete(id);
        if ((s.flags(id) & Flag.ForwardMetadata) !== 0 && sendMoveControl(this.dataPlane, id * 2))
          this.announced.set(id, { started: now, last: now });
      }
    }
  }

  /** Mark a session to move on its next packet (6.1), or on a tick if none comes (6.2). */
  private markToMove(id: number): void {
    const s = this.dataPlane.ctx.sessions;
    s.setFlags(id, s.flags(id) | Flag.MovePending);
    if (!this.pendingSince.has(id)) this.pendingSince.set(id, -1);
  }

  /** When each session last got a keep-alive (6.3). */
  private readonly keptAlive = new Map<number, number>();

  /**
   * 6.3, 2.11: a session idle for `natKeepAliveSeconds` (20 s) on a path where BFD found a NAT
   * gets a keep-alive in its own five-tuple, so the NAT keeps the binding.
   */
  private keepAlives(): void {
    const ctx = this.dataPlane.ctx;
    const s = ctx.sessions;
    const now = ctx.now();
    const idle = this.model.timers.natKeepAliveSeconds * 1000;
    let natted = false;
    for (const p of ctx.paths.paths) if (p?.natDetected && p.up) natted = true;
    if (!natted) return;
    const ids = s.ids();
    for (const id of ids) {
      if (now - s.lastActiveMs(id) < idle || now - (this.keptAlive.get(id) ?? 0) < idle) continue;
      for (const wing of [id * 2, id * 2 + 1]) {
        const p = ctx.paths.get(s.outPath(wing));
        if (p?.natDetected && p.up) {
          if (sendKeepAlive(this.dataPlane, wing)) this.keptAlive.set(id, now);
          break;
        }
      }
    }
    if (this.keptAlive.size > ids.length)
      for (const id of this.keptAlive.keys()) if (!s.isLive(id)) this.keptAlive.delete(id);
  }

  /** Sessions on a path that left service wait for a move (6.1); they get no new traffic plan. */
  private markForMove(path: number): void {
    const s = this.dataPlane.ctx.sessions;
    let n = 0;
    for (const id of s.ids())
      if (s.outPath(id * 2) === path || s.outPath(id * 2 + 1) === path) {
        this.markToMove(id);
        n++;
      }
    if (n > 0)
      this.events.emit(
        this.dataPlane.ctx.now(),
        'session',
        'sessions-to-move',
        `${n} sessions on a path out of service`,
        {
          path,
          sessions: n,
        },
      );
  }

  /**
   * 6.1: sessions this router sends on `path` whose service policy's SLA the path no longer
   * meets move on their next packet (to the best path left; nowhere, if none is better).
   */
  private markBelowSla(path: number): void {
    const ctx = this.dataPlane.ctx;
    const ps = ctx.paths.get(path);
    if (!ps) return;
    const quality = ps.metrics.blend(ps.quality, ctx.now()); // SD-48: fresh in-line figures count
    const s = ctx.sessions;
    for (const id of s.ids()) {
      if (s.outPath(id * 2) !== path || s.portPath(id) !== path) continue;
      const policy = ctx.fib.services[s.service(id)]?.policy;
      if (policy && !meetsSla(policy, quality)) this.markToMove(id);
    }
  }

  /** 6.1: a path came back: sessions of revertible service policies look for their best path again. */
  private markRevertible(): void {
    const ctx = this.dataPlane.ctx;
    const s = ctx.sessions;
    for (const id of s.ids()) {
      if (s.portPath(id) < 0 || s.portPath(id) !== s.outPath(id * 2)) continue;
      if (ctx.fib.services[s.service(id)]?.policy.revertible) this.markToMove(id);
    }
  }

  private pathChanged(path: number, what: PathChange, st: PathStatus): void {
    const ctx = this.dataPlane.ctx;
    const ps = ctx.paths.get(path);
    if (!ps) return;
    if (what === 'usable') {
      ps.up = st.usable;
      if (!st.usable) this.markForMove(path);
      else this.markRevertible();
    } else if (what === 'quality') {
      ps.quality = st.quality ?? {};
      this.markBelowSla(path);
    } else if (what === 'mtu') ps.mtu = st.mtu;
    else if (what === 'nat') ps.natDetected = st.natDetected;
    else if (what === 'remote' && st.remote) {
      const moved = retargetPath(ctx, path, st.remote);
      if (moved > 0)
        this.events.emit(
          ctx.now(),
          'session',
          'sessions-retargeted',
          `${moved} sessions follow the peer's new address`,
          {
            path,
            sessions: moved,
          },
        );
    }
  }

  /** Session timers, once a second (3.7.6, D-10), and NAT keep-alives (6.3). */
  private tick(): void {
    this.dataPlane.expire();
    this.events.flush(this.o.scheduler.now());
    this.keepAlives();
    this.quiescentMoves();
    for (const path of inlineSlaMisses(this.dataPlane.ctx)) this.markBelowSla(path); // 7.3.7, SD-48
    // 2.4: middleboxes that block TCP with metadata, tested like BFD tests liveness (paths
    // without BFD, statically keyed, are taken as they are configured).
    if (this.peering) probePaths(this.dataPlane);
    this.timer = this.o.scheduler.at(this.o.scheduler.now() + 1000, () => this.tick());
  }

  /** Both wings of every session, as `show sessions` lists them. */
  sessions(): SessionRow[] {
    const ctx = this.dataPlane.ctx;
    const s = ctx.sessions;
    const now = this.o.scheduler.now();
    const rows: SessionRow[] = [];
    const k = new Uint32Array(10);
    for (const id of s.ids()) {
      const uuid = Buffer.from(s.uuid(id)).toString('hex');
      for (const dir of [0, 1] as const) {
        const wing = id * 2 + dir;
        const kw = s.wingKey(wing, k, 0);
        const v4 = kw === 4;
        const a = (o: number) => ipToString(keyAddress(k, o, v4 ? 4 : 6));
        const ports = k[kw - 2];
        const meta = k[kw - 1];
        // The peer path this wing's packets leave on: '' when they leave on a LAN.
        const path = ctx.paths.get(s.outPath(wing));
        rows.push({
          id,
          uuid: `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`,
          role: ROLE_NAMES[s.role(id)] ?? 'unknown',
          direction: dir === 0 ? 'forward' : 'reverse',
          service: ctx.fib.services[s.service(id)]?.model.name ?? '',
          tenant: ctx.tenants.name(s.tenant(id)) || '<global>',
          protocol: protocolName(meta & 0xff),
          source: `${a(0)}:${ports >>> 16}`,
          destination: `${a(v4 ? 1 : 4)}:${ports & 0xffff}`,
          interface: this.model.interfaces[meta >>> 20]?.name ?? '?',
          path: path ? `${path.model.vector} ${ipToString(path.localAddress)}` : '',
          tcpState: (meta & 0xff) === 6 ? (TCP_STATE_NAMES[s.tcpState(id)] ?? '') : '',
          packets: s.packetCount(wing),
          bytes: s.byteCount(wing),
          ageSeconds: Math.round((now - s.createdMs(id)) / 1000),
          idleTimeoutSeconds: Math.round(s.remainingMs(id) / 1000),
        });
      }
    }
    return rows;
  }
}

export { END_REASON_NAMES, SessionRole };
