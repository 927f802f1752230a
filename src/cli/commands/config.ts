import { type ConfigError, formatConfigError, loadConfigFile } from '../../config/load.js';
import { configSummary } from '../../config/summary.js';

export interface ConfigCheckResult {
  stdout: string;
  /** Lines for stderr: each error as `FILE:LINE:COL: PATH: MESSAGE`, warnings prefixed `warning: `. */
  stderr: string[];
  exitCode: number;
}

/**
 * `svr config check FILE`: load, validate and compile a configuration file. Valid: a summary
 * (or with --json `{ ok, authority, routers, warnings }`) and exit 0, warnings on stderr.
 * Invalid: one line per error on stderr (with --json also `{ ok: false, errors }` on stdout)
 * and exit 2, as for any unusable input.
 */
export function configCheck(file: string, json = false): ConfigCheckResult {
  const r = loadConfigFile(file);
  const toJson = (v: object): string => `${JSON.stringify(v, null, 2)}\n`;
  if (!r.ok) {
    const errors: ConfigError[] = r.errors;
    return {
      stdout: json ? toJson({ ok: false, errors }) : '',
      stderr: errors.map(formatConfigError),
      exitCode: 2,
    };
  }
  const stderr = r.warnings.map((w) => `warning: ${formatConfigError(w)}`);
  const stdout = json
    ? toJson({
        ok: true,
        authority: r.config.name,
        routers: r.config.routers.map((x) => x.name),
        warnings: r.warnings,
      })
    : configSummary(r.config);
  return { stdout, stderr, exitCode: 0 };
}
