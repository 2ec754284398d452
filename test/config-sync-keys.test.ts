import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigValidationError, parseAge, validateConfig } from '../src/config/validate.js';

const base = (folder: Record<string, unknown>) => ({ version: 1, folders: [{ id: 'photos', path: '/data/photos', role: 'backup', ...folder }] });

test('folders take sync and versions settings', () => {
  const config = validateConfig(base({ sync: true, versions: { maxAge: '90d', keep: 5 } }), 'host');
  assert.equal(config.folders[0]!.sync, true);
  assert.deepEqual(config.folders[0]!.versions, { maxAge: '90d', keep: 5 });
  assert.equal(validateConfig(base({}), 'host').folders[0]!.sync, undefined);
  assert.equal(parseAge('36h'), 36 * 3_600_000);
  assert.equal(parseAge('2w'), 14 * 86_400_000);
  assert.equal(parseAge('soon'), undefined);
});

test('bad sync and versions settings are refused, naming the key', () => {
  for (const [folder, key] of [
    [{ sync: 'yes' }, 'sync'],
    [{ versions: { maxAge: 'forever' } }, 'maxAge'],
    [{ versions: { keep: 0 } }, 'keep'],
    [{ versions: { kept: 3 } }, 'kept'],
    [{ versions: 5 }, 'versions'],
  ] as const) {
    assert.throws(
      () => validateConfig(base(folder), 'host'),
      (err: unknown) => err instanceof ConfigValidationError && err.issues.some((i) => i.path.includes(key)),
      JSON.stringify(folder),
    );
  }
});
