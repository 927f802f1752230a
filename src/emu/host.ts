import { type IpAddress, ipToString } from '../base/address.js';
import { PacketBuffer } from '../base/packet-buffer.js';
import type { Random } from '../base/random.js';
import type { Scheduler } from '../base/scheduler.js';
import { ICMP4_DEST_UNREACHABLE, ICMP6_PACKET_TOO_BIG } from '../wire/icmp.js';
import { IpPacket, packetDestination, packetSource } from '../wire/packet.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../wire/protocol.js';
import { toAddress } from './addresses.js';
import { echoReplyPacket, icmpErrorPacket } from './icmp.js';
import { type NetInterface, Node } from './node.js';
import { Pinger, type PingOptions, PingResult } from './ping.js';
import { Reassembler } from './reassembly.js';
import {
  type TcpConnection,
  type TcpConnectOptions,
  type TcpListener,
  type TcpOptions,
  TcpStack,
} from './tcp.js';
import { UdpSocket } from './udp.js';

/** The packet an ICMP error quoted, as far as the quote shows it. */
export interface QuotedPacket {
  readonly src: string;
  readonly dst: string;
  readonly protocol: number;
  /** Ports, or the echo identifier for a quoted echo; 0 when not quoted. */
  readonly srcPort: number;
  readonly dstPort: number;
}

/** An ICMP error the host received: traceroute and PMTUD read these. */
export interface IcmpErrorRecord {
  readonly timeMs: number;
  readonly v6: boolean;
  readonly type: number;
  readonly code: number;
  /** Who sent the error. */
  readonly from: string;
  /** Next-hop MTU of "fragmentation needed" / "packet too big"; 0 otherwise. */
  readonly mtu: number;
  readonly quoted: QuotedPacket | undefined;
}

/**
 * An end system with a small IP stack: answers echo requests, delivers UDP to bound sockets and
 * TCP to its stack, refuses closed ports (ICMP port unreachable, TCP RST), reassembles IPv4
 * fragments, and records ICMP errors it receives. Packets not for it are dropped and counted.
 *
 * Counters (besides Node's): `not-for-me`, `malformed`, `bad-ip-checksum`, `bad-checksum:<proto>`,
 * `udp-closed-port`, `tcp-closed-port`, `icmp-echo-answered`, `icmp-error-received`,
 * `unknown-protocol`, `fragment-held`, `fragment-v6-unsupported`.
 */
export class Host extends Node {
  readonly icmpErrors: IcmpErrorRecord[] = [];
  readonly tcp: TcpStack;
  readonly reassembler: Reassembler;
  onIcmpError: ((e: IcmpErrorRecord) => void) | undefined;
  /** Every packet accepted for this host, after checks; for tests that look at raw packets. */
  onPacket: ((pkt: IpPacket) => void) | undefined;
  private readonly udp = new Map<number, UdpSocket>();
  private readonly pings = new Map<number, Pinger>();
  private readonly quoted = new IpPacket();

  constructor(name: string, sim: Scheduler, random: Random, tcpDefaults: TcpOptions = {}) {
    super(name, sim, random);
    this.tcp = new TcpStack(this, tcpDefaults);
    this.reassembler = new Reassembler(sim);
  }

  // ---- Applications -------------------------------------------------------------------------

  /** Bind a UDP port (0: an ephemeral one). */
  udpBind(port = 0): UdpSocket {
    let p = port;
    if (p === 0) {
      const start = this.random.u32() % 16384;
      for (let i = 0; i < 16384 && p === 0; i++) {
        const c = 49152 + ((start + i) % 16384);
        if (!this.udp.has(c)) p = c;
      }
    }
    if (p === 0 || this.udp.has(p)) throw new Error(`${this.name}: UDP port ${port} is in use`);
    const s = new UdpSocket(this, p);
    this.udp.set(p, s);
    return s;
  }

  /** @internal */
  unbindUdp(s: UdpSocket): void {
    if (this.udp.get(s.port) === s) this.udp.delete(s.port);
  }

  ping(dst: string | IpAddress, options: PingOptions = {}): PingResult {
    const d = toAddress(dst);
    let id = options.identifier ?? this.random.u32() & 0xffff;
    while (options.identifier === undefined && this.pings.has(id)) id = (id + 1) & 0xffff;
    const result = new PingResult(d, id, Math.max(1, options.count ?? 1));
    const p = new Pinger(this, result, options, (done) => {
      if (this.pings.get(done.result.identifier) === done) this.pings.delete(done.result.identifier);
    });
    this.pings.set(id, p);
    p.start();
    return result;
  }

  tcpListen(port: number, onConnection: (conn: TcpConnection) => void, options?: TcpOptions): TcpListener {
    return this.tcp.listen(port, onConnection, options);
  }

  tcpConnect(dst: string | IpAddress, port: number, options?: TcpConnectOptions): TcpConnection {
    return this.tcp.connect(toAddress(dst), port, options);
  }

  /** Send a whole IP packet as is (tests: hand-made packets), routed by its destination. */
  send(packet: Uint8Array | PacketBuffer): boolean {
    return this.sendFrame(packet instanceof PacketBuffer ? packet.copy() : packet);
  }

  // ---- Input --------------------------------------------------------------------------------

  protected receive(frame: Uint8Array, _iface: NetInterface): void {
    if (!this.parseFrame(frame)) return;
    const pkt = this.pkt;
    if (!this.owns(packetDestination(pkt))) {
      this.count('not-for-me');
      return;
    }
    if (pkt.isFragment) {
      if (pkt.version === 6) {
        this.count('fragment-v6-unsupported');
        return;
      }
      const whole = this.reassembler.add(pkt);
      if (!whole) {
        this.count('fragment-held');
        return;
      }
      if (pkt.parse(whole, 0, whole.length)) {
        this.count('malformed');
        return;
      }
    }
    if (!pkt.l4ChecksumValid()) {
      this.count(`bad-checksum:${pkt.protocol}`);
      return;
    }
    this.onPacket?.(pkt);
    switch (pkt.protocol) {
      case IPPROTO_TCP:
        this.tcp.input(pkt);
        break;
      case IPPROTO_UDP:
        this.udpInput(pkt);
        break;
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        this.icmpInput(pkt);
        break;
      default:
        this.count('unknown-protocol');
        this.refuse(pkt, 'protocol-unreachable');
    }
  }

  private udpInput(pkt: IpPacket): void {
    const s = this.udp.get(pkt.udp.dstPort);
    if (!s) {
      this.count('udp-closed-port');
      this.refuse(pkt, 'port-unreachable');
      return;
    }
    s.deliver(packetSource(pkt), pkt.udp.srcPort, pkt.b.slice(pkt.payloadOffset, pkt.payloadEnd));
  }

  private refuse(pkt: IpPacket, kind: 'port-unreachable' | 'protocol-unreachable'): void {
    const err = icmpErrorPacket(pkt, packetDestination(pkt), kind);
    if (err) this.sendFrame(err);
  }

  private icmpInput(pkt: IpPacket): void {
    const icmp = pkt.icmp;
    if (icmp.isEchoRequest) {
      this.count('icmp-echo-answered');
      this.sendFrame(echoReplyPacket(pkt));
    } else if (icmp.isEcho) {
      this.pings.get(icmp.identifier)?.reply(icmp.sequence, pkt.ttl, pkt.payloadLength);
    } else if (icmp.isError) {
      this.count('icmp-error-received');
      this.icmpError(pkt);
    } else this.count('icmp-ignored');
  }

  private icmpError(pkt: IpPacket): void {
    const icmp = pkt.icmp;
    const v6 = pkt.version === 6;
    const q = this.quoted;
    const at = icmp.quotedOffset;
    let quoted: QuotedPacket | undefined;
    if (!q.parse(pkt.b, at, pkt.end - at, true))
      quoted = {
        src: ipToString(packetSource(q)),
        dst: ipToString(packetDestination(q)),
        protocol: q.protocol,
        srcPort: q.srcPort,
        dstPort: q.dstPort,
      };
    const tooBig = v6
      ? icmp.type === ICMP6_PACKET_TOO_BIG
      : icmp.type === ICMP4_DEST_UNREACHABLE && icmp.code === 4;
    const mtu = tooBig ? (v6 ? icmp.restOfHeader : icmp.restOfHeader & 0xffff) : 0;
    const e: IcmpErrorRecord = {
      timeMs: this.sim.now(),
      v6,
      type: icmp.type,
      code: icmp.code,
      from: ipToString(packetSource(pkt)),
      mtu,
      quoted,
    };
    this.icmpErrors.push(e);
    if (tooBig && quoted && q.protocol === IPPROTO_TCP && mtu > 0)
      this.tcp.pathMtu(packetSource(q), q.srcPort, packetDestination(q), q.dstPort, mtu);
    this.onIcmpError?.(e);
  }
}
