import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { CommandError, spawnInNs } from '../../src/lab/netns.js';

/**
 * Child processes for bench:lab. Everything long-running is asynchronous (not execFileSync) so
 * that SIGINT/SIGTERM are handled while a test runs, and every child is bounded: commands by a
 * timeout, daemons by stop() (SIGTERM, then SIGKILL). Live children are tracked so that an
 * abort can kill them all.
 */

const live = new Set<ChildProcess>();

/** SIGKILL every child still running (abort path; namespace deletion is the second net). */
export function killAll(): void {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
  live.clear();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves true when `p` settles within `ms`, false otherwise. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Run `argv` in namespace `ns` and return its stdout; CommandError on failure, Error on timeout. */
export function exec(ns: string, argv: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnInNs(ns, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '';
    let err = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      live.delete(child);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      live.delete(child);
      if (timedOut) reject(new Error(`${argv.join(' ')}: no result within ${timeoutMs / 1000} s`));
      else if (code === 0) resolve(out);
      else reject(new CommandError(argv, code, err, out));
    });
  });
}

/** Poll `ok` every 250 ms until it holds; throws `<what> not ready after N s[: detail]`. */
export async function waitFor(
  what: string,
  ok: () => boolean | Promise<boolean>,
  timeoutMs: number,
  detail?: () => string,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > until) {
      const d = detail?.();
      throw new Error(`${what} not ready after ${timeoutMs / 1000} s${d ? `: ${d}` : ''}`);
    }
    await sleep(250);
  }
}

/** A long-running program in a namespace, its output in `logFile`. */
export class Daemon {
  private readonly child: ChildProcess;
  private exit: string | undefined;
  private readonly done: Promise<void>;

  constructor(
    readonly name: string,
    ns: string,
    argv: readonly string[],
    readonly logFile: string,
  ) {
    const fd = openSync(logFile, 'a');
    try {
      this.child = spawnInNs(ns, argv, { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd); // the child has its own copy
    }
    live.add(this.child);
    this.done = new Promise((resolve) => {
      const ended = (why: string) => {
        this.exit ??= why;
        live.delete(this.child);
        resolve();
      };
      this.child.once('exit', (code, signal) => ended(signal ? `killed by ${signal}` : `exit code ${code}`));
      this.child.once('error', (e) => ended(e.message));
    });
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** The last lines of its log, for error messages. */
  tail(lines = 4): string {
    if (!existsSync(this.logFile)) return '';
    return readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  }

  /** Throws (with the log's tail) when the daemon has exited. */
  assertRunning(): void {
    if (this.exit !== undefined) throw new Error(`${this.name} exited (${this.exit}): ${this.tail()}`);
  }

  /** SIGTERM, then SIGKILL when it does not exit within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    if (await within(this.done, graceMs)) return;
    this.child.kill('SIGKILL');
    await within(this.done, 2000);
  }
}
