import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configSchemaText } from '../../scripts/make-config-schema.js';
import { ROOT } from '../../testlib/cli.js';

const FILE = `${ROOT}schema/svr-config.schema.json`;

test('schema/svr-config.schema.json is up to date with src/config/schema.ts', () => {
  assert.equal(
    readFileSync(FILE, 'utf8'),
    configSchemaText(),
    'regenerate with: node dist/scripts/make-config-schema.js',
  );
});

interface JsonSchemaNode {
  description?: string;
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  additionalProperties?: JsonSchemaNode | boolean;
  anyOf?: JsonSchemaNode[];
}

test('every key of the JSON Schema has a description for editors, and unknown keys are refused', () => {
  const missing: string[] = [];
  let objects = 0;
  const walk = (n: JsonSchemaNode, path: string): void => {
    if (n.properties) {
      objects++;
      // Strict mappings: a typo is an error in the editor too.
      assert.equal(n.additionalProperties, false, `${path || 'root'} refuses unknown keys`);
      for (const [k, v] of Object.entries(n.properties)) {
        if (!v.description) missing.push(`${path}.${k}`);
        walk(v, `${path}.${k}`);
      }
    }
    if (n.items) walk(n.items, `${path}[]`);
    if (typeof n.additionalProperties === 'object') walk(n.additionalProperties, `${path}.*`);
    for (const a of n.anyOf ?? []) walk(a, path);
  };
  const schema = JSON.parse(readFileSync(FILE, 'utf8')) as JsonSchemaNode & { $schema?: string };
  assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  walk(schema, '');
  assert.deepEqual(missing, []);
  assert.ok(objects > 15);
});

test('the examples point editors at the schema', () => {
  for (const f of ['figure2.yaml', 'chain3.yaml'])
    assert.match(
      readFileSync(`${ROOT}examples/${f}`, 'utf8'),
      /^# yaml-language-server: \$schema=\.\.\/schema\/svr-config\.schema\.json\n/,
    );
});
