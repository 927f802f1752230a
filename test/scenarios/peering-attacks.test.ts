import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type IpAddress, ipToString } from '../../src/base/address.js';
import { SeededRandom } from '../../src/base/random.js';
import { figure2 } from '../../src/emu/topologies.js';
import { decodeBfdMetadata, encodeBfdMetadata } from '../../src/peering/bfd-metadata.js';
import type { SvrRouter } from '../../src/router/router.js';
import { BFD_CONTROL_LENGTH } from '../../src/wire/bfd.js';
import { IpPacket } from '../../src/wire/packet.js';

/** A BFD datagram as captured: its UDP payload and where it came from. */
interface Datagram {
  readonly src: IpAddress;
  readonly srcPort: number;
  readonly payload: Uint8Array;
}

function bfdFrom(data: Uint8Array, from: string): Datagram | undefined {
  const p = new IpPacket();
  if (p.parse(data, 0, data.length) || !p.isUdp || p.dstPort !== 1280) return undefined;
  const src: IpAddress = { version: 4, v4: p.ip4.src };
  if (ipToString(src) !== from) return undefined;
  return { src, srcPort: p.srcPort, payload: data.slice(p.payloadOffset, p.end) };
}

function metadataOf(d: Datagram) {
  const md = decodeBfdMetadata(d.payload, BFD_CONTROL_LENGTH, d.payload.length - BFD_CONTROL_LENGTH);
  assert.notEqual(typeof md, 'number');
  if (typeof md === 'number') throw new Error('unreachable');
  return md;
}

function drops(r: SvrRouter): Record<string, number> {
  return r.dataPlane.ctx.drops.snapshot();
}

/** West's datagrams on the MPLS path as East receives them (interface index of "mpls"). */
function westOnMpls(seed: number) {
  const f = figure2({ seed, settle: false });
  const cap = f.net.capture(f.segments.mpls);
  f.net.run(8000);
  const grams = cap.packets.map((c) => bfdFrom(c.data, '203.0.113.89')).filter((d) => d !== undefined);
  const iface = f.east.dataPlane.ctx.iface('mpls');
  return { f, grams, iface };
}

test('5.1: truncated, mis-sized and garbage BFD packets are dropped with reasons', () => {
  const { f, grams, iface } = westOnMpls(21);
  const east = f.east;
  const peering = east.peering;
  assert.ok(peering && grams.length > 3);
  const g = grams[grams.length - 1];
  const feed = (payload: Uint8Array, src = g.src) =>
    peering.receive(iface, src, g.srcPort, payload, 0, payload.length);
  feed(g.payload.slice(0, 10));
  assert.ok(drops(east)['bfd-truncated'] >= 1);
  const long = g.payload.slice();
  long[3] = 200; // Length beyond the datagram
  feed(long.slice(0, 100));
  assert.ok(drops(east)['bfd-bad-length'] >= 1);
  const v2 = g.payload.slice();
  v2[0] = (2 << 5) | (v2[0] & 0x1f);
  feed(v2);
  assert.ok(drops(east)['bfd-bad-version'] >= 1);
  // Garbage where the protobuf should be.
  const junk = g.payload.slice(0, BFD_CONTROL_LENGTH + 40);
  junk[3] = junk.length;
  for (let i = BFD_CONTROL_LENGTH; i < junk.length; i++) junk[i] = 0xff;
  feed(junk);
  assert.ok(drops(east)['bfd-metadata-malformed'] >= 1);
  // From an address that is no path of the interface, with no discriminator yet.
  const stranger = g.payload.slice();
  stranger.fill(0, 8, 12);
  stranger[1] = (1 << 6) | (stranger[1] & 0x3f); // state Down, so Your Discriminator 0 is legal
  feed(stranger, { version: 4, v4: 0xcb007163 });
  assert.ok(drops(east)['bfd-unknown-path'] >= 1);
  assert.ok(east.events.recent('security').some((e) => e.code === 'bfd-unknown-path'));
});

test('5.1.8, D-8: a tampered peer key is refused; a replayed key request is refused', () => {
  const { f, grams, iface } = westOnMpls(22);
  const east = f.east;
  const peering = east.peering;
  assert.ok(peering);
  const request = grams.find((d) => {
    const md = metadataOf(d);
    return md.peerKey !== undefined;
  });
  assert.ok(request, 'West sent a key on the MPLS path');
  const md = metadataOf(request);
  const feedMd = (m: typeof md) => {
    const body = encodeBfdMetadata(m);
    const payload = new Uint8Array(BFD_CONTROL_LENGTH + body.length);
    payload.set(request.payload.subarray(0, BFD_CONTROL_LENGTH));
    payload[3] = Math.min(255, payload.length);
    payload.set(body, BFD_CONTROL_LENGTH);
    peering.receive(iface, request.src, request.srcPort, payload, 0, payload.length);
  };
  const key = md.peerKey;
  assert.ok(key);
  // Change one character of the signature's base64.
  const at = key.signedKey.indexOf('-----BEGIN SVR SIGNATURE-----') + 40;
  const tampered =
    key.signedKey.slice(0, at) + (key.signedKey[at] === 'A' ? 'B' : 'A') + key.signedKey.slice(at + 1);
  feedMd({ ...md, peerKey: { ...key, signedKey: tampered } });
  assert.ok(
    (drops(east)['peer-key-bad-signature'] ?? 0) + (drops(east)['peer-key-malformed'] ?? 0) >= 1,
    JSON.stringify(drops(east)),
  );
  // Same key claimed for another security id: the signature covers the id (D-8).
  feedMd({ ...md, peerKey: { ...key, securityId: (key.securityId ?? 1) + 5 } });
  assert.ok(drops(east)['peer-key-bad-signature'] >= 1);
  // After a rekey, the captured request for the first id is a replay.
  const before = east.peering?.keys.current('west')?.securityId ?? 0;
  assert.ok(before >= 1);
  f.east.peering?.rekey('west');
  assert.ok(f.net.runUntil(() => (east.peering?.keys.current('west')?.securityId ?? 0) > before, 5000));
  feedMd(md);
  assert.ok(drops(east)['peer-key-replayed'] >= 1, JSON.stringify(drops(east)));
  assert.ok(east.events.recent('security').some((e) => e.code === 'peer-key-replayed'));
  // Still in service with the new key.
  assert.ok(east.peering?.inService('west'));
});

test('5.1: 100 000 mutated BFD packets and metadata: dropped or accepted, never an exception', () => {
  const { f, grams, iface } = westOnMpls(23);
  const peering = f.east.peering;
  assert.ok(peering);
  const rnd = new SeededRandom(2323);
  const seeds = grams.map((g) => g.payload);
  const before = f.east.dataPlane.ctx.drops.total();
  let fed = 0;
  for (let i = 0; i < 100_000; i++) {
    const base = seeds[rnd.u32() % seeds.length];
    let b: Uint8Array;
    switch (rnd.u32() % 5) {
      case 0: // truncate anywhere
        b = base.slice(0, rnd.u32() % (base.length + 1));
        break;
      case 1: {
        // flip a few bits in the control header (state, lengths, discriminators)
        b = base.slice();
        for (let k = 0; k < 1 + (rnd.u32() % 3); k++)
          b[rnd.u32() % BFD_CONTROL_LENGTH] ^= 1 << (rnd.u32() % 8);
        break;
      }
      case 2: {
        // flip bits in the protobuf
        b = base.slice();
        if (b.length > BFD_CONTROL_LENGTH)
          for (let k = 0; k < 1 + (rnd.u32() % 4); k++) {
            const at = BFD_CONTROL_LENGTH + (rnd.u32() % (b.length - BFD_CONTROL_LENGTH));
            b[at] ^= 1 << (rnd.u32() % 8);
          }
        break;
      }
      case 3: {
        // random bytes after a valid header
        b = new Uint8Array(BFD_CONTROL_LENGTH + (rnd.u32() % 200));
        b.set(base.subarray(0, BFD_CONTROL_LENGTH));
        rnd.fill(b, BFD_CONTROL_LENGTH);
        b[3] = Math.min(255, b.length);
        break;
      }
      default: // wholly random
        b = new Uint8Array(rnd.u32() % 120);
        rnd.fill(b);
    }
    // Keep the router's own state sane between cases: only the header fuzz may change state.
    peering.receive(iface, grams[0].src, grams[0].srcPort, b, 0, b.length);
    fed++;
  }
  assert.equal(fed, 100_000);
  assert.ok(f.east.dataPlane.ctx.drops.total() - before > 50_000, 'most were dropped, each with a reason');
});
