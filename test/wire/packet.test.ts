import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpv6 } from '../../src/base/address.js';
import { DropReason } from '../../src/base/drop-reason.js';
import { buildPacket, buildPacketBuffer } from '../../src/wire/builder.js';
import { ICMP4_DEST_UNREACHABLE, ICMP4_ECHO_REQUEST, ICMP6_ECHO_REPLY } from '../../src/wire/icmp.js';
import { IpPacket } from '../../src/wire/packet.js';
import { IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_UDP } from '../../src/wire/protocol.js';
import { TCP_ACK, TCP_SYN, tcpFlagNames } from '../../src/wire/tcp.js';
import { assertChecksumsValid, hex, parseBytes } from '../../testlib/packets.js';

test('IPv4 + TCP: every header field reads back as built, options left intact', () => {
  const options = Uint8Array.of(2, 4, 0x05, 0xb4, 1, 3, 3, 7);
  const b = buildPacket({
    src: '10.0.1.1',
    dst: '172.15.11.23',
    ttl: 61,
    tos: 0xb8,
    identification: 0x1234,
    dontFragment: true,
    ipOptions: Uint8Array.of(1, 1, 1, 0), // NOPs and end of list
    l4: {
      protocol: 'tcp',
      srcPort: 6969,
      dstPort: 22,
      seq: 0xfffffff0,
      ack: 7,
      flags: TCP_SYN | TCP_ACK,
      window: 1234,
      options,
    },
    payload: new Uint8Array([1, 2, 3]),
  });
  const p = parseBytes(b);
  assert.equal(p.version, 4);
  assert.equal(p.ip4.headerLength, 24);
  assert.equal(p.ip4.optionsLength, 4);
  assert.equal(p.ip4.totalLength, b.length);
  assert.equal(p.ip4.ttl, 61);
  assert.equal(p.ip4.dscp, 0xb8 >> 2);
  assert.equal(p.ip4.identification, 0x1234);
  assert.ok(p.ip4.dontFragment && !p.ip4.moreFragments && !p.isFragment);
  assert.equal(p.ip4.src, 0x0a000101);
  assert.equal(p.ip4.dst, 0xac0f0b17);
  assert.ok(p.isTcp);
  assert.equal(p.tcp.srcPort, 6969);
  assert.equal(p.tcp.dstPort, 22);
  assert.equal(p.tcp.seq, 0xfffffff0);
  assert.equal(p.tcp.ack, 7);
  assert.deepEqual(tcpFlagNames(p.tcp.flags), ['SYN', 'ACK']);
  assert.equal(p.tcp.window, 1234);
  assert.equal(p.tcp.headerLength, 28);
  assert.deepEqual(b.subarray(p.tcp.optionsOffset, p.tcp.optionsOffset + 8), options);
  assert.equal(p.payloadLength, 3);
  assert.equal(p.srcPort, 6969);
  assertChecksumsValid(p);
});

test('IPv4 checks: truncation, version, IHL and total length each have a reason', () => {
  const good = buildPacket({
    src: '192.0.2.1',
    dst: '192.0.2.2',
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
  });
  const p = new IpPacket();
  assert.equal(p.parse(good, 0, 10), DropReason.Ipv4Truncated);
  const v = good.slice();
  v[0] = 0x55;
  assert.equal(p.parse(v, 0, v.length), DropReason.NotIp);
  const ihl = good.slice();
  ihl[0] = 0x44;
  assert.equal(p.parse(ihl, 0, ihl.length), DropReason.Ipv4BadHeaderLength);
  const tl = good.slice();
  tl[3] = 200;
  assert.equal(p.parse(tl, 0, tl.length), DropReason.Ipv4BadTotalLength);
  const ck = good.slice();
  ck[10] ^= 1;
  assert.equal(p.parse(ck, 0, ck.length), DropReason.None);
  assert.equal(p.ip4.checksumValid(), false);
  // Link-layer padding after the packet is not part of it.
  const padded = new Uint8Array(good.length + 6);
  padded.set(good);
  assert.equal(p.parse(padded, 0, padded.length), DropReason.None);
  assert.equal(p.end, good.length);
});

test('IPv4 fragments: flags and offset; later fragments carry no transport header', () => {
  const first = buildPacket({
    src: '192.0.2.1',
    dst: '192.0.2.2',
    moreFragments: true,
    identification: 9,
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
    payload: new Uint8Array(16),
  });
  const p = parseBytes(first);
  assert.ok(p.isFragment && !p.isLaterFragment && p.ip4.moreFragments);
  assert.ok(p.isUdp);
  const later = buildPacket({
    src: '192.0.2.1',
    dst: '192.0.2.2',
    fragmentOffset: 3,
    identification: 9,
    l4: { protocol: IPPROTO_UDP },
    payload: new Uint8Array(5),
  });
  const q = parseBytes(later);
  assert.ok(q.isFragment && q.isLaterFragment);
  assert.equal(q.ip4.fragmentOffset, 3);
  assert.equal(q.l4HeaderLength, 0);
  assert.equal(q.srcPort, 0);
  assert.equal(q.l4ChecksumOffset, -1);
});

test('IPv6: the extension chain is walked to the transport header', () => {
  const base = buildPacket({
    src: '2001:db8::1',
    dst: '2001:db8::2',
    l4: { protocol: 'udp', srcPort: 53, dstPort: 5353 },
    payload: new Uint8Array(4),
  });
  // Insert hop-by-hop (8 bytes) and routing (8 bytes) headers between IPv6 and UDP.
  const ext = hex('2b00010400000000' + '1100000000000000'); // HBH next=43; routing next=17
  const b = new Uint8Array(base.length + ext.length);
  b.set(base.subarray(0, 40));
  b.set(ext, 40);
  b.set(base.subarray(40), 56);
  b[6] = IPPROTO_HOPOPTS;
  b[4] = 0;
  b[5] = base.length - 40 + ext.length;
  const p = parseBytes(b);
  assert.equal(p.version, 6);
  assert.equal(p.ip6.extensionCount, 2);
  assert.equal(p.protocol, IPPROTO_UDP);
  assert.equal(p.l4Offset, 56);
  assert.equal(p.protocolFieldOffset, 48);
  assert.equal(b[p.protocolFieldOffset], IPPROTO_UDP);
  assert.equal(p.udp.dstPort, 5353);
  assert.ok(p.l4ChecksumValid(), 'the pseudo-header does not include extension headers');
  void IPPROTO_ROUTING;
});

test('IPv6 fragment header: first fragment parses L4, later ones do not', () => {
  const base = buildPacket({
    src: '2001:db8::1',
    dst: '2001:db8::2',
    l4: { protocol: 'udp', srcPort: 7, dstPort: 9 },
    payload: new Uint8Array(8),
  });
  const mk = (offset: number, more: boolean) => {
    const b = new Uint8Array(base.length + 8);
    b.set(base.subarray(0, 40));
    b[6] = IPPROTO_FRAGMENT;
    b[40] = IPPROTO_UDP;
    b[42] = (offset << 3) >> 8;
    b[43] = ((offset << 3) & 0xf8) | (more ? 1 : 0);
    b.set(hex('deadbeef'), 44);
    b.set(base.subarray(40), 48);
    b[5] = base.length - 40 + 8;
    return b;
  };
  const first = parseBytes(mk(0, true));
  assert.ok(first.isFragment && !first.isLaterFragment && first.ip6.moreFragments);
  assert.equal(first.ip6.fragmentIdentification, 0xdeadbeef);
  assert.ok(first.isUdp);
  const later = parseBytes(mk(2, false));
  assert.ok(later.isLaterFragment);
  assert.equal(later.ip6.fragmentOffset, 2);
  assert.equal(later.l4HeaderLength, 0);
});

test('IPv6 checks: truncated extension headers and absurd chains are refused', () => {
  const b = new Uint8Array(40 + 8 * 20);
  b[0] = 0x60;
  b[5] = 8 * 20;
  b[6] = IPPROTO_HOPOPTS;
  for (let i = 0; i < 20; i++) b[40 + 8 * i] = i < 19 ? 60 : 59; // dest options chain
  const p = new IpPacket();
  assert.equal(p.parse(b, 0, b.length), DropReason.Ipv6ExtensionChainTooLong);
  const t = new Uint8Array(44);
  t[0] = 0x60;
  t[5] = 4;
  t[6] = IPPROTO_HOPOPTS;
  t[41] = 3; // 32 bytes claimed, 4 present
  assert.equal(p.parse(t, 0, t.length), DropReason.Ipv6ExtensionTruncated);
  const short = new Uint8Array(40);
  short[0] = 0x60;
  short[5] = 10;
  assert.equal(p.parse(short, 0, 40), DropReason.Ipv6BadPayloadLength);
});

test('TCP and UDP checks: truncated headers and bad lengths', () => {
  const p = new IpPacket();
  const tcp = buildPacket({
    src: '192.0.2.1',
    dst: '192.0.2.2',
    l4: { protocol: 'tcp', srcPort: 1, dstPort: 2 },
  });
  const doff = tcp.slice();
  doff[32] = 0x40; // data offset 4
  assert.equal(p.parse(doff, 0, doff.length), DropReason.TcpBadDataOffset);
  const big = tcp.slice();
  big[32] = 0xf0; // 60 bytes claimed in a 20-byte segment
  assert.equal(p.parse(big, 0, big.length), DropReason.TcpBadDataOffset);
  const udp = buildPacket({
    src: '192.0.2.1',
    dst: '192.0.2.2',
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
    payload: new Uint8Array(4),
  });
  const ul = udp.slice();
  ul[25] = 100;
  assert.equal(p.parse(ul, 0, ul.length), DropReason.UdpBadLength);
  const trunc = udp.slice(0, 24);
  trunc[3] = 24;
  assert.equal(p.parse(trunc, 0, trunc.length), DropReason.UdpTruncated);
});

test('ICMP echo and ICMPv6 echo: identifier stands in for ports (6.6)', () => {
  const e = parseBytes(
    buildPacket({
      src: '192.0.2.1',
      dst: '192.0.2.2',
      l4: { protocol: 'icmp', type: ICMP4_ECHO_REQUEST, identifier: 0x4242, sequence: 3 },
      payload: new Uint8Array(56),
    }),
  );
  assert.ok(e.isIcmp && e.icmp.isEcho && e.icmp.isEchoRequest && !e.icmp.isError);
  assert.equal(e.srcPort, 0x4242);
  assert.equal(e.icmp.sequence, 3);
  assertChecksumsValid(e);
  const v6 = parseBytes(
    buildPacket({
      src: '2001:db8::1',
      dst: '2001:db8::2',
      l4: { protocol: 'icmp', type: ICMP6_ECHO_REPLY, identifier: 7 },
    }),
  );
  assert.ok(v6.icmp.v6 && v6.icmp.isEcho && !v6.icmp.isEchoRequest);
  assertChecksumsValid(v6, 'ICMPv6 (pseudo-header)');
});

test('ICMP destination unreachable: the quoted header parses leniently', () => {
  const orig = buildPacket({
    src: '10.0.1.1',
    dst: '172.15.11.23',
    l4: { protocol: 'tcp', srcPort: 6969, dstPort: 22 },
    payload: new Uint8Array(100),
  });
  const quote = orig.slice(0, 28); // IP header + first 8 bytes of TCP, as RFC 792 quotes
  const err = parseBytes(
    buildPacket({
      src: '192.0.2.254',
      dst: '10.0.1.1',
      l4: { protocol: 'icmp', type: ICMP4_DEST_UNREACHABLE, code: 1, restOfHeader: 0 },
      payload: quote,
    }),
  );
  assert.ok(err.icmp.isError);
  const q = new IpPacket();
  const qlen = err.end - err.icmp.quotedOffset;
  // Strictly, the quoted packet claims 148 bytes and has 28.
  assert.equal(q.parse(err.b, err.icmp.quotedOffset, qlen), DropReason.Ipv4BadTotalLength);
  // Leniently, 8 bytes of TCP are enough for the ports even though the header is cut.
  assert.equal(q.parse(err.b, err.icmp.quotedOffset, qlen, true), DropReason.None);
  assert.equal(q.ip4.src, 0x0a000101);
  assert.equal(q.srcPort, 6969);
  assert.equal(q.dstPort, 22);
  assert.equal(q.parse(err.b, err.icmp.quotedOffset, 20, true), DropReason.TcpTruncated);
});

test('unknown protocols and non-IP bytes', () => {
  const gre = parseBytes(
    buildPacket({ src: '192.0.2.1', dst: '192.0.2.2', l4: { protocol: 47 }, payload: new Uint8Array(12) }),
  );
  assert.equal(gre.l4HeaderLength, 0);
  assert.equal(gre.payloadLength, 12);
  const p = new IpPacket();
  assert.equal(p.parse(new Uint8Array([0x00]), 0, 1), DropReason.NotIp);
  assert.equal(p.parse(new Uint8Array(0), 0, 0), DropReason.NotIp);
});

test('builder: IPv6 addresses and flow label; a packet in a buffer with room around it', () => {
  const pb = buildPacketBuffer(
    {
      src: '2001:db8::a',
      dst: '2001:db8::b',
      flowLabel: 0xabcde,
      tos: 0x10,
      l4: { protocol: 'tcp', srcPort: 1, dstPort: 2, flags: TCP_ACK },
    },
    100,
    30,
  );
  assert.equal(pb.headroom, 100);
  assert.equal(pb.tailroom, 30);
  const p = new IpPacket();
  assert.equal(p.parse(pb.data, pb.start, pb.length), 0);
  assert.equal(p.ip6.flowLabel, 0xabcde);
  assert.equal(p.ip6.trafficClass, 0x10);
  assert.deepEqual(p.ip6.srcBytes(), parseIpv6('2001:db8::a'));
  assert.throws(
    () => buildPacket({ src: '2001:db8::a', dst: '192.0.2.1', l4: { protocol: 6 } }),
    /different IP versions/,
  );
});
