import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DropReason } from '../../src/base/drop-reason.js';
import { HmacKey, WindowTracker } from '../../src/crypto/hmac.js';
import {
  checkPacketSignature,
  signPacket,
  verifyAndStripSignature,
} from '../../src/crypto/packet-signature.js';
import { IPPROTO_TCP } from '../../src/wire/protocol.js';
import { Translation } from '../../src/wire/translation.js';
import { assertChecksumsValid, flowPacket, parse } from '../../testlib/packets.js';

const KEY = new HmacKey('sha256-128', new Uint8Array(32).fill(0x42));

test('[R-4.5.1-i] [R-4.2.5-c] [R-4.2.5-d] the signature goes at the very end; lengths and checksums stay valid', () => {
  for (const v6 of [false, true])
    for (const protocol of ['tcp', 'udp'] as const) {
      const pb = flowPacket({ v6, protocol });
      const before = pb.length;
      const p = parse(pb);
      assert.equal(signPacket(pb, p, KEY, 12345), DropReason.None);
      assert.equal(pb.length, before + 16);
      assert.equal(p.length, before + 16);
      if (protocol === 'udp')
        assert.equal(p.udp.length, p.end - p.l4Offset, 'UDP length covers the signature');
      assertChecksumsValid(p, `${v6 ? 'v6' : 'v4'} ${protocol} signed`);
      // Re-parse from scratch: a receiver sees an ordinary valid packet.
      assertChecksumsValid(parse(pb), 'reparsed');
    }
});

test('[R-4.5.2-a] [R-4.5.2-g] [R-4.5.2-h] [R-4.5.2-i] verify and remove: the original packet comes back byte for byte', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 300 }),
      fc.boolean(),
      fc.boolean(),
      fc.constantFrom('sha1', 'sha256-128', 'sha256' as const),
      (payload, v6, udp, method) => {
        const key = new HmacKey(method, new Uint8Array([1, 2, 3]));
        const pb = flowPacket({ payload, v6, protocol: udp ? 'udp' : 'tcp' });
        const original = pb.copy();
        const p = parse(pb);
        signPacket(pb, p, key, 77);
        if (!p.l4ChecksumValid()) return false;
        const r = verifyAndStripSignature(pb, p, key, 77, new WindowTracker());
        return r === DropReason.None && Buffer.from(pb.copy()).equals(original) && p.l4ChecksumValid();
      },
    ),
    { numRuns: 300 },
  );
});

test('[D-1] the signature covers the L4 payload only: a NAT may rewrite addresses, ports and checksums', () => {
  const pb = flowPacket();
  const p = parse(pb);
  signPacket(pb, p, KEY, 5);
  Translation.ipv4(
    IPPROTO_TCP,
    { src: p.ip4.src, dst: p.ip4.dst, srcPort: p.srcPort, dstPort: p.dstPort },
    { src: 0xc6336402, dst: p.ip4.dst, srcPort: 40001, dstPort: p.dstPort },
    true,
  ).apply(p);
  assert.equal(checkPacketSignature(p, KEY, 5).reason, DropReason.None);
});

test('[R-2.10-b] [R-1.3-a] any change to the signed bytes, a wrong key or a stale window is refused', () => {
  const pb = flowPacket({ payload: new Uint8Array(40).fill(1) });
  const p = parse(pb);
  signPacket(pb, p, KEY, 100);
  assert.equal(checkPacketSignature(p, KEY, 100).reason, DropReason.None);
  p.b[p.payloadOffset + 3] ^= 1;
  assert.equal(checkPacketSignature(p, KEY, 100).reason, DropReason.HmacMismatch);
  p.b[p.payloadOffset + 3] ^= 1;
  assert.equal(
    checkPacketSignature(p, new HmacKey('sha256-128', new Uint8Array(32)), 100).reason,
    DropReason.HmacMismatch,
  );
  assert.equal(checkPacketSignature(p, KEY, 103).reason, DropReason.HmacMismatch);
  assert.equal(
    checkPacketSignature(p, KEY, undefined).reason,
    DropReason.HmacMismatch,
    'plain HMAC differs from time-based',
  );
  const tiny = parse(flowPacket({ payload: new Uint8Array(3) }));
  assert.equal(checkPacketSignature(tiny, KEY, 1).reason, DropReason.HmacMissing);
  const full = flowPacket({ tailroom: 4 });
  assert.equal(signPacket(full, parse(full), KEY, 1), DropReason.NoRoomInBuffer);
});
