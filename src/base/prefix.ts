import { type IpAddress, ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 } from './address.js';

/** An IP prefix: the network address (host bits zero) and its length. */
export interface Prefix {
  readonly family: 4 | 6;
  /** Network address, 4 or 16 bytes, host bits cleared. */
  readonly bytes: Uint8Array;
  readonly length: number;
  /** Canonical text, e.g. "10.0.0.0/25". */
  readonly text: string;
}

function mask(bytes: Uint8Array, length: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    out[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

function text(bytes: Uint8Array, length: number): string {
  const a =
    bytes.length === 4
      ? ipv4ToString(((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0)
      : ipv6ToString(bytes);
  return `${a}/${length}`;
}

export function addressBytes(a: IpAddress): Uint8Array {
  if (a.version === 6) return a.v6;
  const v = a.v4;
  return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

export function prefixOf(bytes: Uint8Array, length: number): Prefix {
  const m = mask(bytes, length);
  return { family: bytes.length === 4 ? 4 : 6, bytes: m, length, text: text(m, length) };
}

/**
 * "a.b.c.d/n" or "x::y/n"; a bare address is a host prefix (/32 or /128). Set host bits are an
 * error, not silently cleared: "10.0.0.1/24" is almost always a typo for an address.
 */
export function parsePrefix(s: string): Prefix | string {
  const slash = s.indexOf('/');
  const addrText = slash < 0 ? s : s.slice(0, slash);
  const v4 = parseIpv4(addrText);
  const v6 = v4 === undefined ? parseIpv6(addrText) : undefined;
  if (v4 === undefined && v6 === undefined) return `"${addrText}" is not an IP address`;
  const bytes = v4 !== undefined ? addressBytes({ version: 4, v4 }) : (v6 as Uint8Array);
  const max = bytes.length * 8;
  let length = max;
  if (slash >= 0) {
    const l = s.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(l) || Number(l) > max) return `prefix length "${l}" is not 0-${max}`;
    length = Number(l);
  }
  const p = prefixOf(bytes, length);
  for (let i = 0; i < bytes.length; i++)
    if (p.bytes[i] !== bytes[i]) return `${s} has host bits set; the network is ${p.text}`;
  return p;
}

/** Does the prefix contain the address (same family)? */
export function prefixContains(p: Prefix, a: Uint8Array): boolean {
  if (a.length !== p.bytes.length) return false;
  const full = p.length >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== p.bytes[i]) return false;
  const rest = p.length & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (a[full] & m) === p.bytes[full];
}

/** Does `outer` contain all of `inner`? */
export function prefixCovers(outer: Prefix, inner: Prefix): boolean {
  return outer.family === inner.family && outer.length <= inner.length && prefixContains(outer, inner.bytes);
}
