import { execFileSync } from 'node:child_process';

/** A command that failed, with what it printed. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly status: number | null,
    readonly stderr: string,
    readonly stdout = '',
  ) {
    super(`${argv.join(' ')} failed (${status ?? 'signal'}): ${stderr.trim() || 'no message'}`);
    this.name = 'CommandError';
  }
}

/** Run a program and return its stdout; throws CommandError with its stderr when it fails. */
export function run(argv: readonly string[], o: { timeoutMs?: number; input?: string } = {}): string {
  try {
    return execFileSync(argv[0], argv.slice(1), {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: o.timeoutMs ?? 30_000,
      maxBuffer: 256 << 20,
      input: o.input,
    });
  } catch (e) {
    const err = e as { status?: number | null; stderr?: string | Buffer; stdout?: string | Buffer };
    throw new CommandError(argv, err.status ?? null, String(err.stderr ?? ''), String(err.stdout ?? ''));
  }
}
