import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DROP_REASONS, DropReason } from '../../src/base/drop-reason.js';

test('every drop reason has its own entry, in enum order: the code is the name in kebab-case', () => {
  const names = Object.keys(DropReason).filter((k) => Number.isNaN(Number(k)));
  assert.equal(DROP_REASONS.length, names.length);
  for (const name of names) {
    const code = name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
    const i = DropReason[name as keyof typeof DropReason];
    assert.ok(
      DROP_REASONS[i].code === code ||
        (name === 'SessionExists' && DROP_REASONS[i].code === 'session-key-in-use'),
      `${i} ${name}: ${DROP_REASONS[i].code}`,
    );
  }
});
