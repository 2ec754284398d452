/**
 * The schedule and the mail together, on an injected clock, against a real
 * SMTP server: what a person with a sleeping source laptop receives over two
 * weeks.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { SynkerError } from '../../src/base/errors.js';
import type { CheckReport } from '../../src/report/model.js';
import { ReportMailer } from '../../src/schedule/notify.js';
import { Outbox } from '../../src/mail/outbox.js';
import { CheckScheduler, type CheckRun } from '../../src/schedule/scheduler.js';
import { DEFAULT_SCHEDULE } from '../../src/config/schedule.js';
import { ScheduleStateStore } from '../../src/schedule/state.js';
import { ManualClock } from '../harness/clock.js';
import { file, reportOf } from '../harness/report.js';
import { REFUSED_PORT } from '../harness/ports.js';
import { TestSmtpServer, testSmtpSettings } from '../harness/smtp.js';
import { tempDir } from '../harness/tmp.js';

test('scheduled checks e-mail differences, one staleness alert, one recovery, and the outbox catches up', async (t) => {
  const dir = await tempDir(t);
  let server = await new TestSmtpServer().start();
  // The mailer reads these settings at each send: the server's going down and coming back (on a
  // port of its own choosing) is this object's port changing; no port is released and taken again.
  const smtp = testSmtpSettings(server.port);
  const received = (): number => server.received.length;
  t.after(() => server.stop());

  const clock = new ManualClock(Date.parse('2026-11-20T12:00:00Z'));
  const settings = { ...DEFAULT_SCHEDULE, timezone: 'UTC' };
  const outbox = new Outbox(path.join(dir, 'outbox'), () => clock.now());
  const mail = new ReportMailer({
    settings: smtp,
    outbox,
    agentName: 'nas',
    timeZone: 'UTC',
    now: () => clock.now(),
    retryAfterMs: settings.retryAfterMs,
  });
  let mode: 'differences' | 'complete' | 'unreachable' = 'differences';
  const subjects: string[] = [];

  const scheduler = new CheckScheduler<CheckReport>({
    settings,
    clock,
    store: new ScheduleStateStore(path.join(dir, 'schedule.json')),
    folders: () => ['pictures'],
    tickMs: 10 * 60_000,
    runCheck: async (): Promise<CheckRun<CheckReport>> => {
      if (mode === 'unreachable')
        throw new SynkerError('E_PEER_UNREACHABLE', 'the source laptop cannot be reached', { hint: 'Wake the laptop.' });
      const files = [file('a.jpg', 'a'), file('b.jpg', 'b')];
      const report = await reportOf(files, mode === 'complete' ? files : files.slice(0, 1));
      // The report's times are the clock's (the real check stamps them when it runs).
      const at = new Date(clock.now()).toISOString();
      const stamped = { ...report, startedAt: at, finishedAt: at };
      return {
        summary: { status: stamped.complete ? 'complete' : 'differences', at, summary: stamped.complete ? 'complete' : '1 missing' },
        report: stamped,
      };
    },
    notify: async (notice, run) => {
      const outcome = await mail.sendNotice(notice, run);
      if (outcome.status === 'queued') subjects.push(`(queued) ${notice.kind}`);
    },
    retryOutbox: async () => {
      await mail.retry().catch(() => undefined);
    },
  });

  const tickUntil = async (iso: string): Promise<void> => {
    while (clock.now() + 10 * 60_000 <= Date.parse(iso)) {
      clock.advance(10 * 60_000);
      await scheduler.tick();
    }
  };

  // 21 Nov 03:17: the first scheduled check finds a missing file.
  await tickUntil('2026-11-21T06:00:00Z');
  assert.equal(received(), 1);
  assert.equal((await server.parsed(0)).subject, 'Backup of pictures on nas: 1 file missing (1 B)');

  // 22 Nov: fixed; on-difference mails once that it is complete again.
  mode = 'complete';
  await tickUntil('2026-11-22T06:00:00Z');
  assert.equal(received(), 2);
  assert.equal((await server.parsed(1)).subject, 'Backup of pictures on nas is complete');
  await tickUntil('2026-11-23T06:00:00Z');
  assert.equal(received(), 2, 'nothing new to say');

  // From 23 Nov (after its check) the laptop is away; when the alert is due the mail server is down too.
  mode = 'unreachable';
  await tickUntil('2026-11-26T00:00:00Z');
  assert.equal(received(), 2, 'hourly retries alone send nothing');
  smtp.port = REFUSED_PORT;
  await server.stop();
  // Last verified 23 Nov 03:20 (the first tick after the slot): 3 days later, the alert.
  await tickUntil('2026-11-26T06:00:00Z');
  assert.deepEqual(subjects, ['(queued) stale'], 'the alert waits in the outbox');
  assert.equal(await outbox.size(), 1);
  server = await new TestSmtpServer().start();
  smtp.port = server.port;
  await tickUntil('2026-11-29T00:00:00Z');
  assert.equal(received(), 1, 'the queued alert went out once when the server was back');
  assert.equal((await server.parsed(0)).subject, 'Backup of pictures on nas NOT verified since 23 Nov');
  assert.match(
    (await server.parsed(0)).text ?? '',
    /Last attempt: .*the source laptop cannot be reached\nWhat to do: Wake the laptop\.\nsynker keeps trying every hour/,
  );
  assert.equal(await outbox.size(), 0);

  // 29 Nov: the laptop is back; one recovery mail, then quiet.
  mode = 'complete';
  await tickUntil('2026-12-02T00:00:00Z');
  assert.equal(received(), 2);
  assert.equal((await server.parsed(1)).subject, 'Backup of pictures on nas verified again: complete');
});

test('the "not verified" alert says the real figures: for 30 seconds, and every 5 seconds when the schedule tries that often', async (t) => {
  const dir = await tempDir(t);
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  const clock = new ManualClock(Date.parse('2026-11-20T12:00:00Z'));
  // A check every 5 s (cron with seconds); retryAfter stays at its default of an hour; alert after 30 s.
  const settings = { ...DEFAULT_SCHEDULE, timezone: 'UTC', check: '*/5 * * * * *', staleAfterMs: 30_000 };
  const mail = new ReportMailer({
    settings: testSmtpSettings(server.port),
    outbox: new Outbox(path.join(dir, 'outbox'), () => clock.now()),
    agentName: 'nas',
    timeZone: 'UTC',
    now: () => clock.now(),
    retryAfterMs: settings.retryAfterMs,
  });
  const scheduler = new CheckScheduler<CheckReport>({
    settings,
    clock,
    store: new ScheduleStateStore(path.join(dir, 'schedule.json')),
    folders: () => ['pictures'],
    tickMs: 5000,
    runCheck: async (): Promise<CheckRun<CheckReport>> => {
      throw new SynkerError('E_PEER_UNREACHABLE', 'the source laptop cannot be reached', { hint: 'Wake the laptop.' });
    },
    notify: async (notice, run) => void (await mail.sendNotice(notice, run)),
  });
  for (let i = 0; i < 8 && server.received.length === 0; i++) {
    clock.advance(5000);
    await scheduler.tick();
  }
  assert.equal(server.received.length, 1, 'one alert');
  const text = (await server.parsed(0)).text ?? '';
  assert.match(text, /has not been able to verify the backup of pictures for 30 seconds, since/);
  assert.match(text, /synker keeps trying every 5 seconds and will write again/);

  // With the default schedule (a daily check), the retries after a failure are retryAfter's: every hour.
  const { formatEvery, formatAge } = await import('../../src/base/units.js');
  assert.equal(formatEvery(3_600_000), 'hour');
  assert.equal(formatEvery(6 * 3_600_000), '6 hours');
  assert.equal(formatEvery(90 * 60_000), '90 minutes');
  assert.equal(formatEvery(1500), '2 seconds');
  assert.equal(formatAge(30_000), '30 seconds');
  assert.equal(formatAge(90_000), '2 minutes');
  assert.equal(formatAge(71 * 3_600_000), '2 days and 23 hours');
});
