import type { IpAddress } from '../src/base/address.js';
import { ManualClock } from '../src/base/clock.js';
import { PacketBuffer } from '../src/base/packet-buffer.js';
import { SeededRandom } from '../src/base/random.js';
import type { Scheduler, TimerHandle } from '../src/base/scheduler.js';
import { loadConfigFile, loadConfigText } from '../src/config/load.js';
import type { AuthorityModel } from '../src/config/model.js';
import { StaticPeerKeys } from '../src/crypto/peer-keys.js';
import { StaticResolver } from '../src/dataplane/dns.js';
import type { Driver, RxBatch } from '../src/drivers/driver.js';
import { SvrRouter } from '../src/router/router.js';
import { buildPacket } from '../src/wire/builder.js';
import { IpPacket } from '../src/wire/packet.js';

/**
 * Routers with hand-carried packets: each router gets a driver that records what it sends, and
 * a test delivers packets to interfaces itself. Every step of a ladder diagram can be looked at.
 */

export class ManualScheduler extends ManualClock implements Scheduler {
  private timers: { id: number; at: number; fn: () => void }[] = [];
  private next = 1;

  at(atMs: number, fn: () => void): TimerHandle {
    const id = this.next++;
    this.timers.push({ id, at: atMs, fn });
    return { id };
  }

  cancel(h: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== h.id);
  }

  /** Move time on, running timers that fall due, in order. */
  run(ms: number): void {
    const end = this.now() + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      if (due.at > this.now()) this.set(due.at);
      due.fn();
    }
    this.set(end);
  }
}

export interface Sent {
  iface: number;
  bytes: Uint8Array;
  nextHop: IpAddress | undefined;
}

export class RecordingDriver implements Driver {
  readonly sent: Sent[] = [];
  private rx: ((b: RxBatch) => void) | undefined;
  released = 0;

  start(receive: (batch: RxBatch) => void): void {
    this.rx = receive;
  }

  send(iface: number, packet: PacketBuffer, nextHop: IpAddress | undefined): void {
    this.sent.push({ iface, bytes: packet.copy(), nextHop });
  }

  release(): void {
    this.released++;
  }

  allocate(): PacketBuffer {
    return new PacketBuffer(new Uint8Array(4096), 512, 512);
  }

  stop(): void {}

  deliver(iface: number, bytes: Uint8Array): void {
    const pb = PacketBuffer.from(bytes);
    this.rx?.({ count: 1, packets: [pb], iface: Int32Array.of(iface) });
  }

  take(): Sent[] {
    return this.sent.splice(0, this.sent.length);
  }
}

export interface Lab {
  authority: AuthorityModel;
  scheduler: ManualScheduler;
  routers: Map<string, { router: SvrRouter; driver: RecordingDriver }>;
  iface(router: string, name: string): number;
}

export const SECRET = new TextEncoder().encode('svr test authority secret');

/** Routers from a configuration file, or from YAML text (anything with a newline). */
export function lab(
  configFile: string,
  over?: (a: AuthorityModel) => AuthorityModel,
  dns: Record<string, string> = {},
): Lab {
  const r = configFile.includes('\n')
    ? loadConfigText(configFile, 'inline.yaml')
    : loadConfigFile(configFile);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  const authority = over ? over(r.config) : r.config;
  const scheduler = new ManualScheduler(1_767_225_600_000);
  const routers = new Map<string, { router: SvrRouter; driver: RecordingDriver }>();
  let seed = 1;
  for (const m of authority.routers) {
    const driver = new RecordingDriver();
    const random = new SeededRandom(seed++);
    const router = new SvrRouter({
      authority,
      name: m.name,
      driver,
      scheduler,
      random,
      keys: new StaticPeerKeys(SECRET, m.name, authority.security, random),
      dns: new StaticResolver(dns),
    });
    router.start();
    routers.set(m.name, { router, driver });
  }
  return {
    authority,
    scheduler,
    routers,
    iface(router: string, name: string): number {
      const m = authority.routers.find((x) => x.name === router);
      return m?.interfaces.findIndex((i) => i.name === name) ?? -1;
    },
  };
}

export function parsed(bytes: Uint8Array): IpPacket {
  const p = new IpPacket();
  const r = p.parse(bytes, 0, bytes.length);
  if (r) throw new Error(`sent packet does not parse: ${r}`);
  return p;
}

/** A UDP packet as a host would send it. */
export function udp(src: string, dst: string, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return buildPacket({ src, dst, l4: { protocol: 'udp', srcPort: sport, dstPort: dport }, payload });
}

/** A TCP segment as a host would send it (TTL 64). */
export function tcp(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  flags: number,
  seq: number,
  ack: number,
  payload?: Uint8Array,
): Uint8Array {
  return buildPacket({
    src,
    dst,
    l4: { protocol: 'tcp', srcPort: sport, dstPort: dport, flags, seq, ack },
    payload,
  });
}
