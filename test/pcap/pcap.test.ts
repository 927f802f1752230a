import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { SeededRandom } from '../../src/base/random.js';
import {
  type CaptureFile,
  ipOfFrame,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  type LinkFrame,
  PcapWriter,
  readCapture,
} from '../../src/pcap/pcap.js';
import { buildPacket } from '../../src/wire/builder.js';

// ---------------------------------------------------------------------------------------------
// Helpers

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;

function capture(r: CaptureFile | string): CaptureFile {
  if (typeof r === 'string') assert.fail(`expected a capture, got: ${r}`);
  return r;
}

function frame(r: LinkFrame | string): LinkFrame {
  if (typeof r === 'string') assert.fail(`expected an IP frame, got: ${r}`);
  return r;
}

function assertTime(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 0.001, `${what}: ${actual} ms, expected ${expected} ms`);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function bytesOf(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  new SeededRandom(seed).fill(b);
  return b;
}

const ipv4 = buildPacket({
  src: '192.0.2.1',
  dst: '198.51.100.2',
  l4: { protocol: 'udp', srcPort: 1000, dstPort: 2000 },
  payload: new Uint8Array([1, 2, 3]),
});
const ipv6 = buildPacket({
  src: '2001:db8::1',
  dst: '2001:db8::2',
  l4: { protocol: 'tcp', srcPort: 3000, dstPort: 4000 },
});

interface RawRecord {
  readonly sec: number;
  /** Microseconds or nanoseconds, as the magic says. */
  readonly frac: number;
  readonly data: Uint8Array;
  readonly orig?: number;
}

/** A classic pcap file written by hand, in either byte order. */
function classicPcap(
  le: boolean,
  magic: number,
  linkField: number,
  records: readonly RawRecord[],
): Uint8Array {
  const h = new Uint8Array(24);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, magic, le);
  dv.setUint16(4, 2, le);
  dv.setUint16(6, 4, le);
  dv.setInt32(8, 0, le);
  dv.setUint32(12, 0, le);
  dv.setUint32(16, 65535, le);
  dv.setUint32(20, linkField, le);
  const parts: Uint8Array[] = [h];
  for (const r of records) {
    const rh = new Uint8Array(16);
    const rv = new DataView(rh.buffer);
    rv.setUint32(0, r.sec, le);
    rv.setUint32(4, r.frac, le);
    rv.setUint32(8, r.data.length, le);
    rv.setUint32(12, r.orig ?? r.data.length, le);
    parts.push(rh, r.data);
  }
  return concat(parts);
}

// pcapng (draft-ietf-opsawg-pcapng): every block is type(4) length(4) body length(4), the body
// padded to 4 bytes; options are code(2) length(2) value padded to 4, ended by opt_endofopt.

function pad4(b: Uint8Array): Uint8Array {
  const out = new Uint8Array((b.length + 3) & ~3);
  out.set(b);
  return out;
}

function ngBlock(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = pad4(body);
  const len = 12 + padded.length;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  out.set(padded, 8);
  dv.setUint32(len - 4, len, le);
  return out;
}

interface NgOption {
  readonly code: number;
  readonly value: Uint8Array;
}

function ngOptions(le: boolean, opts: readonly NgOption[]): Uint8Array {
  if (opts.length === 0) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  for (const o of [...opts, { code: 0, value: new Uint8Array(0) }]) {
    const h = new Uint8Array(4);
    const dv = new DataView(h.buffer);
    dv.setUint16(0, o.code, le);
    dv.setUint16(2, o.value.length, le);
    parts.push(h, pad4(o.value));
  }
  return concat(parts);
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function ngShb(le: boolean, opts: readonly NgOption[] = []): Uint8Array {
  const fixed = new Uint8Array(16);
  const dv = new DataView(fixed.buffer);
  dv.setUint32(0, 0x1a2b3c4d, le);
  dv.setUint16(4, 1, le);
  dv.setUint16(6, 0, le);
  // Section length unknown: -1.
  dv.setUint32(8, 0xffffffff, le);
  dv.setUint32(12, 0xffffffff, le);
  return ngBlock(le, 0x0a0d0d0a, concat([fixed, ngOptions(le, opts)]));
}

function ngIdb(le: boolean, linkType: number, opts: readonly NgOption[] = []): Uint8Array {
  const fixed = new Uint8Array(8);
  const dv = new DataView(fixed.buffer);
  dv.setUint16(0, linkType, le);
  dv.setUint16(2, 0, le);
  dv.setUint32(4, 262144, le);
  return ngBlock(le, 1, concat([fixed, ngOptions(le, opts)]));
}

function ngEpb(
  le: boolean,
  ifId: number,
  ts: bigint,
  data: Uint8Array,
  orig = data.length,
  opts: readonly NgOption[] = [],
): Uint8Array {
  const fixed = new Uint8Array(20);
  const dv = new DataView(fixed.buffer);
  dv.setUint32(0, ifId, le);
  dv.setUint32(4, Number(ts >> 32n), le);
  dv.setUint32(8, Number(ts & 0xffffffffn), le);
  dv.setUint32(12, data.length, le);
  dv.setUint32(16, orig, le);
  return ngBlock(le, 6, concat([fixed, pad4(data), ngOptions(le, opts)]));
}

function ngSpb(le: boolean, data: Uint8Array, orig = data.length): Uint8Array {
  const fixed = new Uint8Array(4);
  new DataView(fixed.buffer).setUint32(0, orig, le);
  return ngBlock(le, 3, concat([fixed, data]));
}

/** Interface Statistics Block: not a packet, must be skipped. */
function ngIsb(le: boolean, ifId: number): Uint8Array {
  const fixed = new Uint8Array(12);
  new DataView(fixed.buffer).setUint32(0, ifId, le);
  return ngBlock(le, 5, fixed);
}

const tsresol = (v: number): NgOption => ({ code: 9, value: new Uint8Array([v]) });

/** A pcapng file with two interfaces of different resolution and all three packet block kinds. */
function samplePcapng(le: boolean) {
  const ethFrame = concat([bytesOf(12, 1), new Uint8Array([0x08, 0x00]), ipv4]);
  const rawPacket = ipv6;
  const spbFrame = bytesOf(61, 2);
  const tsNs = 1_700_000_000_123_456_789n;
  const tsUs = 1_700_000_001_654_321n;
  const bytes = concat([
    ngShb(le, [{ code: 4, value: text('svr pcap test') }]),
    // Interface 0: Ethernet, nanosecond stamps; the if_tsresol option comes after another option.
    ngIdb(le, LINKTYPE_ETHERNET, [{ code: 2, value: text('eth0') }, tsresol(9)]),
    // Interface 1: raw IP, no options, so microsecond stamps.
    ngIdb(le, LINKTYPE_RAW),
    ngEpb(le, 0, tsNs, ethFrame, ethFrame.length, [{ code: 1, value: text('a comment') }]),
    ngIsb(le, 0),
    ngEpb(le, 1, tsUs, rawPacket.subarray(0, 41), rawPacket.length),
    ngSpb(le, spbFrame, spbFrame.length),
  ]);
  return { bytes, ethFrame, rawPacket, spbFrame, tsNs, tsUs };
}

function checkSamplePcapng(le: boolean): void {
  const s = samplePcapng(le);
  const f = capture(readCapture(s.bytes));
  assert.equal(f.format, 'pcapng');
  assert.equal(f.records.length, 3);
  const [a, b, c] = f.records;

  assert.equal(a.index, 0);
  assert.equal(a.linkType, LINKTYPE_ETHERNET);
  assert.deepEqual(a.data, s.ethFrame);
  assert.equal(a.originalLength, s.ethFrame.length);
  assertTime(a.timestampMs, 1_700_000_000_000 + 123.456789, 'EPB with if_tsresol 9');
  assert.deepEqual(frame(ipOfFrame(a.linkType, a.data)).ip, ipv4);

  assert.equal(b.index, 1);
  assert.equal(b.linkType, LINKTYPE_RAW);
  assert.deepEqual(b.data, s.rawPacket.subarray(0, 41));
  assert.equal(b.originalLength, s.rawPacket.length);
  assertTime(b.timestampMs, 1_700_000_001_654.321, 'EPB with default microseconds');

  assert.equal(c.index, 2);
  assert.equal(c.linkType, LINKTYPE_ETHERNET, 'a simple packet belongs to interface 0');
  assert.deepEqual(c.data, s.spbFrame, 'simple packet data without its padding');
  assert.equal(c.originalLength, s.spbFrame.length);
  assert.equal(c.timestampMs, 0);
}

function ethernet(
  ethertype: number,
  payload: Uint8Array,
  tags: readonly [number, number][] = [],
): Uint8Array {
  const parts: Uint8Array[] = [bytesOf(12, 3)];
  for (const [tpid, tci] of tags) parts.push(new Uint8Array([tpid >> 8, tpid & 0xff, tci >> 8, tci & 0xff]));
  parts.push(new Uint8Array([ethertype >> 8, ethertype & 0xff]), payload);
  return concat(parts);
}

function onPath(name: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Tests

test('PcapWriter output reads back: format, link type, bytes, timestamps, lengths', () => {
  const w = new PcapWriter();
  const packets = [
    { ts: 1_700_000_000_123.456, data: ipv4 },
    { ts: 1_700_000_000_124.001, data: ipv6 },
    { ts: 1_700_000_059_999.999, data: bytesOf(1, 4) },
    { ts: 1_767_225_600_000, data: bytesOf(1500, 5) },
    { ts: 1_767_225_602_064.5, data: new Uint8Array(0) },
  ];
  for (const p of packets) w.add(p.ts, p.data);
  assert.equal(w.byteLength, 24 + packets.reduce((n, p) => n + 16 + p.data.length, 0));
  const bytes = w.bytes();
  assert.equal(bytes.length, w.byteLength);

  const f = capture(readCapture(bytes));
  assert.equal(f.format, 'pcap');
  assert.equal(f.records.length, packets.length);
  f.records.forEach((r, i) => {
    assert.equal(r.index, i);
    assert.equal(r.linkType, 101);
    assert.deepEqual(r.data, packets[i].data);
    assert.equal(r.originalLength, packets[i].data.length);
    assertTime(r.timestampMs, packets[i].ts, `record ${i}`);
  });

  // The writer copies: changing the packet afterwards does not change the file.
  const p = Uint8Array.from(ipv4);
  const w2 = new PcapWriter(LINKTYPE_ETHERNET, 64);
  w2.add(1000.001, p);
  p.fill(0);
  const long = bytesOf(100, 6);
  w2.add(2000, long);
  const f2 = capture(readCapture(w2.bytes()));
  assert.equal(f2.records.length, 2);
  assert.equal(f2.records[0].linkType, LINKTYPE_ETHERNET);
  assert.deepEqual(f2.records[0].data, ipv4);
  assertTime(f2.records[0].timestampMs, 1000.001, 'small timestamp');
  // A packet longer than the snap length is cut, and the original length is kept.
  assert.deepEqual(f2.records[1].data, long.subarray(0, 64));
  assert.equal(f2.records[1].originalLength, 100);
});

test('classic pcap: big-endian and nanosecond-magic files read correctly', () => {
  const data = [ipv4, ipv6, bytesOf(7, 7)];

  const be = capture(
    readCapture(
      classicPcap(false, PCAP_MAGIC_US, LINKTYPE_RAW, [
        { sec: 1_700_000_000, frac: 123_456, data: data[0] },
        { sec: 1_700_000_001, frac: 999_999, data: data[1], orig: 1400 },
        { sec: 0, frac: 1, data: data[2] },
      ]),
    ),
  );
  assert.equal(be.format, 'pcap');
  assert.equal(be.records.length, 3);
  assert.deepEqual(
    be.records.map((r) => r.data),
    data,
  );
  assert.deepEqual(
    be.records.map((r) => r.linkType),
    [101, 101, 101],
  );
  assert.deepEqual(
    be.records.map((r) => r.originalLength),
    [data[0].length, 1400, data[2].length],
  );
  assertTime(be.records[0].timestampMs, 1_700_000_000_123.456, 'big-endian us');
  assertTime(be.records[1].timestampMs, 1_700_000_001_999.999, 'big-endian us');
  assertTime(be.records[2].timestampMs, 0.001, 'big-endian us');

  for (const le of [true, false]) {
    const ns = capture(
      readCapture(
        classicPcap(le, PCAP_MAGIC_NS, LINKTYPE_ETHERNET, [
          { sec: 1_700_000_000, frac: 123_456_789, data: data[0] },
          { sec: 1_700_000_002, frac: 999_999_999, data: data[1] },
        ]),
      ),
    );
    assert.equal(ns.format, 'pcap');
    assert.equal(ns.records.length, 2);
    assert.equal(ns.records[0].linkType, LINKTYPE_ETHERNET);
    assert.deepEqual(ns.records[1].data, data[1]);
    assertTime(ns.records[0].timestampMs, 1_700_000_000_000 + 123.456789, `nanosecond magic, le=${le}`);
    assertTime(ns.records[1].timestampMs, 1_700_000_002_000 + 999.999999, `nanosecond magic, le=${le}`);
  }

  // A header with no records is an empty capture, not an error.
  assert.deepEqual(capture(readCapture(classicPcap(false, PCAP_MAGIC_US, LINKTYPE_RAW, []))).records, []);
});

test('classic pcap: FCS bits in the link-type field do not change the link type', () => {
  // draft-ietf-opsawg-pcap: FCS len (4 bits), R, P (FCS length present), reserved, then the
  // 16-bit link type. P set with an FCS of 4 octets (2 x 16 bits) on Ethernet: 0x24000001.
  for (const field of [0x24000001, 0x04000001, 0x20000001]) {
    const f = capture(
      readCapture(classicPcap(true, PCAP_MAGIC_US, field, [{ sec: 1, frac: 0, data: ipv4 }])),
    );
    assert.equal(f.records[0].linkType, LINKTYPE_ETHERNET, `field 0x${field.toString(16)}`);
  }
});

test('pcapng little-endian: SHB, IDBs with and without if_tsresol, EPBs, an SPB', () => {
  checkSamplePcapng(true);
});

test('pcapng big-endian: the same file, and a second section that switches byte order', () => {
  checkSamplePcapng(false);

  // Section 1 (big-endian): one raw IP interface ticking in 2^-10 s. Section 2 (little-endian)
  // starts over with its own interface list: its interface 0 is Linux SLL, microseconds.
  const bytes = concat([
    ngShb(false),
    ngIdb(false, LINKTYPE_RAW, [tsresol(0x80 | 10)]),
    ngEpb(false, 0, 1_700_000_000n * 1024n + 512n, ipv4),
    ngShb(true),
    ngIdb(true, LINKTYPE_LINUX_SLL),
    ngEpb(true, 0, 1_700_000_000_000_001n, ipv6),
  ]);
  const f = capture(readCapture(bytes));
  assert.equal(f.format, 'pcapng');
  assert.equal(f.records.length, 2);
  assert.equal(f.records[0].linkType, LINKTYPE_RAW);
  assert.deepEqual(f.records[0].data, ipv4);
  assertTime(f.records[0].timestampMs, 1_700_000_000_500, 'binary resolution');
  assert.equal(f.records[1].index, 1);
  assert.equal(f.records[1].linkType, LINKTYPE_LINUX_SLL);
  assert.deepEqual(f.records[1].data, ipv6);
  assertTime(f.records[1].timestampMs, 1_700_000_000_000.001, 'second section');

  // An interface of section 1 is not visible from section 2.
  const stale = concat([ngShb(false), ngIdb(false, LINKTYPE_RAW), ngShb(true), ngEpb(true, 0, 0n, ipv4)]);
  assert.match(String(readCapture(stale)), /unknown interface 0/);
});

test('ipOfFrame: Ethernet, VLAN, QinQ, ARP, Linux cooked v1/v2, loopback, raw, unknown', () => {
  // Ethernet II with IPv4 and IPv6.
  let r = frame(ipOfFrame(LINKTYPE_ETHERNET, ethernet(0x0800, ipv4)));
  assert.deepEqual(r.ip, ipv4);
  assert.equal(r.vlan, undefined);
  r = frame(ipOfFrame(LINKTYPE_ETHERNET, ethernet(0x86dd, ipv6)));
  assert.deepEqual(r.ip, ipv6);
  assert.equal(r.vlan, undefined);

  // One 802.1Q tag: PCP 5, DEI 1, VLAN id 0x123; the id is the TCI's low 12 bits.
  r = frame(ipOfFrame(LINKTYPE_ETHERNET, ethernet(0x0800, ipv4, [[0x8100, (5 << 13) | (1 << 12) | 0x123]])));
  assert.deepEqual(r.ip, ipv4);
  assert.equal(r.vlan, 0x123);

  // QinQ: service tag 0x88a8 (VLAN 100) outside a customer tag 0x8100 (VLAN 200): the outer one counts.
  const qinq: [number, number][] = [
    [0x88a8, (3 << 13) | 100],
    [0x8100, 200],
  ];
  r = frame(ipOfFrame(LINKTYPE_ETHERNET, ethernet(0x86dd, ipv6, qinq)));
  assert.deepEqual(r.ip, ipv6);
  assert.equal(r.vlan, 100);

  // ARP and other ethertypes are not IP.
  const arp = ipOfFrame(LINKTYPE_ETHERNET, ethernet(0x0806, bytesOf(28, 8)));
  assert.equal(typeof arp, 'string');
  assert.match(String(arp), /ARP/);
  assert.match(String(ipOfFrame(LINKTYPE_ETHERNET, ethernet(0x88cc, bytesOf(20, 9)))), /0x88cc/);
  assert.equal(
    typeof ipOfFrame(LINKTYPE_ETHERNET, ethernet(0x0806, bytesOf(28, 8), [[0x8100, 7]])),
    'string',
  );

  // Truncated Ethernet and VLAN headers.
  assert.equal(typeof ipOfFrame(LINKTYPE_ETHERNET, bytesOf(13, 10)), 'string');
  assert.equal(typeof ipOfFrame(LINKTYPE_ETHERNET, ethernet(0x8100, new Uint8Array(2))), 'string');

  // Linux cooked capture v1: 16-byte header, protocol in the last two bytes.
  const sll = concat([
    new Uint8Array([0, 0, 0, 1, 0, 6]),
    bytesOf(8, 11),
    new Uint8Array([0x08, 0x00]),
    ipv4,
  ]);
  r = frame(ipOfFrame(LINKTYPE_LINUX_SLL, sll));
  assert.deepEqual(r.ip, ipv4);
  assert.equal(r.vlan, undefined);
  const sll6 = concat([sll.subarray(0, 14), new Uint8Array([0x86, 0xdd]), ipv6]);
  assert.deepEqual(frame(ipOfFrame(LINKTYPE_LINUX_SLL, sll6)).ip, ipv6);
  assert.equal(typeof ipOfFrame(LINKTYPE_LINUX_SLL, sll.subarray(0, 15)), 'string');

  // Linux cooked capture v2: 20-byte header, protocol in the first two bytes.
  const sll2 = concat([new Uint8Array([0x86, 0xdd]), bytesOf(18, 12), ipv6]);
  r = frame(ipOfFrame(LINKTYPE_LINUX_SLL2, sll2));
  assert.deepEqual(r.ip, ipv6);
  assert.equal(r.vlan, undefined);
  assert.match(
    String(ipOfFrame(LINKTYPE_LINUX_SLL2, concat([new Uint8Array([0x08, 0x06]), bytesOf(46, 13)]))),
    /ARP/,
  );
  assert.equal(typeof ipOfFrame(LINKTYPE_LINUX_SLL2, sll2.subarray(0, 19)), 'string');

  // BSD loopback: a 4-byte address family in host byte order.
  r = frame(ipOfFrame(LINKTYPE_NULL, concat([new Uint8Array([2, 0, 0, 0]), ipv4])));
  assert.deepEqual(r.ip, ipv4);
  assert.equal(r.vlan, undefined);
  assert.equal(typeof ipOfFrame(LINKTYPE_NULL, new Uint8Array(3)), 'string');

  // Raw IP link types carry the packet as is.
  for (const lt of [LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6]) {
    const p = lt === LINKTYPE_IPV6 ? ipv6 : ipv4;
    r = frame(ipOfFrame(lt, p));
    assert.deepEqual(r.ip, p);
    assert.equal(r.vlan, undefined);
  }

  // Link types nobody here decodes.
  for (const lt of [105, 127, 147, 65535]) {
    const u = ipOfFrame(lt, ipv4);
    assert.equal(typeof u, 'string');
    assert.match(String(u), new RegExp(`${lt}`));
  }
});

test('malformed captures give a reason, never an exception', () => {
  const isReason = (r: CaptureFile | string, pattern: RegExp): void => {
    assert.equal(typeof r, 'string', 'expected a reason string');
    assert.match(String(r), pattern);
  };
  const good = classicPcap(true, PCAP_MAGIC_US, LINKTYPE_RAW, [{ sec: 1, frac: 2, data: ipv4 }]);

  isReason(readCapture(new Uint8Array(0)), /too short/);
  isReason(readCapture(new Uint8Array(3)), /too short/);
  isReason(readCapture(new Uint8Array(24)), /magic/);
  isReason(readCapture(text('GIF89a this is not a capture')), /magic/);
  isReason(readCapture(good.subarray(0, 10)), /header truncated/);
  isReason(readCapture(good.subarray(0, 23)), /header truncated/);
  isReason(readCapture(good.subarray(0, 24 + 10)), /record 0 header truncated/);
  isReason(readCapture(good.subarray(0, good.length - 1)), /record 0 truncated/);

  // A record claiming more than 256 KiB is damage, even if the file were long enough.
  const huge = Uint8Array.from(good);
  new DataView(huge.buffer).setUint32(24 + 8, 256 * 1024 + 1, true);
  isReason(readCapture(huge), /claims 262145 bytes/);
  const huge2 = concat([huge, new Uint8Array(256 * 1024 + 1)]);
  isReason(readCapture(huge2), /claims/);

  // pcapng: block lengths below 12, not a multiple of 4, or past the end of the file.
  const ng = samplePcapng(true).bytes;
  for (const len of [0, 8, 30, ng.length + 4, 0xfffffffc]) {
    const bad = Uint8Array.from(ng);
    new DataView(bad.buffer).setUint32(4, len, true);
    isReason(readCapture(bad), /bad length/);
  }
  isReason(readCapture(ng.subarray(0, ng.length - 4)), /bad length|truncated/);
  isReason(readCapture(ng.subarray(0, 10)), /truncated/);

  // A packet block naming an interface that was never described.
  isReason(
    readCapture(concat([ngShb(true), ngIdb(true, LINKTYPE_RAW), ngEpb(true, 1, 0n, ipv4)])),
    /unknown interface 1/,
  );
  isReason(readCapture(concat([ngShb(false), ngEpb(false, 0, 0n, ipv4)])), /unknown interface 0/);
  isReason(readCapture(concat([ngShb(true), ngSpb(true, ipv4)])), /before any interface/);

  // A bad byte-order magic, and packet data overrunning its block.
  const badBom = Uint8Array.from(ng);
  badBom[8] ^= 0xff;
  isReason(readCapture(badBom), /byte-order/);
  const overrun = concat([ngShb(true), ngIdb(true, LINKTYPE_RAW), ngEpb(true, 0, 0n, ipv4)]);
  const epbAt = overrun.length - (12 + 20 + pad4(ipv4).length);
  new DataView(overrun.buffer).setUint32(epbAt + 8 + 12, ipv4.length + 5, true);
  isReason(readCapture(overrun), /overruns/);
});

test('random damage to a pcap and a pcapng never throws', () => {
  const w = new PcapWriter();
  w.add(1_700_000_000_000.5, ipv4);
  w.add(1_700_000_000_001.5, ipv6);
  w.add(1_700_000_000_002.5, bytesOf(33, 14));
  const bases = [
    w.bytes(),
    samplePcapng(true).bytes,
    samplePcapng(false).bytes,
    classicPcap(false, PCAP_MAGIC_NS, LINKTYPE_ETHERNET, [{ sec: 5, frac: 6, data: ethernet(0x0800, ipv4) }]),
  ];
  const rnd = new SeededRandom(0x5eed);
  const below = (n: number): number => rnd.u32() % n;
  let files = 0;
  let reasons = 0;
  for (let i = 0; i < 2000; i++) {
    const base = bases[i % bases.length];
    let b = Uint8Array.from(base);
    const flips = 1 + below(4);
    for (let k = 0; k < flips; k++) {
      // Headers are where the interesting damage is: aim half the flips at the first 64 bytes.
      const at = below(2) === 0 ? below(Math.min(64, b.length)) : below(b.length);
      b[at] = below(4) === 0 ? [0x00, 0xff, 0x7f, 0x80][below(4)] : below(256);
    }
    if (below(8) === 0) b = b.subarray(0, below(b.length + 1));
    const r = readCapture(b);
    if (typeof r === 'string') {
      reasons++;
      assert.ok(r.length > 0);
      continue;
    }
    files++;
    assert.ok(r.format === 'pcap' || r.format === 'pcapng');
    assert.ok(Array.isArray(r.records));
    r.records.forEach((rec, j) => {
      assert.equal(rec.index, j);
      assert.ok(rec.data.length <= b.length);
      assert.ok(Number.isFinite(rec.timestampMs));
      const lf = ipOfFrame(rec.linkType, rec.data);
      assert.ok(typeof lf === 'string' || lf.ip instanceof Uint8Array);
    });
  }
  // Both outcomes occur, so the loop exercises parsing and not only rejection.
  assert.ok(files > 100, `${files} files`);
  assert.ok(reasons > 100, `${reasons} reasons`);
});

test('Wireshark (tshark) reads PcapWriter output as built', (t) => {
  if (!onPath('tshark')) {
    t.skip('tshark not installed');
    return;
  }
  const packets = [
    {
      ts: 1_767_225_600_000.25,
      spec: { src: '192.0.2.1', dst: '198.51.100.2', l4: { protocol: 'tcp', srcPort: 40000, dstPort: 8001 } },
      expect: ['192.0.2.1', '198.51.100.2', '', '40000', ''],
    },
    {
      ts: 1_767_225_600_031.5,
      spec: { src: '198.51.100.2', dst: '192.0.2.1', l4: { protocol: 'tcp', srcPort: 8001, dstPort: 40000 } },
      expect: ['198.51.100.2', '192.0.2.1', '', '8001', ''],
    },
    {
      ts: 1_767_225_601_000,
      spec: {
        src: '203.0.113.7',
        dst: '203.0.113.89',
        l4: { protocol: 'udp', srcPort: 41234, dstPort: 42345 },
        payload: text('hello'),
      },
      expect: ['203.0.113.7', '203.0.113.89', '', '', '41234'],
    },
    {
      ts: 1_767_225_602_064.125,
      spec: {
        src: '2001:db8::1',
        dst: '2001:db8::89',
        l4: { protocol: 'udp', srcPort: 43210, dstPort: 43211 },
        payload: text('svr'),
      },
      expect: ['', '', '2001:db8::1', '', '43210'],
    },
  ] as const;
  const w = new PcapWriter();
  for (const p of packets) w.add(p.ts, buildPacket(p.spec));

  const dir = mkdtempSync(join(tmpdir(), 'svr-pcap-'));
  try {
    const file = join(dir, 'built.pcap');
    writeFileSync(file, w.bytes());
    // -n: no name resolution, so the run is quick and does not touch the network.
    const fields = ['ip.src', 'ip.dst', 'ipv6.src', 'tcp.srcport', 'udp.srcport', 'frame.time_epoch'];
    const out = execFileSync(
      'tshark',
      ['-n', '-r', file, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])],
      {
        encoding: 'utf8',
        timeout: 20_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines = out.split('\n').filter((l) => l.length > 0);
    assert.equal(lines.length, packets.length, out);
    lines.forEach((line, i) => {
      const cols = line.split('\t');
      assert.deepEqual(cols.slice(0, 5), packets[i].expect, `packet ${i}: ${line}`);
      assertTime(Number(cols[5]) * 1000, packets[i].ts, `packet ${i} time`);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
