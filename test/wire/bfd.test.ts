import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DropReason } from '../../src/base/drop-reason.js';
import { SeededRandom } from '../../src/base/random.js';
import {
  BFD_CONTROL_LENGTH,
  BFD_FLAG_AUTH,
  BFD_FLAG_MULTIPOINT,
  BfdControl,
  type BfdControlFields,
  BfdDiag,
  BfdState,
  writeBfdControl,
} from '../../src/wire/bfd.js';

const BASE: BfdControlFields = {
  diag: BfdDiag.None,
  state: BfdState.Down,
  poll: false,
  final: false,
  cpi: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 0x11223344,
  yourDiscriminator: 0,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 500_000,
  requiredMinEchoRxUs: 0,
};

function packet(f: Partial<BfdControlFields> = {}, metadata = 0): Uint8Array {
  const b = new Uint8Array(BFD_CONTROL_LENGTH + metadata);
  writeBfdControl(b, 0, { ...BASE, ...f }, metadata);
  return b;
}

function parse(b: Uint8Array, off = 0, len = b.length - off): DropReason {
  return new BfdControl().parse(b, off, len);
}

test('RFC 5880 4.1: every field round-trips through writeBfdControl and the view', () => {
  const f: BfdControlFields = {
    diag: BfdDiag.ReverseConcatenatedPathDown,
    state: BfdState.Up,
    poll: true,
    final: true,
    cpi: true,
    demand: true,
    detectMult: 255,
    myDiscriminator: 0xfedcba98,
    yourDiscriminator: 0x01020304,
    desiredMinTxUs: 0xffffffff,
    requiredMinRxUs: 123_456,
    requiredMinEchoRxUs: 1000,
  };
  const b = new Uint8Array(7 + BFD_CONTROL_LENGTH + 3);
  b.fill(0xee);
  writeBfdControl(b, 7, f, 0);
  assert.equal(b[6], 0xee, 'nothing written before the offset');
  assert.equal(b[7 + 24], 0xee, 'nothing written after the 24 bytes');
  const c = new BfdControl();
  assert.equal(c.parse(b, 7, 24), DropReason.None);
  assert.equal(c.version, 1);
  assert.equal(c.diag, f.diag);
  assert.equal(c.state, f.state);
  assert.equal(c.poll, true);
  assert.equal(c.final, true);
  assert.equal(c.cpi, true);
  assert.equal(c.auth, false);
  assert.equal(c.demand, true);
  assert.equal(c.multipoint, false);
  assert.equal(c.detectMult, 255);
  assert.equal(c.length, 24);
  assert.equal(c.myDiscriminator, f.myDiscriminator);
  assert.equal(c.yourDiscriminator, f.yourDiscriminator);
  assert.equal(c.desiredMinTxUs, f.desiredMinTxUs);
  assert.equal(c.requiredMinRxUs, f.requiredMinRxUs);
  assert.equal(c.requiredMinEchoRxUs, f.requiredMinEchoRxUs);
  assert.equal(c.metadataOffset, 7 + 24);
  assert.equal(c.metadataLength, 0);

  // Each flag alone, and each state and diag, lands in its own bits.
  for (const flag of ['poll', 'final', 'cpi', 'demand'] as const) {
    const one = packet({ [flag]: true, state: BfdState.Init, yourDiscriminator: 9 });
    assert.equal(c.parse(one, 0, 24), DropReason.None);
    for (const other of ['poll', 'final', 'cpi', 'demand'] as const)
      assert.equal(c[other], other === flag, flag);
    assert.equal(c.state, BfdState.Init);
  }
  for (let d = 0; d <= 8; d++) {
    assert.equal(c.parse(packet({ diag: d }), 0, 24), DropReason.None);
    assert.equal(c.diag, d);
  }
  for (const s of [BfdState.AdminDown, BfdState.Down, BfdState.Init, BfdState.Up]) {
    assert.equal(c.parse(packet({ state: s, yourDiscriminator: 5 }), 0, 24), DropReason.None);
    assert.equal(c.state, s);
  }
});

test('RFC 5880 4.1: the known wire image of a Down packet', () => {
  const b = packet({ diag: BfdDiag.ControlDetectionTimeExpired });
  assert.deepEqual(
    Array.from(b),
    // vers 1 diag 1 | Sta 1 | mult 3 | len 24 | my | your | 1 s | 500 ms | 0
    [
      0x21, 0x40, 3, 24, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40, 0, 0x07, 0xa1, 0x20, 0, 0,
      0, 0,
    ],
  );
});

test('D-6: a control packet with 40 bytes of metadata has length 64', () => {
  const b = packet({}, 40);
  for (let i = 0; i < 40; i++) b[24 + i] = i + 1;
  assert.equal(b[3], 64);
  const c = new BfdControl();
  assert.equal(c.parse(b, 0, 64), DropReason.None);
  assert.equal(c.length, 64);
  assert.equal(c.packetLength, 64);
  assert.equal(c.metadataOffset, 24);
  assert.equal(c.metadataLength, 40);
  assert.equal(b[c.metadataOffset], 1);
  assert.equal(b[c.metadataOffset + c.metadataLength - 1], 40);
  // Bytes past Length in the UDP payload are not metadata.
  const longer = new Uint8Array(80);
  longer.set(b);
  assert.equal(c.parse(longer, 0, 80), DropReason.None);
  assert.equal(c.metadataLength, 40);
  // Length beyond the UDP payload.
  assert.equal(c.parse(b, 0, 63), DropReason.BfdBadLength);
});

test('D-6: metadata beyond the 8-bit Length saturates it at 255, the rest runs to the end of the payload', () => {
  const c = new BfdControl();
  const exact = packet({}, 231);
  assert.equal(exact[3], 255);
  assert.equal(c.parse(exact, 0, 255), DropReason.None);
  assert.equal(c.metadataLength, 231);
  const big = packet({}, 1000);
  assert.equal(big[3], 255);
  assert.equal(c.parse(big, 0, big.length), DropReason.None);
  assert.equal(c.length, 255);
  assert.equal(c.metadataLength, 1000);
  assert.equal(c.parse(big, 0, 254), DropReason.BfdBadLength);
  assert.throws(() => writeBfdControl(new Uint8Array(24), 0, BASE, -1), RangeError);
  assert.throws(() => writeBfdControl(new Uint8Array(23), 0, BASE, 0), RangeError);
});

test('RFC 5880 6.8.6: each session-free reception check has its DropReason', () => {
  const cases: [string, (b: Uint8Array) => void, DropReason, number?][] = [
    ['version 0', (b) => (b[0] = (0 << 5) | (b[0] & 31)), DropReason.BfdBadVersion],
    ['version 2', (b) => (b[0] = (2 << 5) | (b[0] & 31)), DropReason.BfdBadVersion],
    ['length 23', (b) => (b[3] = 23), DropReason.BfdBadLength],
    ['length 0', (b) => (b[3] = 0), DropReason.BfdBadLength],
    ['length 25 > payload 24', (b) => (b[3] = 25), DropReason.BfdBadLength],
    ['detect mult 0', (b) => (b[2] = 0), DropReason.BfdBadDetectMult],
    ['M bit', (b) => (b[1] |= BFD_FLAG_MULTIPOINT), DropReason.BfdMultipoint],
    ['my discriminator 0', (b) => b.fill(0, 4, 8), DropReason.BfdBadMyDiscriminator],
    ['A bit', (b) => (b[1] |= BFD_FLAG_AUTH), DropReason.BfdAuthUnsupported],
    [
      'your discriminator 0 in Init',
      (b) => (b[1] = (BfdState.Init << 6) | (b[1] & 63)),
      DropReason.BfdBadYourDiscriminator,
    ],
    [
      'your discriminator 0 in Up',
      (b) => (b[1] = (BfdState.Up << 6) | (b[1] & 63)),
      DropReason.BfdBadYourDiscriminator,
    ],
  ];
  for (const [name, mutate, reason] of cases) {
    const b = packet();
    assert.equal(parse(b), DropReason.None, name);
    mutate(b);
    assert.equal(parse(b), reason, name);
  }
  for (let len = 0; len < 24; len++)
    assert.equal(parse(packet(), 0, len), DropReason.BfdTruncated, `len ${len}`);
  // Your discriminator 0 is fine in Down and AdminDown (6.8.6).
  assert.equal(parse(packet({ state: BfdState.AdminDown })), DropReason.None);
  assert.equal(parse(packet({ state: BfdState.Down })), DropReason.None);
  assert.equal(parse(packet({ state: BfdState.Up, yourDiscriminator: 1 })), DropReason.None);
  // A view that failed reports no metadata.
  const c = new BfdControl();
  c.parse(packet({}, 10), 0, 34);
  assert.equal(c.metadataLength, 10);
  c.parse(new Uint8Array(3), 0, 3);
  assert.equal(c.metadataLength, 0);
});

test('RFC 5880 6.8.6: 100 000 random and mutated buffers parse without an exception', () => {
  const rnd = new SeededRandom(5880);
  const c = new BfdControl();
  const buf = new Uint8Array(300);
  let accepted = 0;
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    let len: number;
    if (i % 2 === 0) {
      // Random bytes of a random length, with a plausible first byte half the time.
      len = rnd.u32() % 300;
      rnd.fill(buf, 0, len);
      if (len > 0 && i % 4 === 0) buf[0] = 0x20 | (buf[0] & 31);
    } else {
      // A valid packet with metadata, then a few bytes changed.
      const meta = rnd.u32() % 40;
      writeBfdControl(buf, 0, { ...BASE, state: rnd.u32() & 3, yourDiscriminator: rnd.u32() & 1 }, meta);
      len = 24 + meta + (rnd.u32() % 3) - 1;
      const flips = 1 + (rnd.u32() % 3);
      for (let k = 0; k < flips; k++) buf[rnd.u32() % 24] ^= 1 << (rnd.u32() & 7);
    }
    const off = 0;
    const r = c.parse(buf, off, Math.max(0, len));
    if (r === DropReason.None) {
      accepted++;
      assert.ok(c.metadataLength >= 0 && c.metadataOffset + c.metadataLength <= off + len);
      assert.equal(c.version, 1);
      assert.ok(c.detectMult > 0 && c.myDiscriminator !== 0 && !c.auth && !c.multipoint);
    }
  }
  assert.ok(accepted > 1000, `some mutations stay valid (${accepted})`);
});
