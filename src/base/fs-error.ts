/** Words for why a file could not be read, for one-line messages to people. */
export function fsErrorText(err: unknown): string {
  const code = err instanceof Error && 'code' in err ? String(err.code) : '';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return code || (err instanceof Error ? err.message : String(err));
}
