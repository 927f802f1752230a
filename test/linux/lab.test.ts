import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadTunNative } from '../../src/drivers/linux/native.js';
import { type LabState, labDown, labStatus, labUp, readStatus, restartRouter } from '../../src/lab/lab.js';
import { inNs, missingPrograms, namespaces, netnsUnavailable } from '../../src/lab/netns.js';
import { LAB_PREFIX } from '../../src/lab/topologies.js';

/**
 * End to end on Linux: the Figure 2 lab (svr lab up) with svr routers in network namespaces,
 * carrying the traffic of curl, iperf3, ping and tcpdump between real kernel TCP/IP stacks.
 * Runs as root with iproute2 and the tools; otherwise every test is skipped with the reason.
 */
function skipReason(): string | undefined {
  const why = netnsUnavailable();
  if (why) return `Linux lab tests need root and network namespaces: ${why}`;
  const native = loadTunNative();
  if (typeof native === 'string') return native;
  const missing = missingPrograms(['curl', 'iperf3', 'ping', 'tcpdump', 'tshark', 'nft', 'traceroute']);
  if (missing.length > 0) return `Linux lab tests need ${missing.join(', ')} (installed by .ci/run)`;
  if (namespaces().some((n) => n.startsWith(LAB_PREFIX))) return 'a lab is already up here (svr lab down)';
  return undefined;
}

const skip = skipReason();
if (skip) process.stdout.write(`# linux lab tests skipped: ${skip}\n`);
let lab: LabState;
let dir: string;

before(
  async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), 'svr-lab-test-'));
    lab = await labUp({ topology: 'figure2', dir, waitSeconds: 30 });
  },
  { timeout: 60_000 },
);

after(() => {
  if (skip) return;
  labDown({ dir });
  rmSync(dir, { recursive: true, force: true });
  assert.equal(
    namespaces().filter((n) => n.startsWith(LAB_PREFIX)).length,
    0,
    'lab down removes every namespace',
  );
});

const client = (argv: string[], timeoutMs = 30_000) => inNs(lab.clientNamespace, argv, { timeoutMs });

/** iperf3 from the client to the server for 2 s (`extra`: -u, -b, -l ...), its JSON report. */
function iperf<T>(extra: string[] = []): T {
  return JSON.parse(
    client(['iperf3', '-c', lab.serverAddress, ...extra, '-t', '2', '-J', '--connect-timeout', '3000']),
  ) as T;
}
type TcpReport = { end: { sum_received: { bytes: number } } };
type UdpReport = { end: { sum: { packets: number; lost_packets: number } } };

/** curl's copy of the server's 1 MB file is byte-exact, and 2 s of iperf3 TCP move over 1 MB. */
function curlAndIperf(name: string): void {
  const out = join(dir, name);
  client(['curl', '-sS', '-m', '20', '-o', out, `${lab.serverUrl}big.bin`]);
  assert.deepEqual(readFileSync(out), readFileSync(join(dir, 'www', 'big.bin')));
  const tcp = iperf<TcpReport>();
  assert.ok(tcp.end.sum_received.bytes > 1_000_000, `TCP moved ${tcp.end.sum_received.bytes} bytes`);
}

const routerStatus = (name: string) => {
  const r = lab.routers.find((x) => x.name === name);
  assert.ok(r);
  const s = readStatus(r.statusFile);
  assert.ok(s, `${name} writes its status`);
  return s;
};

test('[R-2.5-b] svr lab up: both routers running, every peer path in service by BFD, the NAT found', {
  skip,
  timeout: 30_000,
}, async () => {
  const s = labStatus({ dir });
  assert.equal(s.up, true);
  assert.equal(s.clientNamespace, 'svrlab-client');
  assert.equal(s.serverUrl, 'http://172.15.11.80/');
  for (const r of s.routers) {
    assert.equal(r.running, true, r.name);
    assert.equal(r.paths.length, 3, r.name);
  }
  // labUp waits for one path per peer; the others follow within a few BFD intervals.
  const until = Date.now() + 15_000;
  while (Date.now() < until && !routerStatus('east').paths.every((p) => p.usable && p.bfd === 'Up'))
    await new Promise((r) => setTimeout(r, 250));
  const east = routerStatus('east');
  assert.ok(
    east.paths.every((p) => p.usable && p.bfd === 'Up'),
    JSON.stringify(east.paths),
  );
  while (Date.now() < until && !routerStatus('west').paths.find((p) => p.vector === 'internet')?.natDetected)
    await new Promise((r) => setTimeout(r, 250));
  const natted = routerStatus('west').paths.find((p) => p.vector === 'internet');
  assert.equal(natted?.natDetected, true, 'West sees East behind the NAT namespace (5.1.2)');
});

test('[R-3.7-a] curl through svr: a page and 1 MB byte for byte from the server namespace', { skip }, () => {
  assert.equal(
    client(['curl', '-sS', '-m', '10', lab.serverUrl]),
    'svr lab: hello from the server namespace\n',
  );
  const out = join(dir, 'download.bin');
  client(['curl', '-sS', '-m', '20', '-o', out, `${lab.serverUrl}big.bin`]);
  assert.deepEqual(readFileSync(out), readFileSync(join(dir, 'www', 'big.bin')));
});

test('iperf3 TCP and UDP through svr', { skip }, () => {
  const tcp = iperf<TcpReport>();
  assert.ok(tcp.end.sum_received.bytes > 1_000_000, `TCP moved ${tcp.end.sum_received.bytes} bytes`);
  const udp = iperf<UdpReport>(['-u', '-b', '50M']);
  assert.ok(udp.end.sum.packets > 1000, `${udp.end.sum.packets} UDP packets`);
  assert.ok(udp.end.sum.lost_packets / udp.end.sum.packets < 0.05, `UDP loss ${udp.end.sum.lost_packets}`);
});

test('[R-6.6-a] ping through svr: ICMP echo sessions answered', { skip }, () => {
  const out = client(['ping', '-c', '3', '-i', '0.2', '-W', '2', lab.serverAddress]);
  assert.match(out, /3 packets transmitted, 3 received/);
});

test('6.5 large datagrams: a 4000-byte ping and 8000-byte iperf3 UDP datagrams, fragmented by the client, cross svr in pieces', {
  skip,
  timeout: 30_000,
}, () => {
  const out = client(['ping', '-c', '3', '-i', '0.2', '-s', '4000', '-W', '2', lab.serverAddress]);
  assert.match(out, /3 packets transmitted, 3 received/);
  const udp = iperf<UdpReport>(['-u', '-l', '8000', '-b', '20M']);
  assert.ok(udp.end.sum.packets > 300, `${udp.end.sum.packets} datagrams`);
  assert.ok(udp.end.sum.lost_packets / udp.end.sum.packets < 0.05, `lost ${udp.end.sum.lost_packets}`);
  const east = routerStatus('east').stats;
  assert.ok((east.piecesSent ?? 0) > 600, `East sent ${east.piecesSent} pieces`);
});

test('[R-6.6-a] 6.6 traceroute through svr, UDP, TCP and ICMP: East, then West (or the NAT and carrier routers of its path), then the server, each once', {
  skip,
  timeout: 60_000,
}, () => {
  for (const mode of [[], ['-T', '-p', '80'], ['-I']]) {
    const out = client(['traceroute', '-n', '-q', '1', '-w', '2', '-m', '6', ...mode, lab.serverAddress]);
    const hops = out
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/)[1])
      .filter((h) => h !== undefined);
    // Hop 1 is East's LAN address; the last is the server; between them West's waypoint, after
    // the underlay routers of the path (the Internet path's NAT, the LTE carrier), never a gap.
    assert.equal(hops[0], '10.0.0.1', out);
    assert.equal(hops.at(-1), lab.serverAddress, out);
    assert.ok(!hops.includes('*'), out);
    assert.ok(['203.0.113.89', '198.51.100.8'].includes(hops.at(-2) ?? ''), out);
    assert.equal(new Set(hops).size, hops.length, `each hop once: ${out}`);
  }
});

test('[R-4.2.3-b] [R-4.5.1-c] a capture on the WAN: waypoints, even/odd wayports, metadata only on the first packets, a signature on every packet', {
  skip,
}, async () => {
  const pcap = join(dir, 'wan.pcap');
  const tcpdump: ChildProcess = spawn(
    'ip',
    [
      'netns',
      'exec',
      'svrlab-east',
      'tcpdump',
      '--immediate-mode',
      '-i',
      'any',
      '-s',
      '200',
      '-B',
      '16384',
      '-U',
      '-w',
      pcap,
      'tcp and not port 1280',
    ],
    { stdio: 'ignore' },
  );
  await new Promise((r) => setTimeout(r, 1000));
  client(['curl', '-sS', '-m', '10', '-o', '/dev/null', `${lab.serverUrl}big.bin`]);
  // tcpdump stops reading at SIGINT: let it write out what the kernel holds for it first.
  for (let last = -1, i = 0; i < 25; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const size = statSync(pcap).size;
    if (size === last) break;
    last = size;
  }
  tcpdump.kill('SIGINT');
  await new Promise((r) => tcpdump.once('exit', r));
  // -i any sees each packet twice, on a device and on its TUN: keep the devices' copies.
  const links = JSON.parse(inNs('svrlab-east', ['ip', '-j', 'link'])) as {
    ifindex: number;
    ifname: string;
  }[];
  const tuns = new Set(links.filter((l) => l.ifname.startsWith('svr-')).map((l) => String(l.ifindex)));
  const rows = inNs(undefined, [
    'tshark',
    '-r',
    pcap,
    '-T',
    'fields',
    '-E',
    'separator=,',
    '-e',
    'sll.ifindex',
    '-e',
    'ip.src',
    '-e',
    'ip.dst',
    '-e',
    'tcp.srcport',
    '-e',
    'tcp.dstport',
    '-e',
    'tcp.flags.syn',
    '-e',
    'tcp.len',
    '-e',
    'tcp.payload',
  ])
    .trim()
    .split('\n')
    .map((l) => l.split(','))
    .filter(([ifindex]) => !tuns.has(ifindex))
    .map(([, src, dst, sp, dp, syn, len, payload]) => ({
      src,
      dst,
      sp: Number(sp),
      dp: Number(dp),
      syn: syn === '1' || syn === 'True',
      len: Number(len),
      payload: (payload ?? '').replace(/:/g, ''),
    }));
  const lan = rows.filter((r) => r.src === '10.0.0.10' || r.dst === '10.0.0.10');
  const wan = rows.filter((r) => !lan.includes(r) && r.src !== r.dst);
  assert.ok(lan.length > 10 && wan.length > 10, `${lan.length} LAN and ${wan.length} WAN packets`);
  const waypoints = new Set(['203.0.113.1', '203.0.113.89', '198.51.100.2', '198.51.100.8', '192.0.2.1']);
  for (const r of wan)
    assert.ok(waypoints.has(r.src) && waypoints.has(r.dst), `${r.src} > ${r.dst} are waypoints`);
  const out = wan.filter((r) => r.src === wan[0].src);
  const back = wan.filter((r) => r.src !== wan[0].src);
  // 4.2.3: East, the ingress, chose an even source and an odd destination wayport.
  assert.equal(out[0].sp % 2, 0, `source wayport ${out[0].sp}`);
  assert.equal(out[0].dp % 2, 1, `destination wayport ${out[0].dp}`);
  const cookie = '4c48dbc6ddf6670c';
  const withMd = wan.filter((r) => r.payload.startsWith(cookie));
  assert.ok(out[0].syn && out[0].payload.startsWith(cookie), 'the SYN carries forward metadata (3.7)');
  assert.ok(
    back[0].syn && back[0].payload.startsWith(cookie),
    'the SYN/ACK carries reverse metadata (3.7.4)',
  );
  // 3.7.5: no later packet carries session metadata; a later block may only be a header-only
  // one (payload length 0): a path-metrics mark, TLV 26 (7.3.7, SD-47).
  const later = withMd.filter((r) => !r.syn);
  assert.equal(withMd.length - later.length, 2, 'metadata on the SYN and SYN/ACK');
  assert.ok(
    later.every((r) => r.payload.slice(20, 24) === '0000' && r.payload.slice(24, 28) === '001a'),
    `later blocks are TLV 26 marks only: ${later.map((r) => r.payload.slice(0, 40)).join(' ')}`,
  );
  // 4.5.1 (scope all, SHA256-128): every WAN packet carries a 16-byte signature after its
  // payload: the client's pure ACKs are 16 bytes long on the WAN, and the server's data is the
  // file plus headers plus 16 bytes a packet. (On the LAN the routers hand the kernel merged
  // super-packets, so LAN and WAN packets do not pair one to one.)
  const acks = out.filter((r) => !r.syn && r.len !== 99 && !r.payload.startsWith(cookie));
  assert.ok(acks.length > 10 && acks.every((r) => r.len === 16), 'pure ACKs carry just the signature');
  const data = back.filter((r) => !r.syn && r.len > 16);
  const served = data.reduce((a, r) => a + r.len - 16, 0);
  assert.ok(served >= 1 << 20 && served < (1 << 20) + 4096, `${served} bytes of HTTP response`);
  assert.ok(back.every((r) => r.syn || r.len >= 16));
  for (const name of ['east', 'west']) {
    const drops = routerStatus(name).drops;
    assert.equal(drops['hmac-mismatch'] ?? 0, 0, `${name} verified every signature`);
  }
});

test('[R-2.5-b] 6.1 a path taken down under an iperf3 TCP transfer: BFD takes it out of service, the session moves, the transfer goes on', {
  skip,
  timeout: 40_000,
}, async () => {
  const iperf = spawn(
    'ip',
    ['netns', 'exec', lab.clientNamespace, 'iperf3', '-c', lab.serverAddress, '-t', '10', '-J'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  let json = '';
  iperf.stdout?.on('data', (d: Buffer) => {
    json += d.toString();
  });
  const exited = new Promise<number | null>((r) => iperf.once('exit', r));
  await new Promise((r) => setTimeout(r, 2500));
  const busy = routerStatus('east').paths.filter((p) => p.sessions > 0);
  assert.ok(busy.length > 0, JSON.stringify(routerStatus('east').paths));
  const devices: Record<string, string> = { mpls: 'wan0', internet: 'wan1', lte: 'wan2' };
  const cut = devices[busy[0].vector];
  inNs('svrlab-east', ['ip', 'link', 'set', cut, 'down']);
  try {
    const code = await exited;
    assert.equal(code, 0, `iperf3 exit ${code}`);
    const r = JSON.parse(json) as {
      intervals: { sum: { bytes: number } }[];
      end: { sum_received: { bytes: number } };
    };
    const tail = r.intervals.slice(-3).map((i) => i.sum.bytes);
    assert.ok(
      tail.every((b) => b > 0),
      `the last seconds carried ${tail.join(', ')} bytes after ${busy[0].vector} went down`,
    );
    const after = routerStatus('east').paths.find((p) => p.vector === busy[0].vector);
    assert.equal(after?.usable, false, `${busy[0].vector} is out of service`);
    assert.ok((routerStatus('east').stats.sessionsMoved ?? 0) >= 1, 'the session moved');
    assert.equal(
      client(['curl', '-sS', '-m', '10', lab.serverUrl]),
      'svr lab: hello from the server namespace\n',
    );
  } finally {
    inNs('svrlab-east', ['ip', 'link', 'set', cut, 'up']);
  }
});

test('[R-2.10-a] 2.10 West restarts under an iperf3 TCP transfer on the Internet path, behind the NAT: it asks for metadata, East sends it, the transfer resumes', {
  skip,
  timeout: 90_000,
}, async () => {
  // Only the Internet path, through the NAT namespace: East's MPLS and LTE links down.
  for (const dev of ['wan0', 'wan2']) inNs('svrlab-east', ['ip', 'link', 'set', dev, 'down']);
  try {
    // BFD takes MPLS and LTE out of service; the Internet path is (back) in service.
    const usable = (v: string) => routerStatus('east').paths.find((p) => p.vector === v)?.usable;
    const until = Date.now() + 20_000;
    while (Date.now() < until && (usable('mpls') || usable('lte') || !usable('internet')))
      await new Promise((r) => setTimeout(r, 250));
    assert.ok(usable('internet') && !usable('mpls'), JSON.stringify(routerStatus('east').paths));
    const iperf = spawn(
      'ip',
      ['netns', 'exec', lab.clientNamespace, 'iperf3', '-c', lab.serverAddress, '-t', '25', '-J'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let json = '';
    iperf.stdout?.on('data', (d: Buffer) => {
      json += d.toString();
    });
    const exited = new Promise<number | null>((r) => iperf.once('exit', r));
    await new Promise((r) => setTimeout(r, 2500));
    const inet = routerStatus('east').paths.find((p) => p.vector === 'internet');
    assert.ok((inet?.sessions ?? 0) > 0, JSON.stringify(routerStatus('east').paths));
    await restartRouter('west', { dir });
    assert.equal(await exited, 0);
    const r = JSON.parse(json) as { intervals: { sum: { bytes: number } }[] };
    // West is back within seconds; the sender's retransmission timer, backed off meanwhile,
    // decides when the transfer resumes: the last seconds must carry data.
    const tail = r.intervals.slice(-2).map((i) => i.sum.bytes);
    assert.ok(
      tail.every((b) => b > 0),
      `the last seconds carried ${tail.join(', ')} bytes after West restarted`,
    );
    assert.ok((routerStatus('west').stats.controlSent ?? 0) >= 1, 'West asked for metadata');
  } finally {
    for (const dev of ['wan0', 'wan2']) inNs('svrlab-east', ['ip', 'link', 'set', dev, 'up']);
  }
});

test('[R-4.2.7-a] [R-4.6.3-a] 2.4 with --middlebox: the routers find the firewall on MPLS, and curl and iperf3 TCP cross it as UDP', {
  skip,
  timeout: 90_000,
}, async () => {
  // The last test: the lab comes up again with the firewall bridge on MPLS (after() takes it down).
  labDown({ dir });
  lab = await labUp({ topology: 'figure2', middlebox: true, dir, waitSeconds: 30 });
  const until = Date.now() + 20_000;
  const mpls = () => routerStatus('east').paths.find((p) => p.vector === 'mpls');
  while (Date.now() < until && !mpls()?.tcpAsUdp) await new Promise((r) => setTimeout(r, 250));
  assert.equal(mpls()?.tcpAsUdp, true, JSON.stringify(routerStatus('east').paths));
  assert.equal(routerStatus('east').paths.find((p) => p.vector === 'lte')?.tcpAsUdp, false);
  curlAndIperf('download-mbox.bin');
  const east = routerStatus('east');
  assert.ok(east.paths.find((p) => p.vector === 'mpls')?.tcpAsUdp);
  assert.equal(east.drops['hmac-mismatch'] ?? 0, 0);
  assert.equal(routerStatus('west').drops['hmac-mismatch'] ?? 0, 0);
});

test('4.6.6 payload encryption on Linux: with the lab service under an AES-256 policy, curl gets 1 MB byte for byte and iperf3 TCP runs', {
  skip,
  timeout: 90_000,
}, async () => {
  // The last test: the lab comes up again with figure2.yaml's lab service encrypting payload.
  const config = join(tmpdir(), `svr-sealed-${process.pid}.yaml`);
  const text = readFileSync(join(process.cwd(), 'examples', 'figure2.yaml'), 'utf8')
    .replace(
      'securityPolicies:\n  - name: none\n    encryption: none\n',
      'securityPolicies:\n  - name: none\n    encryption: none\n  - name: sealed\n    encryption: aes-cbc-256\n',
    )
    .replace(
      '    addresses: [172.15.11.80/32]\n    protocol: any\n',
      '    addresses: [172.15.11.80/32]\n    protocol: any\n    securityPolicy: sealed\n',
    );
  writeFileSync(config, text);
  try {
    labDown({ dir });
    lab = await labUp({ topology: 'figure2', config, dir, waitSeconds: 30 });
    curlAndIperf('download-sealed.bin');
    for (const name of ['east', 'west']) {
      // Nothing failed to decrypt or verify (start-up noise such as BFD before keys is not this test's).
      const d = routerStatus(name).drops;
      const bad = Object.keys(d).filter((k) => k.startsWith('payload-') || k.startsWith('hmac-'));
      assert.deepEqual(bad, [], `${name}: ${JSON.stringify(d)}`);
    }
  } finally {
    rmSync(config, { force: true });
  }
});
