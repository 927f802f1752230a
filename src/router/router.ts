import { ipToString } from '../base/address.js';
import { EventLog, type RouterEvent } from '../base/events.js';
import type { TimerHandle } from '../base/scheduler.js';
import type { RouterModel } from '../config/model.js';
import type { DataPlaneOptions } from '../dataplane/context.js';
import { DataPlane } from '../dataplane/dataplane.js';
import { END_REASON_NAMES, SessionRole } from '../session/session-table.js';
import { TCP_STATE_NAMES } from '../session/tcp-state.js';
import { protocolName } from '../wire/protocol.js';

/** What a data plane needs, with the router named instead of given, and an event sink. */
export interface RouterOptions extends Omit<DataPlaneOptions, 'router' | 'events'> {
  readonly name: string;
  readonly onEvent?: (e: RouterEvent) => void;
}

/** One row of `show sessions`, like SSR's. */
export interface SessionRow {
  id: number;
  uuid: string;
  role: string;
  direction: 'forward' | 'reverse';
  service: string;
  tenant: string;
  protocol: string;
  source: string;
  destination: string;
  interface: string;
  path: string;
  tcpState: string;
  packets: number;
  bytes: number;
  ageSeconds: number;
  idleTimeoutSeconds: number;
}

const ROLE_NAMES = ['plain', 'ingress', 'egress', 'transit'];

/**
 * An svr router: configuration, the data plane and its timers wired to a driver. The driver can
 * be the emulator's or Linux's; the router does not know which.
 */
export class SvrRouter {
  readonly model: RouterModel;
  readonly dataPlane: DataPlane;
  readonly events: EventLog;
  private timer: TimerHandle | undefined;

  constructor(private readonly o: RouterOptions) {
    const model = o.authority.routers.find((r) => r.name === o.name);
    if (!model) throw new Error(`router ${o.name} is not in the authority's configuration`);
    this.model = model;
    this.events = new EventLog(o.name, 1000, o.onEvent);
    this.dataPlane = new DataPlane({ ...o, router: model, events: this.events });
  }

  get name(): string {
    return this.model.name;
  }

  start(): void {
    this.o.driver.start((batch) => this.dataPlane.receive(batch));
    this.tick();
  }

  stop(): void {
    if (this.timer) this.o.scheduler.cancel(this.timer);
    this.timer = undefined;
    this.o.driver.stop();
  }

  /** Session timers, once a second (3.7.6, D-10). */
  private tick(): void {
    this.dataPlane.expire();
    this.timer = this.o.scheduler.at(this.o.scheduler.now() + 1000, () => this.tick());
  }

  /** Both wings of every session, as `show sessions` lists them. */
  sessions(): SessionRow[] {
    const ctx = this.dataPlane.ctx;
    const s = ctx.sessions;
    const now = this.o.scheduler.now();
    const rows: SessionRow[] = [];
    const k = new Uint32Array(10);
    for (const id of s.ids()) {
      const uuid = Buffer.from(s.uuid(id)).toString('hex');
      for (const dir of [0, 1] as const) {
        const wing = id * 2 + dir;
        const kw = s.wingKey(wing, k, 0);
        const v4 = kw === 4;
        const a = (o: number) =>
          v4 ? ipToString({ version: 4, v4: k[o] }) : ipToString({ version: 6, v6: wordsToBytes(k, o) });
        const ports = k[kw - 2];
        const meta = k[kw - 1];
        // The peer path this wing's packets leave on: '' when they leave on a LAN.
        const path = ctx.paths.get(s.outPath(wing));
        rows.push({
          id,
          uuid: `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-${uuid.slice(12, 16)}-${uuid.slice(16, 20)}-${uuid.slice(20)}`,
          role: ROLE_NAMES[s.role(id)] ?? 'unknown',
          direction: dir === 0 ? 'forward' : 'reverse',
          service: ctx.fib.services[s.service(id)]?.model.name ?? '',
          tenant: ctx.tenants.name(s.tenant(id)) || '<global>',
          protocol: protocolName(meta & 0xff),
          source: `${a(0)}:${ports >>> 16}`,
          destination: `${a(v4 ? 1 : 4)}:${ports & 0xffff}`,
          interface: this.model.interfaces[meta >>> 20]?.name ?? '?',
          path: path ? `${path.model.vector} ${ipToString(path.localAddress)}` : '',
          tcpState: (meta & 0xff) === 6 ? (TCP_STATE_NAMES[s.tcpState(id)] ?? '') : '',
          packets: s.packetCount(wing),
          bytes: s.byteCount(wing),
          ageSeconds: Math.round((now - s.createdMs(id)) / 1000),
          idleTimeoutSeconds: Math.round(s.remainingMs(id) / 1000),
        });
      }
    }
    return rows;
  }
}

function wordsToBytes(k: Uint32Array, o: number): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) b[4 * i + j] = k[o + i] >>> (24 - 8 * j);
  return b;
}

export { END_REASON_NAMES, SessionRole };
