import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DropReason } from '../../src/base/drop-reason.js';
import { AesCbcMetadataCipher } from '../../src/crypto/metadata-cipher.js';
import { draftForwardMetadata } from '../../src/fixtures/draft-example.js';
import { decodeMetadata, METADATA_COOKIE } from '../../src/wire/metadata/block.js';
import {
  FALSE_POSITIVE_HEADER,
  falsePositiveMatchesEncoder,
  insertMetadata,
  payloadHasCookie,
  protectFalsePositive,
  removeMetadata,
} from '../../src/wire/metadata/insert.js';
import { TlvType } from '../../src/wire/metadata/tlv.js';
import { TCP_SYN } from '../../src/wire/tcp.js';
import { assertChecksumsValid, flowPacket, parse } from '../../testlib/packets.js';

const cipher = new AesCbcMetadataCipher(new Uint8Array(32).fill(7));

test('[R-4.2.1-a] [R-4.2.1-e] [R-4.2.5-a] [R-4.2.5-b] [R-4.2.5-c] [R-4.2.5-d] metadata sits directly after the L4 header with every length and checksum fixed', () => {
  for (const v6 of [false, true])
    for (const protocol of ['tcp', 'udp'] as const) {
      const payload = new TextEncoder().encode('original payload');
      const pb = flowPacket({
        v6,
        protocol,
        payload,
        options: protocol === 'tcp' ? Uint8Array.of(2, 4, 5, 0xb4) : undefined,
      });
      const p = parse(pb);
      const l4hl = p.l4HeaderLength;
      const oldLen = p.length;
      assert.equal(insertMetadata(pb, p, draftForwardMetadata(), cipher), DropReason.None);
      assert.equal(p.length, oldLen + 178);
      assert.equal(p.l4HeaderLength, l4hl);
      assert.ok(payloadHasCookie(p), 'cookie right after the transport header');
      if (protocol === 'udp') assert.equal(p.udp.length, p.end - p.l4Offset);
      if (!v6) assert.equal(p.ip4.totalLength, p.length);
      else assert.equal(p.ip6.payloadLength, p.length - 40);
      assertChecksumsValid(p, `${v6 ? 'v6' : 'v4'} ${protocol}`);
      const md = decodeMetadata(p.b, p.payloadOffset, p.end, cipher);
      assert.ok(typeof md === 'object');
      assert.deepEqual(
        p.b.subarray(p.payloadOffset + md.blockLength, p.end),
        payload,
        'payload moved down intact',
      );
    }
});

test('[R-4.2.1-a] a full-size packet still gets its metadata, past any MTU', () => {
  const pb = flowPacket({ payload: new Uint8Array(1460).fill(0x5a), headroom: 0, tailroom: 400 });
  const p = parse(pb);
  assert.equal(insertMetadata(pb, p, draftForwardMetadata(), cipher), DropReason.None);
  assert.equal(p.length, 40 + 1460 + 178);
  assertChecksumsValid(p);
});

test('[R-4.2.1-f] [R-4.2.5-e] TCP sequence and acknowledgement numbers are not touched', () => {
  const pb = flowPacket({ flags: TCP_SYN });
  const p = parse(pb);
  const seq = p.tcp.seq;
  const ack = p.tcp.ack;
  insertMetadata(pb, p, draftForwardMetadata(), cipher);
  assert.equal(p.tcp.seq, seq);
  assert.equal(p.tcp.ack, ack);
});

test('insertion uses headroom (headers move) or tailroom (payload moves), and refuses cleanly with neither', () => {
  const head = flowPacket({ headroom: 200, tailroom: 0 });
  const h = parse(head);
  const start = head.start;
  assert.equal(insertMetadata(head, h, draftForwardMetadata(), cipher), DropReason.None);
  assert.equal(head.start, start - 178, 'headers moved into the headroom');
  assertChecksumsValid(h);
  const tail = flowPacket({ headroom: 0, tailroom: 200 });
  const t = parse(tail);
  assert.equal(insertMetadata(tail, t, draftForwardMetadata(), cipher), DropReason.None);
  assert.equal(tail.start, 0, 'payload moved into the tailroom');
  assertChecksumsValid(t);
  const none = flowPacket({ headroom: 10, tailroom: 10 });
  const before = none.copy();
  assert.equal(insertMetadata(none, parse(none), draftForwardMetadata(), cipher), DropReason.NoRoomInBuffer);
  assert.deepEqual(none.copy(), before, 'a refused insert leaves the packet alone');
});

test('[R-4.6.2.2-f] [R-2.5-a] removing the block restores the original packet byte for byte', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }),
      fc.boolean(),
      fc.boolean(),
      fc.boolean(),
      (payload, v6, udp, encrypt) => {
        const pb = flowPacket({
          payload,
          v6,
          protocol: udp ? 'udp' : 'tcp',
          headroom: encrypt ? 300 : 0,
          tailroom: 300,
        });
        const original = pb.copy();
        const p = parse(pb);
        insertMetadata(pb, p, draftForwardMetadata(), encrypt ? cipher : undefined);
        const md = decodeMetadata(p.b, p.payloadOffset, p.end, encrypt ? cipher : undefined);
        if (typeof md === 'number') return false;
        return (
          removeMetadata(pb, p, md.blockLength) === DropReason.None &&
          Buffer.from(pb.copy()).equals(original) &&
          p.l4ChecksumValid()
        );
      },
    ),
    { numRuns: 300 },
  );
  const plain = parse(flowPacket());
  assert.equal(removeMetadata(flowPacket(), plain, 12), DropReason.MetadataNotPresent);
});

test('[R-4.2.6-b] [R-4.2.6-c] a mid-session payload starting with the cookie gets a 12-byte empty header, stripped on receipt', () => {
  assert.equal(FALSE_POSITIVE_HEADER.length, 12);
  assert.ok(falsePositiveMatchesEncoder());
  const payload = new Uint8Array(30);
  payload.set(METADATA_COOKIE);
  const pb = flowPacket({ payload });
  const original = pb.copy();
  const p = parse(pb);
  assert.equal(protectFalsePositive(pb, p), true);
  assert.equal(p.payloadLength, 42);
  assertChecksumsValid(p);
  const md = decodeMetadata(p.b, p.payloadOffset, p.end);
  assert.ok(typeof md === 'object' && md.tlvs.length === 0 && md.blockLength === 12);
  assert.equal(removeMetadata(pb, p, md.blockLength), DropReason.None);
  assert.deepEqual(pb.copy(), original, 'the application gets its cookie-like bytes back');
  // Payloads that do not start with the cookie are left alone.
  const other = flowPacket();
  assert.equal(protectFalsePositive(other, parse(other)), false);
});

test('[R-4.2.6-a] first-packet metadata goes in front of a cookie-like payload, so no false positive arises', () => {
  const payload = new Uint8Array(20);
  payload.set(METADATA_COOKIE);
  const pb = flowPacket({ payload });
  const p = parse(pb);
  insertMetadata(pb, p, { tlvs: [{ type: TlvType.SecurityIdentifier, securityId: 1 }] });
  const md = decodeMetadata(p.b, p.payloadOffset, p.end);
  assert.ok(typeof md === 'object');
  assert.equal(md.blockLength, 20);
  assert.deepEqual(p.b.subarray(p.payloadOffset + 20, p.payloadOffset + 28), METADATA_COOKIE);
});

test('[R-4.5.1-f] fragments and non-TCP/UDP packets get no metadata or signature until reassembled (6.5)', async () => {
  const { buildPacketBuffer } = await import('../../src/wire/builder.js');
  const { HmacKey } = await import('../../src/crypto/hmac.js');
  const { signPacket, checkPacketSignature } = await import('../../src/crypto/packet-signature.js');
  const frag = buildPacketBuffer({
    src: '192.0.2.1',
    dst: '192.0.2.2',
    moreFragments: true,
    l4: { protocol: 'udp', srcPort: 1, dstPort: 2 },
    payload: new Uint8Array(16),
  });
  const p = parse(frag);
  assert.equal(insertMetadata(frag, p, draftForwardMetadata()), DropReason.FragmentNeedsReassembly);
  const key = new HmacKey('sha256', new Uint8Array(4));
  assert.equal(signPacket(frag, p, key, 1), DropReason.FragmentNeedsReassembly);
  assert.equal(checkPacketSignature(p, key, 1).reason, DropReason.FragmentNeedsReassembly);
  const gre = buildPacketBuffer({
    src: '192.0.2.1',
    dst: '192.0.2.2',
    l4: { protocol: 47 },
    payload: new Uint8Array(16),
  });
  assert.equal(insertMetadata(gre, parse(gre), draftForwardMetadata()), DropReason.UnsupportedProtocol);
});
