import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfigText } from '../../src/config/load.js';
import { Flag } from '../../src/dataplane/context.js';
import { echoServer } from '../../src/emu/servers.js';
import { chain3, figure2 } from '../../src/emu/topologies.js';
import { IpPacket } from '../../src/wire/packet.js';
import { ROOT } from '../../testlib/cli.js';
import { echoThrough } from '../../testlib/transfers.js';

/**
 * 4.6.6 and 6.4 on the emulator: a service whose security policy encrypts has its sessions'
 * payload encrypted between the router that starts them and the router where they leave SVR,
 * with a per-session key carried end to end in TLV 45; adaptive policies leave TLS in clear.
 */

/** examples/figure2.yaml with github's security policy set to `encryption`. */
function figure2With(encryption: string, extra = (y: string) => y) {
  const yaml = extra(
    readFileSync(`${ROOT}examples/figure2.yaml`, 'utf8')
      .replace(
        'securityPolicies:\n  - name: none\n    encryption: none\n',
        `securityPolicies:\n  - name: none\n    encryption: none\n  - name: sealed\n    encryption: ${encryption}\n`,
      )
      .replace(
        '    servicePolicy: interactive\n    securityPolicy: none\n',
        '    servicePolicy: interactive\n    securityPolicy: sealed\n',
      ),
  );
  const r = loadConfigText(yaml, 'figure2-sealed.yaml');
  assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('; '));
  return r.config;
}

function data(n: number, seed: number): Uint8Array {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = (i * 13 + seed + (i >> 7)) & 0xff;
  return d;
}

/** Does any packet on the link carry these 24 bytes (a piece of the payload) in clear? */
function inClear(cap: { packets: { data: Uint8Array }[] }, probe: Uint8Array): boolean {
  const p = Buffer.from(probe);
  return cap.packets.some((f) => Buffer.from(f.data).includes(p));
}

test('4.6.6 required encryption (aes-cbc-256): an echo crosses Figure 2 with its payload encrypted both ways between East and West, and arrives byte for byte', () => {
  const f = figure2({ seed: 111, authority: figure2With('aes-cbc-256') });
  const cap = f.net.capture(f.segments.mpls);
  const first = data(3000, 1);
  const rest = data(100_000, 2);
  echoThrough(f, [first, rest]);
  for (const at of [100, 2000, 50_000, 90_000])
    assert.equal(inClear(cap, rest.subarray(at, at + 24)), false, `bytes at ${at} never in clear on MPLS`);
  const east = f.east.dataPlane.ctx;
  const west = f.west.dataPlane.ctx;
  const [id] = east.sessions.ids();
  const [wid] = west.sessions.ids();
  assert.ok(
    east.sessions.flags(id) & Flag.PayloadEncrypted && east.sessions.flags(id) & Flag.ReverseEncrypted,
  );
  assert.ok(west.sessions.flags(wid) & Flag.PayloadEncrypted);
  assert.equal(east.payloadKeys.get(id)?.toPem(), west.payloadKeys.get(wid)?.toPem(), 'one key, from TLV 45');
  assert.equal(east.payloadKeys.get(id)?.algorithm, 'aes-256-cbc');
  assert.deepEqual(east.drops.snapshot(), {});
  assert.deepEqual(west.drops.snapshot(), {});
});

test('6.4 "Adaptive Encryption with Client Hello": a TLS ClientHello as the first payload leaves the session in clear', () => {
  const f = figure2({ seed: 112, authority: figure2With('adaptive') });
  const cap = f.net.capture(f.segments.mpls);
  const hello = data(300, 3);
  hello.set([22, 3, 1, 1, 40, 1], 0); // record: handshake, TLS 1.0 record version; ClientHello
  const rest = data(20_000, 4);
  echoThrough(f, [hello, rest]);
  assert.equal(inClear(cap, rest.subarray(1000, 1024)), true, 'TLS protects itself: no second encryption');
  const east = f.east.dataPlane.ctx;
  const [id] = east.sessions.ids();
  assert.equal(east.sessions.flags(id) & (Flag.PayloadEncrypted | Flag.AdaptivePending), 0, 'decided: clear');
});

test('[R-4.2.1-d] 6.4 "Adaptive Encryption with data": the first payload is not TLS, so it and everything after are encrypted, both ways', () => {
  const f = figure2({ seed: 113, authority: figure2With('adaptive') });
  const cap = f.net.capture(f.segments.mpls);
  const first = data(500, 5);
  const rest = data(40_000, 6);
  echoThrough(f, [first, rest]);
  assert.equal(inClear(cap, first.subarray(100, 124)), false, 'the deciding packet is encrypted');
  assert.equal(inClear(cap, rest.subarray(30_000, 30_024)), false);
  const east = f.east.dataPlane.ctx;
  const [id] = east.sessions.ids();
  assert.ok(
    east.sessions.flags(id) & Flag.PayloadEncrypted && east.sessions.flags(id) & Flag.ReverseEncrypted,
  );
  assert.equal(f.east.events.count('payload-encrypted'), 1);
  assert.deepEqual(f.west.dataPlane.ctx.drops.snapshot(), {});
});

test('4.6.6 multi-hop: in chain3 the key goes end to end in TLV 45; B passes the encrypted payload on untouched and holds no key', () => {
  const yaml = readFileSync(`${ROOT}examples/chain3.yaml`, 'utf8')
    .replace('tenants:', 'securityPolicies:\n  - { name: sealed, encryption: aes-cbc-128 }\n\ntenants:')
    .replace('    protocol: any\n    access:', '    protocol: any\n    securityPolicy: sealed\n    access:');
  const r = loadConfigText(yaml, 'chain3-sealed.yaml');
  assert.ok(r.ok, r.ok ? '' : r.errors.map((e) => e.message).join('; '));
  const f = chain3({ seed: 114, authority: r.config });
  const ab = f.net.capture(f.segments.ab);
  const bc = f.net.capture(f.segments.bc);
  echoServer(f.server, 80);
  const c = f.client.tcpConnect('172.16.30.80', 80);
  const d = data(30_000, 7);
  c.send(d);
  assert.ok(f.net.runUntil(() => c.bytesReceived === d.length, 20_000));
  assert.ok(Buffer.from(c.received()).equals(Buffer.from(d)));
  for (const cap of [ab, bc]) assert.equal(inClear(cap, d.subarray(5000, 5024)), false);
  const b = f.b.dataPlane.ctx;
  const [bid] = b.sessions.ids();
  assert.equal(b.payloadKeys.size, 0, 'the transit router does not decrypt');
  assert.ok(b.transit.get(bid)?.securityKey?.includes('SVR SESSION KEY'));
  assert.equal(f.a.dataPlane.ctx.payloadKeys.get(0)?.algorithm ?? 'aes-128-cbc', 'aes-128-cbc');
  for (const x of [f.a, f.b, f.c]) assert.deepEqual(x.dataPlane.ctx.drops.snapshot(), {}, x.name);
});

test('D-9: a ciphertext altered on the way (HMAC only on metadata packets) is refused at West as a security event, never delivered garbled', () => {
  const f = figure2({
    seed: 115,
    authority: figure2With('aes-cbc-256', (y) => y.replace('scope: all', 'scope: metadata')),
  });
  echoServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  c.send(data(100, 8));
  assert.ok(f.net.runUntil(() => c.bytesReceived === 100, 5000));
  const q = new IpPacket();
  let altered = 0;
  f.segments.mpls.filter('tamper', (fr) => {
    if (
      !q.parse(fr, 0, fr.length) &&
      q.isTcp &&
      q.payloadLength > 0 &&
      q.ip4.src === 0xcb007101 &&
      altered < 1
    ) {
      fr[fr.length - 1] ^= 0x5a; // the last ciphertext byte: its block's padding decrypts wrong
      altered++;
    }
    return false;
  });
  c.send(data(300, 9));
  f.net.run(300);
  assert.equal(altered, 1);
  const west = f.west.dataPlane.ctx;
  assert.equal(west.drops.snapshot()['payload-bad-ciphertext'], 1, JSON.stringify(west.drops.snapshot()));
  // TCP sends it again; the retransmission is not altered and the echo completes.
  assert.ok(f.net.runUntil(() => c.bytesReceived === 400, 10_000));
});

test('4.6.6: a policy that encrypts payload needs encrypted metadata: the configuration is refused otherwise', () => {
  const yaml = readFileSync(`${ROOT}examples/figure2.yaml`, 'utf8')
    .replace('metadataCipher: aes-256-cbc', 'metadataCipher: none')
    .replace(
      '  - name: none\n    encryption: none\n',
      '  - name: none\n    encryption: none\n  - name: sealed\n    encryption: aes-cbc-256\n',
    )
    .replace(
      '    servicePolicy: interactive\n    securityPolicy: none\n',
      '    servicePolicy: interactive\n    securityPolicy: sealed\n',
    );
  const r = loadConfigText(yaml, 'bad.yaml');
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.errors.map((e) => e.message).join('\n'), /metadataCipher other than none/);
});

test('7.4.15 rekeying: with rekeySeconds 1, an echo running for 5 s gets new keys in TLV 45 on its way; every byte arrives, no reset', () => {
  const f = figure2({
    seed: 116,
    authority: figure2With('aes-cbc-256', (y) =>
      y.replace(
        '  - name: sealed\n    encryption: aes-cbc-256\n',
        '  - name: sealed\n    encryption: aes-cbc-256\n    rekeySeconds: 1\n',
      ),
    ),
  });
  const cap = f.net.capture(f.segments.mpls);
  echoServer(f.github, 22);
  const c = f.client.tcpConnect('172.15.11.23', 22);
  let closed: string | undefined = 'open';
  c.onClose = (e) => {
    closed = e;
  };
  const chunks = 100;
  const all = data(chunks * 2000, 10);
  let sent = 0;
  const tick = () => {
    if (sent >= chunks) return;
    c.send(all.subarray(sent * 2000, (sent + 1) * 2000));
    sent++;
    f.net.sim.at(f.net.sim.now() + 50, tick);
  };
  c.onConnect = tick;
  assert.ok(
    f.net.runUntil(() => c.bytesReceived === all.length, 30_000),
    `${c.bytesReceived} back`,
  );
  assert.ok(Buffer.from(c.received()).equals(Buffer.from(all)), 'byte for byte');
  assert.equal(closed, 'open', 'no reset');
  assert.ok(f.east.events.count('payload-rekeyed') >= 3, `${f.east.events.count('payload-rekeyed')} rekeys`);
  const east = f.east.dataPlane.ctx;
  const west = f.west.dataPlane.ctx;
  const [id] = east.sessions.ids();
  const [wid] = west.sessions.ids();
  assert.equal(east.payloadKeys.get(id)?.toPem(), west.payloadKeys.get(wid)?.toPem(), 'the same newest key');
  assert.equal(east.payloadRxKeys.size, 0, 'the old key retired once West echoed the new one');
  // A packet the links' jitter puts ahead of the one carrying its new key cannot be decrypted
  // yet: it is dropped (never delivered garbled) and TCP sends it again (SD-44).
  for (const d of [east.drops.snapshot(), west.drops.snapshot()]) {
    const { 'payload-bad-ciphertext': reordered = 0, ...rest } = d;
    assert.deepEqual(rest, {});
    assert.ok(reordered <= 2, `${reordered} reordered across a rekey`);
  }
  assert.equal(inClear(cap, all.subarray(150_000, 150_024)), false);
});
