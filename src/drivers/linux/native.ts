import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The native helper (native/tun.c): TUN devices and batched system calls, nothing else. Built
 * by `npm install` (node-gyp); absent on a machine without a compiler, where the emulator still
 * runs and `svr run` says how to build it.
 */
export interface TunNative {
  readonly supported: true;
  /** A TUN device, non-blocking; returns the fd, or -errno. */
  open(name: string, vnetHeader: boolean, offloads: boolean): number;
  /** Up to `max` packets, packet i into buffers[i] at `offset`; returns the count or -errno. */
  read(fd: number, buffers: readonly Uint8Array[], offset: number, max: number, lengths: Int32Array): number;
  /** One packet, after `header` when given; returns bytes written or -errno. */
  write(fd: number, buffer: Uint8Array, start: number, end: number, header?: Uint8Array): number;
  close(fd: number): void;
  /** Call `onReadable` whenever fd is readable (libuv poll); stop with unwatch. */
  watch(fd: number, onReadable: (status: number) => void): object;
  unwatch(handle: object): void;
}

const MODULE = fileURLToPath(new URL('../../../../native/build/Release/svr_tun.node', import.meta.url));

let loaded: TunNative | string | undefined;

/** The helper, or why it is not available. */
export function loadTunNative(): TunNative | string {
  if (loaded !== undefined) return loaded;
  if (process.platform !== 'linux') loaded = `the Linux driver needs Linux (this is ${process.platform})`;
  else if (!existsSync(MODULE))
    loaded = `the native Linux driver is not built (${MODULE} is missing): run npm run build:native`;
  else {
    try {
      const m = createRequire(import.meta.url)(MODULE) as { supported?: boolean } & Partial<TunNative>;
      loaded =
        m.supported === true ? (m as TunNative) : 'the native Linux driver was built without TUN support';
    } catch (e) {
      loaded = `the native Linux driver did not load: ${(e as Error).message}`;
    }
  }
  return loaded;
}

/** errno names for the values the helper returns (negated). */
const ERRNO: Record<number, string> = {
  1: 'EPERM (operation not permitted: root or CAP_NET_ADMIN is needed)',
  2: 'ENOENT (no such file: is /dev/net/tun there?)',
  13: 'EACCES (permission denied)',
  16: 'EBUSY (device or resource busy: is another process using the name?)',
  19: 'ENODEV (the tun module is not loaded)',
  22: 'EINVAL (invalid argument)',
  105: 'ENOBUFS (no buffer space)',
};

export function errnoText(negative: number): string {
  return ERRNO[-negative] ?? `errno ${-negative}`;
}
