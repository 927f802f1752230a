import type { L4Json, PacketJson } from '../inspect/packet.js';
import type { MetadataJson, TlvJson } from '../wire/metadata/json.js';
import { protocolName } from '../wire/protocol.js';

/** Human-readable text for the CLI's JSON results, in the spirit of `tshark -V`. */

function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function tlvValue(t: TlvJson): string {
  const v = t.value;
  if ('source' in v && 'destination' in v && 'protocol' in v) {
    return `${endpoint(String(v.source), Number(v.sourcePort))} -> ${endpoint(String(v.destination), Number(v.destinationPort))} ${protocolName(Number(v.protocol))}`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '(present)';
  if (keys.length === 1) {
    const x = v[keys[0]];
    return typeof x === 'string' ? JSON.stringify(x).slice(1, -1) : String(x);
  }
  return keys.map((k) => `${k}=${typeof v[k] === 'string' ? v[k] : JSON.stringify(v[k])}`).join(' ');
}

export function renderMetadata(m: MetadataJson, indent = ''): string[] {
  const enc = m.encrypted
    ? `encrypted, IV ${m.iv}`
    : m.payloadLength > 0
      ? 'payload in clear'
      : 'no payload TLVs';
  const lines = [
    `${indent}SVR metadata ${m.blockLength} bytes: version ${m.version}, header ${m.headerLength}, payload ${m.payloadLength} (${enc}) - ${m.purpose}`,
  ];
  const row = (sec: string, t: TlvJson) =>
    `${indent}  ${sec.padEnd(7)} ${String(t.type).padStart(2)}  ${t.name.padEnd(32)} ${tlvValue(t)}`;
  for (const t of m.headerTlvs) lines.push(row('header', t));
  for (const t of m.payloadTlvs) lines.push(row('payload', t));
  for (const s of m.skippedTlvs)
    lines.push(`${indent}  skipped unknown TLV ${s.type} (${s.length} bytes, ${s.section})`);
  if (m.missingRequired.length > 0)
    lines.push(`${indent}  missing for ${m.purpose} metadata: ${m.missingRequired.join('; ')}`);
  return lines;
}

function l4Line(l: L4Json, label = ''): string {
  const ck = l.checksumValid === undefined ? '' : l.checksumValid ? '  checksum ok' : '  checksum BAD';
  switch (l.protocol) {
    case 'tcp':
      return `${label}TCP ${l.sourcePort} -> ${l.destinationPort}  [${(l.flags ?? []).join(',')}]  seq ${l.seq} ack ${l.ack} win ${l.window}${ck}`;
    case 'udp':
      return `${label}UDP ${l.sourcePort} -> ${l.destinationPort}  length ${l.length}${ck}`;
    case 'icmp':
    case 'icmpv6': {
      const echo = l.identifier !== undefined ? `  id ${l.identifier} seq ${l.sequence}` : '';
      const q = l.quoted
        ? `  quoting ${l.quoted.source}${l.quoted.sourcePort !== undefined ? `:${l.quoted.sourcePort}` : ''} -> ${l.quoted.destination}${l.quoted.destinationPort !== undefined ? `:${l.quoted.destinationPort}` : ''} ${protocolName(l.quoted.protocol)}`
        : '';
      return `${label}${l.protocol === 'icmp' ? 'ICMP' : 'ICMPv6'} ${l.typeName} (type ${l.type} code ${l.code})${echo}${q}${ck}`;
    }
    default:
      return `${label}(no transport header decoded)`;
  }
}

export function renderPacket(p: PacketJson): string[] {
  const head = `packet ${p.index + 1}${p.timestamp ? `  ${p.timestamp}` : ''}  ${p.length} bytes${p.vlan !== undefined ? `  VLAN ${p.vlan}` : ''}`;
  const lines = [head];
  if (p.ip) {
    const ip = p.ip;
    const frag =
      ip.moreFragments || ip.fragmentOffset
        ? `  fragment offset ${ip.fragmentOffset * 8}${ip.moreFragments ? ' MF' : ''}`
        : '';
    const ck = ip.checksumValid === undefined ? '' : ip.checksumValid ? '  checksum ok' : '  checksum BAD';
    const df = ip.dontFragment ? ' DF' : '';
    lines.push(
      `  IPv${ip.version} ${ip.source} -> ${ip.destination}  ${ip.protocolName}  ttl ${ip.ttl}  length ${ip.length}${ip.identification !== undefined ? `  id 0x${ip.identification.toString(16).padStart(4, '0')}` : ''}${df}${frag}${ck}`,
    );
  }
  if (p.l4) lines.push(l4Line(p.l4, '  '));
  if (p.metadata) lines.push(...renderMetadata(p.metadata, '  '));
  if (p.restoredTcp) lines.push(l4Line(p.restoredTcp, '  restored from UDP (TLV 12): '));
  if (p.payload)
    lines.push(
      `  payload ${p.payload.length} bytes${p.payload.length ? `: ${p.payload.hex.slice(0, 64)}${p.payload.hex.length > 64 ? '...' : ''}` : ''}`,
    );
  if (p.signature) {
    const s = p.signature;
    const when = s.timeBased
      ? `  window ${s.window}${s.windowOffset ? ` (offset ${s.windowOffset > 0 ? '+' : ''}${s.windowOffset})` : ''}`
      : '';
    lines.push(`  HMAC ${s.method} ${s.hex}  ${s.valid ? 'valid' : 'INVALID'}${s.valid ? when : ''}`);
  }
  if (p.error)
    lines.push(
      `  DROP ${p.error.reason}: ${p.error.text} (draft ${p.error.section})${p.error.hint ? `; ${p.error.hint}` : ''}`,
    );
  return lines;
}
