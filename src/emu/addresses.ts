import { type IpAddress, ipToString, parseIp } from '../base/address.js';
import { readU32 } from '../base/bytes.js';
import { addressBytes, type Prefix, prefixOf } from '../base/prefix.js';

/** Address helpers for the emulator's configuration API and its nodes. */

/** Text or parsed address to parsed; bad text in a scenario is a programming error, so it throws. */
export function toAddress(a: string | IpAddress): IpAddress {
  if (typeof a !== 'string') return a;
  const p = parseIp(a);
  if (!p) throw new TypeError(`not an IP address: "${a}"`);
  return p;
}

/**
 * "10.0.1.1/24" to the interface address (host bits kept) and its connected network. A bare
 * address is a host route (/32 or /128).
 */
export function parseInterfaceAddress(text: string): { address: IpAddress; prefix: Prefix } {
  const slash = text.indexOf('/');
  const address = toAddress(slash < 0 ? text : text.slice(0, slash));
  const max = address.version === 4 ? 32 : 128;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lenText) || Number(lenText) > max)
    throw new TypeError(`"${text}": prefix length must be 0-${max}`);
  return { address, prefix: prefixOf(addressBytes(address), Number(lenText)) };
}

/** The destination of the raw IP packet in `frame` as text, or undefined when it is not one. */
export function frameDestinationText(frame: Uint8Array): string | undefined {
  const v = frame.length > 0 ? frame[0] >> 4 : 0;
  if (v === 4 && frame.length >= 20) return ipToString({ version: 4, v4: readU32(frame, 16) });
  if (v === 6 && frame.length >= 40) return ipToString({ version: 6, v6: frame.subarray(24, 40) });
  return undefined;
}
