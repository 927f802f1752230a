import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The optional native helper (native/tun.c, built by `npm install` with node-gyp): TUN devices
 * for the Linux driver and HMAC on prepared OpenSSL states. Everything works without it except
 * the Linux driver; HMAC falls back to node:crypto (crypto/hmac.ts).
 */
export interface NativeHelper {
  /** True when TUN devices are supported (Linux). */
  readonly supported: boolean;
  open?(name: string, vnetHeader: boolean, offloads: boolean): number;
  read?(fd: number, buffers: readonly Uint8Array[], offset: number, max: number, lengths: Int32Array): number;
  write?(fd: number, buffer: Uint8Array, start: number, end: number, header?: Uint8Array): number;
  close?(fd: number): void;
  watch?(fd: number, onReadable: (status: number) => void): object;
  unwatch?(handle: object): void;
  hmacKey?(sha256: boolean, key: Uint8Array): object;
  hmac?(
    key: object,
    data: Uint8Array,
    off: number,
    len: number,
    windowHi: number,
    windowLo: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): boolean;
  /** One's-complement sum of the 16-bit words of data[off, off+len), folded to 16 bits. */
  sum16?(data: Uint8Array, off: number, len: number): number;
}

const MODULE = fileURLToPath(new URL('../../../native/build/Release/svr_native.node', import.meta.url));

let loaded: NativeHelper | string | undefined;

/** The helper, or why it is not available. SVR_NO_NATIVE=1 forces the pure-JS paths. */
export function loadNative(): NativeHelper | string {
  if (loaded !== undefined) return loaded;
  if (process.env.SVR_NO_NATIVE === '1') loaded = 'the native helper is turned off (SVR_NO_NATIVE=1)';
  else if (!existsSync(MODULE))
    loaded = `the native helper is not built (${MODULE} is missing): run npm run build:native`;
  else {
    try {
      loaded = createRequire(import.meta.url)(MODULE) as NativeHelper;
    } catch (e) {
      loaded = `the native helper did not load: ${(e as Error).message}`;
    }
  }
  return loaded;
}
