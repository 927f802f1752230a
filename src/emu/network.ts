import type { IpAddress } from '../base/address.js';
import { SeededRandom } from '../base/random.js';
import { EmulatedDriver, type EmulatedDriverCounters } from '../drivers/emulated.js';
import { parseInterfaceAddress } from './addresses.js';
import { Capture, type CaptureOptions } from './capture.js';
import { Host } from './host.js';
import { IpRouter } from './ip-router.js';
import { Middlebox } from './middlebox.js';
import { NatBox, type NatSpec } from './nat.js';
import type { InterfaceSpec, Node, RouteSpec } from './node.js';
import { Segment, type SegmentProps, type SegmentStats } from './segment.js';
import { SIM_EPOCH_MS, Simulator } from './sim.js';
import type { TcpOptions } from './tcp.js';

export interface NetworkOptions {
  /** Every random choice in the network (loss, jitter, ports, sequence numbers) follows from it. */
  readonly seed: number;
  /** Unix ms at virtual time zero; default 2026-01-01T00:00:00Z. */
  readonly startMs?: number;
}

export interface HostSpec {
  readonly interfaces: readonly InterfaceSpec[];
  readonly routes?: readonly RouteSpec[];
  /** Defaults for the host's TCP connections. */
  readonly tcp?: TcpOptions;
}

export interface RouterSpec {
  readonly interfaces: readonly InterfaceSpec[];
  readonly routes?: readonly RouteSpec[];
}

export interface DriverInterfaceSpec {
  readonly segment: Segment;
  readonly vlan?: number;
  /** The router's addresses on this interface, "10.0.1.254" (a "/len" suffix is allowed and ignored). */
  readonly addresses: readonly string[];
  readonly name?: string;
}

export interface NetworkStats {
  readonly timeMs: number;
  readonly elapsedMs: number;
  readonly eventsRun: number;
  readonly segments: Record<string, SegmentStats>;
  readonly nodes: Record<string, Record<string, number>>;
  readonly drivers: Record<string, EmulatedDriverCounters>;
}

/** FNV-1a of a name: independent seeds per component, so adding one does not shift the others. */
function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The emulated network for scenario tests and the demo: segments, hosts, routers, middleboxes,
 * NATs and svr routers (through EmulatedDriver) on one simulator, all randomness derived from
 * one seed. The same seed and the same scenario replay exactly.
 */
export class Network {
  readonly sim: Simulator;
  /** The network's own generator; components get their own, derived from the seed and their name. */
  readonly random: SeededRandom;
  readonly seed: number;
  private readonly segments = new Map<string, Segment>();
  private readonly nodes = new Map<string, Node>();
  private readonly drivers = new Map<string, EmulatedDriver>();

  constructor(options: NetworkOptions) {
    this.seed = options.seed;
    this.sim = new Simulator(options.startMs ?? SIM_EPOCH_MS);
    this.random = new SeededRandom(options.seed);
  }

  /** A generator for the named component, fixed by the seed and the name. */
  randomFor(name: string): SeededRandom {
    return new SeededRandom((this.seed ^ nameHash(name)) >>> 0);
  }

  segment(name: string, props: SegmentProps = {}): Segment {
    if (this.segments.has(name)) throw new Error(`segment ${name} exists`);
    const s = new Segment(name, this.sim, this.randomFor(`segment:${name}`), props);
    this.segments.set(name, s);
    return s;
  }

  host(name: string, spec: HostSpec): Host {
    const h = new Host(name, this.sim, this.randomFor(`node:${name}`), spec.tcp);
    return this.configure(h, spec.interfaces, spec.routes);
  }

  ipRouter(name: string, spec: RouterSpec): IpRouter {
    return this.configure(
      new IpRouter(name, this.sim, this.randomFor(`node:${name}`)),
      spec.interfaces,
      spec.routes,
    );
  }

  /** A router that drops TCP SYNs carrying payload (draft 2.4). */
  middlebox(name: string, spec: RouterSpec): Middlebox {
    return this.configure(
      new Middlebox(name, this.sim, this.randomFor(`node:${name}`)),
      spec.interfaces,
      spec.routes,
    );
  }

  /** A home-router NAT; `outside.gateway` (or `gateway`) is its default route. */
  nat(name: string, spec: NatSpec & { readonly gateway?: string }): NatBox {
    this.assertFree(name);
    const outside =
      spec.gateway && !spec.outside.gateway ? { ...spec.outside, gateway: spec.gateway } : spec.outside;
    const n = new NatBox(name, this.sim, this.randomFor(`node:${name}`), { ...spec, outside });
    this.addNode(n);
    return n;
  }

  /** Attach an svr router: its interfaces in configuration order. */
  attachDriver(name: string, interfaces: readonly DriverInterfaceSpec[]): EmulatedDriver {
    this.assertFree(name);
    const d = new EmulatedDriver(
      this.sim,
      interfaces.map((i) => ({
        segment: i.segment,
        vlan: i.vlan,
        name: i.name,
        addresses: i.addresses.map((a): IpAddress => parseInterfaceAddress(a).address),
      })),
      { name },
    );
    this.drivers.set(name, d);
    return d;
  }

  capture(segment: Segment, options?: CaptureOptions): Capture {
    return new Capture(segment, options);
  }

  run(ms: number): void {
    this.sim.run(ms);
  }

  runUntil(pred: () => boolean, maxMs: number): boolean {
    return this.sim.runUntil(pred, maxMs);
  }

  getSegment(name: string): Segment | undefined {
    return this.segments.get(name);
  }

  getNode(name: string): Node | undefined {
    return this.nodes.get(name);
  }

  stats(): NetworkStats {
    const segments: Record<string, SegmentStats> = {};
    for (const [k, s] of this.segments) segments[k] = s.stats();
    const nodes: Record<string, Record<string, number>> = {};
    for (const [k, n] of this.nodes) nodes[k] = n.counters.snapshot();
    const drivers: Record<string, EmulatedDriverCounters> = {};
    for (const [k, d] of this.drivers) drivers[k] = { ...d.counters };
    return {
      timeMs: this.sim.now(),
      elapsedMs: this.sim.elapsedMs,
      eventsRun: this.sim.eventsRun,
      segments,
      nodes,
      drivers,
    };
  }

  private configure<T extends Node>(
    node: T,
    interfaces: readonly InterfaceSpec[],
    routes?: readonly RouteSpec[],
  ): T {
    this.addNode(node);
    for (const i of interfaces) node.addInterface(i);
    for (const r of routes ?? []) node.addRoute(r);
    return node;
  }

  private addNode(n: Node): void {
    this.assertFree(n.name);
    this.nodes.set(n.name, n);
  }

  private assertFree(name: string): void {
    if (this.nodes.has(name) || this.drivers.has(name)) throw new Error(`a node named ${name} exists`);
  }
}
