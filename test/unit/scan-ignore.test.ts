import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { readIgnoreRules } from '../../src/scan/index.js';
import { collect } from '../harness/scan.js';
import { tempDir } from '../harness/tmp.js';

async function junkTree(root: string): Promise<void> {
  for (const dir of ['$RECYCLE.BIN', 'System Volume Information', 'build', 'sub/build', '.synker/versions']) {
    await mkdir(path.join(root, dir), { recursive: true });
  }
  for (const file of [
    '.DS_Store',
    'Thumbs.db',
    'desktop.ini',
    '._photo.jpg',
    '$RECYCLE.BIN/deleted',
    'System Volume Information/x',
    'photo.jpg',
    'notes.tmp',
    'build/out',
    'sub/build/out',
    'sub/keep',
    '.synker/folder.json',
    '.synker/versions/old',
  ]) {
    await writeFile(path.join(root, file), file);
  }
}

test('default OS junk and .synker/ are left out; .synkerignore rules apply and can re-include a default', async (t) => {
  const root = await tempDir(t);
  await junkTree(root);
  const withoutRules = await collect(root, { cache: false });
  assert.deepEqual(
    withoutRules.entries.map((e) => e.path),
    ['build', 'build/out', 'notes.tmp', 'photo.jpg', 'sub', 'sub/build', 'sub/build/out', 'sub/keep'],
  );

  await writeFile(path.join(root, '.synkerignore'), '*.tmp\nbuild/\n!Thumbs.db\n!.synker\n');
  const { entries, stats } = await collect(root, { cache: false });
  assert.deepEqual(
    entries.map((e) => e.path),
    ['.synkerignore', 'Thumbs.db', 'photo.jpg', 'sub', 'sub/keep'],
  );
  assert.equal(stats.ignored, 8);
});

test("the source side's rules can govern the scan instead of, or on top of, the folder's own", async (t) => {
  const root = await tempDir(t);
  await junkTree(root);
  await writeFile(path.join(root, '.synkerignore'), '*.tmp\n');
  const extra = await collect(root, { cache: false, extraIgnore: 'sub/\n' });
  assert.deepEqual(
    extra.entries.map((e) => e.path),
    ['.synkerignore', 'build', 'build/out', 'photo.jpg'],
  );
  const sourceOnly = await collect(root, { cache: false, useIgnoreFile: false, extraIgnore: 'build/\n' });
  assert.deepEqual(
    sourceOnly.entries.map((e) => e.path),
    ['.synkerignore', 'notes.tmp', 'photo.jpg', 'sub', 'sub/keep'],
  );
});

test('readIgnoreRules returns the .synkerignore text, or nothing', async (t) => {
  const root = await tempDir(t);
  assert.equal(await readIgnoreRules(root), '');
  await writeFile(path.join(root, '.synkerignore'), '# comment\n*.iso\n');
  assert.equal(await readIgnoreRules(root), '# comment\n*.iso\n');
});
