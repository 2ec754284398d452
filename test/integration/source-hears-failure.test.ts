/**
 * The source learns of a backup's check that failed before reaching it
 * (issue 22, QA finding f10): the backup folder is gone (an unmounted disk,
 * a missing marker), the check fails on the backup's side, and the backup
 * still tells the source in a session opened only for that, so the laptop
 * shows that backup `failed` at once instead of its last good verdict until
 * it turns stale. Real agents on loopback, no discovery; the CLI as a person
 * runs it, through the backup's agent, and as the schedule's child process.
 */
import assert from 'node:assert/strict';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { MARKER_FILE } from '../../src/manifest/layout.js';
import type { CheckReport } from '../../src/report/model.js';
import { runCheckProcess } from '../../src/schedule/check-process.js';
import { readHistory } from '../../src/schedule/history.js';
import type { BackupStatus, StatusReport } from '../../src/schedule/status.js';
import { AgentState } from '../../src/state/agent-state.js';
import { writeTree } from '../harness/check-pair.js';
import { configureCliPair, startCliAgent, type CliAgent } from '../harness/cli-pair.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = { 'a.txt': 'alpha', 'b.txt': 'bravo' };

async function stop(agent: CliAgent): Promise<void> {
  if (agent.process.exitCode !== null || agent.process.signalCode !== null) return;
  const exited = new Promise((resolve) => agent.process.once('exit', resolve));
  agent.process.kill('SIGTERM');
  await exited;
}

/** What the source's `synker status` says of its one backup (nas) of photos: JSON, words and exit code. */
async function sourceStatus(sourceEnv: NodeJS.ProcessEnv): Promise<{ code: number | null; nas: BackupStatus | undefined; text: string }> {
  const json = await runSynker(['status', '--json'], { env: sourceEnv });
  const text = await runSynker(['status'], { env: sourceEnv });
  assert.equal(json.code, text.code, `the same exit code with and without --json\n${text.stdout}${text.stderr}`);
  const photos = (JSON.parse(json.stdout) as StatusReport).folders.find((f) => f.id === 'photos')!;
  return { code: json.code, nas: photos.backups.find((b) => b.device.name === 'nas'), text: text.stdout };
}

test('a check that fails on the backup folder before reaching the source (folder gone, marker gone; by hand, through the agent, by the schedule, in a sync) is told to the source at once; a later good check makes it complete again', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, sourceEnv, [], ['--no-discovery', '--web-port', '0']);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const check = async (args: string[] = []): Promise<{ code: number | null; report: CheckReport; stderr: string }> => {
    const r = await runSynker(['check', 'photos', ...peer, '--json', ...args], { env: backupEnv });
    return { code: r.code, report: JSON.parse(r.stdout) as CheckReport, stderr: r.stderr };
  };

  const good = await check(['--no-agent']);
  assert.equal(good.code, 0, good.stderr);
  assert.equal((await sourceStatus(sourceEnv)).nas?.verdict, 'complete');

  // The backup folder is gone (its disk unmounted): the check fails on the backup, and the source hears of it.
  await rename(backupRoot, `${backupRoot}-unmounted`);
  const absent = await check(['--no-agent']);
  assert.equal(absent.code, 2, absent.stderr);
  assert.equal(absent.report.error?.code, 'E_FOLDER_ABSENT');
  assert.match(absent.stderr, /error: folder "photos" is absent: .* does not exist \(an unmounted disk\?\)/);
  const afterAbsent = await sourceStatus(sourceEnv);
  assert.equal(afterAbsent.nas?.verdict, 'failed', afterAbsent.text);
  assert.deepEqual(
    [afterAbsent.nas?.lastAttempt?.status, afterAbsent.nas?.lastAttempt?.at, afterAbsent.nas?.lastAttempt?.by],
    ['error', absent.report.finishedAt, 'manual-check'],
  );
  assert.equal(afterAbsent.nas?.lastAttempt?.error?.code, 'E_FOLDER_ABSENT');
  assert.equal(afterAbsent.nas?.lastVerified?.at, good.report.finishedAt, 'what the backup last verified stays known');
  assert.equal(afterAbsent.code, 1, 'a backup whose last check failed needs attention');
  assert.match(
    afterAbsent.text,
    /photos: failed\n {2}nas: failed: folder "photos" is absent: \S+ does not exist \(an unmounted disk\?\) \(\d+ seconds? ago\); last complete, verified \d+ seconds? ago/,
  );
  assert.match(source.log(), /"photos": nas says: folder "photos" is absent/);
  // The page's API says the same, from the same one rule.
  const web = JSON.parse(await readFile(path.join(sourceEnv.SYNKER_HOME!, 'data', 'web.json'), 'utf8')) as { url: string };
  const token = (await readFile(path.join(sourceEnv.SYNKER_HOME!, 'data', 'web-token'), 'utf8')).trim();
  const api = (await (await fetch(`${web.url}api/v1/status`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
    folders: Array<{ id: string; verdict: string; backups: BackupStatus[] }>;
  };
  const apiPhotos = api.folders.find((f) => f.id === 'photos')!;
  assert.deepEqual(
    [apiPhotos.verdict, apiPhotos.backups[0]?.verdict, apiPhotos.backups[0]?.lastAttempt?.error?.code],
    ['failed', 'failed', 'E_FOLDER_ABSENT'],
  );

  // The disk is back: a good check makes it complete again.
  await rename(`${backupRoot}-unmounted`, backupRoot);
  const back = await check(['--no-agent']);
  assert.equal(back.code, 0, back.stderr);
  const afterBack = await sourceStatus(sourceEnv);
  assert.equal(afterBack.nas?.verdict, 'complete', afterBack.text);
  assert.equal(afterBack.code, 0);

  // The folder is there but its marker is gone (another disk mounted there?): the check through the backup's agent.
  const nasAgent = await startCliAgent(t, backupEnv);
  const marker = await readFile(path.join(backupRoot, MARKER_FILE));
  await rm(path.join(backupRoot, MARKER_FILE));
  const noMarker = await runSynker(['--debug', 'check', 'photos', ...peer, '--json'], { env: backupEnv });
  await stop(nasAgent);
  assert.match(noMarker.stderr, /the agent ran the check/);
  assert.equal(noMarker.code, 2, noMarker.stderr);
  const noMarkerReport = JSON.parse(noMarker.stdout) as CheckReport;
  assert.equal(noMarkerReport.error?.code, 'E_FOLDER_ABSENT');
  const afterMarker = await sourceStatus(sourceEnv);
  assert.equal(afterMarker.nas?.verdict, 'failed', afterMarker.text);
  assert.deepEqual(
    [afterMarker.nas?.lastAttempt?.at, afterMarker.nas?.lastAttempt?.error?.code],
    [noMarkerReport.finishedAt, 'E_FOLDER_ABSENT'],
  );
  assert.match(
    afterMarker.text,
    /nas: failed: folder "photos" is absent: \S+ has no \.synker\/folder\.json marker \(an unmounted disk\?\)/,
  );

  // The schedule's child process (`check --no-record`) tells it as the schedule's, and a sync's check as well.
  const scheduled = await runCheckProcess('photos', { env: backupEnv, extraArgs: peer });
  assert.equal(scheduled.report?.error?.code, 'E_FOLDER_ABSENT');
  const afterScheduled = (await sourceStatus(sourceEnv)).nas;
  assert.deepEqual(
    [afterScheduled?.verdict, afterScheduled?.lastAttempt?.at, afterScheduled?.lastAttempt?.by],
    ['failed', scheduled.report!.finishedAt, 'scheduled-check'],
  );
  const sync = await runSynker(['sync', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(sync.code, 2, sync.stderr);
  const synced = (JSON.parse(sync.stdout) as { check: CheckReport }).check;
  const afterSync = (await sourceStatus(sourceEnv)).nas;
  assert.deepEqual([afterSync?.verdict, afterSync?.lastAttempt?.at], ['failed', synced.finishedAt]);

  // The marker is back (the right disk mounted again): complete again, and the source's history has each attempt.
  await writeFile(path.join(backupRoot, MARKER_FILE), marker);
  const again = await check(['--no-agent']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await sourceStatus(sourceEnv)).nas?.verdict, 'complete');
  const history = await readHistory(path.join(sourceEnv.SYNKER_HOME!, 'data'), 'photos');
  assert.deepEqual(
    history.checks.map((c) => [c.status, c.error ?? null, c.device?.name]),
    [
      ['complete', null, 'nas'],
      ['error', 'E_FOLDER_ABSENT', 'nas'],
      ['complete', null, 'nas'],
      ['error', 'E_FOLDER_ABSENT', 'nas'],
      ['error', 'E_FOLDER_ABSENT', 'nas'],
      ['error', 'E_FOLDER_ABSENT', 'nas'],
      ['complete', null, 'nas'],
    ],
  );
});

test("a check that cannot take the folder's lock (another check holds it) tells the source nothing: that is no verdict about the backup", async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv } = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const good = await runSynker(['check', 'photos', ...peer, '--no-agent'], { env: backupEnv });
  assert.equal(good.code, 0, good.stderr);
  const before = await sourceStatus(sourceEnv);
  assert.equal(before.nas?.verdict, 'complete');

  const state = await AgentState.open(path.join(backupEnv.SYNKER_HOME!, 'data'));
  t.after(() => state.close());
  const lock = await state.acquireFolderLock('photos', { purpose: 'check' });
  const busy = await runSynker(['check', 'photos', ...peer, '--no-agent', '--json'], { env: backupEnv });
  await lock.release();
  assert.equal(busy.code, 2, busy.stderr);
  assert.match(busy.stderr, /folder "photos" is busy: check by process \d+/);
  const after = await sourceStatus(sourceEnv);
  assert.deepEqual(after.nas, before.nas, 'the source still shows what the backup last told it');
  assert.equal(after.code, 0);
});

test('a backup folder gone while the source cannot be reached (agent stopped, or frozen): the check fails as before, with the folder error, and ends within its timeout', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, sourceEnv);
  const port = source.port;
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${port}`, '--timeout', '1s'];
  const good = await runSynker(['check', 'photos', ...peer, '--no-agent'], { env: backupEnv });
  assert.equal(good.code, 0, good.stderr);
  const before = await sourceStatus(sourceEnv);
  await rm(backupRoot, { recursive: true });

  // Frozen: its port takes connections (the kernel's queue) and nothing answers them.
  source.process.kill('SIGSTOP');
  t.after(() => source.process.kill('SIGCONT'));
  const frozen = await runSynker(['--debug', 'check', 'photos', ...peer, '--no-agent', '--json'], { env: backupEnv });
  source.process.kill('SIGCONT');
  assert.equal(frozen.code, 2, frozen.stderr);
  assert.equal((JSON.parse(frozen.stdout) as CheckReport).error?.code, 'E_FOLDER_ABSENT');
  assert.match(frozen.stderr, /error: folder "photos" is absent/);
  assert.match(frozen.stderr, /the source was not told that the check failed: /);
  assert.deepEqual((await sourceStatus(sourceEnv)).nas, before.nas, 'the source heard nothing');

  // Stopped: nothing listens on its port.
  await stop(source);
  const stopped = await runSynker(['--debug', 'check', 'photos', ...peer, '--no-agent', '--json'], { env: backupEnv });
  assert.equal(stopped.code, 2, stopped.stderr);
  const report = JSON.parse(stopped.stdout) as CheckReport;
  assert.equal(report.error?.code, 'E_FOLDER_ABSENT');
  assert.match(report.error?.message ?? '', /folder "photos" is absent: \S+ does not exist/);
  assert.match(stopped.stderr, /the source was not told that the check failed: E_SOURCE_UNREACHABLE /);
  // The failure is this machine's to say, as before: no warning about the source beside it.
  assert.doesNotMatch(stopped.stderr, /^\S+ warn /m);
  assert.deepEqual((await sourceStatus(sourceEnv)).nas, before.nas);
});

test('a folder shared with another backup too: the device that refuses the verdict as a backup is passed over, and the source is told', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, FILES);
  // office holds photos as a backup as well, and shares it with nas.
  const officeEnv = isolatedEnv(path.join(dir, 'office'));
  const officeRoot = path.join(dir, 'office-copy');
  await writeTree(officeRoot, FILES);
  const idOf = async (env: NodeJS.ProcessEnv): Promise<string> =>
    /([A-Z2-7]{7}(?:-[A-Z2-7]{7}){7})/.exec((await runSynker(['id'], { env })).stdout)![1]!;
  const nasId = await idOf(backupEnv);
  const officeId = await idOf(officeEnv);
  for (const [env, args] of [
    [officeEnv, ['trust', nasId, '--name', 'nas']],
    [officeEnv, ['folder', 'add', 'photos', officeRoot, '--role', 'backup', '--share', 'nas']],
    [backupEnv, ['trust', officeId, '--name', 'office']],
    [backupEnv, ['folder', 'share', 'photos', 'office']],
  ] as const) {
    const r = await runSynker([...args], { env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const source = await startCliAgent(t, sourceEnv);
  const office = await startCliAgent(t, officeEnv);
  // nas tries office first (the first device the folder is shared with), at the addresses in its config.
  const configFile = path.join(backupEnv.SYNKER_HOME!, 'config', 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as {
    folders: Array<{ id: string; shareWith: string[] }>;
    peers: string[];
  };
  const photos = config.folders.find((f) => f.id === 'photos')!;
  photos.shareWith.reverse();
  assert.equal(photos.shareWith.length, 2);
  config.peers = [`127.0.0.1:${office.port}`, `127.0.0.1:${source.port}`];
  await writeFile(configFile, JSON.stringify(config, null, 2));

  await rm(backupRoot, { recursive: true });
  const absent = await runSynker(['--debug', 'check', 'photos', '--no-discovery', '--no-agent', '--json'], { env: backupEnv });
  assert.equal(absent.code, 2, absent.stderr);
  assert.equal((JSON.parse(absent.stdout) as CheckReport).error?.code, 'E_FOLDER_ABSENT');
  assert.match(absent.stderr, /office \(\S+\) holds "photos" as a backup, not as the source/);
  assert.match(absent.stderr, /"photos": told laptop \(\S+\) that the check failed before reaching it \(E_FOLDER_ABSENT\)/);
  assert.match(office.log(), /refused the verdict of nas \(\S+\) on folder "photos": folder "photos" is a backup here, not the source/);
  const after = await sourceStatus(sourceEnv);
  assert.deepEqual([after.nas?.verdict, after.nas?.lastAttempt?.error?.code], ['failed', 'E_FOLDER_ABSENT']);
  const officeStatus = JSON.parse((await runSynker(['status', '--json'], { env: officeEnv })).stdout) as StatusReport;
  assert.deepEqual(officeStatus.folders.find((f) => f.id === 'photos')?.backups, [], 'office, a backup, kept nothing');
});
