import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigStore } from '../../src/config/config-store.js';
import type { FolderConfig } from '../../src/config/types.js';
import type { CheckReport } from '../../src/report/model.js';
import { Outbox } from '../../src/mail/outbox.js';
import { startBackupSchedule, type ScheduleConfigView } from '../../src/schedule/backup-schedule.js';
import { summarizeReport } from '../../src/schedule/check-process.js';
import { configInForceFile } from '../../src/agent/agent.js';
import { outboxDir, scheduleStateFile } from '../../src/dirs/data-files.js';
import type { CheckRun } from '../../src/schedule/scheduler.js';
import { ManualClock } from '../harness/clock.js';
import { file, reportOf } from '../harness/report.js';
import { TestSmtpServer } from '../harness/smtp.js';
import { tempDir } from '../harness/tmp.js';

const FOLDERS: FolderConfig[] = [
  { id: 'pictures', path: '/srv/backup/pictures', role: 'backup', shareWith: [] },
  { id: 'documents', path: '/home/me/documents', role: 'source', shareWith: [] },
];

test('the backup schedule checks backup folders only, mails per the config, and picks up smtp changes live', async (t) => {
  const dataDir = await tempDir(t);
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));
  const smtp = {
    host: '127.0.0.1',
    port: 1,
    starttls: 'never',
    from: 'nas@example.test',
    to: ['me@example.test'],
    clientName: 'nas.test',
    timeout: 2,
  };
  const config: ScheduleConfigView = {
    name: 'nas',
    folders: FOLDERS,
    smtp,
    schedule: { check: '0 4 * * *', timezone: 'UTC', email: 'always' },
  };
  const checked: string[] = [];

  const schedule = startBackupSchedule({
    config: () => config,
    dataDir,
    clock,
    tickMs: 10 * 60_000,
    runCheck: async (folderId): Promise<CheckRun<CheckReport>> => {
      checked.push(folderId);
      const files = [file('a.jpg', 'a')];
      const report = await reportOf(files, files, folderId);
      const at = new Date(clock.now()).toISOString();
      const stamped = { ...report, startedAt: at, finishedAt: at };
      return { summary: summarizeReport(stamped, 'scheduled-check'), report: stamped };
    },
  });
  t.after(() => schedule.stop());

  const tickUntil = async (iso: string): Promise<void> => {
    while (clock.now() + 10 * 60_000 <= Date.parse(iso)) {
      clock.advance(10 * 60_000);
      await schedule.scheduler.tick();
    }
  };

  // 25 Nov 04:00: the port in the config is wrong, so the report waits in the outbox.
  await tickUntil('2026-11-25T04:30:00Z');
  assert.deepEqual(checked, ['pictures'], 'source folders are not checked by this machine');
  const outbox = new Outbox(outboxDir(dataDir));
  assert.equal(await outbox.size(), 1);
  assert.equal((await outbox.list())[0]!.lastError?.code, 'E_SMTP_CONNECT');

  // The user fixes the port; the periodic retry delivers without a restart.
  config.smtp = { ...smtp, port: server.port };
  await tickUntil('2026-11-25T05:00:00Z');
  assert.equal(server.received.length, 1);
  assert.equal((await server.parsed(0)).subject, 'Backup of pictures on nas is complete');
  assert.equal(await outbox.size(), 0);

  const state = JSON.parse(await readFile(scheduleStateFile(dataDir), 'utf8')) as {
    folders: Record<string, { lastVerified?: { status: string } }>;
  };
  assert.equal(state.folders.pictures?.lastVerified?.status, 'complete');
  assert.equal(state.folders.documents, undefined);

  // An edited schedule applies without a restart: checks every hour from now on, and no mail for a complete backup.
  config.schedule = { check: '0 * * * *', timezone: 'UTC', email: 'on-difference' };
  checked.length = 0;
  await tickUntil('2026-11-25T08:30:00Z');
  assert.deepEqual(
    checked,
    ['pictures', 'pictures', 'pictures', 'pictures'],
    'the 05:00 slot (passed when the edit was read), then 06:00, 07:00 and 08:00',
  );
  assert.equal(server.received.length, 1, 'on-difference: a complete backup is not mailed');
});

test('without an smtp section results are recorded and nothing is queued', async (t) => {
  const dataDir = await tempDir(t);
  const clock = new ManualClock(Date.parse('2026-11-24T12:00:00Z'));
  const schedule = startBackupSchedule({
    config: () => ({ name: 'nas', folders: FOLDERS, schedule: { timezone: 'UTC', email: 'always' } }),
    dataDir,
    clock,
    tickMs: 10 * 60_000,
    runCheck: async (folderId) => {
      const report = await reportOf([file('a', 'a')], [], folderId);
      return { summary: summarizeReport(report, 'scheduled-check'), report };
    },
  });
  t.after(() => schedule.stop());
  while (clock.now() < Date.parse('2026-11-25T04:00:00Z')) {
    clock.advance(10 * 60_000);
    await schedule.scheduler.tick();
  }
  assert.equal(await new Outbox(outboxDir(dataDir)).size(), 0);
  const state = JSON.parse(await readFile(scheduleStateFile(dataDir), 'utf8')) as {
    folders: Record<string, { lastResult?: { status: string; summary: string } }>;
  };
  assert.equal(state.folders.pictures?.lastResult?.status, 'differences');
  assert.equal(state.folders.pictures?.lastResult?.summary, '1 file missing (1 B)');
});

test('while the config file is broken, scheduled checks get the config still in force, not the broken file', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'config.json');
  await writeFile(
    file,
    JSON.stringify({
      version: 1,
      name: 'nas',
      folders: [{ id: 'photos', path: '/data/photos', role: 'backup', shareWith: [], sync: true }],
    }),
  );
  const store = await ConfigStore.open(file, { watch: true, pollMs: 50 });
  t.after(() => store.close());
  assert.equal(await configInForceFile(store, dir), undefined, 'the file is fine: the checks read it');
  const invalid = once(store, 'invalid');
  await writeFile(file, '{"version": 1, "name": "nas",, }');
  // The store's watcher does not keep the process alive; this deadline does, while the event is awaited.
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([
    invalid,
    new Promise((_, reject) => (deadline = setTimeout(() => reject(new Error('the store never saw the broken edit')), 20_000))),
  ]).finally(() => clearTimeout(deadline));
  assert.ok(store.lastError(), 'the store noticed the broken edit');
  const inForce = await configInForceFile(store, dir);
  assert.ok(inForce);
  const written = JSON.parse(await readFile(inForce, 'utf8')) as { name: string; folders: Array<{ id: string; sync?: boolean }> };
  assert.equal(written.name, 'nas');
  assert.deepEqual(
    written.folders.map((f) => [f.id, f.sync]),
    [['photos', true]],
  );
});
