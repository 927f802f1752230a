import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { draftPcap } from '../../scripts/make-draft-pcap.js';
import { ipv4ToString } from '../../src/base/address.js';
import { asciiBytes } from '../../src/base/bytes.js';
import { DropReason } from '../../src/base/drop-reason.js';
import { PacketBuffer } from '../../src/base/packet-buffer.js';
import { HmacKey, hmacWindow } from '../../src/crypto/hmac.js';
import { AesCbcMetadataCipher } from '../../src/crypto/metadata-cipher.js';
import { verifyAndStripSignature } from '../../src/crypto/packet-signature.js';
import {
  draftExamplePackets,
  draftForwardMetadata,
  draftReverseMetadata,
  EXAMPLE,
} from '../../src/fixtures/draft-example.js';
import { readCapture } from '../../src/pcap/pcap.js';
import { decodeMetadata, encodeMetadataBlock, findTlv } from '../../src/wire/metadata/block.js';
import { removeMetadata } from '../../src/wire/metadata/insert.js';
import { checkRequiredTlvs } from '../../src/wire/metadata/required.js';
import { TlvType } from '../../src/wire/metadata/tlv.js';
import { IpPacket } from '../../src/wire/packet.js';

const cipher = new AesCbcMetadataCipher(EXAMPLE.cipherKey);
const key = new HmacKey('sha256-128', EXAMPLE.hmacKey);

test('[R-3.7-a] 3.7.1.7 / 3.7.1.8: forward metadata of the example is 34 header + 119 payload bytes, a 178-byte block', () => {
  const clear = encodeMetadataBlock(draftForwardMetadata());
  assert.equal(((clear[8] & 0x0f) << 8) | clear[9], 34);
  assert.equal((clear[10] << 8) | clear[11], 119);
  const block = encodeMetadataBlock(draftForwardMetadata(), cipher);
  assert.equal(block.length, 178, '34 + 119 + 9 padding + 16 IV');
});

test('3.7.4: reverse metadata of the example is 34 header + 43 payload bytes, a 98-byte block', () => {
  const clear = encodeMetadataBlock(draftReverseMetadata());
  assert.equal(((clear[8] & 0x0f) << 8) | clear[9], 34);
  assert.equal((clear[10] << 8) | clear[11], 43);
  assert.equal(encodeMetadataBlock(draftReverseMetadata(), cipher).length, 98, '34 + 43 + 5 padding + 16 IV');
});

test('the example session on the wire: waypoints, wayports, metadata on SYN and SYN/ACK only, valid HMAC on all', () => {
  const packets = draftExamplePackets();
  const withMd: number[] = [];
  for (const [i, ep] of packets.entries()) {
    const pb = PacketBuffer.from(ep.bytes, 0, 0);
    const p = new IpPacket();
    assert.equal(p.parse(pb.data, pb.start, pb.length), DropReason.None);
    const addrs = [ipv4ToString(p.ip4.src), ipv4ToString(p.ip4.dst)].sort();
    assert.deepEqual(addrs, ['203.0.113.1', '203.0.113.89'], 'only waypoint addresses on the wire');
    assert.deepEqual([p.srcPort, p.dstPort].sort(), [8000, 8001]);
    assert.ok(p.ip4.checksumValid() && p.l4ChecksumValid());
    assert.equal(
      verifyAndStripSignature(pb, p, key, hmacWindow(ep.timestampMs)),
      DropReason.None,
      `packet ${i} HMAC`,
    );
    const md = decodeMetadata(p.b, p.payloadOffset, p.end, cipher);
    if (typeof md === 'object' && md.tlvs.length > 0) withMd.push(i);
  }
  assert.deepEqual(withMd, [0, 1]);
});

test('[R-3.7-a] the West router removes metadata from the SYN and finds the draft values', () => {
  const syn = draftExamplePackets()[0];
  const pb = PacketBuffer.from(syn.bytes, 0, 0);
  const p = new IpPacket();
  p.parse(pb.data, 0, pb.length);
  assert.equal(p.srcPort % 2, 0, 'ingress picks an even source port');
  assert.equal(p.dstPort % 2, 1, 'and an odd destination port');
  assert.equal(verifyAndStripSignature(pb, p, key, hmacWindow(syn.timestampMs)), DropReason.None);
  const md = decodeMetadata(p.b, p.payloadOffset, p.end, cipher);
  assert.ok(typeof md === 'object');
  assert.equal(checkRequiredTlvs(md, 'forward'), DropReason.None);
  assert.equal(findTlv(md, TlvType.TenantName)?.name, 'engineering');
  assert.equal(findTlv(md, TlvType.ServiceName)?.name, 'github');
  assert.equal(findTlv(md, TlvType.SourceRouterName)?.name, 'East Router');
  assert.deepEqual(findTlv(md, TlvType.SessionUuid)?.uuid, asciiBytes('ABCDEFGHIJKLMNOP'));
  const ctx = findTlv(md, TlvType.ForwardContextV4);
  assert.equal(ipv4ToString(ctx?.destination ?? 0), '172.15.11.23');
  assert.equal(ctx?.destinationPort, 22);
  assert.equal(findTlv(md, TlvType.SecurityIdentifier)?.securityId, 1);
  assert.equal(removeMetadata(pb, p, md.blockLength), DropReason.None);
  assert.equal(p.payloadLength, 0, 'the SYN carries no payload once metadata is gone');
  assert.ok(p.l4ChecksumValid());
});

test('examples/draft-3.7-handshake.pcap is exactly what the code generates', () => {
  const file = readFileSync(new URL('../../../examples/draft-3.7-handshake.pcap', import.meta.url));
  assert.deepEqual(
    new Uint8Array(file),
    draftPcap(),
    'regenerate with: node dist/scripts/make-draft-pcap.js',
  );
  const cap = readCapture(file);
  assert.ok(typeof cap === 'object');
  assert.equal(cap.records.length, 5);
});
