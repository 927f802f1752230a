import { mkdirSync, writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/config/json-schema.js';

/**
 * Writes schema/svr-config.schema.json, the JSON Schema editors validate configuration files
 * with (examples/*.yaml point at it). A test regenerates it and compares, so the file never
 * drifts from src/config/schema.ts.
 *   node dist/scripts/make-config-schema.js
 */
export function configSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = new URL('../../schema/svr-config.schema.json', import.meta.url);
  mkdirSync(new URL('.', out), { recursive: true });
  writeFileSync(out, configSchemaText());
  process.stdout.write(`wrote ${out.pathname}\n`);
}
