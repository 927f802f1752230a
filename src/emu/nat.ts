import { ipv4ToString } from '../base/address.js';
import { readU16, writeU16, writeU32 } from '../base/bytes.js';
import type { Random } from '../base/random.js';
import type { Scheduler } from '../base/scheduler.js';
import { applyDelta, deltaU32, deltaWord } from '../wire/checksum.js';
import { IpPacket } from '../wire/packet.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocol.js';
import { Translation } from '../wire/translation.js';
import { IpRouter } from './ip-router.js';
import type { InterfaceSpec, NetInterface } from './node.js';

export interface NatOptions {
  /** Idle time after which a mapping is gone; defaults as home routers: UDP 30 s, TCP 300 s, ICMP 30 s. */
  readonly udpTimeoutMs?: number;
  readonly tcpTimeoutMs?: number;
  readonly icmpTimeoutMs?: number;
  /** External ports (and echo identifiers) to allocate when the inside one is taken. */
  readonly portRange?: readonly [number, number];
}

export interface NatSpec extends NatOptions {
  readonly inside: InterfaceSpec;
  /** Its `gateway` is the NAT's default route. */
  readonly outside: InterfaceSpec;
}

/** One inside endpoint's mapping to an outside port. */
export interface NatMapping {
  readonly protocol: number;
  readonly insideAddress: number;
  readonly insidePort: number;
  readonly externalPort: number;
  /** Remote endpoints the inside host has sent to: "a.b.c.d:port", or "a.b.c.d" for ICMP echo. */
  readonly remotes: Set<string>;
  readonly createdMs: number;
  lastUsedMs: number;
}

function remoteKey(protocol: number, addr: number, port: number): string {
  return protocol === IPPROTO_ICMP ? ipv4ToString(addr) : `${ipv4ToString(addr)}:${port}`;
}

/** Offset of the transport checksum from the start of the transport header. */
function checksumField(protocol: number): number {
  return protocol === IPPROTO_TCP ? 16 : protocol === IPPROTO_UDP ? 6 : 2;
}

/**
 * A port-restricted cone NAT (RFC 4787: endpoint-independent mapping, address-and-port-dependent
 * filtering), IPv4 only, like a home router between an inside and an outside interface.
 *
 * Inside to outside, TCP, UDP and ICMP echo get the outside address and a mapped port (or echo
 * identifier): the inside one when free, else one from `portRange`. Outside to inside, a packet
 * passes only to a live mapping and only from a remote address and port the inside host has
 * sent to; ICMP errors about mapped packets are translated both ways, quoted packet included.
 * Mappings expire after idle time. Everything else from outside is dropped and counted.
 *
 * Counters (besides IpRouter's): `nat:out`, `nat:in`, `nat:icmp-error`, `nat:mapping-created`,
 * `nat:mapping-expired`, and drops `nat:no-mapping`, `nat:filtered`, `nat:unsolicited`,
 * `nat:not-ipv4`, `nat:fragment`, `nat:unsupported-protocol`, `nat:ports-exhausted`.
 */
export class NatBox extends IpRouter {
  readonly inside: NetInterface;
  readonly outside: NetInterface;
  private readonly byExternal = new Map<string, NatMapping>();
  private readonly byInside = new Map<string, NatMapping>();
  private readonly quoted = new IpPacket();
  private readonly timeouts: Record<number, number>;
  private readonly portRange: readonly [number, number];

  constructor(name: string, sim: Scheduler, random: Random, spec: NatSpec) {
    super(name, sim, random);
    this.inside = this.addInterface({ ...spec.inside, name: spec.inside.name ?? 'inside' });
    this.outside = this.addInterface({ ...spec.outside, name: spec.outside.name ?? 'outside' });
    if (this.outside.address.version !== 4)
      throw new Error(`${name}: the NAT's outside address must be IPv4`);
    this.timeouts = {
      [IPPROTO_UDP]: spec.udpTimeoutMs ?? 30_000,
      [IPPROTO_TCP]: spec.tcpTimeoutMs ?? 300_000,
      [IPPROTO_ICMP]: spec.icmpTimeoutMs ?? 30_000,
    };
    this.portRange = spec.portRange ?? [49152, 65535];
  }

  private get outsideV4(): number {
    return this.outside.address.version === 4 ? this.outside.address.v4 : 0;
  }

  /** A new outside address (the ISP renumbered it): every mapping is lost, as on a real box. */
  override renumber(iface: string | number, address: string): void {
    super.renumber(iface, address);
    this.byExternal.clear();
    this.byInside.clear();
  }

  /** Live mappings, for tests and stats. */
  mappings(): NatMapping[] {
    const now = this.sim.now();
    return [...this.byExternal.values()].filter((m) => this.live(m, now));
  }

  // ---- Outside to inside --------------------------------------------------------------------

  protected override preRouting(pkt: IpPacket, ingress: NetInterface): boolean {
    if (ingress !== this.outside) return true;
    if (pkt.version !== 4) return this.drop('nat:not-ipv4');
    if (pkt.ip4.dst !== this.outsideV4) return this.drop('nat:unsolicited');
    if (pkt.isFragment) return this.drop('nat:fragment');
    if (pkt.isIcmp && pkt.icmp.isError) return this.inboundError(pkt);
    // An echo request from outside can match no mapping (those are for replies).
    if (pkt.isIcmp && pkt.icmp.isEchoRequest) return this.drop('nat:no-mapping');
    if (!this.translatable(pkt, false)) return this.drop('nat:unsupported-protocol');
    const m = this.findExternal(pkt.protocol, pkt.dstPort);
    if (!m) return this.drop('nat:no-mapping');
    if (!m.remotes.has(remoteKey(pkt.protocol, pkt.ip4.src, pkt.srcPort))) return this.drop('nat:filtered');
    m.lastUsedMs = this.sim.now();
    const from = { src: pkt.ip4.src, dst: pkt.ip4.dst, srcPort: pkt.srcPort, dstPort: pkt.dstPort };
    // For ICMP echo the identifier is the one "port", carried in srcPort (Translation's rule).
    const icmp = pkt.protocol === IPPROTO_ICMP;
    const to = {
      src: from.src,
      dst: m.insideAddress,
      srcPort: icmp ? m.insidePort : from.srcPort,
      dstPort: m.insidePort,
    };
    Translation.ipv4(pkt.protocol, from, to).apply(pkt);
    this.count('nat:in');
    return true;
  }

  /** An ICMP error from outside about a packet we translated on its way out. */
  private inboundError(pkt: IpPacket): boolean {
    const q = this.parseQuoted(pkt);
    if (!q || q.ip4.src !== this.outsideV4) return this.drop('nat:no-mapping');
    const m = this.findExternal(q.protocol, q.srcPort);
    if (!m) return this.drop('nat:no-mapping');
    if (!m.remotes.has(remoteKey(q.protocol, q.ip4.dst, q.dstPort))) return this.drop('nat:filtered');
    this.rewriteQuoted(pkt, q, 'src', m.insideAddress, m.insidePort);
    pkt.ip4.dst = m.insideAddress;
    pkt.ip4.updateChecksum();
    pkt.updateL4Checksum();
    this.count('nat:icmp-error');
    return true;
  }

  // ---- Inside to outside --------------------------------------------------------------------

  protected override postRouting(pkt: IpPacket, ingress: NetInterface, egress: NetInterface): boolean {
    if (egress !== this.outside || ingress === this.outside) return true;
    if (pkt.version !== 4) return this.drop('nat:not-ipv4');
    if (pkt.isFragment) return this.drop('nat:fragment');
    if (pkt.isIcmp && pkt.icmp.isError) return this.outboundError(pkt);
    if (!this.translatable(pkt, true)) return this.drop('nat:unsupported-protocol');
    const m = this.findInside(pkt.protocol, pkt.ip4.src, pkt.srcPort) ?? this.create(pkt);
    if (!m) return this.drop('nat:ports-exhausted');
    const now = this.sim.now();
    m.lastUsedMs = now;
    m.remotes.add(remoteKey(pkt.protocol, pkt.ip4.dst, pkt.dstPort));
    const from = { src: pkt.ip4.src, dst: pkt.ip4.dst, srcPort: pkt.srcPort, dstPort: pkt.dstPort };
    Translation.ipv4(pkt.protocol, from, { ...from, src: this.outsideV4, srcPort: m.externalPort }).apply(
      pkt,
    );
    this.count('nat:out');
    return true;
  }

  /** An ICMP error from an inside host about a packet that came in through a mapping. */
  private outboundError(pkt: IpPacket): boolean {
    const q = this.parseQuoted(pkt);
    if (!q) return this.drop('nat:no-mapping');
    const m = this.findInside(q.protocol, q.ip4.dst, q.dstPort);
    if (!m) return this.drop('nat:no-mapping');
    this.rewriteQuoted(pkt, q, 'dst', this.outsideV4, m.externalPort);
    pkt.ip4.src = this.outsideV4;
    pkt.ip4.updateChecksum();
    pkt.updateL4Checksum();
    this.count('nat:icmp-error');
    return true;
  }

  // ---- Mappings -----------------------------------------------------------------------------

  /** TCP, UDP, and ICMP echo requests going out (replies coming in). */
  private translatable(pkt: IpPacket, outbound: boolean): boolean {
    if (pkt.isTcp || pkt.isUdp) return true;
    return pkt.isIcmp && pkt.icmp.isEcho && pkt.icmp.isEchoRequest === outbound;
  }

  private create(pkt: IpPacket): NatMapping | undefined {
    const now = this.sim.now();
    const protocol = pkt.protocol;
    const ext = this.allocate(protocol, pkt.srcPort, now);
    if (ext === undefined) return undefined;
    const m: NatMapping = {
      protocol,
      insideAddress: pkt.ip4.src,
      insidePort: pkt.srcPort,
      externalPort: ext,
      remotes: new Set(),
      createdMs: now,
      lastUsedMs: now,
    };
    this.byExternal.set(`${protocol}/${ext}`, m);
    this.byInside.set(`${protocol}/${m.insideAddress}/${m.insidePort}`, m);
    this.count('nat:mapping-created');
    return m;
  }

  /** Keep the inside port when free (as Linux does), else the first free one from a random start. */
  private allocate(protocol: number, preferred: number, now: number): number | undefined {
    if (preferred > 0 && !this.inUse(protocol, preferred, now)) return preferred;
    const [lo, hi] = this.portRange;
    const n = hi - lo + 1;
    const start = this.random.u32() % n;
    for (let i = 0; i < n; i++) {
      const p = lo + ((start + i) % n);
      if (!this.inUse(protocol, p, now)) return p;
    }
    return undefined;
  }

  private inUse(protocol: number, port: number, now: number): boolean {
    const m = this.byExternal.get(`${protocol}/${port}`);
    return m !== undefined && this.live(m, now, true);
  }

  private findExternal(protocol: number, port: number): NatMapping | undefined {
    const m = this.byExternal.get(`${protocol}/${port}`);
    return m && this.live(m, this.sim.now(), true) ? m : undefined;
  }

  private findInside(protocol: number, addr: number, port: number): NatMapping | undefined {
    const m = this.byInside.get(`${protocol}/${addr}/${port}`);
    return m && this.live(m, this.sim.now(), true) ? m : undefined;
  }

  /** Is the mapping still in use? An expired one is removed when `reap` is set. */
  private live(m: NatMapping, now: number, reap = false): boolean {
    if (now - m.lastUsedMs <= (this.timeouts[m.protocol] ?? 30_000)) return true;
    if (reap) {
      this.byExternal.delete(`${m.protocol}/${m.externalPort}`);
      this.byInside.delete(`${m.protocol}/${m.insideAddress}/${m.insidePort}`);
      this.count('nat:mapping-expired');
    }
    return false;
  }

  // ---- ICMP error plumbing ------------------------------------------------------------------

  private parseQuoted(pkt: IpPacket): IpPacket | undefined {
    const q = this.quoted;
    const at = pkt.icmp.quotedOffset;
    if (q.parse(pkt.b, at, pkt.end - at, true) || q.version !== 4) return undefined;
    const p = q.protocol;
    if (p !== IPPROTO_TCP && p !== IPPROTO_UDP && !(p === IPPROTO_ICMP && q.isIcmp && q.icmp.isEcho))
      return undefined;
    return q;
  }

  /**
   * Rewrite the quoted packet's source or destination address and port (echo identifier), with
   * its header checksum and, when quoted, its transport checksum patched (RFC 5508 4.2).
   */
  private rewriteQuoted(pkt: IpPacket, q: IpPacket, which: 'src' | 'dst', addr: number, port: number): void {
    const b = pkt.b;
    const l4 = q.l4Offset;
    const icmp = q.protocol === IPPROTO_ICMP;
    const oldAddr = which === 'src' ? q.ip4.src : q.ip4.dst;
    const portAt = icmp ? l4 + 4 : which === 'src' ? l4 : l4 + 2;
    const oldPort = portAt + 2 <= pkt.end ? readU16(b, portAt) : port;
    writeU32(b, q.start + (which === 'src' ? 12 : 16), addr);
    q.ip4.updateChecksum();
    if (portAt + 2 <= pkt.end) writeU16(b, portAt, port);
    const csAt = l4 + checksumField(q.protocol);
    if (csAt + 2 > pkt.end) return;
    let delta = deltaWord(0, oldPort, port);
    if (!icmp) delta = deltaU32(delta, oldAddr, addr);
    const old = readU16(b, csAt);
    if (q.protocol === IPPROTO_UDP && old === 0) return;
    let c = applyDelta(old, delta);
    if (q.protocol === IPPROTO_UDP && c === 0) c = 0xffff;
    writeU16(b, csAt, c);
  }

  private drop(reason: string): false {
    this.count(reason);
    return false;
  }
}
