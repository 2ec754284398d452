/**
 * One story (issue #20): one scenario — a file missing on the backup, one
 * only on the backup, one edited on each side, a folder renamed on the
 * source — through every command a person uses, with a real source agent
 * over loopback, the real CLI and a real SMTP server. Each gives the same
 * verdict with the same numbers (report/model.ts verdictOf): before the
 * sync "incomplete, 4 differences" with the extra listed and not failing;
 * after it "complete" with the extra still listed.
 */
import assert from 'node:assert/strict';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { BackupVerdict, CheckReport } from '../../src/report/model.js';
import { formatBytes, formatCount } from '../../src/base/units.js';
import { startBackupSchedule } from '../../src/schedule/backup-schedule.js';
import { startCheckPair, writeTree } from '../harness/check-pair.js';
import { ManualClock } from '../harness/clock.js';
import { TestSmtpServer } from '../harness/smtp.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';

const PHOTO = (n: number) => `photo ${n} `.repeat(400);
const FILES: Record<string, string> = {
  'album/p1.jpg': PHOTO(1),
  'album/p2.jpg': PHOTO(2),
  'album/p3.jpg': PHOTO(3),
  'docs/a.txt': 'alpha',
  'docs/b.txt': 'bravo',
  'docs/c.txt': 'charlie',
  'docs/missing.txt': 'mike',
};
const ALBUM_BYTES = PHOTO(1).length + PHOTO(2).length + PHOTO(3).length;
const B_ON_SOURCE = 'bravo, edited on the laptop';
/** What fails before the sync, each once: the missing file, both edits (the source's sizes), the renamed folder. */
const FAILING_BYTES = 'mike'.length + B_ON_SOURCE.length + 'charlie'.length + ALBUM_BYTES;
const EXTRA = 'only on the nas';

const firstLine = (text: string) => text.split('\n')[0]!;
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('one scenario, one verdict: check, sync --dry-run, sync, check again, status, --json and the e-mail agree', async (t) => {
  const pair = await startCheckPair(t, FILES);
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  pair.backupConfig.smtp = {
    host: '127.0.0.1',
    port: server.port,
    starttls: 'never',
    from: 'synker on nas <synker@nas.test>',
    to: ['owner@example.test'],
    clientName: 'nas.test',
    timeout: '5s',
  };
  pair.backupConfig.schedule = { check: '0 4 * * *', timezone: 'UTC', email: 'never' };
  await pair.writeBackupHome();
  const env = isolatedEnv(path.dirname(pair.backupHome), { SYNKER_HOME: pair.backupHome });
  const synker = (...args: string[]) => runSynker(args, { env });
  const json = async (...args: string[]) => {
    const run = await synker(...args, '--json');
    return { code: run.code, value: JSON.parse(run.stdout) as Record<string, unknown>, stderr: run.stderr };
  };

  // A first check verifies every file, so the next one can tell which side changed.
  const first = await synker('check', '--no-discovery', 'photos');
  assert.equal(first.code, 0, first.stdout + first.stderr);

  // The story: one file lost on the backup, one only there, an edit on each side, a folder renamed on the source.
  await rm(path.join(pair.backupRoot, 'docs/missing.txt'));
  await writeTree(pair.backupRoot, { 'docs/extra.txt': EXTRA, 'docs/c.txt': 'charlie, edited on the nas' });
  await writeTree(pair.sourceRoot, { 'docs/b.txt': B_ON_SOURCE });
  await rename(path.join(pair.sourceRoot, 'album'), path.join(pair.sourceRoot, 'album2'));

  const incomplete = `backup INCOMPLETE: 4 differences (${formatBytes(FAILING_BYTES)}); listed, not failing: 1 extra on backup`;

  // check: the terminal report.
  const check = await synker('check', '--no-discovery', 'photos');
  assert.equal(check.code, 1, check.stderr);
  assert.equal(firstLine(check.stdout), `folder "photos": ${incomplete}`);
  assert.match(check.stdout, /extra on backup\s+1\s+\d+ B {2}\(does not fail\)/);
  assert.match(check.stdout, /album\/ -> album2\/ {2}folder, 3 files/);

  // check --json: the same numbers, the extra listed and not failing, the rename's bytes once.
  const before = (await json('check', '--no-discovery', 'photos')).value as unknown as CheckReport;
  assert.equal(before.complete, false);
  assert.equal(before.exitCode, 1);
  assert.equal(before.summary.differences, 5);
  assert.equal(before.summary.failing, 4);
  assert.equal(before.summary.failingBytes, FAILING_BYTES);
  assert.deepEqual(before.summary.byCategory.extra, { count: 1, bytes: EXTRA.length });
  assert.deepEqual(before.summary.byCategory.moved, { count: 1, bytes: ALBUM_BYTES });
  assert.deepEqual(
    before.differences.map((d) => [d.category, d.path, d.failing, d.changedOn ?? null]),
    [
      ['moved', 'album2', true, null],
      ['content', 'docs/b.txt', true, 'source'],
      ['content', 'docs/c.txt', true, 'backup'],
      ['extra', 'docs/extra.txt', false, 'unknown'],
      ['missing', 'docs/missing.txt', true, 'backup'],
    ],
  );

  // check --email: the subject names what fails (not the extra); the body's totals are the report's.
  const mailed = await synker('check', '--no-discovery', 'photos', '--email');
  assert.equal(mailed.code, 1, mailed.stderr);
  const mail = await server.parsed(server.received.length - 1);
  assert.equal(mail.subject, `Backup of photos on nas: 1 file missing (4 B), 2 files differ, 1 folder moved`);
  assert.match(mail.text ?? '', new RegExp(`: 4 differences \\(${escapeRe(formatBytes(FAILING_BYTES))}\\)\\.`));
  assert.match(mail.text ?? '', new RegExp(`Total failing\\s+4\\s+${escapeRe(formatBytes(FAILING_BYTES))}`));
  assert.match(mail.text ?? '', /extra on backup\s+1\s+\d+ B {2}\(does not fail\)/);
  assert.match(String(mail.html), new RegExp(`<strong>4</strong>.*<strong>${escapeRe(formatBytes(FAILING_BYTES))}</strong>`, 's'));

  // A scheduled check records the same verdict; status shows it.
  // Days after the manual checks above, which the schedule's state now records with the real time.
  const clock = new ManualClock(Date.now() + 2 * 24 * 3600_000);
  const schedule = startBackupSchedule({
    config: () => pair.backupConfig,
    dataDir: path.join(pair.backupHome, 'data'),
    clock,
    env,
    tickMs: 60_000,
  });
  t.after(() => schedule.stop());
  const scheduledCheck = async () => {
    for (let minute = 0; minute < 6; minute++) {
      clock.advance(60_000);
      await schedule.scheduler.tick();
    }
  };
  await scheduledCheck();
  const statusBefore = await json('status');
  assert.equal(statusBefore.code, 1, statusBefore.stderr);
  const folderBefore = (statusBefore.value.folders as Array<Record<string, Record<string, unknown>>>)[0]!;
  assert.equal(folderBefore.lastCheck!.status, 'differences');
  assert.equal(folderBefore.lastCheck!.differences, 4);
  assert.equal(folderBefore.lastCheck!.summary, '1 file missing (4 B), 2 files differ, 1 folder moved');

  // sync --dry-run: the check's verdict in the check's words, then the plan; nothing changes.
  const dry = await synker('sync', '--no-discovery', 'photos', '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(firstLine(dry.stdout), `folder "photos": ${incomplete}`);
  assert.match(dry.stdout, /extra-kept +docs\/extra\.txt/);
  const dryJson = (await json('sync', '--no-discovery', 'photos', '--dry-run')).value as { check: CheckReport; verdict: BackupVerdict };
  assert.deepEqual(
    [dryJson.verdict.state, dryJson.verdict.after, dryJson.verdict.failing, dryJson.verdict.failingBytes, dryJson.verdict.extras.count],
    ['incomplete', 'check', 4, FAILING_BYTES, 1],
  );
  assert.equal(dryJson.check.complete, false);
  assert.equal(dryJson.check.summary.failing, 4);
  assert.equal(dryJson.check.summary.failingBytes, FAILING_BYTES);

  // sync: the headline and "after the sync" count what is left after it: nothing failing, the extra kept and listed.
  const sync = await synker('sync', '--no-discovery', 'photos');
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal(firstLine(sync.stdout), 'folder "photos": synced, backup complete; listed, not failing: 1 extra on backup');
  assert.match(sync.stdout, /\nafter the sync: backup complete\n/);
  assert.match(sync.stdout, /Extra on backup \(1\) - listed, does not fail the check\n {2}docs\/extra\.txt/);

  // sync --json right after: nothing left to do, and it says complete like the check will.
  const again = (await json('sync', '--no-discovery', 'photos')).value as { check: CheckReport; verdict: BackupVerdict };
  assert.deepEqual(
    [again.verdict.state, again.verdict.after, again.verdict.failing, again.verdict.extras.count],
    ['complete', 'sync', 0, 1],
  );
  assert.equal(again.check.complete, true);
  assert.equal(again.check.sync!.complete, true);
  assert.equal(again.check.sync!.remaining.failing, 0);
  assert.equal(again.check.sync!.keptExtras, 1);

  // check again: complete, exit 0 — the same answer the sync gave.
  const complete = 'backup complete, 7 files verified; listed, not failing: 1 extra on backup';
  const after = await synker('check', '--no-discovery', 'photos');
  assert.equal(after.code, 0, after.stdout + after.stderr);
  assert.equal(firstLine(after.stdout), `folder "photos": ${complete}`);
  const afterJson = (await json('check', '--no-discovery', 'photos')).value as unknown as CheckReport;
  assert.equal(afterJson.complete, true);
  assert.equal(afterJson.exitCode, 0);
  assert.equal(afterJson.summary.failing, 0);
  assert.equal(afterJson.summary.matchedFiles, 7);
  assert.deepEqual(afterJson.summary.byCategory.extra, { count: 1, bytes: EXTRA.length });

  const mailedAfter = await synker('check', '--no-discovery', 'photos', '--email');
  assert.equal(mailedAfter.code, 0, mailedAfter.stderr);
  const mail2 = await server.parsed(server.received.length - 1);
  assert.equal(mail2.subject, 'Backup of photos on nas is complete');
  assert.match(mail2.text ?? '', /matches 7 files .* 1 difference that does not make it incomplete \(listed below\)\./s);
  assert.match(mail2.text ?? '', new RegExp(`Total failing\\s+0\\s+${escapeRe(formatBytes(0))}`));
  assert.match(mail2.text ?? '', /extra on backup\s+1\s+\d+ B {2}\(does not fail\)/);

  // The next scheduled check: status says complete and exits 0.
  clock.advance(24 * 3600_000 - 6 * 60_000);
  await scheduledCheck();
  const statusAfter = await json('status');
  assert.equal(statusAfter.code, 0, JSON.stringify(statusAfter.value));
  const folderAfter = (statusAfter.value.folders as Array<Record<string, Record<string, unknown>>>)[0]!;
  assert.equal(folderAfter.lastCheck!.status, 'complete');
  assert.equal(folderAfter.lastCheck!.differences, 0);
  assert.equal(folderAfter.lastVerified!.status, 'complete');
  const statusText = await synker('status');
  assert.match(statusText.stdout, /\nphotos +backup +laptop +\d{4}-\d\d-\d\d \d\d:\d\d UTC: complete /);
  assert.equal(formatCount(before.summary.failing), '4');
});

test('a folder configured as an exact mirror fails on an extra everywhere, until sync --delete', async (t) => {
  const pair = await startCheckPair(t, { 'a.txt': 'alpha' });
  pair.backupConfig.folders[0]!.mirror = true;
  await pair.writeBackupHome();
  const env = isolatedEnv(path.dirname(pair.backupHome), { SYNKER_HOME: pair.backupHome });
  const synker = (...args: string[]) => runSynker(args, { env });
  await writeTree(pair.backupRoot, { 'leftover.tmp': EXTRA });

  const check = await synker('check', '--no-discovery', 'photos');
  assert.equal(check.code, 1, check.stderr);
  assert.equal(firstLine(check.stdout), `folder "photos": backup INCOMPLETE: 1 difference (${formatBytes(EXTRA.length)})`);
  const report = JSON.parse((await synker('check', '--no-discovery', 'photos', '--json')).stdout) as CheckReport;
  assert.deepEqual(
    report.differences.map((d) => [d.category, d.path, d.failing]),
    [['extra', 'leftover.tmp', true]],
  );

  // Kept without --delete: still incomplete, in the words and the exit code.
  const kept = await synker('sync', '--no-discovery', 'photos');
  assert.equal(kept.code, 1, kept.stdout + kept.stderr);
  assert.equal(firstLine(kept.stdout), `folder "photos": synced, backup INCOMPLETE: 1 difference left (${formatBytes(EXTRA.length)})`);
  const keptJson = await synker('sync', '--no-discovery', 'photos', '--json');
  assert.equal(keptJson.code, 1, keptJson.stderr);
  const result = JSON.parse(keptJson.stdout) as { exitCode: number; verdict: BackupVerdict };
  assert.equal(result.exitCode, 1);
  assert.deepEqual(
    [result.verdict.state, result.verdict.after, result.verdict.failing, result.verdict.failingBytes, result.verdict.extras.count],
    ['incomplete', 'sync', 1, EXTRA.length, 0],
  );

  const deleted = await synker('sync', '--no-discovery', 'photos', '--delete');
  assert.equal(deleted.code, 0, deleted.stdout + deleted.stderr);
  assert.equal(firstLine(deleted.stdout), 'folder "photos": synced, backup complete');
  const after = await synker('check', '--no-discovery', 'photos');
  assert.equal(after.code, 0, after.stdout + after.stderr);
  assert.equal(firstLine(after.stdout), 'folder "photos": backup complete, 1 file verified');
});
