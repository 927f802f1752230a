import { loadNative } from '../../base/native.js';

/**
 * The native helper's TUN devices and batched system calls (native/tun.c). Absent on a machine
 * without a compiler, where the emulator still runs and `svr run` says how to build it.
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

/** The helper's TUN half, or why the Linux driver cannot run here. */
export function loadTunNative(): TunNative | string {
  if (process.platform !== 'linux') return `the Linux driver needs Linux (this is ${process.platform})`;
  const n = loadNative();
  if (typeof n === 'string') return n;
  return n.supported && n.open
    ? (n as unknown as TunNative)
    : 'the native helper was built without TUN support';
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
