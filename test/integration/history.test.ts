/**
 * The records behind the status page, end to end: a real check by hand (the
 * CLI alone, and the agent doing it for the CLI, which records it once), a real sync by hand, a
 * scheduled check (the real child process) and a check that could not reach
 * the source each add a record to the folder's history and replace its last
 * report; a feed started on the backup's data directory hears each one,
 * those written by other processes too. Two processes appending at once lose
 * nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../src/config/config-file.js';
import type { CheckReport } from '../../src/report/model.js';
import { startBackupSchedule } from '../../src/schedule/backup-schedule.js';
import { HistoryFeed, type CheckEnded } from '../../src/schedule/history-feed.js';
import { historyFile, readHistory } from '../../src/schedule/history.js';
import { parseHistoryText } from '../../src/schedule/history-record.js';
import { readLastReport } from '../../src/schedule/last-report.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { waitForLine } from '../harness/child-script.js';
import { ManualClock } from '../harness/clock.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = { 'a.txt': 'alpha', 'b.txt': 'bravo', 'docs/readme.md': '# readme' };

/** Resolves with the next event of the feed. */
function nextEvent(feed: HistoryFeed): Promise<CheckEnded> {
  return new Promise((resolve) => {
    const stop = feed.subscribe((e) => {
      stop();
      resolve(e);
    });
  });
}

test('every check and sync, by hand or scheduled, failed too, adds a record and replaces the last report; the feed hears each', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, FILES);
  const dataDir = path.join(backupEnv.SYNKER_HOME!, 'data');
  const source = await startCliAgent(t, sourceEnv);
  await rm(path.join(backupRoot, 'b.txt'));
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const feed = await HistoryFeed.start(dataDir, { pollMs: 60_000 });
  t.after(() => feed.close());
  const history = async () => (await readHistory(dataDir, 'photos')).checks;

  // 1. The CLI checks by itself.
  let heard = nextEvent(feed);
  const here = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(here.code, 1, here.stderr);
  const hereReport = JSON.parse(here.stdout) as CheckReport;
  assert.deepEqual(await heard, { folder: 'photos', at: hereReport.finishedAt, status: 'differences', record: (await history())[0] });
  const first = (await history())[0]!;
  assert.deepEqual(
    { ...first, durationMs: typeof first.durationMs },
    {
      at: hereReport.finishedAt,
      status: 'differences',
      differences: 1,
      bytesMissing: 5,
      by: 'manual-check',
      durationMs: 'number',
    },
  );
  let last = (await readLastReport(dataDir, 'photos'))!;
  assert.deepEqual(
    { at: last.at, status: last.status, by: last.by, summary: last.summary, peer: last.peer },
    { at: hereReport.finishedAt, status: 'differences', by: 'manual-check', summary: '1 file missing (5 B)', peer: 'laptop' },
  );
  assert.deepEqual(last.categories, [
    {
      category: 'missing',
      words: 'Missing on backup',
      label: 'missing on backup',
      failing: true,
      count: 1,
      bytes: 5,
      items: [{ path: 'b.txt', kind: 'file', size: 5, detail: '5 B' }],
      more: 0,
    },
  ]);

  // 2. The agent checks for the CLI and records it (the CLI does not, or there would be two records); the feed
  // hears it through the file system.
  const agent = await startCliAgent(t, backupEnv);
  heard = nextEvent(feed);
  const byAgent = await runSynker(['--debug', 'check', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.match(byAgent.stderr, /the agent ran the check/);
  const agentReport = JSON.parse(byAgent.stdout) as CheckReport;
  assert.equal((await heard).at, agentReport.finishedAt);
  assert.equal((await history()).length, 2);
  assert.equal((await readLastReport(dataDir, 'photos'))!.at, agentReport.finishedAt);
  // Told not to record (as the schedule's own child is), the agent records nothing either.
  const unrecorded = await runSynker(['--debug', 'check', 'photos', ...peer, '--no-record'], { env: backupEnv });
  assert.match(unrecorded.stderr, /the agent ran the check/);
  assert.equal((await history()).length, 2);
  agent.process.kill('SIGTERM');
  await once(agent.process, 'exit');

  // 3. A sync by hand: recorded as a sync, with what it fixed; its last report is what the sync left (nothing).
  heard = nextEvent(feed);
  const sync = await runSynker(['sync', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(sync.code, 0, sync.stderr);
  const synced = (JSON.parse(sync.stdout) as { check: CheckReport }).check;
  assert.equal((await heard).status, 'complete');
  const afterSync = (await history()).at(-1)!;
  assert.deepEqual(
    {
      at: afterSync.at,
      status: afterSync.status,
      differences: afterSync.differences,
      bytesMissing: afterSync.bytesMissing,
      fixed: afterSync.fixed,
      by: afterSync.by,
    },
    { at: synced.finishedAt, status: 'complete', differences: 0, bytesMissing: 0, fixed: 1, by: 'manual-sync' },
  );
  last = (await readLastReport(dataDir, 'photos'))!;
  assert.deepEqual(
    { status: last.status, after: last.after, by: last.by, fixed: last.fixed, categories: last.categories },
    { status: 'complete', after: 'sync', by: 'manual-sync', fixed: 1, categories: [] },
  );

  // 4. A scheduled check: the real child process, the schedule on an injected clock.
  const { config } = await loadConfigFile(path.join(backupEnv.SYNKER_HOME!, 'config', 'config.json'));
  const clock = new ManualClock(Date.now());
  const schedule = startBackupSchedule({
    config: () => ({ ...config, schedule: { check: '* * * * *', timezone: 'UTC', email: 'never' } }),
    dataDir,
    clock,
    tickMs: 3_600_000,
    checkArgs: peer,
    env: { ...backupEnv, SYNKER_LOG: 'warn' },
  });
  t.after(() => schedule.stop());
  heard = nextEvent(feed);
  // Past the catch-up delay after the schedule's start: the check is due.
  clock.advance(180_000);
  await schedule.scheduler.tick();
  const scheduled = (await history()).at(-1)!;
  assert.equal((await heard).at, scheduled.at);
  assert.deepEqual(
    { status: scheduled.status, by: scheduled.by, differences: scheduled.differences },
    { status: 'complete', by: 'scheduled-check', differences: 0 },
  );
  last = (await readLastReport(dataDir, 'photos'))!;
  assert.deepEqual({ at: last.at, by: last.by, status: last.status }, { at: scheduled.at, by: 'scheduled-check', status: 'complete' });
  await schedule.stop();

  // 5. The source is gone: a check that could not be done is in the history too, with no counts.
  source.process.kill('SIGTERM');
  await once(source.process, 'exit');
  heard = nextEvent(feed);
  const failed = await runSynker(['check', 'photos', ...peer, '--timeout', '1s'], { env: backupEnv });
  assert.equal(failed.code, 2, failed.stderr);
  assert.equal((await heard).status, 'error');
  const error = (await history()).at(-1)!;
  assert.deepEqual(
    { status: error.status, differences: error.differences, bytesMissing: error.bytesMissing, by: error.by, code: typeof error.error },
    { status: 'error', differences: null, bytesMissing: null, by: 'manual-check', code: 'string' },
  );
  last = (await readLastReport(dataDir, 'photos'))!;
  assert.equal(last.status, 'error');
  assert.equal(last.error?.code, error.error);
  // The same through the backup's agent: a check that never reached its source is recorded before the agent answers.
  const agentAgain = await startCliAgent(t, backupEnv);
  const failedByAgent = await runSynker(['--debug', 'check', 'photos', ...peer, '--timeout', '1s', '--json'], { env: backupEnv });
  assert.match(failedByAgent.stderr, /the agent ran the check/);
  assert.equal(failedByAgent.code, 2, failedByAgent.stderr);
  const agentError = (await history()).at(-1)!;
  assert.deepEqual(
    [agentError.at, agentError.status, agentError.by],
    [(JSON.parse(failedByAgent.stdout) as CheckReport).finishedAt, 'error', 'manual-check'],
  );
  assert.equal((await readLastReport(dataDir, 'photos'))!.at, agentError.at);
  agentAgain.process.kill('SIGTERM');
  await once(agentAgain.process, 'exit');
  assert.deepEqual(
    (await history()).map((r) => r.by),
    ['manual-check', 'manual-check', 'manual-sync', 'scheduled-check', 'manual-check', 'manual-check'],
  );
});

test('two processes appending to one history at once, pruning it as they go, lose nothing and tear nothing', async (t) => {
  const dataDir = await tempDir(t);
  const script = fileURLToPath(new URL('../programs/append-history.js', import.meta.url));
  const PER = 150;
  const children = (['manual-check', 'scheduled-sync'] as const).map((tag) =>
    spawn(process.execPath, [script, dataDir, 'photos', tag, String(PER)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  await Promise.all(children.map((c) => waitForLine(c, /^ready$/)));
  for (const c of children) c.stdin!.end('go\n');
  await Promise.all(children.map((c) => once(c, 'exit')));
  for (const c of children) assert.equal(c.exitCode, 0);
  const text = await readFile(historyFile(dataDir, 'photos'), 'utf8');
  const { records, skipped } = parseHistoryText(text);
  assert.equal(skipped, 0, 'no torn or merged line');
  // Each process's records end on day PER - 1; prunes (by either clock) only ever take the oldest: no gap.
  for (const tag of ['manual-check', 'scheduled-sync']) {
    const days = records.filter((r) => r.by === tag).map((r) => r.durationMs!);
    const from = PER - days.length;
    assert.ok(days.length >= 91, `${tag}: ${days.length} records`);
    assert.deepEqual(
      [...days].sort((a, b) => a - b),
      Array.from({ length: days.length }, (_, i) => from + i),
      `every record of ${tag} the prunes had no reason to drop`,
    );
  }
});
