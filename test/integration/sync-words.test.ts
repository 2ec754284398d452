/**
 * A dry run and the sync itself count the same thing the same way: renames,
 * one per renamed file or folder (as the check counts its moved/renamed
 * differences), with the files they carry. And after a sync, the backup's
 * counts are those after it.
 */
import assert from 'node:assert/strict';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sizesApart } from '../../src/base/units.js';
import type { CheckReport } from '../../src/report/model.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

test('the dry run and the sync say the same number of renames, in the same word, as the check', async (t) => {
  const files: Record<string, string> = { 'note.txt': 'a note of some length' };
  for (let i = 1; i <= 16; i++) files[`album/photo${i}.jpg`] = `photo number ${i}`;
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, files);
  // The backup has the folder and the file under older names: two renames, carrying 17 files.
  await rename(path.join(backupRoot, 'album'), path.join(backupRoot, 'album-old'));
  await rename(path.join(backupRoot, 'note.txt'), path.join(backupRoot, 'old-note.txt'));
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];

  const check = await runSynker(['check', 'photos', ...peer, '--json', '--no-record'], { env: backupEnv });
  const report = JSON.parse(check.stdout) as CheckReport;
  assert.equal(report.summary.byCategory.moved.count, 2, 'the check: 2 moved/renamed');

  const dry = await runSynker(['sync', 'photos', ...peer, '--dry-run', '--no-record'], { env: backupEnv });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /dry run: .*\b2 to rename \(17 files\)/);

  const sync = await runSynker(['sync', 'photos', ...peer, '--no-record'], { env: backupEnv });
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stdout, /sync: 2 renamed \(17 files\)/);
  assert.doesNotMatch(sync.stdout, /17 renamed|16 renamed/);
});

test('after a sync the backup line counts what the backup holds after it: the next check counts the same', async (t) => {
  const files: Record<string, string> = { 'keep.txt': 'kept as it is', 'edited.txt': 'x'.repeat(2486), 'missing.bin': 'm'.repeat(5000) };
  for (let i = 1; i <= 5; i++) files[`album/photo${i}.jpg`] = `photo number ${i}`;
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, { ...files, 'was-a-folder': 'now a file' });
  await rm(path.join(backupRoot, 'missing.bin'));
  await writeFile(path.join(backupRoot, 'edited.txt'), 'y'.repeat(2472));
  await rename(path.join(backupRoot, 'album'), path.join(backupRoot, 'album-old'));
  await writeFile(path.join(backupRoot, 'extra.txt'), 'only here');
  // A folder on the backup (with two files) where the source has a file.
  await rm(path.join(backupRoot, 'was-a-folder'));
  await mkdir(path.join(backupRoot, 'was-a-folder'));
  await writeFile(path.join(backupRoot, 'was-a-folder', 'one'), '1');
  await writeFile(path.join(backupRoot, 'was-a-folder', 'two'), '22');
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`, '--no-record'];

  for (const extra of [[], ['--delete']]) {
    const sync = await runSynker(['sync', 'photos', ...peer, '--json', ...extra], { env: backupEnv });
    assert.ok(sync.code === 0 || sync.code === 1, sync.stderr);
    const synced = (JSON.parse(sync.stdout) as { check: CheckReport }).check;
    const check = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
    const after = JSON.parse(check.stdout) as CheckReport;
    assert.deepEqual(synced.sync!.backupTotals, after.backup.totals, `sync ${extra.join(' ')}: the counts after it are the next check's`);
  }
  // And on the terminal: the backup line after a sync is what the backup holds then.
  await writeFile(path.join(backupRoot, 'another-extra.txt'), 'only here too');
  await rm(path.join(backupRoot, 'keep.txt'));
  const sync = await runSynker(['sync', 'photos', ...peer], { env: backupEnv });
  const check = JSON.parse((await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv })).stdout) as CheckReport;
  const totals = check.backup.totals!;
  assert.match(
    sync.stdout,
    new RegExp(
      `\\n  backup  .*: ${totals.files} files, ${sizesApart(check.source.totals!.bytes, totals.bytes)[1].replace('.', '\\.')}, scanned`,
    ),
  );
});
