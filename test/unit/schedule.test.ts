import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { afterCheck, type Notice } from '../../src/schedule/policy.js';
import { CheckScheduler, type CheckRun } from '../../src/schedule/scheduler.js';
import { DEFAULT_SCHEDULE, ScheduleConfigError, parseScheduleSettings, type ScheduleSettings } from '../../src/config/schedule.js';
import { ScheduleStateStore, recordVerification, type CheckResultSummary, type CheckStatus } from '../../src/schedule/state.js';
import { SynkerError } from '../../src/base/errors.js';
import { ManualClock } from '../harness/clock.js';
import { tempDir } from '../harness/tmp.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SETTINGS: ScheduleSettings = { ...DEFAULT_SCHEDULE, check: '17 3 * * *', timezone: 'UTC' };

interface Harness {
  clock: ManualClock;
  scheduler: CheckScheduler<string>;
  store: ScheduleStateStore;
  runs: Array<{ folder: string; at: string }>;
  notices: Notice[];
  outboxRetries: number[];
  /** What the next checks return. */
  outcome: { status: CheckStatus };
  /** Runs inside each check, after its result is known (what happens meanwhile elsewhere). */
  duringRun?: (folder: string) => Promise<void>;
}

async function harness(
  t: import('node:test').TestContext,
  start: string,
  settings: ScheduleSettings = SETTINGS,
  folders = ['pictures'],
): Promise<Harness> {
  const clock = new ManualClock(Date.parse(start));
  const store = new ScheduleStateStore(path.join(await tempDir(t), 'schedule.json'));
  const h: Harness = {
    clock,
    store,
    runs: [],
    notices: [],
    outboxRetries: [],
    outcome: { status: 'complete' },
    scheduler: undefined as unknown as CheckScheduler<string>,
  };
  h.scheduler = new CheckScheduler<string>({
    settings,
    clock,
    store,
    folders: () => folders,
    runCheck: async (folder): Promise<CheckRun<string>> => {
      const at = new Date(clock.now()).toISOString();
      h.runs.push({ folder, at });
      if (h.outcome.status === 'error') throw new SynkerError('E_PEER_UNREACHABLE', 'the source laptop cannot be reached');
      await h.duringRun?.(folder);
      return {
        summary: { status: h.outcome.status, at, summary: h.outcome.status, differences: h.outcome.status === 'differences' ? 12 : 0 },
        report: `report of ${folder} at ${at}`,
      };
    },
    notify: async (notice) => {
      h.notices.push(notice);
    },
    retryOutbox: async () => {
      h.outboxRetries.push(clock.now());
    },
    // The tests tick at most every 10 minutes; a longer gap reads as a sleep.
    tickMs: 10 * 60_000,
  });
  return h;
}

/** Ticks every `step` from now until `until`, as the running agent would. */
async function runUntil(h: Harness, until: string | number, step = 30_000): Promise<void> {
  const end = typeof until === 'string' ? Date.parse(until) : until;
  while (h.clock.now() + step <= end) {
    h.clock.advance(step);
    await h.scheduler.tick();
  }
}

test('a due check runs at its slot, once', async (t) => {
  const h = await harness(t, '2026-11-24T12:00:00Z');
  await h.scheduler.tick();
  assert.equal(h.runs.length, 0, 'a new folder waits for its first slot');
  await runUntil(h, '2026-11-25T03:16:30Z');
  assert.equal(h.runs.length, 0);
  await runUntil(h, '2026-11-25T04:00:00Z');
  assert.equal(h.runs.length, 1);
  assert.equal(h.runs[0]!.at, '2026-11-25T03:17:00.000Z');
  await runUntil(h, '2026-11-26T03:20:00Z', 5 * 60_000);
  assert.equal(h.runs.length, 2, 'and again the next day');
  const state = await h.store.load();
  assert.equal(state.folders.pictures!.lastVerified?.status, 'complete');
  assert.equal(h.scheduler.dueAt(state.folders.pictures!), Date.parse('2026-11-27T03:17:00Z'));
});

test('a check missed while the agent was stopped runs soon after start, not a day later', async (t) => {
  const h = await harness(t, '2026-11-25T10:00:00Z');
  await h.store.save({ version: 1, folders: { pictures: { firstSeenAt: '2026-11-20T00:00:00Z', lastAttemptAt: '2026-11-23T03:17:00Z' } } });
  h.scheduler.start();
  h.clock.advance(0);
  await h.scheduler.tick();
  assert.equal(h.runs.length, 0, 'waits for the network to come up');
  await runUntil(h, '2026-11-25T10:03:00Z');
  assert.equal(h.runs.length, 1);
  assert.equal(h.runs[0]!.at, '2026-11-25T10:02:00.000Z');
  await h.scheduler.stop();
});

test('a check missed while the laptop slept runs soon after it wakes', async (t) => {
  const h = await harness(t, '2026-11-24T20:00:00Z');
  await h.store.save({ version: 1, folders: { pictures: { firstSeenAt: '2026-11-20T00:00:00Z', lastAttemptAt: '2026-11-24T03:17:00Z' } } });
  await runUntil(h, '2026-11-24T23:00:00Z');
  assert.equal(h.runs.length, 0);
  // Asleep from 23:00 to 08:00: no ticks, the 03:17 slot passes.
  h.clock.set('2026-11-25T08:00:00Z');
  await h.scheduler.tick();
  assert.equal(h.runs.length, 0, 'not in the very first second after wake');
  await runUntil(h, '2026-11-25T08:05:00Z');
  assert.equal(h.runs.length, 1);
  assert.equal(h.runs[0]!.at, '2026-11-25T08:02:00.000Z');
});

test('staleness: one "not verified" mail after N days unreachable, one recovery mail after', async (t) => {
  const h = await harness(t, '2026-11-01T00:00:00Z');
  await runUntil(h, '2026-11-01T04:00:00Z', 10 * 60_000);
  assert.equal(h.runs.length, 1, 'verified on 1 Nov');
  h.outcome.status = 'error';
  await runUntil(h, '2026-11-09T00:00:00Z', 10 * 60_000);
  // Retried hourly while unreachable.
  assert.ok(h.runs.length > 100, `retried while unreachable (${h.runs.length} runs)`);
  const stale = h.notices.filter((n) => n.kind === 'stale');
  assert.equal(stale.length, 1, 'exactly one staleness mail');
  // Verified at the first tick after the 03:17 slot (ticks every 10 minutes here).
  assert.equal(stale[0]!.kind === 'stale' && stale[0]!.since, '2026-11-01T03:20:00.000Z');
  const staleRun = (await h.store.load()).folders.pictures!.staleAlertAt!;
  assert.ok(
    Date.parse(staleRun) >= Date.parse('2026-11-04T03:20:00Z') && Date.parse(staleRun) < Date.parse('2026-11-04T04:30:00Z'),
    `alert at ${staleRun}`,
  );

  h.outcome.status = 'complete';
  await runUntil(h, '2026-11-12T00:00:00Z', 10 * 60_000);
  const recovered = h.notices.filter((n) => n.kind === 'recovered');
  assert.equal(recovered.length, 1, 'exactly one recovery mail');
  assert.equal(h.notices.length, 2, 'complete checks after recovery send nothing (on-difference)');
  assert.equal((await h.store.load()).folders.pictures!.staleAlertAt, undefined);

  // A second outage alerts again, once.
  h.outcome.status = 'error';
  await runUntil(h, '2026-11-17T00:00:00Z', 10 * 60_000);
  assert.equal(h.notices.filter((n) => n.kind === 'stale').length, 2);
});

test('a folder never verified counts from when the agent first scheduled it', async (t) => {
  const h = await harness(t, '2026-11-01T00:00:00Z');
  h.outcome.status = 'error';
  await h.scheduler.tick();
  await runUntil(h, '2026-11-05T00:00:00Z', 10 * 60_000);
  const stale = h.notices.filter((n) => n.kind === 'stale');
  assert.equal(stale.length, 1);
  assert.equal(stale[0]!.kind === 'stale' && stale[0]!.since, '2026-11-01T00:00:00.000Z');
});

test('the outbox is retried periodically', async (t) => {
  const h = await harness(t, '2026-11-01T00:00:00Z');
  await h.scheduler.tick();
  await runUntil(h, '2026-11-01T01:00:00Z');
  assert.equal(h.outboxRetries.length, 5, 'at start, then every 15 minutes');
});

test('the scheduler keeps its own timer going with the injected clock', async (t) => {
  const h = await harness(t, '2026-11-25T03:16:00Z');
  await h.store.save({ version: 1, folders: { pictures: { firstSeenAt: '2026-11-24T12:00:00Z' } } });
  h.scheduler.start();
  for (let i = 0; i < 6; i++) {
    h.clock.advance(30_000);
    await h.scheduler.tick();
  }
  assert.equal(h.runs.length, 1);
  assert.equal(h.clock.pendingTimers, 1);
  await h.scheduler.stop();
  assert.equal(h.clock.pendingTimers, 0);
});

function result(status: CheckStatus, at = '2026-11-25T03:17:00Z'): CheckResultSummary {
  return { status, at, summary: status };
}

test('e-mail policy: on-difference, always, never', () => {
  const base = { firstSeenAt: '2026-11-01T00:00:00Z' };
  const now = Date.parse('2026-11-25T03:20:00Z');
  const od = { email: 'on-difference' as const, staleAfterMs: 3 * DAY };
  assert.deepEqual(afterCheck(od, 'f', base, result('complete'), now).notices, []);
  const diff = afterCheck(od, 'f', base, result('differences'), now);
  assert.deepEqual(
    diff.notices.map((n) => n.kind),
    ['report'],
  );
  // Complete again after differences: told once, then quiet.
  const fixed = afterCheck(od, 'f', diff.state, result('complete'), now);
  assert.deepEqual(
    fixed.notices.map((n) => n.kind),
    ['report'],
  );
  assert.deepEqual(afterCheck(od, 'f', fixed.state, result('complete'), now).notices, []);
  assert.deepEqual(
    afterCheck({ ...od, email: 'always' }, 'f', base, result('complete'), now).notices.map((n) => n.kind),
    ['report'],
  );
  assert.deepEqual(afterCheck({ ...od, email: 'never' }, 'f', base, result('differences'), now).notices, []);
  const failing = afterCheck({ ...od, email: 'never' }, 'f', base, result('error'), now);
  assert.deepEqual(failing.notices, [], 'never means no mail at all');
  assert.deepEqual(afterCheck({ ...od, staleAfterMs: 0 }, 'f', base, result('error'), now).notices, [], 'staleAfter off');
});

test('schedule settings: defaults and clear errors', () => {
  const d = parseScheduleSettings(undefined);
  assert.equal(d.check, '17 3 * * *');
  assert.equal(d.email, 'on-difference');
  assert.equal(d.staleAfterMs, 3 * DAY);
  const s = parseScheduleSettings({ check: '0 */6 * * *', email: 'always', staleAfter: '1d', timezone: 'Europe/Berlin' });
  assert.equal(s.staleAfterMs, DAY);
  assert.equal(parseScheduleSettings({ staleAfter: 'off' }).staleAfterMs, 0);
  for (const [raw, pattern] of [
    [{ check: '61 * * * *' }, /schedule\.check "61 \* \* \* \*" is not a usable schedule/],
    [{ check: '17 3 * * *', timezone: 'Mars/Olympus' }, /schedule\.timezone is not a known time zone: "Mars\/Olympus"/],
    [{ email: 'sometimes' }, /schedule\.email must be/],
    [{ staleAfter: 'soon' }, /schedule\.staleAfter is not a duration/],
    [{ cron: '* * * * *' }, /unknown setting schedule\.cron/],
  ] as const) {
    assert.throws(
      () => parseScheduleSettings(raw),
      (err: unknown) => err instanceof ScheduleConfigError && pattern.test(err.message),
    );
  }
});

test('a verification by hand, recorded while a scheduled check runs, is kept when it is the later one', async (t) => {
  const h = await harness(t, '2026-11-24T03:00:00Z');
  const manual: CheckResultSummary = { status: 'complete', at: '2026-11-24T03:30:00.000Z', summary: 'complete', by: 'manual-check' };
  // A `synker check` run by hand finishes while the scheduled one is being recorded, and after it.
  h.duringRun = async (folder) => {
    await recordVerification(h.store, folder, manual, h.clock.now());
  };
  await runUntil(h, '2026-11-24T03:25:00Z');
  assert.equal(h.runs.length, 1);
  const folder = (await h.store.load()).folders.pictures!;
  assert.deepEqual(folder.lastVerified, manual, 'the later verification by hand is not overwritten');
  assert.equal(folder.lastAttemptAt, h.runs[0]!.at, 'the schedule recorded its own attempt');
});

test('a verification by hand between scheduled checks counts: no "not verified since" alert while the source is only unreachable for the schedule', async (t) => {
  const h = await harness(t, '2026-11-01T00:00:00Z');
  await runUntil(h, '2026-11-01T04:00:00Z', 10 * 60_000);
  h.outcome.status = 'error';
  await runUntil(h, '2026-11-03T00:00:00Z', 10 * 60_000);
  // On 3 Nov the user checks by hand and the backup is verified; the schedule still cannot reach the source.
  assert.equal(
    await recordVerification(
      h.store,
      'pictures',
      { status: 'complete', at: '2026-11-03T00:00:00.000Z', summary: 'complete', by: 'manual-check' },
      h.clock.now(),
    ),
    true,
  );
  await runUntil(h, '2026-11-05T00:00:00Z', 10 * 60_000);
  assert.deepEqual(
    h.notices.filter((n) => n.kind === 'stale'),
    [],
    'staleAfter (3 days) counts from the check by hand',
  );
  await runUntil(h, '2026-11-06T06:00:00Z', 10 * 60_000);
  const stale = h.notices.filter((n) => n.kind === 'stale');
  assert.equal(stale.length, 1);
  assert.equal(stale[0]!.kind === 'stale' && stale[0]!.since, '2026-11-03T00:00:00.000Z');

  // Verified by hand after the alert: the recovery mail (the schedule's) still names the alert's date.
  await recordVerification(
    h.store,
    'pictures',
    { status: 'complete', at: new Date(h.clock.now()).toISOString(), summary: 'complete', by: 'manual-sync' },
    h.clock.now(),
  );
  h.outcome.status = 'complete';
  await runUntil(h, '2026-11-07T06:00:00Z', 10 * 60_000);
  const recovered = h.notices.filter((n) => n.kind === 'recovered');
  assert.equal(recovered.length, 1);
  assert.equal(recovered[0]!.kind === 'recovered' && recovered[0]!.since, '2026-11-03T00:00:00.000Z');
});

test('a failed check by hand is no verification and is not recorded', async (t) => {
  const store = new ScheduleStateStore(path.join(await tempDir(t), 'schedule.json'));
  const failed: CheckResultSummary = {
    status: 'error',
    at: '2026-11-03T00:00:00.000Z',
    summary: 'the source laptop cannot be reached',
    by: 'manual-check',
  };
  assert.equal(await recordVerification(store, 'pictures', failed, Date.parse('2026-11-03T00:00:00Z')), false);
  assert.deepEqual(await store.load(), { version: 1, folders: {} });
});

test('an older verification never replaces a newer one', async (t) => {
  const store = new ScheduleStateStore(path.join(await tempDir(t), 'schedule.json'));
  const newer: CheckResultSummary = { status: 'complete', at: '2026-11-03T00:00:00.000Z', summary: 'complete', by: 'scheduled-check' };
  const older: CheckResultSummary = {
    status: 'differences',
    at: '2026-11-02T00:00:00.000Z',
    summary: '1 file missing (5 B)',
    by: 'manual-check',
  };
  await recordVerification(store, 'pictures', newer, Date.parse(newer.at));
  await recordVerification(store, 'pictures', older, Date.parse(newer.at));
  assert.deepEqual((await store.load()).folders.pictures!.lastVerified, newer);
});

test("writers of the schedule state take turns: none loses another one's change", async (t) => {
  const store = new ScheduleStateStore(path.join(await tempDir(t), 'schedule.json'));
  // Twenty read-modify-writes at once, each adding its own folder: all twenty are in the file after.
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      store.update((state) => {
        state.folders[`f${i}`] = { firstSeenAt: '2026-11-01T00:00:00.000Z' };
      }),
    ),
  );
  assert.equal(Object.keys((await store.load()).folders).length, 20);
});
