import { lookup } from 'node:dns';
import { type IpAddress, parseIp } from '../base/address.js';

/**
 * Name resolution for the `dns` egress action (3.3, R-4.6.5.1-c): the egress router resolves
 * the service's name. Injectable, so the emulator answers from a table and real routers ask the
 * system resolver; the callback may come at once or later.
 */
export interface DnsResolver {
  resolve(name: string, done: (address: IpAddress | undefined) => void): void;
}

/** Answers from a fixed table, at once: for the emulator and tests. */
export class StaticResolver implements DnsResolver {
  constructor(private readonly table: Readonly<Record<string, string>>) {}

  resolve(name: string, done: (address: IpAddress | undefined) => void): void {
    const a = this.table[name];
    done(a === undefined ? undefined : parseIp(a));
  }
}

/** The system resolver (`node:dns` lookup), with answers cached for `ttlMs`. */
export class SystemResolver implements DnsResolver {
  private readonly cache = new Map<string, { address: IpAddress | undefined; until: number }>();

  constructor(private readonly ttlMs = 30_000) {}

  resolve(name: string, done: (address: IpAddress | undefined) => void): void {
    const hit = this.cache.get(name);
    if (hit && hit.until > Date.now()) {
      done(hit.address);
      return;
    }
    lookup(name, (err, address) => {
      const a = err ? undefined : parseIp(address);
      this.cache.set(name, { address: a, until: Date.now() + this.ttlMs });
      done(a);
    });
  }
}
