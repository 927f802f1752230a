import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIpv4, parseIpv6 } from '../../src/base/address.js';
import { buildPacketBuffer } from '../../src/wire/builder.js';
import { ICMP4_ECHO_REQUEST } from '../../src/wire/icmp.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/protocol.js';
import { Translation } from '../../src/wire/translation.js';
import { assertChecksumsValid, flowPacket, parse } from '../../testlib/packets.js';

const v4 = (s: string) => parseIpv4(s) ?? 0;
const east = v4('203.0.113.1');
const west = v4('203.0.113.89');

test('[R-4.6.4-c] [R-4.6.4-d] [R-4.6.4-e] [R-4.6.4-f] [R-4.6.4-g] fast-path rewrite to waypoints and wayports with saved deltas', () => {
  for (const protocol of ['tcp', 'udp'] as const) {
    const pb = flowPacket({ protocol });
    const p = parse(pb);
    const from = { src: p.ip4.src, dst: p.ip4.dst, srcPort: p.srcPort, dstPort: p.dstPort };
    const t = Translation.ipv4(
      protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
      from,
      { src: east, dst: west, srcPort: 8000, dstPort: 8001 },
      true,
    );
    const ttl = p.ip4.ttl;
    t.apply(p);
    assert.equal(p.ip4.src, east);
    assert.equal(p.ip4.dst, west);
    assert.equal(p.srcPort, 8000);
    assert.equal(p.dstPort, 8001);
    assert.equal(p.ip4.ttl, ttl - 1);
    assertChecksumsValid(p, `${protocol} after rewrite`);
  }
});

test('[R-4.6.4-h] [R-4.6.4-i] [R-4.6.4-j] [R-4.6.4-l] [R-4.6.4-m] egress restores the original five-tuple byte for byte', () => {
  const pb = flowPacket();
  const original = pb.copy();
  const p = parse(pb);
  const orig = { src: p.ip4.src, dst: p.ip4.dst, srcPort: p.srcPort, dstPort: p.dstPort };
  const wire = { src: east, dst: west, srcPort: 8000, dstPort: 8001 };
  Translation.ipv4(IPPROTO_TCP, orig, wire).apply(p);
  Translation.ipv4(IPPROTO_TCP, wire, orig).apply(p);
  assert.deepEqual(pb.copy(), original);
});

test('IPv6 and ICMP echo rewrites keep checksums valid; IPv4 UDP without checksum stays without', () => {
  const pb6 = flowPacket({ v6: true, protocol: 'udp' });
  const p6 = parse(pb6);
  const a = parseIpv6('2001:db8:ffff::1') ?? new Uint8Array(16);
  const b = parseIpv6('2001:db8:ffff::2') ?? new Uint8Array(16);
  Translation.ipv6(
    IPPROTO_UDP,
    { src: p6.ip6.srcBytes(), dst: p6.ip6.dstBytes(), srcPort: p6.srcPort, dstPort: p6.dstPort },
    { src: a, dst: b, srcPort: 16386, dstPort: 16387 },
    true,
  ).apply(p6);
  assert.deepEqual(p6.ip6.srcBytes(), a);
  assert.equal(p6.ip6.hopLimit, 63);
  assertChecksumsValid(p6, 'IPv6 UDP');

  const ping = buildPacketBuffer({
    src: '10.0.1.1',
    dst: '172.15.11.23',
    l4: { protocol: 'icmp', type: ICMP4_ECHO_REQUEST, identifier: 77, sequence: 1 },
    payload: new Uint8Array(56).fill(7),
  });
  const pi = parse(ping);
  Translation.ipv4(
    IPPROTO_ICMP,
    { src: pi.ip4.src, dst: pi.ip4.dst, srcPort: 77, dstPort: 77 },
    { src: east, dst: west, srcPort: 8000, dstPort: 8000 },
  ).apply(pi);
  assert.equal(pi.icmp.identifier, 8000);
  assertChecksumsValid(pi, 'ICMP echo');

  const nock = buildPacketBuffer({
    src: '10.0.1.1',
    dst: '172.15.11.23',
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2, noChecksum: true },
  });
  const pn = parse(nock);
  Translation.ipv4(
    IPPROTO_UDP,
    { src: pn.ip4.src, dst: pn.ip4.dst, srcPort: 1, dstPort: 2 },
    { src: east, dst: west, srcPort: 8000, dstPort: 8001 },
  ).apply(pn);
  assert.equal(pn.udp.checksum, 0);
  assert.ok(pn.ip4.checksumValid());
});

test('[R-4.6.4-g] one saved delta serves every packet of a session, whatever its payload', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.nat({ max: 0xffffffff }),
      fc.nat({ max: 0xffff }),
      (payload, addr, port) => {
        const pb = flowPacket({ payload });
        const p = parse(pb);
        const t = Translation.ipv4(
          IPPROTO_TCP,
          { src: p.ip4.src, dst: p.ip4.dst, srcPort: 6969, dstPort: 22 },
          { src: addr, dst: west, srcPort: port, dstPort: 8001 },
          true,
        );
        t.apply(p);
        return p.ip4.checksumValid() && p.l4ChecksumValid();
      },
    ),
    { numRuns: 500 },
  );
});
