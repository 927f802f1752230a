import assert from 'node:assert/strict';
import { parseHex } from '../src/base/bytes.js';
import type { PacketBuffer } from '../src/base/packet-buffer.js';
import { buildPacketBuffer, type PacketSpec } from '../src/wire/builder.js';
import { IpPacket } from '../src/wire/packet.js';
import { TCP_ACK } from '../src/wire/tcp.js';

/** Shared helpers for tests: packets from a few fields, parsed and checked. */

export function hex(s: string): Uint8Array {
  const b = parseHex(s);
  if (typeof b === 'string') throw new Error(b);
  return b;
}

export function parse(pb: PacketBuffer): IpPacket {
  const p = new IpPacket();
  const r = p.parse(pb.data, pb.start, pb.length);
  assert.equal(r, 0, `packet should parse, got reason ${r}`);
  return p;
}

export function parseBytes(b: Uint8Array): IpPacket {
  const p = new IpPacket();
  const r = p.parse(b, 0, b.length);
  assert.equal(r, 0, `packet should parse, got reason ${r}`);
  return p;
}

/** IP header and transport checksums both verify. */
export function assertChecksumsValid(p: IpPacket, what = 'packet'): void {
  if (p.version === 4) assert.ok(p.ip4.checksumValid(), `${what}: IPv4 header checksum`);
  assert.ok(p.l4ChecksumValid(), `${what}: transport checksum`);
}

export interface Flow {
  v6?: boolean;
  protocol?: 'tcp' | 'udp';
  payload?: Uint8Array;
  flags?: number;
  headroom?: number;
  tailroom?: number;
  options?: Uint8Array;
}

export const V4 = { a: '10.0.1.1', b: '172.15.11.23' } as const;
export const V6 = { a: '2001:db8:1::1', b: '2001:db8:2::17' } as const;

export function flowPacket(f: Flow = {}): PacketBuffer {
  const src = f.v6 ? V6.a : V4.a;
  const dst = f.v6 ? V6.b : V4.b;
  const l4: PacketSpec['l4'] =
    (f.protocol ?? 'tcp') === 'tcp'
      ? {
          protocol: 'tcp',
          srcPort: 6969,
          dstPort: 22,
          seq: 0x01020304,
          ack: 0x0a0b0c0d,
          flags: f.flags ?? TCP_ACK,
          options: f.options,
        }
      : { protocol: 'udp', srcPort: 5353, dstPort: 514 };
  const spec: PacketSpec = { src, dst, l4, payload: f.payload ?? new TextEncoder().encode('hello svr') };
  return buildPacketBuffer(spec, f.headroom ?? 512, f.tailroom ?? 64);
}
