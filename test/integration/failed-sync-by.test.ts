/**
 * A sync is a sync whether it got to syncing or not: one that failed before
 * it started (the backup folder is absent, so its report has no `sync`
 * section) is recorded in the backup's history, its last run and its last
 * report, and told to the source, as `manual-sync` (by hand) or
 * `scheduled-sync` (the schedule's child), never as a check. A dry run
 * changes nothing: a check. Real agents on loopback, the real CLI.
 */
import assert from 'node:assert/strict';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { CheckReport } from '../../src/report/model.js';
import { runCheckProcess } from '../../src/schedule/check-process.js';
import { readHistory } from '../../src/schedule/history.js';
import type { StatusReport } from '../../src/schedule/status.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

test('a sync that failed before it started (folder absent) is a sync in the history, status and what the source is told; a dry run is a check', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, { 'a.txt': 'alpha' });
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const backupData = path.join(backupEnv.SYNKER_HOME!, 'data');
  await rename(backupRoot, `${backupRoot}-unmounted`);

  /** Who ran what, as each place keeps it: the backup's status (lastRun), history and last report, and the source's status. */
  const byEverywhere = async (): Promise<string[]> => {
    const backup = JSON.parse((await runSynker(['status', '--json'], { env: backupEnv })).stdout) as StatusReport;
    const history = await readHistory(backupData, 'photos');
    const last = JSON.parse(await readFile(path.join(backupData, 'history', '_photos.last-report.json'), 'utf8')) as { by: string };
    const told = JSON.parse((await runSynker(['status', '--json'], { env: sourceEnv })).stdout) as StatusReport;
    return [
      backup.folders[0]!.lastRun!.by!,
      history.checks.at(-1)!.by!,
      last.by,
      told.folders[0]!.backups.find((b) => b.device.name === 'nas')!.lastAttempt!.by!,
    ];
  };

  const sync = await runSynker(['sync', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(sync.code, 2, sync.stderr);
  const report = (JSON.parse(sync.stdout) as { check: CheckReport }).check;
  assert.equal(report.error?.code, 'E_FOLDER_ABSENT');
  assert.equal(report.sync, null, 'no sync section: the sync never started');
  assert.deepEqual(await byEverywhere(), ['manual-sync', 'manual-sync', 'manual-sync', 'manual-sync']);

  const dry = await runSynker(['sync', 'photos', ...peer, '--dry-run', '--json'], { env: backupEnv });
  assert.equal(dry.code, 2, dry.stderr);
  assert.deepEqual(await byEverywhere(), ['manual-check', 'manual-check', 'manual-check', 'manual-check']);

  // The schedule's child (`sync --no-record`): the schedule records it itself, from this summary; the source hears it as the schedule's.
  const scheduled = await runCheckProcess('photos', { command: 'sync', env: backupEnv, extraArgs: peer });
  assert.equal(scheduled.report?.error?.code, 'E_FOLDER_ABSENT');
  assert.equal(scheduled.summary.by, 'scheduled-sync');
  const told = JSON.parse((await runSynker(['status', '--json'], { env: sourceEnv })).stdout) as StatusReport;
  assert.equal(told.folders[0]!.backups[0]!.lastAttempt!.by, 'scheduled-sync');
});
