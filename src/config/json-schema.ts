import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * The configuration file's JSON Schema, for editors (yaml-language-server and the like): what
 * each key means, its default, and the loose shape of each string form. It describes the input,
 * so keys with defaults are optional. Draft-07, which every YAML/JSON editor understands.
 * Cross-references (a tenant named elsewhere, ...) are beyond JSON Schema: `svr config check`.
 */
export function configJsonSchema(): object {
  return z.toJSONSchema(configSchema, { target: 'draft-07', io: 'input' });
}
