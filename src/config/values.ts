import { type IpAddress, parseIp } from '../base/address.js';
import { addressBytes, type Prefix, parsePrefix, prefixOf } from '../base/prefix.js';
import type { InterfaceAddress, PortRange } from './model.js';

/**
 * The string forms a configuration file writes (prefixes, addresses, port ranges), parsed to
 * model values. Each parser returns the value, or a message saying what was expected and what
 * was found; the schema (schema.ts) uses them to validate and the compile step to convert, so
 * both agree on every form.
 */

/** A value as a person would recognise it in an error message: `"two"`, `12`, `a list`. */
export function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (v instanceof Date) return `a date (${v.toISOString()}); quote it`;
  return typeof v === 'object' ? 'a mapping' : typeof v;
}

const PORT_RANGE_RE = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/;

/** "N" or "N-M", 1-65535, N <= M: a service's destination ports (4.6.5.1). */
export function parsePortRange(s: string): PortRange | string {
  const m = PORT_RANGE_RE.exec(s);
  const what = 'a port "N" or range "N-M" of ports 1-65535';
  if (!m) return `expected ${what}, got ${showValue(s)}`;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535) return `expected ${what}, got ${showValue(s)}: ports are 1-65535`;
  if (lo > hi) return `expected ${what} with N <= M, got ${showValue(s)}`;
  return { lo, hi };
}

/**
 * "N-M": an interface's wayports (2.8, D-10). The ingress picks an even local and an odd remote
 * port (4.2.3), so the range needs at least two ports.
 */
export function parseWayports(s: string): PortRange | string {
  const m = /^([0-9]{1,5})-([0-9]{1,5})$/.exec(s);
  const what = 'a wayport range "N-M" of at least 2 ports within 1-65535';
  if (!m) return `expected ${what}, got ${showValue(s)}`;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1 || hi > 65535) return `expected ${what}, got ${showValue(s)}: ports are 1-65535`;
  if (lo > hi) return `expected ${what}, got ${showValue(s)}: ${lo} is above ${hi}`;
  if (hi - lo + 1 < 2)
    return `expected ${what}, got ${showValue(s)}: the ingress needs an even and an odd port (4.2.3)`;
  return { lo, hi };
}

/** An IPv4 or IPv6 address in text form. */
export function parseAddress(s: string): IpAddress | string {
  return parseIp(s) ?? `expected an IP address like 192.0.2.1 or 2001:db8::1, got ${showValue(s)}`;
}

/** An IPv4 address only: source NAT travels in TLV 25, which is IPv4 (7.4.13). */
export function parseIpv4Address(s: string): IpAddress | string {
  const a = parseIp(s);
  if (a?.version === 4) return a;
  return `expected an IPv4 address like 203.0.113.1, got ${showValue(s)}`;
}

/**
 * A network prefix "a.b.c.d/n" or "x::/n"; a bare address is a host prefix. Host bits set are
 * an error (parsePrefix): "10.0.0.1/24" is almost always a typo.
 */
export function parseNetwork(s: string): Prefix | string {
  const p = parsePrefix(s);
  if (typeof p !== 'string') return p;
  const why = p.startsWith(`${s} has host bits set`) ? `host bits are set${p.slice(s.length + 18)}` : p;
  return `expected a prefix like 10.0.0.0/24 or 2001:db8::/32, got ${showValue(s)}: ${why}`;
}

/**
 * An interface address with its connected network's length, "10.0.0.1/16": host bits are the
 * point here, unlike a service prefix.
 */
export function parseInterfaceAddress(s: string): InterfaceAddress | string {
  const what = 'an address with its network length like 10.0.0.1/24';
  const slash = s.indexOf('/');
  if (slash < 0) return `expected ${what}, got ${showValue(s)}: the /length is missing`;
  const address = parseIp(s.slice(0, slash));
  if (!address) return `expected ${what}, got ${showValue(s)}: "${s.slice(0, slash)}" is not an IP address`;
  const max = address.version === 4 ? 32 : 128;
  const l = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(l) || Number(l) > max)
    return `expected ${what}, got ${showValue(s)}: the length is not 0-${max}`;
  return { address, prefix: prefixOf(addressBytes(address), Number(l)) };
}

/** RFC 1123 host names: labels of letters, digits and hyphens, at most 253 characters. */
export const HOSTNAME_RE =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Tenant names: dotted lower-case segments, printable ASCII (4.6.5.2, D-12). */
export const TENANT_RE = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/;

/**
 * Other names (services, routers, policies, interfaces, devices, vectors): printable ASCII
 * without leading or trailing spaces, since several travel in metadata as text (7.4.7, 7.4.10,
 * 7.4.11, D-12).
 */
export const NAME_RE = /^[!-~](?:[ -~]*[!-~])?$/;
