import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseIp } from '../../src/base/address.js';
import { DropReason } from '../../src/base/drop-reason.js';
import { SeededRandom } from '../../src/base/random.js';
import {
  BFD_METADATA_MAX_STRING,
  type BfdMetadata,
  decodeBfdMetadata,
  encodeBfdMetadata,
  encodePadding,
  type Tuple,
} from '../../src/peering/bfd-metadata.js';

const SHARED_PROTO = '/work/shared/spec/bfd-metadata.proto';
const LOCAL_PROTO = fileURLToPath(new URL('../../../proto/bfd-metadata.proto', import.meta.url));

function ip(s: string) {
  const a = parseIp(s);
  if (!a) throw new Error(s);
  return a;
}

const T4: Tuple = {
  sourceAddress: ip('203.0.113.1'),
  destAddress: ip('203.0.113.89'),
  sourcePort: 1280,
  destPort: 1280,
  protocol: 17,
};
const T6: Tuple = { sourceAddress: ip('2001:db8::1'), destAddress: ip('2001:db8:ffff::8') };

const CERT = `-----BEGIN CERTIFICATE-----\n${'QUJD'.repeat(150)}\n-----END CERTIFICATE-----\n`;

const FULL: BfdMetadata = {
  sessionData: { originalTuple: T4, receivedTuple: T6, peerName: 'east/example', routerName: 'west/example' },
  measure: { request: { transId: 0xffffffff }, mtuDiscovery: true },
  nodeInfo: { id: 7, createTimestamp: Number.MAX_SAFE_INTEGER, timeValue: 1_767_225_600_000 },
  peerAuth: { certificate: CERT },
  peerKey: {
    signedKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
    securityId: 3,
    isResponse: true,
  },
};

// A minimal protobuf writer, to craft what encodeBfdMetadata refuses to produce.
function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
const vf = (field: number, n: number): number[] => [...varint(field << 3), ...varint(n)];
const ld = (field: number, body: number[]): number[] => [
  ...varint((field << 3) | 2),
  ...varint(body.length),
  ...body,
];
const bytes = (...parts: number[][]): Uint8Array => new Uint8Array(parts.flat());
const addr4 = [10, 0, 0, 1];
const tuple = (src = addr4, dst = addr4): number[] => [...ld(1, src), ...ld(2, dst)];

test('draft 5.1: every message round-trips', () => {
  const cases: BfdMetadata[] = [
    {},
    FULL,
    { sessionData: { originalTuple: T6, receivedTuple: T4 } },
    { measure: { response: { requestTransId: 1, responseTransId: 0 } } },
    { measure: { response: { requestTransId: 4, responseTransId: 3 }, mtuDiscovery: false } },
    { measure: {} },
    { nodeInfo: { id: 0, createTimestamp: 0 } },
    { peerAuth: { certificate: '' } },
    { peerKey: { signedKey: 'k' } },
    { peerKey: { signedKey: 'k', securityId: 0, isResponse: false } },
    {
      sessionData: { originalTuple: { ...T4, sourcePort: 0, protocol: 0 }, receivedTuple: T4, peerName: '' },
    },
  ];
  for (const m of cases) {
    const e = encodeBfdMetadata(m);
    const d = decodeBfdMetadata(e);
    assert.deepStrictEqual(d, m);
    // The same bytes inside a larger buffer, at an offset.
    const big = new Uint8Array(e.length + 9).fill(0xff);
    big.set(e, 5);
    assert.deepStrictEqual(decodeBfdMetadata(big, 5, e.length), m);
  }
});

test('draft 5.1: decoded IPv6 addresses are copies, not views of the packet', () => {
  const e = encodeBfdMetadata({ sessionData: { originalTuple: T6, receivedTuple: T6 } });
  const buf = new Uint8Array(e);
  const d = decodeBfdMetadata(buf);
  assert.ok(typeof d === 'object');
  buf.fill(0);
  assert.deepStrictEqual(d.sessionData?.originalTuple.sourceAddress, T6.sourceAddress);
});

test('draft 5.1.4: padding of every exact size 2..2000 decodes, alone and after metadata', () => {
  const body = encodeBfdMetadata({ measure: { request: { transId: 42 }, mtuDiscovery: true } });
  for (let n = 2; n <= 2000; n++) {
    const p = encodePadding(n);
    assert.equal(p.length, n);
    assert.equal(p[0], 0x7a);
    assert.deepStrictEqual(decodeBfdMetadata(p), {}, `padding ${n} alone`);
    const both = new Uint8Array(body.length + n);
    both.set(body);
    both.set(p, body.length);
    assert.deepStrictEqual(decodeBfdMetadata(both), {
      measure: { request: { transId: 42 }, mtuDiscovery: true },
    });
  }
  // The two sizes a minimal length varint cannot reach, and large MTUs.
  for (const n of [16386, 16387, 16388, 65000])
    assert.deepStrictEqual(decodeBfdMetadata(encodePadding(n)), {});
  assert.throws(() => encodePadding(1), RangeError);
  assert.throws(() => encodePadding(0), RangeError);
  assert.throws(() => encodePadding(2.5), RangeError);
});

test('proto2: unknown fields of every wire type are ignored', () => {
  const known = encodeBfdMetadata({ peerAuth: { certificate: 'c' } });
  const tag = (field: number, wireType: number): number[] => varint((field << 3) | wireType);
  const unknown = bytes(
    vf(20, 99), // varint
    [...tag(21, 1), 1, 2, 3, 4, 5, 6, 7, 8], // fixed64
    ld(22, [1, 2, 3]), // length-delimited
    [...tag(23, 5), 1, 2, 3, 4], // fixed32
    [...tag(24, 3), ...vf(1, 5), ...tag(24, 4)], // group
    [...tag(6, 3), ...tag(6, 4)], // an empty group with a low number
  );
  const both = new Uint8Array(known.length + unknown.length);
  both.set(unknown);
  both.set(known, unknown.length);
  assert.deepStrictEqual(decodeBfdMetadata(both), { peerAuth: { certificate: 'c' } });
  // A known field with the wrong wire type is skipped as unknown.
  assert.deepStrictEqual(decodeBfdMetadata(bytes(vf(4, 1))), {});
});

test('draft 5.1: malformed metadata is BfdMetadataMalformed, never an exception', () => {
  const M = DropReason.BfdMetadataMalformed;
  const full = encodeBfdMetadata(FULL);
  const bad: [string, Uint8Array][] = [
    ['garbage', new Uint8Array([0xff, 0xff, 0xff, 0xff])],
    ['wire type 6', bytes([0x0e])],
    ['wire type 7', bytes([0x0f, 0])],
    ['tag without value', bytes([0x08])],
    ['length beyond the end', bytes([0x22, 0x7f, 0x0a])],
    ['huge varint length', bytes([0x22, 0xff, 0xff, 0xff, 0xff, 0x0f])],
    ['uint32 varint of 11 bytes', bytes(ld(3, [0x08, ...new Array(10).fill(0x80), 0x01, ...vf(2, 1)]))],
    ['unterminated group', bytes([...varint((24 << 3) | 3), 0x08, 0x01])],
    ['end group without start', bytes(varint((24 << 3) | 4))],
    ['mismatched end group', bytes([...varint((24 << 3) | 3), ...varint((25 << 3) | 4)])],
    ['field number 0', bytes([0x02, 0x00])],
    ['PeerAuth without certificate', bytes(ld(4, []))],
    ['PeerPublicKey without signed_key', bytes(ld(5, vf(2, 1)))],
    ['NodeInfo without create_timestamp', bytes(ld(3, vf(1, 1)))],
    ['NodeInfo without id', bytes(ld(3, vf(2, 1)))],
    ['SessionData without received tuple', bytes(ld(1, ld(1, tuple())))],
    ['Tuple without dest_address', bytes(ld(1, [...ld(1, ld(1, addr4)), ...ld(2, tuple())]))],
    ['Request without transId', bytes(ld(2, ld(1, [])))],
    ['Response without response_transId', bytes(ld(2, ld(2, vf(1, 1))))],
    ['5-byte address', bytes(ld(1, [...ld(1, tuple([1, 2, 3, 4, 5])), ...ld(2, tuple())]))],
    ['0-byte address', bytes(ld(1, [...ld(1, tuple([])), ...ld(2, tuple())]))],
    ['15-byte address', bytes(ld(1, [...ld(1, tuple(addr4, new Array(15).fill(1))), ...ld(2, tuple())]))],
    ['both request and response', bytes(ld(2, [...ld(1, vf(1, 1)), ...ld(2, [...vf(1, 1), ...vf(2, 2)])]))],
    ['create_timestamp 2^53', bytes(ld(3, [...vf(1, 1), ...vf(2, 2 ** 53)]))],
    ['time_value 2^64-1', bytes(ld(3, [...vf(1, 1), ...vf(2, 1), 0x18, ...new Array(9).fill(0xff), 0x01]))],
    ['certificate over 8 KiB', bytes(ld(4, ld(1, new Array(BFD_METADATA_MAX_STRING + 1).fill(0x41))))],
    [
      'peer name over 8 KiB',
      bytes(ld(1, [...ld(1, tuple()), ...ld(2, tuple()), ...ld(3, new Array(9000).fill(0x41))])),
    ],
    ['deep group nesting', bytes(new Array(20000).fill(0x33))],
  ];
  for (const [name, b] of bad) assert.equal(decodeBfdMetadata(b), M, name);
  for (let n = 1; n < full.length; n++) {
    const r = decodeBfdMetadata(full, 0, n);
    // Some prefixes end exactly between top-level fields and are valid metadata with fewer fields.
    if (typeof r !== 'number') continue;
    assert.ok(Object.keys(r).length < Object.keys(FULL).length, `prefix ${n}`);
  }
  assert.equal(decodeBfdMetadata(full.subarray(0, full.length - 1)), M, 'truncated by one byte');
  assert.equal(decodeBfdMetadata(full, 0, full.length + 1), M, 'range beyond the buffer');
  assert.equal(decodeBfdMetadata(full, -1, 3), M, 'negative offset');
  // Exactly 8 KiB is fine; the empty buffer is empty metadata.
  const cert = 'A'.repeat(BFD_METADATA_MAX_STRING);
  assert.deepStrictEqual(decodeBfdMetadata(encodeBfdMetadata({ peerAuth: { certificate: cert } })), {
    peerAuth: { certificate: cert },
  });
  assert.deepStrictEqual(decodeBfdMetadata(new Uint8Array(0)), {});
});

test('draft 5.1: the encoder refuses values the schema cannot carry', () => {
  const m = (x: BfdMetadata) => () => encodeBfdMetadata(x);
  assert.throws(
    m({ measure: { request: { transId: 1 }, response: { requestTransId: 1, responseTransId: 1 } } }),
    RangeError,
  );
  assert.throws(m({ nodeInfo: { id: 1, createTimestamp: 2 ** 53 } }), RangeError);
  assert.throws(m({ nodeInfo: { id: -1, createTimestamp: 1 } }), RangeError);
  assert.throws(m({ nodeInfo: { id: 2 ** 32, createTimestamp: 1 } }), RangeError);
  assert.throws(m({ peerAuth: { certificate: 'x'.repeat(BFD_METADATA_MAX_STRING + 1) } }), RangeError);
  const short = { version: 6 as const, v6: new Uint8Array(15) };
  assert.throws(
    m({ sessionData: { originalTuple: { sourceAddress: short, destAddress: short }, receivedTuple: T4 } }),
  );
});

test('draft 5.1: 100 000 mutated encodings decode without an exception', () => {
  const rnd = new SeededRandom(51);
  const seeds = [
    encodeBfdMetadata(FULL),
    encodeBfdMetadata({ measure: { response: { requestTransId: 9, responseTransId: 10 } } }),
    encodeBfdMetadata({ sessionData: { originalTuple: T6, receivedTuple: T4, routerName: 'r' } }),
    encodeBfdMetadata({
      nodeInfo: { id: 1, createTimestamp: 1_767_225_600_000 },
      peerKey: { signedKey: 'k' },
    }),
  ];
  const buf = new Uint8Array(4096);
  let decoded = 0;
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const s = seeds[i % seeds.length];
    let len = s.length;
    buf.set(s);
    switch (rnd.u32() % 4) {
      case 0: {
        const flips = 1 + (rnd.u32() % 4);
        for (let k = 0; k < flips; k++) buf[rnd.u32() % len] = rnd.u32() & 0xff;
        break;
      }
      case 1:
        len = rnd.u32() % len;
        break;
      case 2: {
        // Splice random bytes in the middle.
        const at = rnd.u32() % len;
        const n = 1 + (rnd.u32() % 16);
        buf.copyWithin(at + n, at, len);
        rnd.fill(buf, at, n);
        len += n;
        break;
      }
      default:
        len = rnd.u32() % 64;
        rnd.fill(buf, 0, len);
    }
    const r = decodeBfdMetadata(buf, 0, len);
    if (typeof r !== 'number') decoded++;
    else assert.equal(r, DropReason.BfdMetadataMalformed);
  }
  assert.ok(decoded > 0 && decoded < N, `${decoded} of ${N} decoded`);
});

test('D-6: proto/bfd-metadata.proto is the shared spec copy', (t) => {
  if (!existsSync(SHARED_PROTO)) {
    t.skip(`${SHARED_PROTO} is not present here`);
    return;
  }
  assert.equal(readFileSync(LOCAL_PROTO, 'utf8'), readFileSync(SHARED_PROTO, 'utf8'));
});
