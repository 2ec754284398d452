/**
 * Real checks over loopback (a source agent serving a real folder, the
 * backup's real copy) e-mailed to a real SMTP server: `synker check --email`,
 * and the agent's scheduled check run as a low-priority `synker check`
 * process.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { CheckReport } from '../../src/report/model.js';
import { Outbox } from '../../src/mail/outbox.js';
import { formatBytes, formatCount } from '../../src/base/units.js';
import { startBackupSchedule } from '../../src/schedule/backup-schedule.js';
import { runCheckProcess } from '../../src/schedule/check-process.js';
import { outboxDir } from '../../src/dirs/data-files.js';
import { startCheckPair, writeTree } from '../harness/check-pair.js';
import { ManualClock } from '../harness/clock.js';
import { MemoryLogger } from '../harness/peers.js';
import { TestSmtpServer, testSmtpSection } from '../harness/smtp.js';
import { isolatedEnv, runSynker, SYNKER_BIN } from '../harness/synker-cli.js';

const FILES: Record<string, string> = { 'a.jpg': 'alpha', 'b.jpg': 'bravo', 'docs/notes.txt': 'notes' };

/** Mail goes to the test's server; a send gives up after 5 s. */
function smtpSection(port: number): Record<string, unknown> {
  return testSmtpSection(port, { timeout: '5s' });
}

test('synker check --email mails the report with the same totals as --json; SMTP down keeps it in the outbox', async (t) => {
  const pair = await startCheckPair(t, FILES);
  await rm(path.join(pair.backupRoot, 'b.jpg'));
  await writeTree(pair.sourceRoot, { 'new/c.jpg': 'charlie!' });
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  pair.backupConfig.smtp = smtpSection(server.port);
  await pair.writeBackupHome();
  const env = isolatedEnv(path.dirname(pair.backupHome), { SYNKER_HOME: pair.backupHome });

  const json = await runSynker(['check', '--no-discovery', 'photos', '--json'], { env });
  assert.equal(json.code, 1, json.stderr);
  const report = JSON.parse(json.stdout) as CheckReport;

  const mailed = await runSynker(['check', '--no-discovery', 'photos', '--email'], { env });
  assert.equal(mailed.code, 1, mailed.stderr);
  // The command says it once, in its words; no log line of the outbox among the results.
  assert.equal(mailed.stderr, 'e-mailed the report of photos to owner@example.test\n');
  assert.match(mailed.stdout, /^folder "photos": backup INCOMPLETE/);
  assert.equal(server.received.length, 1);
  const mail = await server.parsed(0);
  assert.equal(
    mail.subject,
    `Backup of photos on nas: 2 files and 1 folder missing (${formatBytes(report.summary.byCategory.missing.bytes)})`,
  );
  assert.match(
    mail.text ?? '',
    new RegExp(
      `Total failing\\s+${formatCount(report.summary.failing)}\\s+${formatBytes(report.summary.failingBytes).replace('.', '\\.')}`,
    ),
  );

  // The mail server goes away: the report waits in the outbox, the check's exit code stands.
  await server.stop();
  const down = await runSynker(['check', '--no-discovery', 'photos', '--email'], { env });
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    /error: the report of photos was not e-mailed now \(it waits in the outbox\): the mail server 127\.0\.0\.1:\d+ refused the connection/,
  );
  assert.match(down.stderr, /hint: Check smtp\.host and smtp\.port/);
  assert.equal(await new Outbox(outboxDir(path.join(pair.backupHome, 'data'))).size(), 1);

  // The server is back: the next report goes out, and so does the one that waited, which is said too.
  const back = await new TestSmtpServer().start();
  t.after(() => back.stop());
  pair.backupConfig.smtp = smtpSection(back.port);
  await pair.writeBackupHome();
  const again = await runSynker(['check', '--no-discovery', 'photos', '--email'], { env });
  assert.equal(again.code, 1, again.stderr);
  assert.equal(again.stderr, 'e-mailed the report of photos to owner@example.test\nalso sent 1 e-mail that waited in the outbox\n');
  assert.equal(back.received.length, 2);
  assert.equal(await new Outbox(outboxDir(path.join(pair.backupHome, 'data'))).size(), 0);
});

test('a report that cannot be written to --output is still e-mailed, then the write error is reported', async (t) => {
  const root0 = process.getuid?.() === 0;
  // Root ignores file modes; without these capabilities a read-only folder is read-only for it too.
  const wrap = root0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--'] : [];
  if (root0 && spawnSync('setpriv', ['--bounding-set', '-dac_override', '--', 'true']).status !== 0) {
    t.skip('running as root without setpriv (util-linux): cannot make a folder read-only');
    return;
  }
  const pair = await startCheckPair(t, FILES);
  await rm(path.join(pair.backupRoot, 'b.jpg'));
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  pair.backupConfig.smtp = smtpSection(server.port);
  await pair.writeBackupHome();
  const env = isolatedEnv(path.dirname(pair.backupHome), { SYNKER_HOME: pair.backupHome });
  // The folder exists (so --output passes its check up front) but cannot be written.
  const readOnly = path.join(path.dirname(pair.backupHome), 'reports');
  await mkdir(readOnly, { mode: 0o555 });
  const args = [SYNKER_BIN, 'check', '--no-discovery', 'photos', '--email', '--output', path.join(readOnly, 'report.txt')];
  // Asynchronously: the SMTP server runs in this process.
  const run = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const [command, ...rest] = [...wrap, process.execPath, ...args];
    execFile(command!, rest, { env }, (err, _stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stderr }),
    );
  });
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /e-mailed the report of photos to owner@example\.test/);
  assert.match(run.stderr, /error: cannot write the report to .*report\.txt: EACCES/);
  assert.doesNotMatch(run.stderr, /internal error/);
  assert.equal(server.received.length, 1);
});

test('--email without smtp settings is refused before checking', async (t) => {
  const pair = await startCheckPair(t, FILES);
  await pair.writeBackupHome();
  const env = isolatedEnv(path.dirname(pair.backupHome), { SYNKER_HOME: pair.backupHome });
  const result = await runSynker(['check', '--no-discovery', 'photos', '--email'], { env });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /error: e-mail is not set up: the config has no "smtp" section/);
});

test('a scheduled check runs `synker check` as a low-priority process and mails its report', async (t) => {
  const pair = await startCheckPair(t, FILES);
  // A file lost on the backup (a file only on the backup would be listed, and not make it incomplete).
  await rm(path.join(pair.backupRoot, 'b.jpg'));
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  pair.backupConfig.smtp = smtpSection(server.port);
  pair.backupConfig.schedule = { check: '0 4 * * *', timezone: 'UTC', email: 'on-difference' };
  await pair.writeBackupHome();
  const env = isolatedEnv(path.dirname(pair.backupHome), { SYNKER_HOME: pair.backupHome });

  // The runner alone: the report comes back parsed.
  const run = await runCheckProcess('photos', { env });
  assert.equal(run.summary.status, 'differences');
  assert.equal(run.summary.summary, '1 file missing (5 B)');
  assert.equal(run.report?.source.name, 'laptop');

  // The agent's schedule with the default runner (a real child process per check).
  const log = new MemoryLogger();
  const clock = new ManualClock(Date.parse('2026-11-25T03:55:00Z'));
  const schedule = startBackupSchedule({
    config: () => pair.backupConfig,
    dataDir: path.join(pair.backupHome, 'data'),
    clock,
    env,
    tickMs: 60_000,
    logger: log,
  });
  t.after(() => schedule.stop());
  for (let minute = 0; minute < 6; minute++) {
    clock.advance(60_000);
    await schedule.scheduler.tick();
  }
  assert.equal(server.received.length, 1);
  assert.equal((await server.parsed(0)).subject, 'Backup of photos on nas: 1 file missing (5 B)');
  // The agent's log says what was delivered (the outbox, shared with the CLI, only at debug level).
  assert.deepEqual(
    log.lines.filter((l) => l.includes('delivered')),
    ['info delivered "Backup of photos on nas: 1 file missing (5 B)" to owner@example.test: 250 OK: message queued'],
  );
});
