import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { ipToString } from '../base/address.js';
import type { RouterEvent } from '../base/events.js';
import { CryptoRandom } from '../base/random.js';
import { RealScheduler } from '../base/scheduler.js';
import type { AuthorityModel } from '../config/model.js';
import type { RouterCredentials } from '../crypto/certificates.js';
import { SystemResolver } from '../dataplane/dns.js';
import type { InlineFigures } from '../dataplane/path-metrics.js';
import { TunDriver } from '../drivers/linux/tun-driver.js';
import { SvrRouter } from '../router/router.js';
import { BfdState } from '../wire/bfd.js';
import {
  cleanupCommands,
  deviceAddresses,
  type HostPlan,
  linuxDevice,
  moveLocalRule,
  planHost,
  privilegeProblem,
  restoreLocalRule,
  runAll,
  runQuietly,
} from './linux-host.js';

export interface LinuxRouterOptions {
  readonly authority: AuthorityModel;
  readonly router: string;
  readonly credentials: RouterCredentials;
  /** TUN checksum/segmentation offloads (default true). */
  readonly offloads?: boolean;
  /** Where to write the router's status as JSON once a second (for `svr lab status`). */
  readonly statusFile?: string;
  readonly onEvent?: (e: RouterEvent) => void;
}

/** What `status()` and the status file report. */
export interface LinuxRouterStatus {
  router: string;
  pid: number;
  startedAt: string;
  updatedAt: string;
  interfaces: { name: string; device: string; tun: string }[];
  paths: {
    peer: string;
    vector: string;
    local: string;
    remote: string;
    bfd: string;
    usable: boolean;
    authenticated: boolean;
    natDetected: boolean;
    /** TCP sessions on the path cross as UDP (2.4, 4.2.7). */
    tcpAsUdp: boolean;
    /** Sessions this router sends on the path. */
    sessions: number;
    latencyMs?: number;
    lossPercent?: number;
    /** 7.3.7 in-line figures from TLV 26 on live traffic (SD-47), fresh or not. */
    inline?: InlineFigures;
  }[];
  sessions: number;
  stats: Record<string, number>;
  drops: Record<string, number>;
  driver: Record<string, number | string>;
}

/**
 * An svr router on this Linux host: its TUN driver, the policy routing that steers its
 * interfaces through it (linux-host.ts), real time and real randomness. `start` fails with one
 * clear sentence (privilege, a missing device, a TUN name in use); `stop` removes what start
 * added, and is safe to call twice.
 */
export class LinuxRouter {
  readonly router: SvrRouter;
  readonly driver: TunDriver;
  private readonly plan: HostPlan;
  private statusTimer: NodeJS.Timeout | undefined;
  private linkTimer: NodeJS.Timeout | undefined;
  /** Per interface: was its device down at the last look (watchLinks)? */
  private readonly linkDown: boolean[] = [];
  private readonly startedAt = new Date().toISOString();
  private stopped = false;

  constructor(private readonly o: LinuxRouterOptions) {
    const problem = privilegeProblem();
    if (problem) throw new Error(problem);
    const model = o.authority.routers.find((r) => r.name === o.router);
    if (!model)
      throw new Error(
        `no router "${o.router}" in the configuration; routers: ${o.authority.routers.map((r) => r.name).join(', ')}`,
      );
    const existing = new Map<string, string[]>();
    for (const ifc of model.interfaces) {
      const dev = linuxDevice(ifc.device, ifc.vlan);
      const addrs = deviceAddresses(dev);
      if (!addrs)
        throw new Error(
          `interface ${model.name}.${ifc.name}: device ${dev} does not exist here (svr run uses the devices the configuration names)`,
        );
      existing.set(dev, addrs);
    }
    this.plan = planHost(model, (d) => existing.get(d) ?? []);
    // A crashed earlier run may have left its rules behind.
    runQuietly(cleanupCommands(model.interfaces.length, [4, 6]));
    restoreLocalRule([4, 6]);
    this.driver = new TunDriver(
      this.plan.interfaces.map((i) => ({ tun: i.tun })),
      { offloads: o.offloads ?? true },
    );
    try {
      runAll(this.plan.setup);
      moveLocalRule(this.plan.families);
    } catch (e) {
      this.driver.stop();
      runQuietly(this.plan.undo);
      restoreLocalRule(this.plan.families);
      throw e;
    }
    const scheduler = new RealScheduler();
    this.router = new SvrRouter({
      name: o.router,
      authority: o.authority,
      driver: this.driver,
      scheduler,
      random: new CryptoRandom(),
      dns: new SystemResolver(),
      credentials: o.credentials,
      onEvent: o.onEvent,
    });
  }

  start(): void {
    this.router.start();
    this.linkTimer = setInterval(() => this.watchLinks(), 1000);
    if (this.o.statusFile) {
      this.writeStatus();
      this.statusTimer = setInterval(() => this.writeStatus(), 1000);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.statusTimer) clearInterval(this.statusTimer);
    if (this.linkTimer) clearInterval(this.linkTimer);
    this.router.stop();
    runQuietly(this.plan.undo);
    restoreLocalRule(this.plan.families);
    if (this.o.statusFile) rmSync(this.o.statusFile, { force: true });
  }

  /**
   * A device that comes back up gets its output table's routes again: the kernel dropped them when
   * it went down (without them the table's unreachable default would keep the router off it).
   */
  private watchLinks(): void {
    this.plan.interfaces.forEach((ifc, i) => {
      let state: string;
      try {
        state = readFileSync(`/sys/class/net/${ifc.device}/operstate`, 'utf8').trim();
      } catch {
        state = 'absent';
      }
      const down = state === 'down' || state === 'absent';
      const was = this.linkDown[i] ?? false;
      this.linkDown[i] = down;
      if (was && !down) {
        runQuietly(this.plan.routes[i] ?? []);
        this.router.events.emit(
          Date.now(),
          'info',
          'link-up',
          `${ifc.device} is up again: the routes of interface ${ifc.name} are back in its table`,
        );
      }
    });
  }

  status(): LinuxRouterStatus {
    const ctx = this.router.dataPlane.ctx;
    const peering = this.router.peering;
    const driver: Record<string, number | string> = { ...this.driver.counters };
    return {
      router: this.router.name,
      pid: process.pid,
      startedAt: this.startedAt,
      updatedAt: new Date().toISOString(),
      interfaces: this.plan.interfaces.map((i) => ({ ...i })),
      paths: (peering?.status() ?? []).map((p) => ({
        peer: p.peer,
        vector: p.vector,
        local: ipToString(p.local),
        remote: p.remote ? `${ipToString(p.remote)}:${p.remotePort}` : '',
        bfd: BfdState[p.bfd] ?? String(p.bfd),
        usable: p.usable,
        authenticated: p.authenticated,
        natDetected: p.natDetected,
        tcpAsUdp: ctx.paths.get(p.id)?.tcpToUdp ?? false,
        sessions: ctx.paths.get(p.id)?.activeSessions ?? 0,
        latencyMs: p.quality?.latencyMs,
        lossPercent: p.quality?.lossPercent,
        inline: ctx.paths.get(p.id)?.metrics.figures(),
      })),
      sessions: ctx.sessions.size,
      stats: { ...ctx.stats },
      drops: ctx.drops.snapshot(),
      driver,
    };
  }

  private writeStatus(): void {
    const f = this.o.statusFile;
    if (!f) return;
    // Written whole and renamed, so a reader never sees half a file.
    writeFileSync(`${f}.tmp`, `${JSON.stringify(this.status(), null, 2)}\n`);
    renameSync(`${f}.tmp`, f);
  }
}
