import { formatConfigError, loadConfigFile } from '../../config/load.js';
import { Fib, formatFib } from '../../policy/fib.js';
import { TenantTable } from '../../policy/tenant.js';
import { CliError } from '../errors.js';

export interface FibResult {
  stdout: string;
  stderr: string[];
  exitCode: number;
}

/**
 * `svr fib --config FILE --router NAME [--json]`: a router's forwarding information base, like
 * SSR's `show fib`: one row per service prefix, port set, protocol and allowed tenant with the
 * service, its egress action and next hops, then the generic routes (3.2, 3.3, Figures 4 and 6).
 */
export function fibCommand(file: string, routerName: string, json = false): FibResult {
  const r = loadConfigFile(file);
  if (!r.ok) return { stdout: '', stderr: r.errors.map(formatConfigError), exitCode: 2 };
  const router = r.config.routers.find((x) => x.name === routerName);
  if (!router)
    throw new CliError(
      `--router: no router "${routerName}" in ${file}; routers: ${r.config.routers.map((x) => x.name).join(', ')}`,
    );
  const fib = new Fib(r.config, router, new TenantTable(r.config.tenants.map((t) => t.name)));
  const rows = fib.rows();
  const stdout = json
    ? `${JSON.stringify({ router: router.name, rows }, null, 2)}\n`
    : `FIB of ${router.name} (authority ${r.config.name})\n${formatFib(rows)}\n`;
  return { stdout, stderr: r.warnings.map((w) => `warning: ${formatConfigError(w)}`), exitCode: 0 };
}
