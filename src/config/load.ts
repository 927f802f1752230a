import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { fsErrorText } from '../base/fs-error.js';
import { compileConfig, type Reporter, suggestion } from './compile.js';
import type { AuthorityModel } from './model.js';
import { allowedKeysAt, configSchema } from './schema.js';
import { type ConfigPath, formatPath, SourcePositions } from './source.js';

/**
 * Loading a configuration file: YAML (eemeli/yaml, keeping node positions), the schema
 * (schema.ts), then the cross-reference checks and conversion to the model (compile.ts). Every
 * problem comes back as a value with the line and column of the offending node, never as an
 * exception; all of them are reported, up to MAX_ERRORS.
 */

export interface ConfigError {
  readonly file: string;
  /** 1-based; 0 when the file could not be read. */
  readonly line: number;
  readonly column: number;
  /** `routers[0].interfaces[2].vlan`; "" for the document as a whole. */
  readonly path: string;
  readonly message: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: AuthorityModel; readonly warnings: ConfigError[] }
  | { readonly ok: false; readonly errors: ConfigError[] };

export const MAX_ERRORS = 50;

/** One line: `FILE:LINE:COL: PATH: MESSAGE` (PATH left out for the document as a whole). */
export function formatConfigError(e: ConfigError): string {
  const message = e.message.replace(/\s*\n\s*/g, ' ');
  return `${e.file}:${e.line}:${e.column}: ${e.path === '' ? '' : `${e.path}: `}${message}`;
}

function readError(file: string, err: unknown): ConfigError {
  const e = fsErrorText(err);
  // Read as "got no such file", "got a directory", ...
  const why =
    e === 'is a directory' ? 'a directory' : e === 'permission denied' ? 'a file without read permission' : e;
  return { file, line: 0, column: 0, path: '', message: `expected a readable YAML file, got ${why}` };
}

export function loadConfigFile(path: string): ConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [readError(path, e)] };
  }
  return loadConfigText(text, path);
}

interface Found {
  readonly path: ConfigPath;
  readonly message: string;
  /** Point at the mapping key rather than its value (unknown keys). */
  readonly atKey?: boolean;
}

function isTypeMismatchAtRoot(i: z.core.$ZodIssue): boolean {
  return i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value');
}

/** zod's issues, one per offending node, with unions and unknown keys resolved. */
function schemaProblems(issues: readonly z.core.$ZodIssue[], prefix: ConfigPath, out: Found[]): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // When the value has the shape of one alternative (a mapping for `egress: { nat: ... }`),
      // that alternative's problems are the useful ones; otherwise say what the union expects.
      const branch = issue.errors.find((b) => b.length > 0 && !b.some(isTypeMismatchAtRoot));
      if (branch) schemaProblems(branch, path, out);
      else out.push({ path, message: issue.message });
    } else if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(path) ?? [];
      for (const key of issue.keys) {
        const hint = allowed.length > 0 ? suggestion(key, allowed).replace(/ \(defined: .*\)$/, '') : '';
        out.push({
          path: [...path, key],
          atKey: true,
          message: `unknown key "${key}"${hint}; expected one of: ${allowed.join(', ')}`,
        });
      }
    } else if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      for (const inner of issue.issues) out.push({ path, atKey: true, message: inner.message });
    } else out.push({ path, message: issue.message });
  }
}

export function loadConfigText(text: string, fileName: string): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = [];
  const at = (offset: number): { line: number; column: number } => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  for (const w of doc.warnings)
    warnings.push({ file: fileName, ...at(w.pos[0]), path: '', message: `YAML: ${w.message}` });
  if (doc.errors.length > 0) {
    for (const e of doc.errors)
      errors.push({ file: fileName, ...at(e.pos[0]), path: '', message: `invalid YAML: ${e.message}` });
    return failed(errors);
  }

  let data: unknown;
  try {
    // yaml's default alias limit refuses "billion laughs" documents: a value, not a crash.
    data = doc.toJS();
  } catch (e) {
    const message = `invalid YAML: ${e instanceof Error ? e.message : String(e)}`;
    return failed([{ file: fileName, line: 1, column: 1, path: '', message }]);
  }

  const source = new SourcePositions(doc, lines);
  const push = (list: ConfigError[], path: ConfigPath, message: string, atKey = false): void =>
    void list.push({ file: fileName, ...source.position(path, atKey), path: formatPath(path), message });

  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const found: Found[] = [];
    schemaProblems(parsed.error.issues, [], found);
    // One problem per node: a loose pattern and the exact parser may both refuse one value.
    const seen = new Set<string>();
    for (const f of found) {
      const p = formatPath(f.path);
      if (seen.has(p)) continue;
      seen.add(p);
      push(errors, f.path, f.message, f.atKey);
    }
    return failed(errors);
  }

  const reporter: Reporter = {
    error: (path, message) => push(errors, path, message),
    warning: (path, message) => push(warnings, path, message),
    where: (path) => `${formatPath(path)}, line ${source.position(path).line}`,
  };
  const config = compileConfig(parsed.data, reporter);
  if (errors.length > 0) return failed(errors);
  return { ok: true, config, warnings: sorted(warnings) };
}

function sorted(list: ConfigError[]): ConfigError[] {
  return [...list].sort((a, b) => a.line - b.line || a.column - b.column);
}

function failed(errors: ConfigError[]): ConfigResult {
  const all = sorted(errors);
  if (all.length <= MAX_ERRORS) return { ok: false, errors: all };
  const first = all[MAX_ERRORS];
  return {
    ok: false,
    errors: [
      ...all.slice(0, MAX_ERRORS),
      { ...first, path: '', message: `too many errors: ${all.length - MAX_ERRORS} more not shown` },
    ],
  };
}
