import { readFileSync } from 'node:fs';
import { parseHex } from '../base/bytes.js';
import { fsErrorText } from '../base/fs-error.js';
import { HMAC_METHODS, HmacKey, type HmacMethod } from '../crypto/hmac.js';
import { AesCbcMetadataCipher, FixedBytes } from '../crypto/metadata-cipher.js';
import { CliError } from './errors.js';

/** Parse a hex option or fail with a message naming the option. */
export function hexOption(name: string, text: string): Uint8Array {
  const b = parseHex(text);
  if (typeof b === 'string') throw new CliError(`${name}: ${b}`);
  return b;
}

export function cipherFromOptions(
  keyHex: string | undefined,
  ivHex?: string,
): AesCbcMetadataCipher | undefined {
  if (ivHex !== undefined && keyHex === undefined) throw new CliError('--iv needs --cipher-key');
  if (keyHex === undefined) return undefined;
  const key = hexOption('--cipher-key', keyHex);
  if (key.length !== 16 && key.length !== 32)
    throw new CliError(`--cipher-key: must be 16 bytes (AES-128) or 32 bytes (AES-256), got ${key.length}`);
  if (ivHex === undefined) return new AesCbcMetadataCipher(key);
  const iv = hexOption('--iv', ivHex);
  if (iv.length !== 16) throw new CliError(`--iv: must be 16 bytes, got ${iv.length}`);
  return new AesCbcMetadataCipher(key, new FixedBytes(iv));
}

export function hmacFromOptions(method: string | undefined, keyHex: string | undefined): HmacKey | undefined {
  if (method === undefined && keyHex === undefined) return undefined;
  if (method === undefined) throw new CliError('--hmac-key needs --hmac METHOD (sha1, sha256-128 or sha256)');
  if (keyHex === undefined) throw new CliError('--hmac needs --hmac-key HEX');
  if (!(HMAC_METHODS as readonly string[]).includes(method))
    throw new CliError(`--hmac: unknown method "${method}"; expected one of ${HMAC_METHODS.join(', ')}`);
  const key = hexOption('--hmac-key', keyHex);
  if (key.length === 0) throw new CliError('--hmac-key: empty key');
  return new HmacKey(method as HmacMethod, key);
}

export function readFileOrFail(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CliError(`${what} ${path}: ${fsErrorText(e)}`);
  }
}

export function readStdin(): Uint8Array {
  try {
    return readFileSync(0);
  } catch (e) {
    throw new CliError(`cannot read standard input: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Parse --time-window: an integer, "auto" or "none". */
export function timeWindowOption(text: string): number | 'auto' | 'none' {
  if (text === 'auto' || text === 'none') return text;
  if (!/^[0-9]+$/.test(text))
    throw new CliError(`--time-window: expected a non-negative integer, "auto" or "none", got "${text}"`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new CliError(`--time-window: ${text} is too large`);
  return n;
}
