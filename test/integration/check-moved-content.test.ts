/**
 * Content that moved is no damage. Files of one size and one mtime (unpacked
 * from one archive, copied with `cp -p`) whose names are swapped, or renamed
 * in a chain, change content at a path while size and mtime stay as
 * verified: the pattern of bit rot. But each new content is exactly what was
 * verified at another path, so the check says "changed on source" and names
 * that path, and one sync makes the backup complete. A file rewritten to
 * content found nowhere else, or copied from a file that still holds it, is
 * still suspicious (src/diff/verdict.ts).
 * A real source agent over loopback, real folders, the backup's own store.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { syncFolder, type SyncFolderOptions } from '../../src/sync/sync-folder.js';
import { CHECK_EXIT } from '../../src/report/model.js';
import { corruptKeepingSizeAndMtime, startCheckPair, writeTree, type CheckPair } from '../harness/check-pair.js';
import { staticLocator } from '../harness/peer-address.js';

/** Every file has the same size and (writeTree) the same mtime. */
const FILES: Record<string, string> = {
  'a.txt': 'aaa-content',
  'b.txt': 'bbb-content',
  'chain/n1.txt': 'one-content',
  'chain/n2.txt': 'two-content',
  'chain/n3.txt': 'thr-content',
  'real.txt': 'rea-content',
  'kept.txt': 'kpt-content',
  'over.txt': 'ovr-content',
};

/** A sync on the backup sharing the check's store (its verified hashes). */
function syncer(pair: CheckPair) {
  const env = {
    config: pair.backupConfig,
    identity: pair.backupIdentity,
    state: pair.state,
    locator: staticLocator(pair.backupConfig.peers),
  };
  return (options: SyncFolderOptions = {}) =>
    syncFolder(env, pair.backupConfig.folders[0]!, { cacheDir: pair.backupCacheDir, jobs: 2, ...options });
}

async function verifiedPair(t: TestContext): Promise<CheckPair> {
  const pair = await startCheckPair(t, FILES);
  const first = await pair.check();
  assert.equal(first.exitCode, CHECK_EXIT.complete, 'the first check verifies every file');
  return pair;
}

/** a.txt and b.txt swapped; n3 -> n4, n2 -> n3, n1 -> n2 (the order a person would do it in). */
function swapAndChain(pair: CheckPair): void {
  const s = (p: string) => path.join(pair.sourceRoot, p);
  renameSync(s('a.txt'), s('tmp'));
  renameSync(s('b.txt'), s('a.txt'));
  renameSync(s('tmp'), s('b.txt'));
  renameSync(s('chain/n3.txt'), s('chain/n4.txt'));
  renameSync(s('chain/n2.txt'), s('chain/n3.txt'));
  renameSync(s('chain/n1.txt'), s('chain/n2.txt'));
}

test('names swapped or renamed in a chain keep size and mtime, yet are not suspicious; one sync makes the backup complete', async (t) => {
  const pair = await verifiedPair(t);
  swapAndChain(pair);
  const report = await pair.check();
  assert.equal(report.exitCode, CHECK_EXIT.differences);
  assert.deepEqual(Object.fromEntries(report.differences.map((d) => [d.path, [d.category, d.changedOn, d.contentOf]])), {
    'a.txt': ['content', 'source', 'b.txt'],
    'b.txt': ['content', 'source', 'a.txt'],
    'chain/n1.txt': ['extra', 'source', undefined],
    'chain/n2.txt': ['content', 'source', 'chain/n1.txt'],
    'chain/n3.txt': ['content', 'source', 'chain/n2.txt'],
    'chain/n4.txt': ['missing', 'unknown', undefined],
  });
  const sync = syncer(pair);
  const result = await sync();
  assert.equal(result.exitCode, 0, JSON.stringify(result.outcome?.plan.skipped));
  // Nothing refused: only n1's old copy, which the source no longer has, is kept (no --delete).
  assert.deepEqual(
    result.outcome?.plan.skipped.map((x) => [x.reason, x.path]),
    [['extra-kept', 'chain/n1.txt']],
  );
  assert.equal(readFileSync(path.join(pair.backupRoot, 'a.txt'), 'utf8'), 'bbb-content');
  assert.equal(readFileSync(path.join(pair.backupRoot, 'chain/n4.txt'), 'utf8'), 'thr-content');
  const after = await pair.check();
  assert.equal(after.exitCode, CHECK_EXIT.complete, JSON.stringify(after.differences));
});

test('beside a swap, a file rewritten keeping size and mtime is still suspicious: new content found nowhere, or copied from a file that still holds it', async (t) => {
  const pair = await verifiedPair(t);
  swapAndChain(pair);
  await corruptKeepingSizeAndMtime(path.join(pair.sourceRoot, 'real.txt'));
  // A copy, not a move: kept.txt still holds this content (as another file of zeros would, beside one a crash zeroed).
  await writeTree(pair.sourceRoot, { 'over.txt': FILES['kept.txt']! });
  const report = await pair.check();
  const suspicious = report.differences.filter((d) => d.changedOn === 'source-suspicious').map((d) => [d.path, d.contentOf]);
  assert.deepEqual(suspicious, [
    ['over.txt', undefined],
    ['real.txt', undefined],
  ]);
  const result = await syncer(pair)();
  assert.equal(result.exitCode, 1);
  assert.deepEqual(
    result.outcome?.plan.skipped.map((x) => [x.reason, x.path]),
    [
      ['extra-kept', 'chain/n1.txt'],
      ['suspicious', 'over.txt'],
      ['suspicious', 'real.txt'],
    ],
  );
  assert.equal(readFileSync(path.join(pair.backupRoot, 'real.txt'), 'utf8'), 'rea-content', 'the good copy stays');
  assert.equal(readFileSync(path.join(pair.backupRoot, 'b.txt'), 'utf8'), 'aaa-content', 'the swap is synced');
});
