import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

/**
 * Where a value of the configuration file is written, so every error, whether from YAML, the
 * schema or the cross-reference checks, points at the line and column people must edit.
 */

/** A path into the document: mapping keys and list indices, as zod reports them. */
export type ConfigPath = readonly PropertyKey[];

export interface Position {
  /** 1-based; 0 when there is no file to point into. */
  readonly line: number;
  /** 1-based; 0 with line 0. */
  readonly column: number;
}

const IDENTIFIER_RE = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `routers[0].interfaces[2].vlan`; keys that are not identifiers are quoted: `vectors["a b"]`. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const k = String(seg);
      out += IDENTIFIER_RE.test(k) ? (out === '' ? k : `.${k}`) : `[${JSON.stringify(k)}]`;
    }
  }
  return out;
}

/** A node of the document and, when it is a mapping value, the key node before it. */
interface Located {
  readonly node: Node | null;
  readonly key: Node | null;
}

export class SourcePositions {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  private offset(n: Node | null): number | undefined {
    return n?.range ? n.range[0] : undefined;
  }

  private deref(n: unknown): Node | null {
    if (isAlias(n)) {
      const target = n.resolve(this.doc);
      return target ?? null;
    }
    return isMap(n) || isSeq(n) || isScalar(n) ? n : null;
  }

  /**
   * Walk `path` as far as the document has it: the nodes found, deepest last (the root first).
   */
  private walk(path: ConfigPath): Located[] {
    const root = this.deref(this.doc.contents);
    const found: Located[] = [{ node: root, key: null }];
    let cur = root;
    for (const seg of path) {
      let next: Located | undefined;
      if (isMap(cur)) {
        for (const item of cur.items) {
          if (!isPair(item)) continue;
          const k = isScalar(item.key) ? item.key.value : item.key;
          if (String(k) === String(seg)) {
            next = { node: this.deref(item.value), key: isScalar(item.key) ? item.key : null };
            break;
          }
        }
      } else if (isSeq(cur) && typeof seg === 'number') {
        const item = cur.items[seg];
        if (item !== undefined) next = { node: this.deref(item), key: null };
      }
      if (!next) break;
      found.push(next);
      cur = next.node;
    }
    return found;
  }

  private at(offset: number | undefined): Position | undefined {
    if (offset === undefined) return undefined;
    const p = this.lines.linePos(offset);
    return { line: p.line, column: p.col };
  }

  /**
   * The value at `path`; when the path is not in the document (a missing key), the deepest
   * mapping or list that is, so "missing" errors point at the parent. `key`: point at the
   * mapping key itself (unknown keys).
   */
  position(path: ConfigPath, key = false): Position {
    const found = this.walk(path);
    const complete = found.length === path.length + 1;
    for (let i = found.length - 1; i >= 0; i--) {
      const f = found[i];
      const last = complete && i === found.length - 1;
      const p = (last && key ? this.at(this.offset(f.key)) : undefined) ?? this.at(this.offset(f.node));
      if (p) return p;
      // A key with no value ("name:") has an empty null node; fall back to its key.
      const k = this.at(this.offset(f.key));
      if (k) return k;
    }
    return { line: 1, column: 1 };
  }

  /** Is `path` written in the document (rather than a default)? */
  has(path: ConfigPath): boolean {
    return this.walk(path).length === path.length + 1;
  }
}
