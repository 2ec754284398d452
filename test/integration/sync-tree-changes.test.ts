/**
 * The backup's tree changed under a running sync in ways only a real system
 * call makes (a FIFO, from mkfifo(1)): the sync must neither hang nor write
 * elsewhere. Folders and names swapped for symlinks: test/unit/sync-apply.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { applyPlan } from '../../src/sync/apply.js';
import { planSync } from '../../src/sync/plan.js';
import { LocalFolderSource } from '../harness/local-source.js';
import { diffTrees, listTree, writeTree } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';

const mkfifo = spawnSync('mkfifo', ['--version']).status === 0 ? undefined : 'needs mkfifo(1)';

test('a landed file replaced by a FIFO before its content is copied locally: no hang, the copy comes from the source', {
  skip: mkfifo,
  timeout: 30_000,
}, async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, { 'a.txt': 'the same content twice', 'b.txt': 'the same content twice' });
  writeTree(dst, {});
  const s = listTree(src);
  const byPath = new Map<string, ManifestEntry>(s.map((e) => [e.path, e]));
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: s.length, backupFiles: 0 });
  const source = new LocalFolderSource(src, (p) => byPath.get(p));
  const result = await applyPlan(plan, {
    root: dst,
    source,
    concurrency: 1,
    onActionDone: (a) => {
      if (a.op !== 'pull' || a.at.path !== 'a.txt') return;
      // b.txt would be copied from a.txt: a neighbour puts a FIFO there first (an open of it blocks until a writer comes).
      rmSync(path.join(dst, 'a.txt'));
      assert.equal(spawnSync('mkfifo', [path.join(dst, 'a.txt')]).status, 0);
    },
  });
  assert.deepEqual(result.failed, []);
  assert.equal(result.pulled, 2);
  assert.equal(readFileSync(path.join(dst, 'b.txt'), 'utf8'), 'the same content twice');
  assert.equal(source.bytesSent, 2 * 'the same content twice'.length, 'b.txt came from the source after the local copy was refused');
});
