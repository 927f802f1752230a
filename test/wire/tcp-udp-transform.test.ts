import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DropReason } from '../../src/base/drop-reason.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/protocol.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import { tcpToUdp, udpToTcp } from '../../src/wire/tcp-udp-transform.js';
import { assertChecksumsValid, flowPacket, parse } from '../../testlib/packets.js';

test('[R-4.2.7-a] TCP becomes UDP: protocol 17, sequence number parked in bytes 16-19 (D-11)', () => {
  const pb = flowPacket({ flags: TCP_SYN, options: Uint8Array.of(2, 4, 5, 0xb4) });
  const p = parse(pb);
  const seq = p.tcp.seq;
  assert.equal(tcpToUdp(p), DropReason.None);
  assert.equal(p.protocol, IPPROTO_UDP);
  assert.ok(p.isUdp);
  assert.equal(p.udp.length, p.end - p.l4Offset);
  const l4 = p.l4Offset;
  assert.equal(((p.b[l4 + 16] << 24) | (p.b[l4 + 17] << 16) | (p.b[l4 + 18] << 8) | p.b[l4 + 19]) >>> 0, seq);
  assert.equal(p.b[l4 + 13], TCP_SYN, 'flags untouched');
  assertChecksumsValid(p, 'transformed');
});

test('[R-4.6.3-c] [R-4.6.3-d] UDP becomes TCP again: protocol 6, sequence restored, urgent pointer 0, checksum recomputed', () => {
  for (const v6 of [false, true]) {
    const pb = flowPacket({
      v6,
      flags: TCP_ACK | TCP_PSH,
      payload: new TextEncoder().encode('payload bytes'),
    });
    const before = pb.copy();
    const p = parse(pb);
    tcpToUdp(p);
    assert.equal(udpToTcp(p), DropReason.None);
    assert.equal(p.protocol, IPPROTO_TCP);
    assertChecksumsValid(p, 'restored');
    // Everything comes back as it was (the builder's urgent pointer is 0 already).
    assert.deepEqual(pb.copy(), before);
  }
});

test('transformation needs the right protocol and a sane carried header', () => {
  const udp = parse(flowPacket({ protocol: 'udp' }));
  assert.equal(tcpToUdp(udp), DropReason.NotTcp);
  const tcp = parse(flowPacket());
  assert.equal(udpToTcp(tcp), DropReason.NotUdp);
  const garbage = parse(flowPacket({ protocol: 'udp', payload: new Uint8Array(20) }));
  assert.equal(udpToTcp(garbage), DropReason.TcpBadDataOffset);
});

test('round trip for any payload and sequence number', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (payload, v6) => {
      const pb = flowPacket({ payload, v6 });
      const before = pb.copy();
      const p = parse(pb);
      return (
        tcpToUdp(p) === 0 && p.l4ChecksumValid() && udpToTcp(p) === 0 && Buffer.from(pb.copy()).equals(before)
      );
    }),
    { numRuns: 300 },
  );
});
