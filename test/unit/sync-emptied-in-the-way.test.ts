/**
 * A folder the sync's renames empty, where the source has a symlink or a
 * file, is removed by rmdir when the link or file takes its place
 * (plan-moves.ts emptiedInTheWay): something put in it after the check keeps
 * it, with what is in it, and the entry is not written (an item's failure).
 */
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, renameSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { applyPlan } from '../../src/sync/apply.js';
import { planSync } from '../../src/sync/plan.js';
import { LocalFolderSource } from '../harness/local-source.js';
import { diffTrees, listTree, writeTree } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';

function lookupOf(entries: ManifestEntry[]) {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return (p: string) => byPath.get(p);
}

const FILES = { 'A/a1': 'a1', 'M/m1': 'm1' };

async function planned(t: Parameters<typeof tempDir>[0]) {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, FILES);
  writeTree(dst, FILES);
  renameSync(path.join(src, 'A'), path.join(src, 'B'));
  symlinkSync('B', path.join(src, 'A'));
  renameSync(path.join(src, 'M/m1'), path.join(src, 'm1'));
  rmdirSync(path.join(src, 'M'));
  writeFileSync(path.join(src, 'M'), 'notadir');
  const s = listTree(src);
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: s.length, backupFiles: listTree(dst).length });
  return { src, dst, plan, source: new LocalFolderSource(src, lookupOf(s)) };
}

test('the renames empty A/ and M/: the link and the file take their places, nothing kept in versions', async (t) => {
  const { dst, plan, source } = await planned(t);
  assert.deepEqual(plan.skipped, []);
  const result = await applyPlan(plan, { root: dst, source });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(result.versions, []);
  assert.ok(lstatSync(path.join(dst, 'A')).isSymbolicLink());
  assert.equal(readFileSync(path.join(dst, 'M'), 'utf8'), 'notadir');
});

test('a file put in an emptied folder after the check keeps it: the link or file is not written there, and says why', async (t) => {
  const { dst, plan, source } = await planned(t);
  writeFileSync(path.join(dst, 'A/late.txt'), 'came after the check');
  writeFileSync(path.join(dst, 'M/late.txt'), 'came after the check too');
  const result = await applyPlan(plan, { root: dst, source });
  assert.deepEqual(result.failed.map((f) => [f.path, f.code]).sort(), [
    ['A', 'E_SYNC_FOLDER_IN_WAY'],
    ['M', 'E_SYNC_FOLDER_IN_WAY'],
  ]);
  assert.equal(readFileSync(path.join(dst, 'A/late.txt'), 'utf8'), 'came after the check');
  assert.equal(readFileSync(path.join(dst, 'M/late.txt'), 'utf8'), 'came after the check too');
  assert.equal(readFileSync(path.join(dst, 'B/a1'), 'utf8'), 'a1', 'the renames out of it are done');
  assert.deepEqual(result.versions, []);
});
