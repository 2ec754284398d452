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
