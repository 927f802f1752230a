import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { toHex } from '../../src/base/bytes.js';
import { hmacWindow } from '../../src/crypto/hmac.js';
import { AesCbcMetadataCipher, FixedBytes } from '../../src/crypto/metadata-cipher.js';
import { draftExamplePackets, draftForwardMetadata, EXAMPLE } from '../../src/fixtures/draft-example.js';
import { encodeMetadataBlock } from '../../src/wire/metadata/block.js';
import { svr } from '../../testlib/cli.js';

const KEY = toHex(EXAMPLE.cipherKey);
const HKEY = toHex(EXAMPLE.hmacKey);
const IV = '000102030405060708090a0b0c0d0e0f';
const forwardHex = toHex(
  encodeMetadataBlock(
    draftForwardMetadata(),
    new AesCbcMetadataCipher(EXAMPLE.cipherKey, new FixedBytes(Uint8Array.from({ length: 16 }, (_, i) => i))),
  ),
);

function badInput(args: string[], pattern: RegExp, input?: string): void {
  const r = svr(args, input);
  assert.equal(r.code, 2, `${args.join(' ')} should exit 2; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0], pattern);
}

test('metadata decode --json: header fields and each TLV with type number, draft name and value', () => {
  const r = svr(['metadata', 'decode', '--hex', forwardHex, '--cipher-key', KEY, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.cookie, '4c48dbc6ddf6670c');
  assert.equal(j.version, 1);
  assert.equal(j.headerLength, 34);
  assert.equal(j.payloadLength, 119);
  assert.equal(j.blockLength, 178);
  assert.equal(j.encrypted, true);
  assert.equal(j.iv, IV);
  assert.equal(j.purpose, 'forward');
  assert.deepEqual(j.missingRequired, []);
  assert.deepEqual(
    j.headerTlvs.map((t: { type: number }) => t.type),
    [16, 26],
  );
  const tenant = j.payloadTlvs.find((t: { type: number }) => t.type === 7);
  assert.deepEqual(tenant, {
    type: 7,
    name: 'Tenant Name',
    draftSection: '7.4.6',
    length: 11,
    value: { name: 'engineering' },
  });
  const ctx = j.payloadTlvs.find((t: { type: number }) => t.type === 2);
  assert.deepEqual(ctx.value, {
    source: '10.0.1.1',
    destination: '172.15.11.23',
    sourcePort: 6969,
    destinationPort: 22,
    protocol: 6,
  });
});

test('metadata encode reads what decode prints: decode(encode(x)) == x, and the same bytes with the same IV', () => {
  const dir = mkdtempSync(join(tmpdir(), 'svr-cli-'));
  try {
    const decoded = svr(['metadata', 'decode', '--hex', forwardHex, '--cipher-key', KEY, '--json']);
    const file = join(dir, 'md.json');
    writeFileSync(file, decoded.stdout);
    const enc = svr(['metadata', 'encode', file, '--cipher-key', KEY, '--iv', IV]);
    assert.equal(enc.code, 0, enc.stderr);
    assert.equal(enc.stdout.trim(), forwardHex);
    const again = svr(['metadata', 'decode', '--hex', enc.stdout.trim(), '--cipher-key', KEY, '--json']);
    assert.deepEqual(JSON.parse(again.stdout), JSON.parse(decoded.stdout));
    // From stdin, in clear, with a single `tlvs` list and names instead of numbers.
    const clear = svr(
      ['metadata', 'encode'],
      JSON.stringify({
        tlvs: [
          { name: 'Security Identifier', value: { securityId: 2 } },
          { type: 7, value: { name: 'eng' } },
        ],
      }),
    );
    assert.equal(clear.code, 0, clear.stderr);
    assert.equal(
      clear.stdout.trim(),
      '4c48dbc6ddf6670c' + '1014' + '0007' + '0010000400000002' + '00070003656e67',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metadata decode without --json prints one line per TLV', () => {
  const r = svr(['metadata', 'decode', '--hex', forwardHex, '--cipher-key', KEY]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /SVR metadata 178 bytes: version 1, header 34, payload 119/);
  assert.match(r.stdout, /payload\s+7\s+Tenant Name\s+engineering/);
  assert.match(r.stdout, /10\.0\.1\.1:6969 -> 172\.15\.11\.23:22 TCP/);
});

test('bad input: one clear line on stderr and exit code 2', () => {
  badInput(['metadata', 'decode', '--hex', 'zz'], /--hex: not a hex digit/);
  badInput(['metadata', 'decode', '--hex', forwardHex], /encrypted .*give --cipher-key/);
  badInput(
    ['metadata', 'decode', '--hex', forwardHex, '--cipher-key', '0011'],
    /--cipher-key: must be 16 bytes .* or 32 bytes/,
  );
  badInput(
    ['metadata', 'decode', '--hex', forwardHex, '--cipher-key', 'ff'.repeat(32)],
    /metadata-bad-padding/,
  );
  badInput(
    ['metadata', 'decode', '--hex', '4c48dbc6ddf6670c100b0000'],
    /metadata-bad-header-length: .*3\.7\.2\.2/,
  );
  badInput(
    ['metadata', 'decode', '--hex', '4c48dbc6ddf6670c100c0000ffff'],
    /2 bytes follow the 12-byte block/,
  );
  badInput(['metadata', 'decode'], /required option '--hex <hex>'/);
  badInput(['metadata', 'decode', '--hex', '00', '--bogus'], /unknown option '--bogus'/);
  badInput(['nonsense'], /unknown command 'nonsense'/);
  badInput(['metadata', 'encode', '/no/such/file.json'], /no such file/);
  badInput(['metadata', 'encode'], /not JSON/, '{ nope');
  badInput(
    ['metadata', 'encode'],
    /payloadTlvs\[0\]\.value: name: expected printable ASCII/,
    JSON.stringify({ payloadTlvs: [{ type: 7, value: { name: 'é' } }] }),
  );
  badInput(['metadata', 'encode', '--iv', IV], /--iv needs --cipher-key/, '{}');
  badInput(['packet', 'decode'], /exactly one of --hex HEX or --pcap FILE/);
  badInput(['packet', 'decode', '--hex', '4500'], /not a decodable IP packet: ipv4-truncated/);
  badInput(['packet', 'decode', '--pcap', 'package.json'], /not a pcap or pcapng file/);
  badInput(['packet', 'decode', '--hex', '45', '--hmac', 'md5', '--hmac-key', '00'], /--hmac.*md5/);
  badInput(['packet', 'decode', '--hex', '45', '--hmac', 'sha1'], /--hmac needs --hmac-key/);
  badInput(
    ['packet', 'decode', '--hex', '45', '--hmac', 'sha1', '--hmac-key', '01', '--time-window', 'soon'],
    /--time-window/,
  );
});

test('packet decode --pcap: the example session decodes with valid signatures (exit 0)', () => {
  const r = svr([
    'packet',
    'decode',
    '--pcap',
    'examples/draft-3.7-handshake.pcap',
    '--cipher-key',
    KEY,
    '--hmac',
    'sha256-128',
    '--hmac-key',
    HKEY,
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { packets } = JSON.parse(r.stdout);
  assert.equal(packets.length, 5);
  assert.ok(packets.every((p: { signature: { valid: boolean } }) => p.signature.valid));
  assert.equal(packets[0].metadata.blockLength, 178);
  assert.equal(packets[1].metadata.blockLength, 98);
  assert.equal(packets[2].metadata, null);
  assert.equal(packets[4].metadata.purpose, 'false-positive');
  assert.equal(packets[0].ip.source, '203.0.113.1');
  assert.deepEqual(packets[0].l4.flags, ['SYN']);
  assert.equal(packets[0].payload.length, 0);
  assert.equal(packets[3].payload.hex, toHex(new TextEncoder().encode('SSH-2.0-OpenSSH_9.6\r\n')));
});

test('packet decode --hex: a signature checked in the wrong window fails the check (exit 1, one line)', () => {
  const syn = draftExamplePackets()[0];
  const hexPkt = toHex(syn.bytes);
  const w = hmacWindow(syn.timestampMs);
  const ok = svr([
    'packet',
    'decode',
    '--hex',
    hexPkt,
    '--cipher-key',
    KEY,
    '--hmac',
    'sha256-128',
    '--hmac-key',
    HKEY,
    '--time-window',
    String(w + 1),
    '--json',
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).packets[0].signature.windowOffset, -1);
  const bad = svr([
    'packet',
    'decode',
    '--hex',
    hexPkt,
    '--cipher-key',
    KEY,
    '--hmac',
    'sha256-128',
    '--hmac-key',
    HKEY,
    '--time-window',
    String(w + 5),
    '--json',
  ]);
  assert.equal(bad.code, 1);
  const p = JSON.parse(bad.stdout).packets[0];
  assert.equal(p.signature.valid, false);
  assert.equal(p.error.reason, 'hmac-mismatch');
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  // Without the cipher key the encrypted payload TLVs do not read: reported, with a hint.
  const nokey = svr(['packet', 'decode', '--hex', hexPkt, '--json']);
  assert.equal(nokey.code, 1);
  assert.match(JSON.parse(nokey.stdout).packets[0].error.hint, /--cipher-key/);
});

test('svr --version and --help exit 0', () => {
  const v = svr(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const h = svr(['packet', 'decode', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /--time-window/);
});
