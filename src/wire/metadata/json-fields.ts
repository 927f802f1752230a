import { z } from 'zod';
import { ipv4ToString, ipv6ToString, parseIpv4, parseIpv6 } from '../../base/address.js';
import { isPrintableAsciiString, parseHex, toHex } from '../../base/bytes.js';

/**
 * zod field types for the JSON form of TLV values: what `svr metadata encode` reads. Each parses
 * the text form people write (dotted quads, UUID strings) into what the wire codecs take.
 */

export const uint = (bits: number) =>
  z
    .number()
    .int()
    .min(0)
    .max(2 ** bits - 1);

export const u8 = uint(8);
export const u16 = uint(16);
export const u32 = uint(32);

export const ipv4Field = z.string().transform((s, ctx) => {
  const v = parseIpv4(s);
  if (v === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected an IPv4 address like 192.0.2.1, got "${s}"` });
    return z.NEVER;
  }
  return v;
});

export const ipv6Field = z.string().transform((s, ctx) => {
  const v = parseIpv6(s);
  if (v === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected an IPv6 address like 2001:db8::1, got "${s}"` });
    return z.NEVER;
  }
  return v;
});

export const uuidField = z.string().transform((s, ctx) => {
  const v = parseUuid(s);
  if (v === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a UUID like 01234567-89ab-4cde-8f01-23456789abcd (or 32 hex digits), got "${s}"`,
    });
    return z.NEVER;
  }
  return v;
});

export const asciiName = z
  .string()
  .min(1, 'expected at least one character')
  .refine(isPrintableAsciiString, 'expected printable ASCII (D-12)');

/** PEM text may span lines. */
export const pemText = z
  .string()
  .min(1, 'expected at least one character')
  .refine((s) => isPrintableAsciiString(s.replace(/[\r\n]/g, '')), 'expected ASCII text');

export function formatUuid(b: Uint8Array): string {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function parseUuid(s: string): Uint8Array | undefined {
  const t = s.trim();
  if (!/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(t))
    return undefined;
  const b = parseHex(t.replace(/-/g, ''));
  return typeof b === 'string' ? undefined : b;
}

export { ipv4ToString, ipv6ToString };

/** One line per problem: `path: message`. */
export function formatZodError(e: z.ZodError, prefix = ''): string {
  return e.issues
    .map((i) => {
      const path = [prefix, ...i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
        .filter((x) => x !== '')
        .join('.')
        .replace(/\.\[/g, '[');
      return path ? `${path}: ${i.message}` : i.message;
    })
    .join('; ');
}
