import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DropReason } from '../../src/base/drop-reason.js';
import { AesCbcMetadataCipher, FixedBytes } from '../../src/crypto/metadata-cipher.js';
import { draftForwardMetadata, draftReverseMetadata } from '../../src/fixtures/draft-example.js';
import {
  blockLengthFor,
  decodeMetadata,
  encodedLength,
  encodeMetadataBlock,
  falsePositiveHeader,
  findTlv,
  hasCookie,
  metadataSizeError,
} from '../../src/wire/metadata/block.js';
import { checkRequiredTlvs, inferMetadataPurpose, missingTlvs } from '../../src/wire/metadata/required.js';
import { TlvType } from '../../src/wire/metadata/tlv.js';
import { hex } from '../../testlib/packets.js';

test('[R-4.6.1-c] the cookie 0x4c48dbc6ddf6670c marks metadata; anything else does not', () => {
  assert.ok(hasCookie(hex('4c48dbc6ddf6670c'), 0, 8));
  assert.ok(!hasCookie(hex('4c48dbc6ddf6670d'), 0, 8));
  assert.ok(!hasCookie(hex('4c48dbc6ddf667'), 0, 7));
  assert.equal(decodeMetadata(hex('0102030405060708090a0b0c'), 0, 12), DropReason.MetadataNotPresent);
});

test('[D-3] header length counts the 12 fixed bytes and header TLVs; payload length the payload TLVs before padding', () => {
  const md = draftForwardMetadata();
  const clear = encodeMetadataBlock(md);
  assert.equal(clear[8] >> 4, 1, 'version 1');
  assert.equal(((clear[8] & 0x0f) << 8) | clear[9], 34);
  assert.equal((clear[10] << 8) | clear[11], 119);
  assert.equal(clear.length, 34 + 119);
});

test('[R-4.6.2.1-b] header reasonableness: version, header length, payload length, truncation', () => {
  const ok = encodeMetadataBlock({
    tlvs: [
      { type: TlvType.SecurityIdentifier, securityId: 1 },
      { type: TlvType.TenantName, name: 't' },
    ],
  });
  const dec = (b: Uint8Array, n = b.length) => decodeMetadata(b, 0, n);
  assert.equal(typeof dec(ok), 'object');
  const v2 = ok.slice();
  v2[8] = 0x20 | (v2[8] & 0x0f);
  assert.equal(dec(v2), DropReason.MetadataBadVersion);
  const hl = ok.slice();
  hl[9] = 11;
  assert.equal(dec(hl), DropReason.MetadataBadHeaderLength, 'header length below 12');
  const hl2 = ok.slice();
  hl2[8] = 0x1f;
  assert.equal(dec(hl2), DropReason.MetadataBadHeaderLength, 'header length beyond the block');
  const pl = ok.slice();
  pl[11] = 200;
  assert.equal(dec(pl), DropReason.MetadataBadPayloadLength);
  assert.equal(dec(ok, 10), DropReason.MetadataTruncated);
  // 4.6.2.1: a header with no TLVs and no payload (the false positive) is simply accepted.
  const fp = dec(falsePositiveHeader());
  assert.ok(typeof fp === 'object' && fp.tlvs.length === 0 && fp.blockLength === 12);
});

test('[R-4.3.1-a] a first forward packet needs security id, context, tenant, service, UUID, router, policy and pathway', () => {
  const md = draftForwardMetadata();
  assert.equal(checkRequiredTlvs(md, 'forward'), DropReason.None);
  for (const drop of [
    TlvType.SecurityIdentifier,
    TlvType.ForwardContextV4,
    TlvType.TenantName,
    TlvType.ServiceName,
    TlvType.SessionUuid,
    TlvType.SourceRouterName,
    TlvType.SecurityPolicy,
    TlvType.PeerPathwayId,
  ]) {
    const less = { tlvs: md.tlvs.filter((t) => t.type !== drop) };
    assert.equal(
      checkRequiredTlvs(less, 'forward'),
      DropReason.MetadataMissingRequiredTlv,
      `without TLV ${drop}`,
    );
    assert.equal(missingTlvs(less, 'forward').length, 1);
  }
  // Optional ones (path metrics, source NAT) may go.
  const lean = {
    tlvs: md.tlvs.filter((t) => t.type !== TlvType.PathMetrics && t.type !== TlvType.SourceNatV4),
  };
  assert.equal(checkRequiredTlvs(lean, 'forward'), DropReason.None);
});

test('[R-4.3.1-c] a first reverse packet needs security id, reverse context and pathway', () => {
  const md = draftReverseMetadata();
  assert.equal(checkRequiredTlvs(md, 'reverse'), DropReason.None);
  assert.equal(
    checkRequiredTlvs({ tlvs: md.tlvs.filter((t) => t.type !== TlvType.ReverseContextV4) }, 'reverse'),
    DropReason.MetadataMissingRequiredTlv,
  );
  assert.equal(inferMetadataPurpose(md), 'reverse');
});

test('[R-4.3.2-a] [R-4.6.2.2-e] returned ICMP errors need the error location; too few TLVs is a drop', () => {
  assert.equal(
    checkRequiredTlvs({ tlvs: [{ type: TlvType.IcmpErrorLocationV4, address: 1 }] }, 'icmp'),
    DropReason.None,
  );
  assert.equal(
    checkRequiredTlvs({ tlvs: [{ type: TlvType.IcmpErrorLocationV6, address: new Uint8Array(16) }] }, 'icmp'),
    DropReason.None,
  );
  assert.equal(checkRequiredTlvs({ tlvs: [] }, 'icmp'), DropReason.MetadataMissingRequiredTlv);
  assert.equal(inferMetadataPurpose({ tlvs: [{ type: TlvType.ControlMessage, reason: 1 }] }), 'control');
  assert.equal(inferMetadataPurpose({ tlvs: [] }), 'false-positive');
});

test('[D-4] block sizes: header + padded payload + 16-byte IV when encrypted; header only without payload', () => {
  assert.equal(blockLengthFor(34, 119, true), 178);
  assert.equal(blockLengthFor(34, 43, true), 98);
  assert.equal(blockLengthFor(34, 128, true), 34 + 128 + 16, 'no padding when already a multiple of 16');
  assert.equal(blockLengthFor(20, 0, true), 20);
  assert.equal(blockLengthFor(34, 119, false), 153);
  const cipher = new AesCbcMetadataCipher(new Uint8Array(32), new FixedBytes(new Uint8Array(16)));
  assert.equal(
    encodeMetadataBlock({ tlvs: [{ type: TlvType.SecurityIdentifier, securityId: 9 }] }, cipher).length,
    20,
    'nothing to encrypt',
  );
  assert.equal(encodedLength(draftForwardMetadata(), true), 178);
});

test('oversized metadata is refused before encoding with a reason', () => {
  const big = { tlvs: [{ type: TlvType.SecurityKey, key: 'k'.repeat(70000) } as const] };
  assert.match(String(metadataSizeError(big)), /longer than 65535/);
  const many = {
    tlvs: [
      { type: TlvType.TenantName, name: 'x'.repeat(40000) } as const,
      { type: TlvType.ServiceName, name: 'y'.repeat(40000) } as const,
    ],
  };
  assert.match(String(metadataSizeError(many)), /at most 65535/);
  assert.throws(() => encodeMetadataBlock(many), RangeError);
  assert.equal(metadataSizeError(draftForwardMetadata()), undefined);
  assert.equal(findTlv(draftForwardMetadata(), TlvType.TenantName)?.name, 'engineering');
});
