import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigStore } from '../../src/config/config-store.js';
import { ConfigValidationError, FOLDER_KEYS, parseAge, validateConfig } from '../../src/config/validate.js';
import { tempDir } from '../harness/tmp.js';

const base = (folder: Record<string, unknown>) => ({
  version: 1,
  folders: [{ id: 'photos', path: '/data/photos', role: 'backup', ...folder }],
});

test('folders take sync, mirror and versions settings', () => {
  const config = validateConfig(base({ sync: true, mirror: true, versions: { maxAge: '90d', keep: 5 } }), 'host');
  assert.equal(config.folders[0]!.sync, true);
  assert.equal(config.folders[0]!.mirror, true);
  assert.equal(validateConfig(base({ mirror: false }), 'host').folders[0]!.mirror, undefined);
  assert.deepEqual(config.folders[0]!.versions, { maxAge: '90d', keep: 5 });
  assert.equal(validateConfig(base({}), 'host').folders[0]!.sync, undefined);
  assert.equal(parseAge('36h'), 36 * 3_600_000);
  assert.equal(parseAge('2w'), 14 * 86_400_000);
  assert.equal(parseAge('soon'), undefined);
});

test('bad sync and versions settings are refused, naming the key', () => {
  for (const [folder, key] of [
    [{ sync: 'yes' }, 'sync'],
    [{ mirror: 'exact' }, 'mirror'],
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

test('sync and versions survive every edit of the config (they were dropped when the file was written back)', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  const folder = {
    id: 'photos',
    path: '/data/photos',
    role: 'backup',
    shareWith: [],
    sync: true,
    mirror: true,
    versions: { maxAge: '90d', keep: 5 },
  };
  assert.deepEqual(Object.keys(folder).sort(), [...FOLDER_KEYS].sort(), 'this test sets every folder key the config takes');
  await writeFile(file, JSON.stringify({ version: 1, name: 'nas', folders: [folder] }));
  const store = await ConfigStore.open(file);
  try {
    await store.update((draft) => {
      draft.name = 'nas2';
    });
  } finally {
    await store.close();
  }
  const written = JSON.parse(await readFile(file, 'utf8')) as { name: string; folders: unknown[] };
  assert.equal(written.name, 'nas2');
  assert.deepEqual(written.folders, [folder]);
});
