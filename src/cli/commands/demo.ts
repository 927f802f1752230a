import { writeFileSync } from 'node:fs';
import { ipv4ToString } from '../../base/address.js';
import { HMAC_SIGNATURE_LENGTH } from '../../crypto/hmac.js';
import type { PeerKey } from '../../crypto/peer-keys.js';
import type { Capture } from '../../emu/capture.js';
import { echoServer, sinkServer } from '../../emu/servers.js';
import { type Figure2, figure2 } from '../../emu/topologies.js';
import { PcapWriter } from '../../pcap/pcap.js';
import type { SessionRow, SvrRouter } from '../../router/router.js';
import { BfdState } from '../../wire/bfd.js';
import { decodeMetadata, findTlv, hasCookie } from '../../wire/metadata/block.js';
import { TlvType } from '../../wire/metadata/tlv.js';
import { IpPacket } from '../../wire/packet.js';
import { CliError } from '../errors.js';

/**
 * `svr demo` (and `npm start`): the draft's Figure 2 on the emulator. One session walked step by
 * step in the draft's words, read back from what the routers decided and what crossed the wire;
 * then a mix of sessions, both routers' session tables, and what SVR cost on the wire against
 * the same packets in a tunnel.
 */

export interface DemoOptions {
  seed?: string;
  pcap?: string;
  metadataEncryption?: boolean;
}

const IPSEC_OVERHEAD = 50;
const WIREGUARD_OVERHEAD = 60;

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function packet(bytes: Uint8Array): IpPacket {
  const p = new IpPacket();
  p.parse(bytes, 0, bytes.length);
  return p;
}

/** Table text with aligned columns. */
function table(head: string[], rows: string[][]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    `  ${r
      .map((c, i) => pad(c, w[i]))
      .join('  ')
      .trimEnd()}`;
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)];
}

function sessionTable(r: SvrRouter): string[] {
  const rows = r
    .sessions()
    .map((s: SessionRow) => [
      s.uuid.slice(0, 8),
      s.direction === 'forward' ? 'fwd' : 'rev',
      s.service,
      s.tenant,
      s.interface,
      s.protocol,
      s.source,
      s.destination,
      s.path || '-',
      s.tcpState || '-',
      String(s.packets),
      String(s.idleTimeoutSeconds),
    ]);
  return table(
    [
      'Session',
      'Dir',
      'Service',
      'Tenant',
      'Interface',
      'Proto',
      'Source',
      'Destination',
      'Path',
      'TCP',
      'Pkts',
      'Timeout',
    ],
    rows,
  );
}

/** `show peers`: one row per peer path with what BFD found. */
function peerTable(r: SvrRouter): string[] {
  const rows = (r.peering?.status() ?? []).map((p) => {
    const q = p.quality;
    const ip = (a: typeof p.local | undefined) => (a?.version === 4 ? ipv4ToString(a.v4) : '?');
    return [
      p.vector,
      `${ip(p.local)} -> ${ip(p.remote)}`,
      BfdState[p.bfd],
      p.authenticated ? 'yes' : 'no',
      q ? q.latencyMs.toFixed(1) : '-',
      q ? q.jitterMs.toFixed(1) : '-',
      q ? q.lossPercent.toFixed(1) : '-',
      q ? q.mos.toFixed(2) : '-',
      p.mtu ? String(p.mtu) : '-',
      p.natDetected ? 'yes' : 'no',
    ];
  });
  return table(
    ['Path', 'Waypoints', 'BFD', 'Auth', 'Latency ms', 'Jitter ms', 'Loss %', 'MOS', 'MTU', 'NAT'],
    rows,
  );
}

interface WireTotals {
  packets: number;
  wireBytes: number;
  originalBytes: number;
  metadataPackets: number;
  metadataBytes: number;
  hmacBytes: number;
}

/** BFD (5.1) runs beside the sessions; the wire figures are about sessions only. */
function isBfd(p: IpPacket, port: number): boolean {
  return p.isUdp && (p.dstPort === port || p.srcPort === port);
}

/** What SVR added on the WAN links: metadata blocks and signatures, packet by packet. */
function wireTotals(f: Figure2, caps: readonly Capture[], key: PeerKey | undefined): WireTotals {
  const t: WireTotals = {
    packets: 0,
    wireBytes: 0,
    originalBytes: 0,
    metadataPackets: 0,
    metadataBytes: 0,
    hmacBytes: 0,
  };
  const h = f.authority.security.hmac;
  const hmac = h.scope === 'none' ? 0 : HMAC_SIGNATURE_LENGTH[h.method];
  const bfdPort = f.east.model.peering.bfdPort;
  for (const cap of caps)
    for (const c of cap.packets) {
      const p = packet(c.data);
      if (p.version === 0 || isBfd(p, bfdPort)) continue;
      t.packets++;
      t.wireBytes += p.length;
      let added = hmac;
      if (p.l4HeaderLength > 0 && hasCookie(p.b, p.payloadOffset, p.end)) {
        const copy = p.b.slice(0, p.end - hmac);
        const md = decodeMetadata(copy, p.payloadOffset, copy.length, key?.cipher);
        if (typeof md === 'object') {
          t.metadataPackets++;
          t.metadataBytes += md.blockLength;
          added += md.blockLength;
          // ICMP inside UDP (6.6): the UDP header is SVR's too.
          if (p.isUdp && findTlv(md, TlvType.ForwardContextV4)?.protocol === 1) added += 8;
        }
      }
      t.hmacBytes += hmac;
      t.originalBytes += p.length - added;
    }
  return t;
}

export function demo(o: DemoOptions): string {
  const seed = o.seed === undefined ? 1 : Number(o.seed);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new CliError(`--seed: expected a non-negative integer, got "${o.seed}"`);
  const encrypt = o.metadataEncryption !== false;
  const f = figure2({ seed, encryptMetadata: encrypt });
  const out: string[] = [];
  const say = (s = '') => out.push(s);
  const wan = [f.segments.mpls, f.segments.internet, f.segments.lte].map((s) => f.net.capture(s));
  const key = f.east.peering?.keys.current('west');

  say(
    `svr demo: the draft's Figure 2 network, emulated (seed ${seed}${encrypt ? '' : ', metadata payload TLVs in clear'})`,
  );
  say();
  const up = f.east.events.recent().find((e) => e.code === 'path-up');
  const sinceStart = (e: { timeMs: number } | undefined) =>
    e ? `${((e.timeMs - f.net.sim.startMs) / 1000).toFixed(2)} s` : '?';
  say('Peering (draft 3.1, 5.1): East and West bring up three peer paths with BFD.');
  say(
    `  5.1.7  certificates  each router sends its X.509 certificate (CN router/authority) in BFD metadata; both validated by ${sinceStart(f.east.events.recent().find((e) => e.code === 'peer-authenticated'))}`,
  );
  say(
    `  5.1.8  key           signed ECDH P-256 public keys exchanged; security id ${key?.securityId ?? '?'} used on every path from ${sinceStart(f.east.events.recent().find((e) => e.code === 'peer-key'))}`,
  );
  say(
    `  3.1.3  in service    first path usable at ${sinceStart(up)}; paths measured by BFD MeasureData (5.1.4, 5.1.5):`,
  );
  out.push(...peerTable(f.east));
  const sec = f.authority.security;
  say(
    `Authority "${f.authority.name}": HMAC ${sec.hmac.method}${sec.hmac.timeBased ? ' time-based' : ''} on ${sec.hmac.scope} packets, metadata ${sec.metadataCipher} (3.4, Figure 7).`,
  );
  say();

  // ---- one session, step by step ----
  say('One session, step by step (draft 3.7): an engineer on VLAN 2 opens SSH to github.');
  const sink = sinkServer(f.github, 22);
  const conn = f.client.tcpConnect('172.15.11.23', 22);
  const banner = new TextEncoder().encode('SSH-2.0-svr-demo\r\n');
  conn.onConnect = () => conn.send(banner);
  f.net.runUntil(() => sink.totalBytes() === banner.length, 10_000);
  const fwd = f.east.sessions().find((r) => r.direction === 'forward');
  const syn = wan[0].packets.map((c) => packet(c.data)).find((p) => p.isTcp && p.tcp.syn && !p.tcp.ackFlag);
  const synack = wan[0].packets.map((c) => packet(c.data)).find((p) => p.isTcp && p.tcp.syn && p.tcp.ackFlag);
  if (!fwd || !syn || !synack) throw new Error('the demo session did not start');
  const ctx = f.east.dataPlane.ctx;
  const client = `${fwd.source}`;
  say(`  East receives ${client} -> ${fwd.destination} TCP SYN on interface ${fwd.interface} (VLAN 2).`);
  const tenant = ctx.tenantResolver.resolve(undefined, ctx.iface(fwd.interface), Uint8Array.of(10, 0, 1, 1));
  say(`  3.7.1.1 tenant      ${ctx.tenants.name(tenant.tenant)} (from the ${tenant.source})`);
  const service = f.authority.services.find((x) => x.name === fwd.service);
  if (service) {
    const ports = service.ports.map((r) => (r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`)).join(',');
    say(
      `  3.7.1.2 service     ${service.name}: ${service.prefixes.map((x) => x.text).join(' ')} ${service.protocol} ${ports} (longest prefix, then protocol and port)`,
    );
    const deny = service.access.deny.length ? `, ${service.access.deny.join(', ')} denied` : '';
    const policy = f.authority.servicePolicies.find((x) => x.name === service.servicePolicy);
    const sla = policy?.sla.maxLatencyMs;
    say(
      `  3.7.1.3 policy      access: ${service.access.allow.join(', ')} allowed${deny}${sla === undefined ? '' : `; service policy ${policy?.name}: latency <= ${sla} ms`}`,
    );
    const choices = ctx.paths.paths
      .filter((x) => x !== undefined)
      .map(
        (x) =>
          `${x.model.vector} ${(x.quality.latencyMs ?? 0).toFixed(1)} ms${sla !== undefined && (x.quality.latencyMs ?? 0) > sla ? ' (misses the SLA)' : ''}`,
      );
    say(
      `  3.7.1.4 path        ${fwd.path}, from ${choices.join(', ')}: SLA first, then vector cost, then quality`,
    );
  }
  const cipher = key?.cipher;
  const sigLen = sec.hmac.scope === 'none' ? 0 : HMAC_SIGNATURE_LENGTH[sec.hmac.method];
  const md = decodeMetadata(syn.b.slice(0, syn.end - sigLen), syn.payloadOffset, syn.end - sigLen, cipher);
  const nat = typeof md === 'object' ? findTlv(md, TlvType.SourceNatV4) : undefined;
  say(
    `  3.7.1.5 source NAT  ${nat ? `${ipv4ToString(nat.address)}, carried in TLV 25 for West to apply` : 'none'}`,
  );
  say(`  3.7.1.6 wayports    ${syn.srcPort} (even, East's side) and ${syn.dstPort} (odd, West's side)`);
  if (typeof md === 'object') {
    say(
      `  3.7.1.7 metadata    ${md.tlvs.length} TLVs: header ${md.headerLength} bytes, payload ${md.payloadLength} bytes, UUID ${fwd.uuid}`,
    );
    say(
      `  3.7.1.8 encryption  ${md.encrypted ? `AES-CBC, padded to ${md.blockLength - md.headerLength - 16} bytes + 16-byte IV: a ${md.blockLength}-byte block` : `none (--no-metadata-encryption): a ${md.blockLength}-byte block`}`,
    );
  }
  say(
    `  3.7.1.9 insertion   after the TCP header; addresses become ${ipv4ToString(syn.ip4.src)} -> ${ipv4ToString(syn.ip4.dst)}`,
  );
  say(
    `  3.7.1.10 signature  HMAC ${sec.hmac.method}, ${sigLen} bytes at the end; the SYN is ${syn.length} bytes on the wire`,
  );
  const wrow = f.west.sessions().find((r) => r.direction === 'reverse');
  say(
    `  3.7.2   West        checks the HMAC, ${encrypt ? 'decrypts the metadata, removes it' : 'removes the metadata'} and sends the SYN to the server from ${wrow?.destination.split(':')[0]} (${wrow?.service}, tenant ${wrow?.tenant})`,
  );
  const rmd = decodeMetadata(
    synack.b.slice(0, synack.end - sigLen),
    synack.payloadOffset,
    synack.end - sigLen,
    key?.cipher,
  );
  say(
    `  3.7.4   West        puts reverse metadata on the SYN/ACK (${typeof rmd === 'object' ? `${rmd.blockLength}-byte block` : 'block'}), addressed ${ipv4ToString(synack.ip4.src)}:${synack.srcPort} -> ${ipv4ToString(synack.ip4.dst)}:${synack.dstPort}`,
  );
  const bfdPort = f.east.model.peering.bfdPort;
  const later = wan[0].packets.filter((c) => !isBfd(packet(c.data), bfdPort)).length - 2;
  say(
    `  3.7.5   handshake   complete: the next ${later} packets carried no metadata, only translated (fast path ${ctx.stats.fastPath} packets at East)`,
  );
  say(
    `  delivered           the server received "${new TextDecoder().decode(sink.connections[0]?.conn.received() ?? new Uint8Array()).trim()}" byte for byte`,
  );
  say();

  // ---- a mix ----
  say(
    'A mix of sessions: a 300 kB SSH transfer, https through the NAT pool, one-way syslog, ping, and a denied tenant.',
  );
  const bulk = f.client2.tcpConnect('172.15.11.23', 22);
  const payload = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
  bulk.onConnect = () => bulk.send(payload);
  const webs = f.web.map((h) => sinkServer(h, 443));
  for (let i = 0; i < 3; i++) {
    const c = f.client.tcpConnect('172.15.11.24', 443);
    c.onConnect = () => c.send(new TextEncoder().encode(`GET /${i} HTTP/1.1\r\nHost: https.example\r\n\r\n`));
  }
  const syslog = f.logsvc.udpBind(514);
  const tx = f.client.udpBind(5140);
  for (let i = 0; i < 15; i++)
    f.net.sim.at(f.net.sim.now() + i * 50, () =>
      tx.sendTo('172.15.11.20', 514, new TextEncoder().encode(`<13>demo line ${i}`)),
    );
  const ping = f.client2.ping('172.15.11.23', { count: 4, intervalMs: 100 });
  echoServer(f.github, 2222);
  const denied = f.release.tcpConnect('172.15.11.23', 22);
  denied.onConnect = () => undefined;
  f.net.runUntil(
    () =>
      sink.connections.length >= 2 &&
      sink.totalBytes() >= banner.length + payload.length &&
      syslog.received.length === 15 &&
      ping.received === 4,
    30_000,
  );
  f.net.run(500);
  say(
    `  ssh bulk ${sink.totalBytes() - banner.length} bytes delivered, https ${webs.map((w) => w.connections.length).join('/')} sessions on the three pool servers, syslog ${syslog.received.length}/15 datagrams, ping ${ping.received}/4 replies, denied tenant: ${ctx.drops.snapshot()['access-denied'] ?? 0} SYNs dropped`,
  );
  say();
  say('East: show sessions');
  out.push(...sessionTable(f.east));
  say();
  say('West: show sessions');
  out.push(...sessionTable(f.west));
  say();

  // ---- the wire ----
  const t = wireTotals(f, wan, key);
  say('On the wire (the three WAN links, every packet of every session above):');
  out.push(
    ...table(
      ['', 'packets', 'bytes', 'overhead'],
      [
        ['application packets', String(t.packets), String(t.originalBytes), '-'],
        [
          'svr',
          String(t.packets),
          String(t.wireBytes),
          `${t.wireBytes - t.originalBytes} (${t.metadataPackets} metadata blocks ${t.metadataBytes} B, HMAC ${t.hmacBytes} B)`,
        ],
        [
          'IPsec tunnel',
          String(t.packets),
          String(t.originalBytes + IPSEC_OVERHEAD * t.packets),
          `${IPSEC_OVERHEAD * t.packets} (50 B a packet)`,
        ],
        [
          'WireGuard',
          String(t.packets),
          String(t.originalBytes + WIREGUARD_OVERHEAD * t.packets),
          `${WIREGUARD_OVERHEAD * t.packets} (60 B a packet)`,
        ],
      ],
    ),
  );
  const pct = (x: number) => `${((100 * x) / t.originalBytes).toFixed(1)} %`;
  say(
    `  svr added ${pct(t.wireBytes - t.originalBytes)}, IPsec would add ${pct(IPSEC_OVERHEAD * t.packets)}, WireGuard ${pct(WIREGUARD_OVERHEAD * t.packets)}.`,
  );
  const drops = (d: Record<string, number>) =>
    Object.entries(d)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  say(
    `  ${(f.net.sim.elapsedMs / 1000).toFixed(1)} s of network time emulated; drops at East: ${drops(ctx.drops.snapshot())}; at West: ${drops(f.west.dataPlane.ctx.drops.snapshot())}.`,
  );

  if (o.pcap) {
    const w = new PcapWriter();
    const all = wan.flatMap((c) => c.packets).sort((a, b) => a.timeMs - b.timeMs);
    for (const c of all) w.add(c.timeMs, c.data);
    writeFileSync(o.pcap, w.bytes());
    say();
    say(
      `Wrote ${all.length} WAN packets to ${o.pcap} (open it with Wireshark; decode it with \`svr packet decode --pcap ${o.pcap}\`).`,
    );
  }
  return `${out.join('\n')}\n`;
}
