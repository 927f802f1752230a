import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ipv4ToString } from '../../src/base/address.js';
import { decodeMetadata, findTlv } from '../../src/wire/metadata/block.js';
import { payloadHasCookie } from '../../src/wire/metadata/insert.js';
import { TlvType } from '../../src/wire/metadata/tlv.js';
import { TCP_ACK, TCP_PSH, TCP_SYN } from '../../src/wire/tcp.js';
import { lab, parsed, tcp } from '../../testlib/dataplane-harness.js';

const CLIENT = '10.0.1.1';
const SERVER = '172.15.11.23';

test('3.7 ladder: SYN[MD], SYN/ACK[RMD], then packets without metadata, both ways, payload intact', () => {
  const l = lab('examples/figure2.yaml');
  const east = l.routers.get('east');
  const west = l.routers.get('west');
  assert.ok(east && west);
  const lan2 = l.iface('east', 'lan-vlan2');
  const eMpls = l.iface('east', 'mpls');
  const wMpls = l.iface('west', 'mpls');
  const wLan = l.iface('west', 'servers');

  // Client SYN into East on VLAN 2 (tenant engineering).
  east.driver.deliver(lan2, tcp(CLIENT, SERVER, 6969, 22, TCP_SYN, 1000, 0));
  const [syn] = east.driver.take();
  assert.ok(syn, `east dropped the SYN: ${JSON.stringify(east.router.dataPlane.ctx.drops.snapshot())}`);
  assert.equal(syn.iface, eMpls, 'MPLS wins (3.7.1.4)');
  const s1 = parsed(syn.bytes);
  assert.equal(ipv4ToString(s1.ip4.src), '203.0.113.1');
  assert.equal(ipv4ToString(s1.ip4.dst), '203.0.113.89');
  assert.equal(s1.srcPort % 2, 0);
  assert.equal(s1.dstPort % 2, 1);
  assert.ok(payloadHasCookie(s1), 'metadata on the SYN');
  assert.ok(s1.ip4.checksumValid() && s1.l4ChecksumValid());

  // West receives it, removes metadata and delivers the original SYN to the server LAN.
  west.driver.deliver(wMpls, syn.bytes);
  const [toServer] = west.driver.take();
  assert.ok(toServer, `west dropped: ${JSON.stringify(west.router.dataPlane.ctx.drops.snapshot())}`);
  assert.equal(toServer.iface, wLan);
  const s2 = parsed(toServer.bytes);
  // 3.7.1.5: East's MPLS interface source-NATs to 203.0.113.1, applied here.
  assert.equal(ipv4ToString(s2.ip4.src), '203.0.113.1');
  assert.equal(ipv4ToString(s2.ip4.dst), SERVER);
  assert.equal(s2.dstPort, 22);
  assert.equal(s2.tcp.seq, 1000);
  assert.equal(s2.payloadLength, 0, 'no metadata left');
  assert.ok(s2.ip4.checksumValid() && s2.l4ChecksumValid());
  const natPort = s2.srcPort;

  // Server SYN/ACK: West adds reverse metadata.
  west.driver.deliver(wLan, tcp(SERVER, '203.0.113.1', 22, natPort, TCP_SYN | TCP_ACK, 5000, 1001));
  const [synack] = west.driver.take();
  assert.ok(synack, `west dropped SYN/ACK: ${JSON.stringify(west.router.dataPlane.ctx.drops.snapshot())}`);
  const s3 = parsed(synack.bytes);
  assert.equal(ipv4ToString(s3.ip4.src), '203.0.113.89');
  assert.equal(s3.srcPort, s1.dstPort);
  assert.equal(s3.dstPort, s1.srcPort);
  assert.ok(payloadHasCookie(s3), 'reverse metadata on the SYN/ACK (3.7.4)');

  east.driver.deliver(eMpls, synack.bytes);
  const [toClient] = east.driver.take();
  assert.ok(toClient, `east dropped SYN/ACK: ${JSON.stringify(east.router.dataPlane.ctx.drops.snapshot())}`);
  const s4 = parsed(toClient.bytes);
  assert.equal(ipv4ToString(s4.ip4.src), SERVER);
  assert.equal(ipv4ToString(s4.ip4.dst), CLIENT);
  assert.equal(s4.srcPort, 22);
  assert.equal(s4.dstPort, 6969);
  assert.equal(s4.tcp.ack, 1001);
  assert.ok(s4.l4ChecksumValid());

  // ACK with data: no metadata any more in either direction (3.7.5).
  const data = new TextEncoder().encode('SSH-2.0-client\r\n');
  east.driver.deliver(lan2, tcp(CLIENT, SERVER, 6969, 22, TCP_ACK | TCP_PSH, 1001, 5001, data));
  const [ack] = east.driver.take();
  const s5 = parsed(ack.bytes);
  assert.ok(!payloadHasCookie(s5), 'no metadata after the handshake');
  assert.equal(ipv4ToString(s5.ip4.dst), '203.0.113.89');
  west.driver.deliver(wMpls, ack.bytes);
  const [ack2] = west.driver.take();
  const s6 = parsed(ack2.bytes);
  assert.deepEqual(s6.b.slice(s6.payloadOffset, s6.end), data, 'payload byte for byte');
  assert.ok(s6.l4ChecksumValid() && s6.ip4.checksumValid());
  // And back: the server's reply without metadata.
  const reply = new TextEncoder().encode('SSH-2.0-server\r\n');
  west.driver.deliver(wLan, tcp(SERVER, '203.0.113.1', 22, natPort, TCP_ACK | TCP_PSH, 5001, 1017, reply));
  const [r1] = west.driver.take();
  assert.ok(!payloadHasCookie(parsed(r1.bytes)), 'West stopped reverse metadata after the metadata-less ACK');
  east.driver.deliver(eMpls, r1.bytes);
  const [r2] = east.driver.take();
  const s7 = parsed(r2.bytes);
  assert.deepEqual(s7.b.slice(s7.payloadOffset, s7.end), reply);
  assert.equal(ipv4ToString(s7.ip4.dst), CLIENT);
  assert.ok(s7.l4ChecksumValid());
  const e = east.router.dataPlane.ctx.stats;
  assert.ok(e.fastPath >= 2, `fast path used: ${JSON.stringify(e)}`);
  const md = decodeMetadata(s1.b, s1.payloadOffset, s1.end);
  void md;
  void findTlv;
  void TlvType;
});
