import type { IpAddress } from '../base/address.js';
import { DropReason } from '../base/drop-reason.js';
import { finish, onesSum, pseudoSumV4, pseudoSumV6 } from './checksum.js';
import { IcmpHeader } from './icmp.js';
import { Ipv4Header } from './ipv4.js';
import { Ipv6Header } from './ipv6.js';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from './protocol.js';
import { TcpHeader } from './tcp.js';
import { UdpHeader } from './udp.js';

const EMPTY = new Uint8Array(0);

/**
 * One IP packet parsed in place: where each layer starts, which protocol it is, and views of
 * each header. An instance is meant to be reused: `parse()` re-points the views and overwrites
 * the offsets, so parsing allocates nothing.
 */
export class IpPacket {
  readonly ip4 = new Ipv4Header();
  readonly ip6 = new Ipv6Header();
  readonly tcp = new TcpHeader();
  readonly udp = new UdpHeader();
  readonly icmp = new IcmpHeader();

  b: Uint8Array = EMPTY;
  /** Offset of the IP header. */
  start = 0;
  /** One past the IP packet's last byte, from its own length field (link padding excluded). */
  end = 0;
  version: 0 | 4 | 6 = 0;
  /** Upper-layer protocol (after IPv6 extension headers). */
  protocol = 0;
  /** Offset of the byte holding `protocol`: IPv4 header byte 9, or the last IPv6 Next Header. */
  protocolFieldOffset = 0;
  l4Offset = 0;
  /** 0 when there is no transport header to read (unknown protocol, later fragment). */
  l4HeaderLength = 0;
  payloadOffset = 0;
  payloadEnd = 0;
  isFragment = false;
  /** A fragment other than the first: no transport header. */
  isLaterFragment = false;

  /**
   * Parse the IP packet at b[off, off+len). TCP, UDP, ICMP and ICMPv6 headers are validated;
   * other protocols and later fragments parse with `l4HeaderLength = 0`, since a router must
   * still forward them (R-4.1-b). `lenient` accepts a truncated packet, as quoted in ICMP errors.
   */
  parse(b: Uint8Array, off: number, len: number, lenient = false): DropReason {
    this.version = 0;
    if (len < 1) return DropReason.NotIp;
    const v = b[off] >> 4;
    let l4: number;
    let end: number;
    if (v === 4) {
      const r = this.ip4.check(b, off, len, lenient);
      if (r) return r;
      const ip = this.ip4;
      end = Math.min(off + ip.totalLength, off + len);
      l4 = off + ip.headerLength;
      this.protocol = ip.protocol;
      this.protocolFieldOffset = off + 9;
      this.isFragment = ip.isFragment;
      this.isLaterFragment = ip.fragmentOffset !== 0;
    } else if (v === 6) {
      const r = this.ip6.check(b, off, len, lenient);
      if (r) return r;
      const ip = this.ip6;
      end = Math.min(off + 40 + ip.payloadLength, off + len);
      const w = ip.walk(end);
      if (w) return w;
      l4 = ip.upperOffset;
      this.protocol = ip.upperProtocol;
      this.protocolFieldOffset = ip.protocolFieldOffset;
      this.isFragment = ip.hasFragmentHeader;
      this.isLaterFragment = ip.fragmentOffset !== 0;
    } else {
      return DropReason.NotIp;
    }
    this.b = b;
    this.start = off;
    this.end = end;
    this.l4Offset = l4;
    this.l4HeaderLength = 0;
    this.payloadOffset = l4;
    this.payloadEnd = end;
    this.version = v;
    if (this.isLaterFragment) return DropReason.None;
    const avail = end - l4;
    switch (this.protocol) {
      case IPPROTO_TCP: {
        // An ICMP error quotes only 8 bytes of the transport header (RFC 792): enough for ports.
        if (lenient && avail >= 8 && avail < 20) {
          this.tcp.at(b, l4);
          this.l4HeaderLength = avail;
          break;
        }
        const r = this.tcp.check(b, l4, avail);
        if (r) return this.fail(r);
        this.l4HeaderLength = this.tcp.headerLength;
        break;
      }
      case IPPROTO_UDP: {
        const r = this.udp.check(b, l4, avail, lenient || this.isFragment);
        if (r) return this.fail(r);
        this.l4HeaderLength = 8;
        if (!this.isFragment) this.payloadEnd = Math.min(end, l4 + this.udp.length);
        break;
      }
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6: {
        const r = this.icmp.check(b, l4, avail, this.protocol === IPPROTO_ICMPV6);
        if (r) return this.fail(r);
        this.l4HeaderLength = 8;
        break;
      }
    }
    this.payloadOffset = l4 + this.l4HeaderLength;
    return DropReason.None;
  }

  private fail(r: DropReason): DropReason {
    this.version = 0;
    return r;
  }

  get length(): number {
    return this.end - this.start;
  }
  get l4Length(): number {
    return this.end - this.l4Offset;
  }
  get payloadLength(): number {
    return this.payloadEnd - this.payloadOffset;
  }
  get isTcp(): boolean {
    return this.protocol === IPPROTO_TCP && this.l4HeaderLength > 0;
  }
  get isUdp(): boolean {
    return this.protocol === IPPROTO_UDP && this.l4HeaderLength > 0;
  }
  get isIcmp(): boolean {
    return (this.protocol === IPPROTO_ICMP || this.protocol === IPPROTO_ICMPV6) && this.l4HeaderLength > 0;
  }
  /** Source port (TCP/UDP) or ICMP echo identifier; 0 otherwise. */
  get srcPort(): number {
    if (this.isTcp) return this.tcp.srcPort;
    if (this.isUdp) return this.udp.srcPort;
    if (this.isIcmp && this.icmp.isEcho) return this.icmp.identifier;
    return 0;
  }
  get dstPort(): number {
    if (this.isTcp) return this.tcp.dstPort;
    if (this.isUdp) return this.udp.dstPort;
    if (this.isIcmp && this.icmp.isEcho) return this.icmp.identifier;
    return 0;
  }
  get ttl(): number {
    return this.version === 4 ? this.ip4.ttl : this.ip6.hopLimit;
  }

  /** Absolute offset of the transport checksum field, or -1 when there is none. */
  get l4ChecksumOffset(): number {
    if (this.l4HeaderLength === 0 || this.isFragment) return -1;
    if (this.protocol === IPPROTO_TCP) return this.l4Offset + 16;
    if (this.protocol === IPPROTO_UDP) return this.l4Offset + 6;
    return this.l4Offset + 2;
  }

  /** Pseudo-header sum for this packet's transport with the given L4 length (0 for ICMPv4). */
  pseudoSum(l4Length = this.l4Length, protocol = this.protocol): number {
    if (protocol === IPPROTO_ICMP) return 0;
    if (this.version === 4) return pseudoSumV4(this.ip4.src, this.ip4.dst, protocol, l4Length);
    return pseudoSumV6(this.b, this.ip6.srcOffset, this.ip6.dstOffset, protocol, l4Length);
  }

  /** The transport checksum recomputed from scratch (the stored field counted as zero). */
  computeL4Checksum(): number {
    const at = this.l4ChecksumOffset;
    if (at < 0) return 0;
    const stored = (this.b[at] << 8) | this.b[at + 1];
    const sum = this.pseudoSum() + onesSum(this.b, this.l4Offset, this.l4Length) + (~stored & 0xffff);
    const c = finish(sum);
    // RFC 768: a computed zero is sent as all ones; zero means "no checksum".
    return this.protocol === IPPROTO_UDP && c === 0 ? 0xffff : c;
  }

  updateL4Checksum(): void {
    const at = this.l4ChecksumOffset;
    if (at < 0) return;
    const c = this.computeL4Checksum();
    this.b[at] = c >>> 8;
    this.b[at + 1] = c;
  }

  /** True when the transport checksum verifies (or is absent: IPv4 UDP with checksum 0). */
  l4ChecksumValid(): boolean {
    const at = this.l4ChecksumOffset;
    if (at < 0) return true;
    if (this.protocol === IPPROTO_UDP && this.version === 4 && this.udp.checksum === 0) return true;
    return finish(this.pseudoSum() + onesSum(this.b, this.l4Offset, this.l4Length)) === 0;
  }

  /** Set the IP length fields for a packet that now ends at `newEnd`, patching the IPv4 checksum. */
  setEnd(newEnd: number): void {
    const len = newEnd - this.start;
    if (this.version === 4) this.ip4.setTotalLength(len);
    else this.ip6.payloadLength = len - 40;
    if (this.protocol === IPPROTO_UDP && this.l4HeaderLength > 0 && !this.isFragment)
      this.udp.length = newEnd - this.l4Offset;
    this.payloadEnd += newEnd - this.end;
    this.end = newEnd;
  }
}

/** A packet's source address (allocates: for first packets and control, not the fast path). */
export function packetSource(pkt: IpPacket): IpAddress {
  return pkt.version === 4 ? { version: 4, v4: pkt.ip4.src } : { version: 6, v6: pkt.ip6.srcBytes() };
}

export function packetDestination(pkt: IpPacket): IpAddress {
  return pkt.version === 4 ? { version: 4, v4: pkt.ip4.dst } : { version: 6, v6: pkt.ip6.dstBytes() };
}
