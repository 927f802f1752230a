/**
 * IP addresses as the hot path keeps them: IPv4 as an unsigned 32-bit number, IPv6 as 16 bytes.
 * Text forms are for people, config files and the CLI.
 */

export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Dotted quad to u32, or undefined when the text is not exactly four decimal octets. */
export function parseIpv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** RFC 5952 text form: lower case, longest run of two or more zero groups shortened to '::'. */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  if (bestStart < 0) return g.map(hex).join(':');
  const left = g.slice(0, bestStart).map(hex).join(':');
  const right = g
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${left}::${right}`;
}

/** IPv6 text (with '::' and an optional trailing dotted quad) to 16 bytes, or undefined. */
export function parseIpv6(s: string): Uint8Array | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  let text = s;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > 0) {
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail.push(v4 >>> 16, v4 & 0xffff);
    text = `${text.slice(0, lastColon + 1)}`;
    // "::1.2.3.4" leaves "::", "64:ff9b::1.2.3.4" leaves "64:ff9b::", "a:b:c:d:e:f:1.2.3.4" leaves a trailing ':'.
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) return undefined;
  const parseGroups = (t: string): number[] | undefined => {
    if (t === '') return [];
    const out: number[] = [];
    for (const p of t.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(Number.parseInt(p, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(text.slice(0, dbl));
    const rest = parseGroups(text.slice(dbl + 2));
    if (!head || !rest) return undefined;
    const missing = 8 - head.length - rest.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
  } else {
    const all = parseGroups(text);
    if (!all) return undefined;
    groups = [...all, ...tail];
    if (groups.length !== 8) return undefined;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i] >>> 8;
    out[2 * i + 1] = groups[i] & 0xff;
  }
  return out;
}

export type IpAddress =
  | { readonly version: 4; readonly v4: number }
  | { readonly version: 6; readonly v6: Uint8Array };

export function parseIp(s: string): IpAddress | undefined {
  const v4 = parseIpv4(s);
  if (v4 !== undefined) return { version: 4, v4 };
  const v6 = parseIpv6(s);
  if (v6 !== undefined) return { version: 6, v6 };
  return undefined;
}

export function ipToString(a: IpAddress): string {
  return a.version === 4 ? ipv4ToString(a.v4) : ipv6ToString(a.v6);
}

/** The same address (family and bytes). */
export function sameAddress(a: IpAddress, b: IpAddress): boolean {
  if (a.version === 4) return b.version === 4 && a.v4 === b.v4;
  if (b.version !== 6) return false;
  for (let i = 0; i < 16; i++) if (a.v6[i] !== b.v6[i]) return false;
  return true;
}
