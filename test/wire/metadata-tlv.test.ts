import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { toHex } from '../../src/base/bytes.js';
import { DropReason } from '../../src/base/drop-reason.js';
import { decodeMetadata, encodeMetadataBlock, type Metadata } from '../../src/wire/metadata/block.js';
import { metadataFromJson } from '../../src/wire/metadata/json.js';
import { TLV_CODECS, tlvCodec } from '../../src/wire/metadata/registry.js';
import { type Tlv, TlvType } from '../../src/wire/metadata/tlv.js';
import { hex } from '../../testlib/packets.js';
import { arbitraryTlv } from '../../testlib/tlv-arbitrary.js';

/** Encode one TLV alone in a clear block and return its TLV bytes (after the 12-byte header). */
function tlvBytes(t: Tlv): string {
  return toHex(encodeMetadataBlock({ tlvs: [t] })).slice(24);
}

test('[D-3] every TLV type of D-3 has a codec, in the section the draft puts it', () => {
  const header = [1, 16, 18, 20, 21, 24, 26];
  const payload = [2, 3, 4, 5, 6, 7, 10, 11, 12, 14, 15, 19, 25, 42, 45];
  assert.deepEqual(
    TLV_CODECS.map((c) => c.type),
    [...header, ...payload].sort((a, b) => a - b),
  );
  for (const t of header) assert.equal(tlvCodec(t)?.section, 'header', `TLV ${t}`);
  for (const t of payload) assert.equal(tlvCodec(t)?.section, 'payload', `TLV ${t}`);
});

test('TLV wire images match the draft figures byte for byte', () => {
  // 7.3.2 Security Identifier: type 16, length 4
  assert.equal(tlvBytes({ type: TlvType.SecurityIdentifier, securityId: 0x01020304 }), '0010000401020304');
  // 7.4.1 Forward Context IPv4: type 2, length 13, src, dst, sport, dport, proto
  assert.equal(
    tlvBytes({
      type: TlvType.ForwardContextV4,
      source: 0x0a000101,
      destination: 0xac0f0b17,
      sourcePort: 6969,
      destinationPort: 22,
      protocol: 6,
    }),
    '0002000d' + '0a000101' + 'ac0f0b17' + '1b39' + '0016' + '06',
  );
  // 7.3.1 Fragment: type 1, length 10, ext id, orig id, flags|offset, largest
  assert.equal(
    tlvBytes({
      type: TlvType.Fragment,
      extendedId: 0xaabbccdd,
      originalId: 0x1234,
      dontFragment: false,
      moreFragments: true,
      fragmentOffset: 185,
      largestSeenFragment: 1500,
    }),
    '0001000a' + 'aabbccdd' + '1234' + (0x2000 | 185).toString(16).padStart(4, '0') + '05dc',
  );
  // 7.3.7 Path Metrics: colour in the top 4 bits, 28-bit times, drop bit, 15-bit count
  assert.equal(
    tlvBytes({
      type: TlvType.PathMetrics,
      txColor: 5,
      txTime: 4200,
      rxColor: 3,
      rxTime: 3950,
      drop: true,
      previousRxColorCount: 950,
    }),
    '001a000a' + '50001068' + '30000f6e' + '83b6',
  );
  // 7.3.6 Control Message (keep-alive), 7.3.3 Disable Forward Metadata (no value)
  assert.equal(tlvBytes({ type: TlvType.ControlMessage, reason: 1 }), '0018000101');
  assert.equal(tlvBytes({ type: TlvType.DisableForwardMetadata }), '00120000');
  // 7.4.6 Tenant Name: ASCII, no terminator (D-12)
  assert.equal(
    tlvBytes({ type: TlvType.TenantName, name: 'engineering' }),
    '0007000b' + toHex(new TextEncoder().encode('engineering')),
  );
  // 7.4.13 source NAT, 7.4.14 remaining time
  assert.equal(tlvBytes({ type: TlvType.SourceNatV4, address: 0xcb007101 }), '00190004cb007101');
  assert.equal(tlvBytes({ type: TlvType.RemainingSessionTime, seconds: 1900 }), '002a00040000076c');
});

test('[R-3.7.1.7-a] [R-4.3.1-b] [R-4.6.2.1-a] unknown TLVs are skipped on decode and never re-emitted', () => {
  // header: security id + unknown 99 (3 bytes); payload: unknown 200 (2 bytes) + tenant
  // header = 12 + 8 + 7 = 27 (0x01b), payload = 6 + 15 = 21 (0x0015)
  const block = hex(
    '4c48dbc6ddf6670c' +
      '101b' +
      '0015' +
      '0010000400000001' +
      '00630003616263' +
      '00c80002ffff' +
      '0007000b656e67696e656572696e67',
  );
  const md = decodeMetadata(block, 0, block.length);
  assert.ok(typeof md !== 'number', `decode failed: ${md}`);
  assert.deepEqual(
    md.skipped.map((s) => [s.type, s.length, s.section]),
    [
      [99, 3, 'header'],
      [200, 2, 'payload'],
    ],
  );
  assert.deepEqual(
    md.tlvs.map((t) => t.type),
    [TlvType.SecurityIdentifier, TlvType.TenantName],
  );
  const again = encodeMetadataBlock(md);
  assert.equal(again.length, 12 + 8 + 15, 'the unknown TLVs are not forwarded');
});

test('[R-4.6.2.1-b] fixed-size TLVs with the wrong length, bad values and misplaced TLVs are refused', () => {
  const block = (headerTlvs: string, payloadTlvs = '') => {
    const h = hex(headerTlvs || '00');
    const p = hex(payloadTlvs || '00');
    const hl = 12 + (headerTlvs ? h.length : 0);
    const pl = payloadTlvs ? p.length : 0;
    return hex(
      `4c48dbc6ddf6670c1${hl.toString(16).padStart(3, '0')}${pl.toString(16).padStart(4, '0')}${headerTlvs}${payloadTlvs}`,
    );
  };
  const dec = (b: Uint8Array) => decodeMetadata(b, 0, b.length);
  assert.equal(dec(block('00100003010203')), DropReason.MetadataTlvBadLength, 'security id of 3 bytes');
  assert.equal(
    dec(block('', '0002000c' + '00'.repeat(12))),
    DropReason.MetadataTlvBadLength,
    'context of 12 bytes',
  );
  assert.equal(dec(block('', '00070000')), DropReason.MetadataTlvBadValue, 'empty tenant name');
  assert.equal(
    dec(block('', '000700020a00')),
    DropReason.MetadataTlvBadValue,
    'control characters in a name',
  );
  assert.equal(
    dec(block('0001000a' + '00000000' + '0000' + '8000' + '0000')),
    DropReason.MetadataTlvBadValue,
    'reserved fragment flag',
  );
  assert.equal(dec(block('0007000161')), DropReason.MetadataTlvWrongSection, 'payload TLV among header TLVs');
  assert.equal(
    dec(block('', '00100004' + '00000001')),
    DropReason.MetadataTlvWrongSection,
    'header TLV among payload TLVs',
  );
  assert.equal(
    dec(block('0010000400000001' + '0010000400000002')),
    DropReason.MetadataDuplicateTlv,
    'two security ids',
  );
  assert.equal(
    dec(block('0010000800000001')),
    DropReason.MetadataTlvTruncated,
    'TLV running past the header section',
  );
  assert.equal(dec(block('001000')), DropReason.MetadataTlvTruncated, 'TLV header cut short');
});

test('every TLV round-trips through bytes and through JSON', () => {
  fc.assert(
    fc.property(fc.uniqueArray(arbitraryTlv(), { selector: (t) => t.type, maxLength: 22 }), (tlvs) => {
      const md: Metadata = { tlvs };
      const bytes = encodeMetadataBlock(md);
      const back = decodeMetadata(bytes, 0, bytes.length);
      if (typeof back === 'number') return false;
      // Header TLVs come first on the wire (7.1), then payload TLVs, each in the given order.
      const ordered = [
        ...tlvs.filter((t) => tlvCodec(t.type)?.section === 'header'),
        ...tlvs.filter((t) => tlvCodec(t.type)?.section === 'payload'),
      ];
      assert.deepEqual(back.tlvs, ordered);
      const json = {
        tlvs: back.tlvs.map((t) => ({ type: t.type, value: tlvCodec(t.type)?.toJson(t) ?? {} })),
      };
      const fromJson = metadataFromJson(json);
      assert.ok(typeof fromJson !== 'string', String(fromJson));
      assert.deepEqual(fromJson.tlvs, ordered);
      return true;
    }),
    { numRuns: 400 },
  );
});

test('JSON input errors name the field and what was expected', () => {
  const e = (j: unknown) => String(metadataFromJson(j));
  assert.match(
    e({
      payloadTlvs: [
        {
          type: 2,
          value: {
            source: '10.0.0.300',
            destination: '1.2.3.4',
            sourcePort: 1,
            destinationPort: 2,
            protocol: 6,
          },
        },
      ],
    }),
    /payloadTlvs\[0\]\.value: source: expected an IPv4 address/,
  );
  assert.match(
    e({
      payloadTlvs: [
        {
          type: 2,
          value: {
            source: '10.0.0.3',
            destination: '1.2.3.4',
            sourcePort: 70000,
            destinationPort: 2,
            protocol: 6,
          },
        },
      ],
    }),
    /sourcePort/,
  );
  assert.match(
    e({ headerTlvs: [{ type: 7, value: { name: 'x' } }] }),
    /Tenant Name \(type 7\) is a payload TLV, listed among header TLVs/,
  );
  assert.match(e({ tlvs: [{ type: 99 }] }), /unknown TLV 99/);
  assert.match(
    e({
      tlvs: [
        { name: 'Tenant Name', value: { name: 'a' } },
        { type: 7, value: { name: 'b' } },
      ],
    }),
    /appears twice/,
  );
  assert.match(e({ tlvs: [{ value: {} }] }), /needs a "type" number or a "name"/);
  assert.match(e({ tlvs: [{ type: 16, value: { securityId: 1, extra: 2 } }] }), /extra/);
  assert.match(e([1, 2]), /expected object/i);
});
