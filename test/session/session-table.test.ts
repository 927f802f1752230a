import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIpv4, parseIpv6 } from '../../src/base/address.js';
import { ManualClock } from '../../src/base/clock.js';
import { DropReason } from '../../src/base/drop-reason.js';
import { SeededRandom } from '../../src/base/random.js';
import { DEFAULT_TIMERS } from '../../src/config/model.js';
import {
  EndReason,
  KEY_WORDS_V4,
  type SessionInit,
  SessionRole,
  SessionTable,
} from '../../src/session/session-table.js';
import { TcpState } from '../../src/session/tcp-state.js';
import { WayportPool } from '../../src/session/wayports.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/protocol.js';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { flowPacket, parse } from '../../testlib/packets.js';

const ip = (s: string) => parseIpv4(s) ?? 0;
const CLIENT = ip('10.0.1.1');
const SERVER = ip('172.15.11.23');
const EAST = ip('203.0.113.1');
const WEST = ip('203.0.113.89');
const LAN = 1;
const MPLS = 2;

function uuidOf(n: number): Uint8Array {
  const u = new Uint8Array(16);
  new DataView(u.buffer).setUint32(12, n);
  u[6] = 0x40;
  return u;
}

function init(n: number, over: Partial<SessionInit> = {}): SessionInit {
  return {
    uuid: uuidOf(n),
    tenant: 1,
    service: 0,
    role: SessionRole.Ingress,
    protocol: IPPROTO_TCP,
    out: [
      { path: 0, keyId: 1, nextHop: 0 },
      { path: -1, keyId: 0, nextHop: 1 },
    ] as const,
    portPair: -1,
    portPath: 0,
    ...over,
  };
}

/** East's two wings for a client session on the MPLS path (3.7.3): LAN in, WAN back. */
function eastKeys(clientPort: number, evenPort: number): Uint32Array {
  const k = new Uint32Array(8);
  SessionTable.keyV4(k, 0, CLIENT, SERVER, clientPort, 22, IPPROTO_TCP, 2, LAN);
  SessionTable.keyV4(k, 4, WEST, EAST, evenPort + 1, evenPort, IPPROTO_TCP, 0, MPLS);
  return k;
}

test('[R-2.6-a] [R-4.6-b] both wings of a session resolve to one record', () => {
  const clock = new ManualClock(5000);
  const t = new SessionTable({ clock });
  const k = eastKeys(6969, 8000);
  const id = t.create(
    4,
    k,
    0,
    k,
    4,
    init(1, {
      tenant: 3,
      service: 7,
      out: [
        { path: 2, keyId: 9, nextHop: 4 },
        { path: -1, keyId: 0, nextHop: 5 },
      ],
    }),
  );
  assert.ok(id >= 0);
  assert.equal(t.lookupV4(k, 0), id * 2, 'forward wing');
  assert.equal(t.lookupV4(k, 4), id * 2 + 1, 'reverse wing');
  assert.equal(t.tenant(id), 3);
  assert.equal(t.service(id), 7);
  assert.equal(t.outPath(id * 2), 2);
  assert.equal(t.inPath(id * 2 + 1), 2, 'replies arrive on the path requests leave on');
  assert.equal(t.outKeyId(id * 2), 9);
  assert.equal(t.nextHop(id * 2 + 1), 5);
  assert.equal(t.countMetadata(id), 1);
  assert.equal(t.metadataCount(id), 1);
  assert.equal(t.role(id), SessionRole.Ingress);
  assert.equal(t.createdMs(id), 5000);
  assert.deepEqual(t.uuid(id), uuidOf(1));
  assert.equal(t.byUuid(uuidOf(1)), id);
  // A different VLAN or ingress interface is a different 7-tuple.
  const other = new Uint32Array(4);
  SessionTable.keyV4(other, 0, CLIENT, SERVER, 6969, 22, IPPROTO_TCP, 3, LAN);
  assert.equal(t.lookupV4(other, 0), -1);
  SessionTable.keyV4(other, 0, CLIENT, SERVER, 6969, 22, IPPROTO_TCP, 2, MPLS);
  assert.equal(t.lookupV4(other, 0), -1);
});

test('a wing translates to the other wing reversed (3.7.3): forward leaves on the waypoints', () => {
  const t = new SessionTable({ clock: new ManualClock(0) });
  const k = eastKeys(6969, 8000);
  const id = t.create(4, k, 0, k, 4, init(2));
  const out = new Uint32Array(KEY_WORDS_V4);
  t.wingOutput(id * 2, out, 0);
  assert.deepEqual(
    [out[0], out[1], out[2] >>> 16, out[2] & 0xffff, out[3] & 0xff, (out[3] >>> 8) & 0xfff, out[3] >>> 20],
    [EAST, WEST, 8000, 8001, IPPROTO_TCP, 0, MPLS],
  );
  t.wingOutput(id * 2 + 1, out, 0);
  assert.deepEqual(
    [out[0], out[1], out[2] >>> 16, out[2] & 0xffff, (out[3] >>> 8) & 0xfff, out[3] >>> 20],
    [SERVER, CLIENT, 22, 6969, 2, LAN],
  );
  t.setDeltas(id * 2 + 1, 0x1234, 0x5678);
  assert.deepEqual([t.ipDelta(id * 2 + 1), t.l4Delta(id * 2 + 1), t.ipDelta(id * 2)], [0x1234, 0x5678, 0]);
});

test('keys come straight from parsed packets, IPv4 and IPv6', () => {
  const t = new SessionTable({ clock: new ManualClock(0) });
  for (const v6 of [false, true]) {
    const p = parse(flowPacket({ v6 }));
    const k = new Uint32Array(20);
    const fam = SessionTable.keyOfPacket(p, 2, LAN, k, 0);
    assert.equal(fam, v6 ? 6 : 4);
    SessionTable.reverseKey(fam === 6 ? 6 : 4, k, 0, k, 10, 0, MPLS);
    const id = t.create(fam === 6 ? 6 : 4, k, 0, k, 10, init(v6 ? 61 : 41));
    assert.ok(id >= 0);
    assert.equal(t.lookup(fam === 6 ? 6 : 4, k, 0), id * 2);
    assert.equal(t.lookup(fam === 6 ? 6 : 4, k, 10), id * 2 + 1);
  }
  const a = parseIpv6('2001:db8:1::1') ?? new Uint8Array(16);
  const k6 = new Uint32Array(10);
  SessionTable.keyV6(k6, 0, a, 0, a, 0, 1, 2, IPPROTO_UDP, 0, 1);
  assert.equal(k6[0], 0x20010db8);
});

test('[R-3.7.2.5-a] there are never two sessions with the same UUID: the second is a loop', () => {
  const t = new SessionTable({ clock: new ManualClock(0) });
  const k1 = eastKeys(1000, 8000);
  const k2 = eastKeys(1001, 8002);
  assert.ok(t.create(4, k1, 0, k1, 4, init(42)) >= 0);
  assert.equal(t.create(4, k2, 0, k2, 4, init(42)), -DropReason.SessionLoop);
  assert.equal(t.size, 1);
  // A wing already in use, or both wings the same, is refused too.
  assert.equal(t.create(4, k1, 0, k2, 4, init(43)), -DropReason.SessionExists);
  assert.equal(t.create(4, k2, 0, k2, 0, init(44)), -DropReason.SessionExists);
});

test('limits: total sessions and sessions per tenant', () => {
  const t = new SessionTable({
    clock: new ManualClock(0),
    limits: { maxSessions: 5, maxSessionsPerTenant: 3 },
  });
  for (let i = 0; i < 3; i++) {
    const k = eastKeys(2000 + i, 8000 + 2 * i);
    assert.ok(t.create(4, k, 0, k, 4, init(100 + i, { tenant: 1 })) >= 0);
  }
  const k = eastKeys(3000, 9000);
  assert.equal(t.create(4, k, 0, k, 4, init(200, { tenant: 1 })), -DropReason.TenantSessionLimit);
  for (let i = 0; i < 2; i++) {
    const kk = eastKeys(4000 + i, 9100 + 2 * i);
    assert.ok(t.create(4, kk, 0, kk, 4, init(300 + i, { tenant: 2 })) >= 0);
  }
  assert.equal(t.create(4, k, 0, k, 4, init(400, { tenant: 9 })), -DropReason.SessionLimit);
  assert.equal(t.sessionsOfTenant(1), 3);
  assert.equal(t.sessionsOfTenant(2), 2);
});

test('[R-4.2.3-d] removing a session frees its wings, its UUID and its wayport pair', () => {
  const clock = new ManualClock(0);
  const pool = new WayportPool([{ id: 0, range: { lo: 8000, hi: 8003 } }], 60, clock, new SeededRandom(1));
  const t = new SessionTable({ clock, ports: pool });
  const pair = pool.allocate(0);
  const k = eastKeys(5000, 8000);
  const id = t.create(4, k, 0, k, 4, init(5, { portPair: pair }));
  assert.equal(pool.allocator(0)?.inUse, 1);
  t.remove(id);
  assert.equal(t.lookupV4(k, 0), -1);
  assert.equal(t.lookupV4(k, 4), -1);
  assert.equal(t.byUuid(uuidOf(5)), -1);
  assert.equal(pool.allocator(0)?.inUse, 0);
  assert.equal(pool.allocator(0)?.inGuard, 1);
  assert.equal(t.size, 0);
  t.remove(id); // twice is harmless
});

test('idle timeouts per protocol on the injected clock; activity keeps a session (D-10)', () => {
  const clock = new ManualClock(0);
  const ended: [number, EndReason][] = [];
  const t = new SessionTable({ clock, onEnd: (id, r) => ended.push([id, r]) });
  const tcp = eastKeys(6000, 8000);
  const udp = new Uint32Array(8);
  SessionTable.keyV4(udp, 0, CLIENT, SERVER, 5000, 514, IPPROTO_UDP, 0, LAN);
  SessionTable.keyV4(udp, 4, SERVER, CLIENT, 514, 5000, IPPROTO_UDP, 0, MPLS);
  const a = t.create(4, tcp, 0, tcp, 4, init(1));
  const b = t.create(4, udp, 0, udp, 4, init(2, { protocol: IPPROTO_UDP }));
  // TCP not established: 10 s.
  clock.set(9_000);
  t.expire();
  assert.ok(t.isLive(a));
  clock.set(10_200);
  t.expire();
  assert.ok(!t.isLive(a));
  assert.deepEqual(ended[0], [a, EndReason.Idle]);
  // UDP: 180 s, pushed out by traffic.
  for (let s = 60; s <= 600; s += 60) {
    clock.set(s * 1000);
    t.touch(b * 2, 100);
    t.expire();
    assert.ok(t.isLive(b), `udp alive at ${s} s`);
  }
  assert.equal(t.packetCount(b * 2), 10);
  assert.equal(t.byteCount(b * 2), 1000);
  clock.set(600_000 + DEFAULT_TIMERS.udpIdleSeconds * 1000 + 200);
  t.expire();
  assert.ok(!t.isLive(b));
});

test('3.7.6: FIN both ways starts the 5 s close guard, which traffic does not extend; RST likewise', () => {
  const clock = new ManualClock(0);
  const t = new SessionTable({ clock });
  const k = eastKeys(7000, 8000);
  const id = t.create(4, k, 0, k, 4, init(1));
  const f = id * 2;
  const r = id * 2 + 1;
  t.trackTcp(f, TCP_SYN);
  t.trackTcp(r, TCP_SYN | TCP_ACK);
  t.trackTcp(f, TCP_ACK);
  assert.equal(t.tcpState(id), TcpState.Established);
  clock.set(1_000_000);
  t.touch(f, 60);
  t.expire();
  assert.ok(t.isLive(id), 'established: 1900 s idle timer');
  t.trackTcp(f, TCP_FIN | TCP_ACK);
  t.trackTcp(r, TCP_FIN | TCP_ACK);
  assert.equal(t.tcpState(id), TcpState.Closed);
  clock.advance(3_000);
  t.touch(f, 40); // the last ACK: does not push the guard out
  clock.advance(2_200);
  t.expire();
  assert.ok(!t.isLive(id));

  const k2 = eastKeys(7001, 8002);
  const id2 = t.create(4, k2, 0, k2, 4, init(2));
  t.trackTcp(id2 * 2, TCP_SYN);
  t.trackTcp(id2 * 2 + 1, TCP_RST);
  assert.equal(t.tcpState(id2), TcpState.Reset);
  clock.advance(5_200);
  t.expire();
  assert.ok(!t.isLive(id2));
});

test('3.7.6: a new SYN during the close guard ends the old session at once', () => {
  const ended: EndReason[] = [];
  const t = new SessionTable({ clock: new ManualClock(0), onEnd: (_, r) => ended.push(r) });
  const k = eastKeys(7100, 8100);
  const id = t.create(4, k, 0, k, 4, init(9));
  t.trackTcp(id * 2, TCP_SYN);
  assert.equal(t.endOnNewSyn(id * 2, TCP_SYN), false, 'not in the guard: a retransmitted SYN');
  t.trackTcp(id * 2 + 1, TCP_RST);
  assert.equal(t.endOnNewSyn(id * 2, TCP_SYN | TCP_ACK), false);
  assert.equal(t.endOnNewSyn(id * 2, TCP_SYN), true);
  assert.ok(!t.isLive(id));
  assert.deepEqual(ended, [EndReason.NewSyn]);
  assert.ok(t.create(4, k, 0, k, 4, init(10)) >= 0, 'the same five-tuple starts afresh');
});

test('the table grows past its initial capacity and keeps every wing findable', () => {
  const t = new SessionTable({ clock: new ManualClock(0), initialCapacity: 16 });
  const n = 3000;
  const keys: Uint32Array[] = [];
  for (let i = 0; i < n; i++) {
    const k = eastKeys(10000 + (i % 50000), 20000 + 2 * i);
    k[0] = i; // distinct clients
    keys.push(k);
    assert.ok(t.create(4, k, 0, k, 4, init(1000 + i)) >= 0);
  }
  assert.ok(t.capacity >= n);
  for (let i = 0; i < n; i += 2) t.remove(t.lookupV4(keys[i], 0) >>> 1);
  for (let i = 0; i < n; i++) {
    const w = t.lookupV4(keys[i], 4);
    assert.equal(w >= 0, i % 2 === 1);
    if (w >= 0) assert.equal(t.byUuid(uuidOf(1000 + i)), w >>> 1);
  }
  assert.equal(t.size, n / 2);
  assert.ok(t.byteLength() > 0);
});
