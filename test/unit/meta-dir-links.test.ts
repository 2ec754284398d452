/**
 * synker's own folder inside a folder root (.synker, .synker/versions,
 * .synker/partial) is never used through a symlink: versions and partial
 * files are never written, nor pruned, outside the folder (QA: all three were).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { checkFolderRoot } from '../../src/config/folder-marker.js';
import { makePartialDir, partialPathFor } from '../../src/sync/partial-files.js';
import { listVersions, VersionKeeper } from '../../src/sync/versions.js';
import { tempDir } from '../harness/tmp.js';

test('a symlinked .synker, .synker/versions or .synker/partial is refused, and nothing lands where it points', async (t) => {
  const outside = await tempDir(t);
  for (const linked of ['.synker', '.synker/versions', '.synker/partial']) {
    const root = await tempDir(t);
    writeFileSync(path.join(root, 'a.txt'), 'mine');
    if (linked !== '.synker') mkdirSync(path.join(root, '.synker'));
    symlinkSync(outside, path.join(root, ...linked.split('/')));
    if (linked === '.synker') {
      await assert.rejects(checkFolderRoot(root, 'photos'), { code: 'E_META_LINK' }, 'a link is no folder marker');
    }
    if (linked !== '.synker/partial') {
      await assert.rejects(new VersionKeeper(root).keepBeforeReplace('a.txt'), { code: 'E_META_LINK' }, `${linked}: versions`);
      await assert.rejects(listVersions(root), { code: 'E_META_LINK' }, `${linked}: a listing (and so a prune)`);
    }
    if (linked !== '.synker/versions') {
      assert.throws(
        () => makePartialDir(path.dirname(partialPathFor(root, 'a'.repeat(64)))),
        { code: 'E_META_LINK' },
        `${linked}: partials`,
      );
    }
  }
  assert.deepEqual(readdirSync(outside), [], 'nothing was written outside');
});

test('a FIFO planted as the folder marker is refused at once, never read (a plain read waits for a writer for ever)', {
  timeout: 30_000,
}, async (t) => {
  if (process.platform === 'win32') return t.skip('FIFOs are POSIX (Linux only)');
  const { execFileSync } = await import('node:child_process');
  const { readFolderMarker } = await import('../../src/config/folder-marker.js');
  const root = await tempDir(t);
  mkdirSync(path.join(root, '.synker'));
  execFileSync('mkfifo', [path.join(root, '.synker', 'folder.json')]);
  await assert.rejects(readFolderMarker(root), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'E_MARKER_UNREADABLE');
    assert.match(err.message, /is not a file/);
    return true;
  });
});
