/**
 * The source learns what its backups verified (issue 22): after each check
 * or sync, the backup tells the source's agent the verdict over the pinned
 * session it ran in, and `synker status` on the source shows it per backup
 * machine. Real agents on loopback, no discovery; the CLI as a person runs
 * it, the schedule's child processes as the agent runs them.
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { createIdentity, loadOrCreateIdentity } from '../../src/identity/identity.js';
import { connectToPeer, PeerError, type BackupVerdict } from '../../src/peer/index.js';
import type { CheckReport } from '../../src/report/model.js';
import { runCheckProcess } from '../../src/schedule/check-process.js';
import { readHistory } from '../../src/schedule/history.js';
import { readLastReport } from '../../src/schedule/last-report.js';
import type { FolderStatus, StatusReport } from '../../src/schedule/status.js';
import { startCheckPair } from '../harness/check-pair.js';
import { configureCliPair, startCliAgent, type CliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = { 'a.txt': 'alpha', 'b.txt': 'bravo', 'docs/readme.md': '# readme' };

async function stop(agent: CliAgent): Promise<void> {
  if (agent.process.exitCode !== null || agent.process.signalCode !== null) return;
  const exited = new Promise((resolve) => agent.process.once('exit', resolve));
  agent.process.kill('SIGTERM');
  await exited;
}

async function deviceIdOf(env: NodeJS.ProcessEnv): Promise<string> {
  const id = await runSynker(['id'], { env });
  assert.equal(id.code, 0, id.stderr);
  return /([A-Z2-7]{7}(?:-[A-Z2-7]{7}){7})/.exec(id.stdout)![1]!;
}

test("a backup's checks and syncs, by hand, through its agent and by its schedule, reach the source's synker status per backup machine, and survive the source agent's restart", async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, FILES);
  let source = await startCliAgent(t, sourceEnv);
  await rm(path.join(backupRoot, 'b.txt'));
  const peer = () => ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const nasId = await deviceIdOf(backupEnv);
  const status = async (): Promise<{ code: number | null; folder: FolderStatus; text: string }> => {
    const json = await runSynker(['status', '--json'], { env: sourceEnv });
    const text = await runSynker(['status'], { env: sourceEnv });
    assert.equal(json.code, text.code, `the same exit code with and without --json\n${text.stdout}${text.stderr}`);
    const report = JSON.parse(json.stdout) as StatusReport;
    return { code: json.code, folder: report.folders.find((f) => f.id === 'photos')!, text: text.stdout };
  };

  const before = await status();
  assert.deepEqual(before.folder.backups, [], 'no backup has said anything yet: nothing is invented');
  assert.match(before.text, /photos: no backup has reported a check to this machine yet/);
  assert.equal(before.code, 0, 'a source no backup reported on yet is said plainly, not counted as a failure');

  // A check by hand, in the CLI alone: the backup lacks b.txt.
  const check = await runSynker(['check', 'photos', ...peer(), '--no-agent', '--json'], { env: backupEnv });
  assert.equal(check.code, 1, check.stderr);
  const checked = JSON.parse(check.stdout) as CheckReport;
  const afterCheck = await status();
  assert.equal(afterCheck.code, 1, `an incomplete backup of a source folder needs attention\n${afterCheck.text}`);
  assert.equal(afterCheck.folder.backups.length, 1);
  const told = afterCheck.folder.backups[0]!;
  assert.deepEqual(told.device, { id: nasId, name: 'nas' }, 'the backup is the session’s pinned device, named as the source trusts it');
  assert.equal(told.verdict, 'incomplete');
  assert.equal(told.stale, false);
  assert.deepEqual(
    { ...told.lastVerified, summary: undefined },
    { status: 'differences', at: checked.finishedAt, differences: 1, bytesMissing: 5, by: 'manual-check', summary: undefined },
  );
  assert.match(told.lastVerified!.summary, /1 file missing/);
  // One line per backup machine, with since when, and where its list of files is.
  assert.match(
    afterCheck.text,
    /photos: incomplete\n {2}nas: 1 file missing \(5 B\), verified \d+ seconds? ago; not verified complete since [^\n]+, never complete\n {2}the list of files is kept on the backup: run synker check photos on nas/,
  );
  assert.match(
    afterCheck.text,
    /photos\s+source\s+nas\s+\(checked by the backup\)\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC: 1 file missing \(5 B\) \(nas\)/,
  );
  assert.match(source.log(), /"photos": nas says: 1 file missing \(5 B\) \(manual check\)/);

  // A sync by hand: the source hears how the sync left the backup.
  const sync = await runSynker(['sync', 'photos', ...peer(), '--json'], { env: backupEnv });
  assert.equal(sync.code, 0, sync.stderr);
  const synced = (JSON.parse(sync.stdout) as { check: CheckReport }).check;
  const afterSync = await status();
  assert.equal(afterSync.code, 0, `verified complete: nothing needs attention\n${afterSync.text}`);
  assert.equal(afterSync.folder.backups[0]!.verdict, 'complete');
  assert.equal(afterSync.folder.backups[0]!.lastVerified!.by, 'manual-sync');
  assert.equal(afterSync.folder.backups[0]!.lastVerified!.at, synced.finishedAt);
  assert.equal(afterSync.folder.backups[0]!.lastVerified!.differences, 0);
  assert.match(afterSync.text, /photos: complete\n {2}nas: complete, verified \d+ seconds? ago\n/);

  // The schedule's child processes (`check --no-record`, `sync --no-record`) tell it as the schedule's.
  const scheduled = await runCheckProcess('photos', { env: backupEnv, extraArgs: peer() });
  assert.equal(scheduled.report?.exitCode, 0);
  const afterScheduled = (await status()).folder.backups[0]!.lastVerified!;
  assert.deepEqual([afterScheduled.by, afterScheduled.at], ['scheduled-check', scheduled.report!.finishedAt]);
  const scheduledSync = await runCheckProcess('photos', { command: 'sync', env: backupEnv, extraArgs: peer() });
  assert.equal((await status()).folder.backups[0]!.lastVerified!.by, 'scheduled-sync');
  assert.equal((await status()).folder.backups[0]!.lastVerified!.at, scheduledSync.report!.finishedAt);

  // The source agent restarts: what it was told is still there, and it goes on learning.
  await stop(source);
  const whileStopped = await status();
  assert.equal(whileStopped.folder.backups[0]!.lastVerified!.at, scheduledSync.report!.finishedAt);
  source = await startCliAgent(t, sourceEnv);
  assert.equal((await status()).folder.backups[0]!.lastVerified!.at, scheduledSync.report!.finishedAt, 'a restart keeps it');

  // The backup's agent checks for its CLI: told as a check by hand.
  const nasAgent = await startCliAgent(t, backupEnv);
  await rm(path.join(backupRoot, 'a.txt'));
  const byAgent = await runSynker(['--debug', 'check', 'photos', ...peer(), '--json'], { env: backupEnv });
  assert.match(byAgent.stderr, /the agent ran the check/);
  const agentReport = JSON.parse(byAgent.stdout) as CheckReport;
  await stop(nasAgent);
  const afterAgent = await status();
  assert.equal(afterAgent.folder.backups[0]!.lastVerified!.at, agentReport.finishedAt);
  assert.equal(afterAgent.folder.backups[0]!.lastVerified!.by, 'manual-check');
  assert.equal(afterAgent.folder.backups[0]!.verdict, 'incomplete');
  assert.equal(afterAgent.code, 1);

  // Each told verdict is in the source's check history too, with the backup machine that told it.
  const history = await readHistory(path.join(sourceEnv.SYNKER_HOME!, 'data'), 'photos');
  assert.deepEqual(
    history.checks.map((c) => [c.at, c.status, c.by, c.device?.name, c.device?.id]),
    [
      [checked.finishedAt, 'differences', 'manual-check', 'nas', nasId],
      [synced.finishedAt, 'complete', 'manual-sync', 'nas', nasId],
      [scheduled.report!.finishedAt, 'complete', 'scheduled-check', 'nas', nasId],
      [scheduledSync.report!.finishedAt, 'complete', 'scheduled-sync', 'nas', nasId],
      [agentReport.finishedAt, 'differences', 'manual-check', 'nas', nasId],
    ],
  );
  assert.deepEqual([history.checks[0]!.differences, history.checks[0]!.bytesMissing], [1, 5]);
  // And the last thing a backup told is the folder's last report on the source (its counts; the list stays on the backup).
  const last = await readLastReport(path.join(sourceEnv.SYNKER_HOME!, 'data'), 'photos');
  assert.deepEqual(
    [last?.at, last?.status, last?.by, last?.differences, last?.categories.length],
    [agentReport.finishedAt, 'differences', 'manual-check', 1, 0],
  );

  // A check that finished while the source agent was unreachable has nothing to tell: the last word stands.
  await stop(source);
  const unreachable = await runSynker(['check', 'photos', ...peer(), '--no-agent', '--timeout', '1s'], { env: backupEnv });
  assert.equal(unreachable.code, 2);
  assert.equal((await status()).folder.backups[0]!.lastVerified!.at, agentReport.finishedAt);
});

test('a verdict from a device the source does not trust, does not share the folder with, or for a folder the source holds as a backup is refused, logged escaped, and never kept', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv } = await configureCliPair(dir, FILES);
  // A folder the laptop holds as a backup of the nas: a verdict about it from the nas is no backup's verdict.
  const inbox = path.join(dir, 'inbox');
  await mkdir(inbox);
  const added = await runSynker(['folder', 'add', 'inbox', inbox, '--role', 'backup', '--share', 'nas'], { env: sourceEnv });
  assert.equal(added.code, 0, added.stderr);
  // A device the laptop trusts, with which it shares nothing.
  const other = await createIdentity('office-pc');
  const trusted = await runSynker(['trust', other.deviceId, '--name', 'office-pc'], { env: sourceEnv });
  assert.equal(trusted.code, 0, trusted.stderr);
  const source = await startCliAgent(t, sourceEnv);
  const laptopId = (await deviceIdOf(sourceEnv)).replaceAll('-', '');
  const nas = (await loadOrCreateIdentity(path.join(backupEnv.SYNKER_HOME!, 'config'))).identity;
  const verdict = (folder: string): BackupVerdict => ({
    folder,
    at: Date.now(),
    status: 'complete',
    summary: 'complete',
    differences: 0,
    by: 'manual-check',
  });
  const connect = (identity: typeof nas) =>
    connectToPeer({ host: '127.0.0.1', port: source.port, identity, expectDeviceId: laptopId, name: identity === nas ? 'nas' : 'x' });
  const refusal = async (identity: typeof nas, folder: string): Promise<PeerError> => {
    const session = await connect(identity);
    try {
      await session.tellVerdict(verdict(folder));
    } catch (err) {
      assert.ok(err instanceof PeerError, String(err));
      return err;
    } finally {
      await session.close();
    }
    assert.fail(`the verdict on ${folder} was kept`);
  };

  const notShared = await refusal(other, 'photos');
  assert.equal(notShared.code, 'E_FOLDER_NOT_FOUND', notShared.message);
  assert.equal(notShared.remote, true);
  const notSource = await refusal(nas, 'inbox');
  assert.equal(notSource.code, 'E_VERDICT_NOT_SOURCE', notSource.message);
  // A hostile folder ID (right-to-left override, a line of its own) reaches the log escaped.
  const hostile = await refusal(nas, 'photos\u202e\u2028error: forged');
  assert.equal(hostile.code, 'E_FOLDER_NOT_FOUND');
  const stranger = await createIdentity('stranger');
  await assert.rejects(connect(stranger), (err: PeerError) => err.code === 'E_UNTRUSTED' || /does not trust/.test(err.message));

  const json = await runSynker(['status', '--json'], { env: sourceEnv });
  const folders = (JSON.parse(json.stdout) as StatusReport).folders;
  for (const f of folders) assert.deepEqual(f.backups, [], `nothing kept for ${f.id}`);
  const log = source.log();
  assert.match(log, /refused the verdict of office-pc \(\S*127\.0\.0\.1\) on folder "photos": no such folder is shared with it/);
  assert.match(log, /refused the verdict of nas \(\S*127\.0\.0\.1\) on folder "inbox": folder "inbox" is a backup here, not the source/);
  assert.doesNotMatch(log, /[\u202e\u2028]/, 'no raw control of the terminal in the log');
  assert.match(log, /refused the verdict of nas \(\S+\) on folder "photos.+error: forged": no such folder is shared with it\n/);

  // The nas's own verdict on the folder it backs up is kept, after all that: one of 9 days ago is stale (staleAfter
  // is 3 days by default), and `synker status` says so and exits 1; a fresh one makes it complete, exit 0.
  const tellNas = async (at: number): Promise<void> => {
    const session = await connect(nas);
    try {
      assert.equal(await session.tellVerdict({ ...verdict('photos'), at }), true);
    } finally {
      await session.close();
    }
  };
  const sourceStatus = async () => {
    const json = await runSynker(['status', '--json'], { env: sourceEnv });
    const text = await runSynker(['status'], { env: sourceEnv });
    assert.equal(json.code, text.code);
    const photos = (JSON.parse(json.stdout) as StatusReport).folders.find((f) => f.id === 'photos')!;
    return { code: json.code, backups: photos.backups.map((b) => [b.device.name, b.verdict, b.stale]), text: text.stdout };
  };
  // Without the never-verified backup folder "inbox", which would need attention by itself.
  const removed = await runSynker(['folder', 'remove', 'inbox'], { env: sourceEnv });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((await sourceStatus()).code, 0, 'nothing needs attention before');
  await tellNas(Date.now() - 9 * 86_400_000);
  const stale = await sourceStatus();
  assert.deepEqual(stale.backups, [['nas', 'stale', true]]);
  assert.match(stale.text, /\n {2}nas: stale: not verified for 9 days \(complete, verified 9 days ago\)\n/);
  assert.equal(stale.code, 1, 'a stale backup of a source folder needs attention');
  await tellNas(Date.now());
  const fresh = await sourceStatus();
  assert.deepEqual(fresh.backups, [['nas', 'complete', false]]);
  assert.equal(fresh.code, 0, fresh.text);
});

test('a source that does not announce backup-verdict (an older synker) is sent nothing, and checks go on as before', async (t) => {
  // The in-process source keeps no verdicts: its hello does not announce the feature, as an older synker's would not.
  const pair = await startCheckPair(t, FILES);
  const session = await connectToPeer({
    host: '127.0.0.1',
    port: pair.server.port,
    identity: pair.backupIdentity,
    expectDeviceId: pair.sourceIdentity.deviceId,
  });
  assert.equal(session.remote.features.includes('backup-verdict'), false);
  assert.equal(
    await session.tellVerdict({ folder: 'photos', at: Date.now(), status: 'complete', summary: 'complete', by: 'manual-check' }),
    false,
  );
  await session.close();
  let asked = 0;
  const report = await pair.check({
    verdictFor: (r) => {
      asked++;
      return { folder: r.folderId, at: Date.now(), status: 'complete', summary: 'complete', by: 'manual-check' };
    },
  });
  assert.equal(report.exitCode, 0, JSON.stringify(report.error));
  assert.equal(report.complete, true);
  assert.equal(asked, 1, 'the check offered its verdict; the session sent nothing to a source without the feature');
});
