/**
 * The agent's schedule for a folder whose config says `sync: true`, end to
 * end: a real source agent on loopback, the schedule triggered on an injected
 * clock, the real `synker sync FOLDER --json` child process, a real SMTP
 * server. The mail says what was fixed and what was refused; a check
 * afterwards finds the backup complete. Also: the sync section of the one
 * report model as the terminal, JSON and e-mail renderers show a guard stop.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { staticLocator } from '../harness/peer-address.js';
import { renderReportEmail } from '../../src/mail/report-email.js';
import { renderJson } from '../../src/report/json.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { startBackupSchedule } from '../../src/schedule/backup-schedule.js';
import { AgentState } from '../../src/state/agent-state.js';
import { syncFolder } from '../../src/sync/sync-folder.js';
import { FIXED_MTIME_S, startCheckPair } from '../harness/check-pair.js';
import { ManualClock } from '../harness/clock.js';
import { TestSmtpServer } from '../harness/smtp.js';
import { contentMap } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';

const files: Record<string, string> = {
  'same.txt': 'unchanged',
  'edit.txt': 'first version',
  'album/1.jpg': 'photo one',
  'album/2.jpg': 'photo two',
};

test('a scheduled sync fixes the backup, mails what it fixed and refused, and a check afterwards is complete', async (t) => {
  const pair = await startCheckPair(t, files);
  pair.backupConfig.folders[0]!.sync = true;
  await pair.writeBackupHome();
  const smtp = await new TestSmtpServer().start();
  t.after(() => smtp.stop());
  const dataDir = await tempDir(t);
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));
  const config = {
    name: 'nas',
    folders: pair.backupConfig.folders,
    smtp: {
      host: '127.0.0.1',
      port: smtp.port,
      starttls: 'never',
      from: 'nas@example.test',
      to: ['me@example.test'],
      clientName: 'nas.test',
      timeout: 5,
    },
    schedule: { check: '0 4 * * *', timezone: 'UTC', email: 'on-difference' },
  };
  const schedule = startBackupSchedule({
    config: () => config,
    dataDir,
    clock,
    tickMs: 10 * 60_000,
    // The real child process, told to stay off mDNS as the agent tells it when started with --no-discovery.
    checkArgs: ['--no-discovery'],
    env: { ...process.env, SYNKER_HOME: pair.backupHome, SYNKER_LOG: 'warn' },
  });
  t.after(() => schedule.stop());
  const tickUntil = async (iso: string): Promise<void> => {
    while (clock.now() + 10 * 60_000 <= Date.parse(iso)) {
      clock.advance(10 * 60_000);
      await schedule.scheduler.tick();
    }
  };

  // On the source: a new file, an edit, a folder renamed.
  const s = (p: string) => path.join(pair.sourceRoot, p);
  writeFileSync(s('new.txt'), 'brand new, twenty-nine bytes');
  writeFileSync(s('edit.txt'), 'second version');
  renameSync(s('album'), s('albums-2024'));

  await tickUntil('2026-11-25T04:30:00Z');
  assert.equal(smtp.received.length, 1, 'the sync that fixed something was mailed');
  const first = await smtp.parsed(0);
  assert.equal(first.subject, 'Backup of photos on nas synced: 2 files copied (42 B), 1 renamed (2 files); complete');
  const text = first.text ?? '';
  assert.match(
    text,
    /synker synced the backup of photos on nas from laptop: 2 files copied \(42 B\), 1 renamed \(2 files\)\. The backup now matches the source\./,
  );
  assert.match(
    text,
    /What the sync fixed\n +Copied from the source +2 +42 B\n +Renamed locally \(files and folders\) +1 +2 files\n +Old copies kept in \.synker\/versions\/ +1/,
  );
  assert.match(String(first.html), /What the sync fixed/);
  assert.doesNotMatch(text, /Not synced on purpose|Failed \(/);

  // A follow-up check: complete, and every byte the same.
  const after = await pair.check();
  assert.equal(after.exitCode, 0, JSON.stringify(after.differences));
  assert.deepEqual(contentMap(pair.backupRoot), contentMap(pair.sourceRoot));

  // Next: bytes change on the source with size and mtime kept. The sync refuses it, and the mail says why.
  writeFileSync(s('same.txt'), 'UNCHANGED');
  utimesSync(s('same.txt'), FIXED_MTIME_S, FIXED_MTIME_S);
  await tickUntil('2026-11-26T04:30:00Z');
  assert.equal(smtp.received.length, 2);
  const second = await smtp.parsed(1);
  assert.equal(second.subject, 'Backup of photos on nas synced: nothing was fixed; not fixed: 1 file differs (9 B)');
  const text2 = second.text ?? '';
  assert.match(text2, /WARNING: 1 file changed on the source while keeping size and modification time/);
  assert.match(text2, /Not synced on purpose \(1\)\n +same\.txt +\(suspicious change on the source, not copied: /);
  assert.match(text2, /Still differs after the sync\n +content differs +1 +9 B/);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'same.txt'), 'utf8'), 'unchanged', 'the good copy was kept');
  const status = JSON.parse(readFileSync(path.join(dataDir, 'schedule.json'), 'utf8')) as {
    folders: Record<string, { lastResult: { status: string; summary: string; differences: number } }>;
  };
  assert.deepEqual(status.folders.photos!.lastResult.status, 'differences');
  assert.equal(status.folders.photos!.lastResult.differences, 1);
});

test('the sync section: a mass change stops the sync, and the terminal, JSON and e-mail renderers say so', async (t) => {
  const many: Record<string, string> = {};
  for (let i = 0; i < 40; i++) many[`f${String(i).padStart(2, '0')}.txt`] = `file ${i}`;
  const pair = await startCheckPair(t, many);
  const state = await AgentState.open(path.join(pair.backupHome, 'sync-data'));
  t.after(() => state.close());
  const env = { config: pair.backupConfig, identity: pair.backupIdentity, state, locator: staticLocator(pair.backupConfig.peers) };
  const sync = () => syncFolder(env, pair.backupConfig.folders[0]!, { cacheDir: path.join(pair.backupHome, 'cache'), jobs: 2 });
  const first = await sync();
  assert.equal(first.exitCode, 0, 'a first run verifies every file');
  assert.equal(first.report.sync?.complete, true);
  assert.equal(first.report.sync?.fixed.pulledFiles, 0);
  for (let i = 0; i < 25; i++)
    writeFileSync(path.join(pair.sourceRoot, `f${String(i).padStart(2, '0')}.txt`), `encrypted ${i} by ransomware`);
  const result = await sync();
  assert.equal(result.exitCode, 2);
  assert.equal(result.error?.code, 'E_SYNC_GUARD_MASS_CHANGE');
  const report = result.report;
  const section = report.sync!;
  assert.deepEqual(
    section.stops.map((s) => s.guard),
    ['mass-change'],
  );
  assert.equal(section.fixed.pulledFiles, 0);
  assert.equal(section.remaining.failing, 25, 'everything the check found still differs');
  assert.equal(section.complete, false);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'f00.txt'), 'utf8'), 'file 0', 'nothing was changed');

  const json = JSON.parse(renderJson(report)) as { sync: { stops: Array<{ guard: string }>; remaining: { failing: number } } };
  assert.equal(json.sync.stops[0]!.guard, 'mass-change');
  assert.equal(json.sync.remaining.failing, 25);
  const terminal = renderTerminal(report, { color: false, all: false });
  assert.match(terminal, /folder "photos": sync STOPPED by a safety guard, nothing changed/);
  assert.match(terminal, /STOPPED \(mass change on the source\): 25 of 40 files changed or disappeared on the source/);
  assert.match(terminal, /after the sync: backup INCOMPLETE, 25 differences left/);
  const mail = renderReportEmail(report, { now: new Date(), agentName: 'nas', timeZone: 'UTC' });
  assert.equal(mail.subject, 'Backup of photos on nas: sync STOPPED (mass change on the source), nothing changed');
  assert.match(
    mail.text,
    /STOPPED \(mass change on the source\): 25 of 40 files changed[^\n]*\nWhat to do: inspect the source before anything else/,
  );
  assert.match(mail.html, /Sync STOPPED: nothing changed/);
});
