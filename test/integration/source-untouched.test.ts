/**
 * "synker never writes to the source", end to end through the CLI: a real source agent on
 * loopback serves its folder while the backup machine checks and syncs from it, and then a
 * restore on the source that is refused (an edited file, named, without --force; and a dry run)
 * leaves the source as it was. Every entry of the source tree is compared before and after:
 * the set of entries, each one's type, bytes (SHA-256), mode, size, mtime and ctime in
 * nanoseconds, inode and link target (snapshot.ts). ctime moves on any write, chmod, utimes or
 * rename, so even a write of the same bytes and times would show.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { FIXED_MTIME_S } from '../harness/check-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { snapshotChanges, snapshotTree } from '../harness/snapshot.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = {
  'a.txt': 'alpha',
  'edited.txt': 'the version the backup has',
  'docs/notes.txt': 'notes',
  'docs/deep/er/file.md': 'deep',
  'run.sh': '#!/bin/sh\necho hi\n',
  'secret.txt': 'only the owner reads this',
};

test('synker never writes to the source: sync, check and a refused restore leave every entry, byte, mode and time as it was', async (t) => {
  const dir = await tempDir(t);
  const pair = await configureCliPair(dir, FILES);
  const s = (p: string) => path.join(pair.sourceRoot, p);
  const b = (p: string) => path.join(pair.backupRoot, p);
  // A source with more than plain files: modes, a symlink, an empty folder, a file the backup lacks.
  chmodSync(s('run.sh'), 0o755);
  chmodSync(s('secret.txt'), 0o600);
  symlinkSync('a.txt', s('link-to-a'));
  mkdirSync(s('empty'));
  writeFileSync(s('only-on-source.txt'), 'new here');
  utimesSync(s('only-on-source.txt'), FIXED_MTIME_S, FIXED_MTIME_S);
  // The source's edit, newer than the backup's copy: restore must refuse to overwrite it.
  writeFileSync(s('edited.txt'), 'the source edited this afterwards');
  utimesSync(s('edited.txt'), FIXED_MTIME_S + 3600, FIXED_MTIME_S + 3600);
  // The backup differs in every way a sync repairs.
  rmSync(b('a.txt'));
  writeFileSync(b('docs/notes.txt'), 'damaged on the backup');
  writeFileSync(b('extra.txt'), 'only on the backup');

  const source = await startCliAgent(t, pair.sourceEnv);
  const backup = await startCliAgent(t, pair.backupEnv);
  const toSource = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const toBackup = ['--no-discovery', '--peer', `127.0.0.1:${backup.port}`];

  // Nothing is left out of the comparison: the source agent keeps its hash cache and state in its own
  // SYNKER_HOME (outside the folder), so the folder's .synker/ (the marker) is compared like the rest.
  const before = snapshotTree(pair.sourceRoot);
  assert.ok(Object.keys(before).includes('.synker/folder.json'), 'the marker is part of what is compared');

  const check = await runSynker(['check', 'photos', ...toSource, '--json'], { env: pair.backupEnv });
  assert.equal(check.code, 1, check.stderr);
  const sync = await runSynker(['sync', 'photos', ...toSource, '--delete', '--json'], { env: pair.backupEnv });
  assert.equal(sync.code, 0, `${sync.stdout}\n${sync.stderr}`);
  const verified = await runSynker(['check', 'photos', ...toSource, '--verify', '--json'], { env: pair.backupEnv });
  // Only the source's own edit differs now (the backup took it): complete.
  assert.equal(verified.code, 0, `${verified.stdout}\n${verified.stderr}`);
  assert.deepEqual(snapshotChanges(before, snapshotTree(pair.sourceRoot)), [], 'check and sync wrote nothing to the source');

  // Sync took the edit; put the backup's old copy back (older mtime) so a restore has something to refuse.
  writeFileSync(b('edited.txt'), FILES['edited.txt']!);
  utimesSync(b('edited.txt'), FIXED_MTIME_S, FIXED_MTIME_S);
  const refused = await runSynker(['restore', 'photos', 'edited.txt', ...toBackup, '--json'], { env: pair.sourceEnv });
  assert.notEqual(refused.code, 0, `the restore of a newer source file without --force is refused: ${refused.stdout}`);
  const skipped = (JSON.parse(refused.stdout) as { plan: { skipped: Array<{ path: string; reason: string }> } }).plan.skipped;
  assert.deepEqual(
    skipped.map((x) => [x.reason, x.path]),
    [['newer-on-source', 'edited.txt']],
  );
  const dry = await runSynker(['restore', 'photos', ...toBackup, '--dry-run', '--force'], { env: pair.sourceEnv });
  assert.ok(dry.code === 0 || dry.code === 1, dry.stderr);
  const wholeRefused = await runSynker(['restore', 'photos', ...toBackup, '--force', '--json'], { env: pair.sourceEnv });
  assert.ok(wholeRefused.code === 0 || wholeRefused.code === 1, wholeRefused.stderr);

  assert.deepEqual(snapshotChanges(before, snapshotTree(pair.sourceRoot)), [], 'the refused restores and the dry run wrote nothing');
});
