/**
 * Every check that compares the backup with its source is a verification:
 * `synker check` done by the CLI itself or by the running agent, and `synker
 * sync` (also `--dry-run`), record "last verified" where the schedule does,
 * and `synker status` shows who verified and when. A scheduled run's child
 * process does not record itself as run by hand; a check that could not
 * reach the source is no verification (the last one stands), and makes the
 * verdict `failed` until a run verifies the backup again.
 */
import assert from 'node:assert/strict';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { CheckReport } from '../../src/report/model.js';
import { runCheckProcess } from '../../src/schedule/check-process.js';
import type { StatusReport } from '../../src/schedule/status.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = { 'a.txt': 'alpha', 'b.txt': 'bravo', 'docs/readme.md': '# readme' };

test('a check or sync run by hand is the last verification in synker status, with who ran it; a scheduled child and a failed check are not (the failed one says failed)', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, sourceEnv);
  await rm(path.join(backupRoot, 'b.txt'));
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const status = async (): Promise<{ code: number | null; json: StatusReport; text: string }> => {
    const json = await runSynker(['status', '--json'], { env: backupEnv });
    const text = await runSynker(['status'], { env: backupEnv });
    assert.equal(json.code, text.code, 'the same exit code with and without --json');
    return { code: json.code, json: JSON.parse(json.stdout) as StatusReport, text: text.stdout };
  };
  const photos = (s: StatusReport) => s.folders.find((f) => f.id === 'photos')!;

  const before = await status();
  assert.equal(photos(before.json).lastVerified, null);
  assert.match(before.text, /photos\s+backup\s+laptop\s+never\s+never\s/);

  // The CLI checks by itself (no agent runs on the backup).
  const here = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(here.code, 1, here.stderr);
  const hereReport = JSON.parse(here.stdout) as CheckReport;
  const afterCheck = await status();
  assert.equal(afterCheck.code, 1, 'a difference still needs attention');
  const verified = photos(afterCheck.json).lastVerified!;
  assert.equal(verified.by, 'manual-check');
  assert.equal(verified.status, 'differences');
  assert.equal(verified.at, hereReport.finishedAt);
  assert.equal(verified.differences, 1);
  assert.equal(photos(afterCheck.json).lastCheck, null, 'the schedule has not run: its column stays as it was');
  assert.match(afterCheck.text, /photos\s+backup\s+laptop\s+never\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC: 1 file missing .*\(manual check\)/);

  // The agent checks for the CLI: recorded the same way.
  const agent = await startCliAgent(t, backupEnv);
  const byAgent = await runSynker(['--debug', 'check', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.match(byAgent.stderr, /the agent ran the check/);
  const agentReport = JSON.parse(byAgent.stdout) as CheckReport;
  assert.equal(photos((await status()).json).lastVerified!.at, agentReport.finishedAt);
  agent.process.kill('SIGTERM');
  await new Promise((resolve) => agent.process.once('exit', resolve));

  // A dry run compared the backup too.
  const dry = await runSynker(['sync', 'photos', ...peer, '--dry-run', '--json'], { env: backupEnv });
  assert.equal(dry.code, 0, dry.stderr);
  const dryVerified = photos((await status()).json).lastVerified!;
  assert.equal(dryVerified.by, 'manual-check', 'a dry run changed nothing: it is the check it ran, not a sync');
  assert.equal(dryVerified.status, 'differences', 'a dry run changes nothing: the backup still lacks b.txt');

  const sync = await runSynker(['sync', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(sync.code, 0, sync.stderr);
  const synced = (JSON.parse(sync.stdout) as { check: CheckReport }).check;
  const afterSync = await status();
  assert.equal(afterSync.code, 0, `verified complete by the sync: nothing needs attention\n${afterSync.text}`);
  assert.deepEqual(
    {
      by: photos(afterSync.json).lastVerified!.by,
      status: photos(afterSync.json).lastVerified!.status,
      at: photos(afterSync.json).lastVerified!.at,
    },
    { by: 'manual-sync', status: 'complete', at: synced.finishedAt },
  );
  assert.match(afterSync.text, /UTC: complete \(manual sync\)/);

  // The schedule's child process (`synker check --no-record`) leaves the recording to the schedule.
  const scheduled = await runCheckProcess('photos', { env: backupEnv, extraArgs: peer });
  assert.equal(scheduled.report?.exitCode, 0);
  assert.equal(scheduled.summary.by, 'scheduled-check');
  assert.equal(photos((await status()).json).lastVerified!.at, synced.finishedAt, 'not recorded by the child');

  // A check that cannot reach the source verified nothing: the last verification stands, and the verdict
  // says the run failed (#22: a failed run by hand after the last verification is `failed`, as a scheduled one).
  source.process.kill('SIGTERM');
  await new Promise((resolve) => source.process.once('exit', resolve));
  const failed = await runSynker(['check', 'photos', ...peer, '--timeout', '1s'], { env: backupEnv });
  assert.equal(failed.code, 2, failed.stderr);
  const afterFailure = await status();
  assert.equal(photos(afterFailure.json).lastVerified!.at, synced.finishedAt);
  assert.equal(photos(afterFailure.json).verdict, 'failed');
  assert.equal(photos(afterFailure.json).lastRun?.by, 'manual-check');
  assert.match(afterFailure.text, /^photos: the last manual check failed at /m);
  assert.equal(afterFailure.code, 1, 'a failed run needs attention');

  // The backup's disk unmounted: check and sync say the folder is absent, and so does status, however well
  // it was verified before.
  await rename(backupRoot, `${backupRoot}.away`);
  const absent = await status();
  assert.equal(absent.code, 1, absent.text);
  assert.equal(photos(absent.json).problem?.code, 'E_FOLDER_ABSENT');
  assert.match(absent.text, /photos: folder "photos" is absent: .* does not exist \(an unmounted disk\?\)\n {2}hint: Mount the disk/);
});
