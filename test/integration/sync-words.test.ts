/**
 * A dry run and the sync itself count the same thing the same way: renames,
 * one per renamed file or folder (as the check counts its moved/renamed
 * differences), with the files they carry.
 */
import assert from 'node:assert/strict';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
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
