import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { run } from '../runtime/command.js';

export { CommandError, run } from '../runtime/command.js';

/**
 * Network namespaces, veths and commands inside them, through iproute2 (`ip`). The lab, the
 * Linux end-to-end tests and `npm run bench:lab` build their networks with these; nothing here
 * touches the host's own namespace except to create and delete namespaces and veth pairs.
 */

/** Run a program inside namespace `ns` (the host's when ns is undefined). */
export function inNs(
  ns: string | undefined,
  argv: readonly string[],
  o: { timeoutMs?: number; input?: string } = {},
): string {
  return run(ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv, o);
}

/** Like inNs, but a failure is returned instead of thrown (for best-effort cleanup). */
export function tryInNs(ns: string | undefined, argv: readonly string[]): boolean {
  try {
    inNs(ns, argv, { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** Start a long-running program inside `ns`; the caller stops it. */
export function spawnInNs(ns: string, argv: readonly string[], o: SpawnOptions = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore', ...o });
}

export function namespaces(): string[] {
  let out: string;
  try {
    out = run(['ip', 'netns', 'list']);
  } catch {
    return [];
  }
  return out
    .split('\n')
    .map((l) => l.split(' ')[0].trim())
    .filter((n) => n.length > 0);
}

export function addNamespace(ns: string): void {
  run(['ip', 'netns', 'add', ns]);
  inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
}

/** Delete a namespace; processes left in it are killed first so that its veths go too. */
export function deleteNamespace(ns: string): void {
  try {
    const pids = run(['ip', 'netns', 'pids', ns]).split('\n').filter(Boolean);
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  } catch {
    // no such namespace
  }
  tryInNs(undefined, ['ip', 'netns', 'delete', ns]);
}

/** Delete every namespace whose name starts with `prefix` (recovery after a crash). */
export function deleteNamespaces(prefix: string): string[] {
  const gone = namespaces().filter((n) => n.startsWith(prefix));
  for (const n of gone) deleteNamespace(n);
  return gone;
}

/** A veth pair from `a` (in namespace nsA) to `b` (in nsB), both up. */
export function veth(nsA: string, a: string, nsB: string, b: string): void {
  run(['ip', 'link', 'add', a, 'netns', nsA, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
  inNs(nsA, ['ip', 'link', 'set', a, 'up']);
  inNs(nsB, ['ip', 'link', 'set', b, 'up']);
}

export function addAddress(ns: string, dev: string, cidr: string): void {
  inNs(ns, ['ip', 'addr', 'add', cidr, 'dev', dev]);
}

export function sysctl(ns: string, key: string, value: string | number): void {
  inNs(ns, ['sysctl', '-qw', `${key}=${value}`]);
}

/** Why Linux networking tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root';
  try {
    run(['ip', '-V']);
  } catch {
    return 'iproute2 (ip) is not installed';
  }
  const probe = `svr-probe-${process.pid}`;
  try {
    addNamespace(probe);
  } catch (e) {
    return `ip netns add failed: ${(e as Error).message}`;
  } finally {
    tryInNs(undefined, ['ip', 'netns', 'delete', probe]);
  }
  return undefined;
}

/** Which of `programs` are not on PATH. */
export function missingPrograms(programs: readonly string[]): string[] {
  return programs.filter((p) => {
    try {
      run(['sh', '-c', `command -v ${p}`]);
      return false;
    } catch {
      return true;
    }
  });
}
