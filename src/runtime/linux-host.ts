import { readFileSync } from 'node:fs';
import { type IpAddress, ipToString } from '../base/address.js';
import { addressBytes, prefixContains } from '../base/prefix.js';
import type { RouterModel } from '../config/model.js';
import { CommandError, run } from './command.js';

/**
 * The host side of a router on Linux (docs/linux.md): each configured interface's traffic is
 * steered through a TUN device the router reads, by policy routing:
 *
 *   rule 100/120/140+i  iif <device> ipproto udp/tcp/icmp  lookup 10000+i
 *   rule 200+i          iif <tun>                          lookup 10100+i
 *   rule 300+i          from <interface address>           lookup 10100+i
 *   rule 500            lookup local  (moved from pref 0, so the rules above come first)
 *   rule 600+i          iif <device>                       lookup 10000+i
 *   table 10000+i: default dev <tun>
 *   table 10100+i: the router's routes out of <device> (connected, static, peer paths), and
 *                  an unreachable default so nothing falls through to another interface
 *
 * so everything arriving on a router interface, waypoint traffic and BFD included, reaches the
 * router rather than the kernel's own stack (moveLocalRule), and what the router sends leaves by the interface
 * it chose. The kernel keeps ARP/ND for the interface addresses. The interface addresses are
 * added when missing; everything added is removed again by `undo`.
 */
export interface HostInterface {
  readonly name: string;
  /** The Linux device: `device`, or `device.vlan` for a VLAN interface. */
  readonly device: string;
  readonly tun: string;
}

export interface HostPlan {
  readonly interfaces: readonly HostInterface[];
  /** Commands run before the router starts, once its TUN devices exist. */
  readonly setup: readonly (readonly string[])[];
  /** Commands that undo `setup`, in order; each may fail (already gone). */
  readonly undo: readonly (readonly string[])[];
  /** Address families the router uses (the local rule moves for these). */
  readonly families: readonly (4 | 6)[];
  /**
   * Per interface, the commands that fill its output table (part of `setup`). The kernel drops a
   * table's routes through a device that goes down; they are put back when it comes up again.
   */
  readonly routes: readonly (readonly (readonly string[])[])[];
}

/** Rule preferences per interface i (at most 20 interfaces): protocol rules, TUN, the rest. */
const PROTO_RULES: readonly (readonly [number, string])[] = [
  [100, 'udp'],
  [120, 'tcp'],
  [140, 'icmp'],
];
const RULE_OUT = 200;
const RULE_FROM = 300;
/** Interface addresses per family a cleanup after a crash expects at most (one rule each). */
const MAX_ADDRESSES = 4;
const RULE_LOCAL = 500;
const RULE_REST = 600;
const TABLE_IN = 10000;
const TABLE_OUT = 10100;

/** The Linux device an interface names. */
export function linuxDevice(device: string, vlan: number): string {
  return vlan > 0 ? `${device}.${vlan}` : device;
}

/** TUN names: `svr-<interface>`, or `svr-if<i>` when that is too long for Linux (15 bytes). */
export function tunNames(model: RouterModel): string[] {
  const names = model.interfaces.map((ifc, i) => {
    const n = `svr-${ifc.name}`;
    return Buffer.byteLength(n) <= 15 && /^[A-Za-z0-9._-]+$/.test(n) ? n : `svr-if${i}`;
  });
  return names.map((n, i) => (names.indexOf(n) === i ? n : `svr-if${i}`));
}

function ipArgs(a: IpAddress): string[] {
  return a.version === 6 ? ['-6'] : ['-4'];
}

/** The plan for a router model (pure: nothing runs; `existingAddresses` says what is there). */
export function planHost(
  model: RouterModel,
  existingAddresses: (device: string) => readonly string[],
): HostPlan {
  const tuns = tunNames(model);
  const interfaces = model.interfaces.map((ifc, i) => ({
    name: ifc.name,
    device: linuxDevice(ifc.device, ifc.vlan),
    tun: tuns[i],
  }));
  const setup: string[][] = [];
  const undo: string[][] = [];
  const routes: string[][][] = model.interfaces.map(() => []);
  const families = new Set<4 | 6>();
  for (const ifc of model.interfaces) for (const a of ifc.addresses) families.add(a.address.version);
  if (families.size === 0) families.add(4);
  const fam = [...families].map((f) => `-${f}`);
  setup.push(['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  setup.push(['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0']);
  setup.push(['sysctl', '-qw', 'net.ipv4.conf.default.rp_filter=0']);
  setup.push(['sysctl', '-qw', 'net.ipv4.conf.all.send_redirects=0']);
  // The kernel's own ICMP errors (a packet that reached a waypoint with TTL 1) come from the
  // interface they answer, so rule 300+i routes them out of it (RFC 1812 4.3.2.4, SD-33).
  setup.push(['sysctl', '-qw', 'net.ipv4.icmp_errors_use_inbound_ifaddr=1']);
  if (families.has(6)) setup.push(['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
  model.interfaces.forEach((ifc, i) => {
    const { device, tun } = interfaces[i];
    const dev = device.replace(/\./g, '/');
    for (const a of ifc.addresses) {
      const cidr = `${ipToString(a.address)}/${a.prefix.length}`;
      if (!existingAddresses(device).includes(cidr)) {
        setup.push(['ip', 'addr', 'add', cidr, 'dev', device]);
        undo.push(['ip', 'addr', 'del', cidr, 'dev', device]);
      }
    }
    setup.push(['ip', 'link', 'set', device, 'up']);
    setup.push(['ip', 'link', 'set', tun, 'mtu', String(ifc.mtu), 'txqueuelen', '1000', 'up']);
    setup.push(['sysctl', '-qw', `net.ipv4.conf.${dev}.rp_filter=0`]);
    setup.push(['sysctl', '-qw', `net.ipv4.conf.${tun}.rp_filter=0`]);
    // What the router sends from its own waypoint addresses comes in on the TUN (5.1, 3.7.1.9).
    setup.push(['sysctl', '-qw', `net.ipv4.conf.${tun}.accept_local=1`]);
    setup.push(['sysctl', '-qw', `net.ipv4.conf.${tun}.send_redirects=0`]);
    for (const f of fam) {
      const rule = (pref: number, ...match: string[]) =>
        setup.push(['ip', f, 'rule', 'add', 'pref', String(pref + i), ...match]);
      // Ahead of the local table: the protocols SVR carries, to any address, the router's own
      // included. ARP's lookup of the router's address has no protocol, skips these rules and
      // finds the local table, so the kernel still answers ARP for the interface addresses.
      for (const [pref, proto] of PROTO_RULES)
        if (f === '-4' || proto !== 'icmp')
          rule(pref, 'iif', device, 'ipproto', proto, 'lookup', String(TABLE_IN + i));
      // After it: everything else that is not for the router itself.
      rule(RULE_REST, 'iif', device, 'lookup', String(TABLE_IN + i));
      rule(RULE_OUT, 'iif', tun, 'lookup', String(TABLE_OUT + i));
      // What the kernel itself sends from the interface's addresses (a time exceeded for a packet
      // that reached a waypoint with TTL 1, 6.6) leaves by the interface's routes too.
      for (const a of ifc.addresses)
        if (`-${a.address.version}` === f)
          rule(RULE_FROM, 'from', ipToString(a.address), 'lookup', String(TABLE_OUT + i));
      setup.push(['ip', f, 'route', 'replace', 'default', 'dev', tun, 'table', String(TABLE_IN + i)]);
      // What the router sends out of D stays on D: with D down (its routes gone), a lookup that
      // fell through to the main table would leave by another interface, and a peer would take
      // this path's BFD for another path's (it did, behind the lab's NAT).
      routes[i].push([
        'ip',
        f,
        'route',
        'replace',
        'unreachable',
        'default',
        'metric',
        '4294967295',
        'table',
        String(TABLE_OUT + i),
      ]);
    }
    for (const a of ifc.addresses)
      routes[i].push([
        'ip',
        ...ipArgs(a.address),
        'route',
        'replace',
        a.prefix.text,
        'dev',
        device,
        'table',
        String(TABLE_OUT + i),
      ]);
  });
  // Static routes go out of the interface that reaches their next hop.
  for (const r of model.routes) {
    if (!r.nextHop) continue;
    const nh = r.nextHop;
    const i = r.interface
      ? model.interfaces.findIndex((x) => x.name === r.interface)
      : model.interfaces.findIndex((x) =>
          x.addresses.some(
            (a) => a.prefix.family === nh.version && prefixContains(a.prefix, addressBytes(nh)),
          ),
        );
    if (i < 0) continue;
    routes[i].push([
      'ip',
      ...ipArgs(nh),
      'route',
      'append',
      r.prefix.text,
      'via',
      ipToString(nh),
      'dev',
      interfaces[i].device,
      'onlink',
      'table',
      String(TABLE_OUT + i),
    ]);
  }
  for (const r of routes) setup.push(...r);
  undo.push(...cleanupCommands(model.interfaces.length, [...families]));
  return { interfaces, setup, undo, families: [...families], routes };
}

/** What undoes any earlier run's policy routing (also after a crash): rules, tables, local rule. */
export function cleanupCommands(count: number, families: readonly (4 | 6)[]): string[][] {
  const out: string[][] = [];
  for (const f of families.map((x) => `-${x}`)) {
    for (let i = 0; i < count; i++) {
      for (const pref of [...PROTO_RULES.map(([k]) => k), RULE_OUT, RULE_REST])
        out.push(['ip', f, 'rule', 'del', 'pref', String(pref + i)]);
      for (let k = 0; k < MAX_ADDRESSES; k++)
        out.push(['ip', f, 'rule', 'del', 'pref', String(RULE_FROM + i)]);
      out.push(['ip', f, 'route', 'flush', 'table', String(TABLE_IN + i)]);
      out.push(['ip', f, 'route', 'flush', 'table', String(TABLE_OUT + i)]);
    }
  }
  return out;
}

function localRulePrefs(family: 4 | 6): number[] {
  try {
    const rules = JSON.parse(run(['ip', '-j', `-${family}`, 'rule', 'show'])) as {
      priority?: number;
      table?: string;
    }[];
    return rules.filter((r) => r.table === 'local').map((r) => r.priority ?? 0);
  } catch {
    return [];
  }
}

/**
 * Move the local table's rule from pref 0 to 500, so the per-interface rules come first (traffic
 * to the router's own addresses must reach the router, not the kernel). Idempotent.
 */
export function moveLocalRule(families: readonly (4 | 6)[]): void {
  for (const f of families) {
    const prefs = localRulePrefs(f);
    if (!prefs.includes(RULE_LOCAL))
      run(['ip', `-${f}`, 'rule', 'add', 'pref', String(RULE_LOCAL), 'lookup', 'local']);
    for (const p of prefs) if (p === 0) run(['ip', `-${f}`, 'rule', 'del', 'pref', '0', 'lookup', 'local']);
  }
}

/** Put the local rule back at pref 0, once (after a normal stop or a crash). */
export function restoreLocalRule(families: readonly (4 | 6)[]): void {
  for (const f of families) {
    const prefs = localRulePrefs(f);
    if (prefs.length === 0) continue; // the family is not in use here
    if (!prefs.includes(0)) run(['ip', `-${f}`, 'rule', 'add', 'pref', '0', 'lookup', 'local']);
    for (const p of prefs)
      if (p === RULE_LOCAL)
        run(['ip', `-${f}`, 'rule', 'del', 'pref', String(RULE_LOCAL), 'lookup', 'local']);
  }
}

/** Addresses on a device as `a.b.c.d/len`, or undefined when the device does not exist. */
export function deviceAddresses(device: string): string[] | undefined {
  let out: string;
  try {
    out = run(['ip', '-j', 'addr', 'show', 'dev', device]);
  } catch {
    return undefined;
  }
  const parsed = JSON.parse(out) as { addr_info?: { local?: string; prefixlen?: number }[] }[];
  return (parsed[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`);
}

/** Why this process cannot set up a router, or undefined. */
export function privilegeProblem(): string | undefined {
  if (process.platform !== 'linux') return `svr run needs Linux (this is ${process.platform})`;
  if (process.getuid?.() === 0) return undefined;
  try {
    const eff = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    // CAP_NET_ADMIN is capability 12.
    if (eff && (BigInt(`0x${eff}`) & (1n << 12n)) !== 0n) return undefined;
  } catch {
    // fall through
  }
  return 'svr run needs root or CAP_NET_ADMIN (it creates TUN devices and policy routes)';
}

/** Run commands in order; stops at the first failure, which it throws with the command named. */
export function runAll(cmds: readonly (readonly string[])[]): void {
  for (const c of cmds) {
    try {
      run(c);
    } catch (e) {
      if (e instanceof CommandError) throw new Error(`host setup failed: ${e.message}`);
      throw e;
    }
  }
}

/** Run commands, ignoring failures (undo, cleanup). */
export function runQuietly(cmds: readonly (readonly string[])[]): void {
  for (const c of cmds) {
    try {
      run(c, { timeoutMs: 10_000 });
    } catch {
      // already gone
    }
  }
}
