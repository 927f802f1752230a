import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Run the built CLI as a user would: `node dist/src/cli/main.js ...`. */
export const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function svr(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    input,
    encoding: 'utf8',
    cwd: ROOT,
    timeout: 20_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
