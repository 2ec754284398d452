/**
 * The folder's verdict reads its last run of any kind (#22): a check run by
 * hand that fails after the last verification says `failed`, as a scheduled
 * one does, until a run verifies the backup again; and since when the
 * backup has (not) been complete is kept as runs are recorded (noteRun).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { scheduleStateFile } from '../../src/dirs/data-files.js';
import { recordRun } from '../../src/schedule/record.js';
import { ScheduleStateStore, noteRun, type CheckResultSummary } from '../../src/schedule/state.js';
import { folderVerdict, needsAttention } from '../../src/schedule/status.js';

const T = (minute: number): string => new Date(Date.UTC(2026, 11, 7, 12, minute)).toISOString();
const ok = (minute: number, by: CheckResultSummary['by'] = 'scheduled-check'): CheckResultSummary => ({
  status: 'complete',
  at: T(minute),
  summary: 'complete',
  differences: 0,
  by,
});
const missing = (minute: number): CheckResultSummary => ({
  status: 'differences',
  at: T(minute),
  summary: '1 file missing',
  differences: 1,
});
const failedRun = (minute: number, by: CheckResultSummary['by'] = 'manual-check'): CheckResultSummary => ({
  status: 'error',
  at: T(minute),
  summary: 'source unreachable',
  by,
});

const backup = (records: { lastCheck?: CheckResultSummary; lastVerified?: CheckResultSummary; lastRun?: CheckResultSummary }) => ({
  role: 'backup' as const,
  lastCheck: records.lastCheck ?? null,
  lastVerified: records.lastVerified ?? null,
  lastRun: records.lastRun ?? null,
  staleAlertAt: null,
  problem: null,
});

test('a failed run by hand after the last verification makes the verdict failed, until a run verifies the backup again', () => {
  assert.equal(folderVerdict(backup({ lastCheck: ok(0), lastVerified: ok(0), lastRun: ok(0) })), 'complete');
  assert.equal(folderVerdict(backup({ lastCheck: ok(0), lastVerified: ok(0), lastRun: failedRun(5) })), 'failed', 'by hand');
  assert.equal(
    folderVerdict(backup({ lastCheck: failedRun(5, 'scheduled-check'), lastVerified: ok(0), lastRun: failedRun(5, 'scheduled-check') })),
    'failed',
    'scheduled: the same rule',
  );
  assert.equal(
    folderVerdict(backup({ lastCheck: ok(0), lastVerified: ok(9, 'manual-check'), lastRun: ok(9, 'manual-check') })),
    'complete',
  );
  assert.equal(
    folderVerdict(backup({ lastCheck: failedRun(5, 'scheduled-check'), lastVerified: ok(9, 'manual-check'), lastRun: ok(9) })),
    'complete',
    'a later verification answers for the failure',
  );
  assert.equal(folderVerdict(backup({ lastRun: failedRun(5) })), 'failed', 'never verified, and the only run failed');
  const folder = { ...backup({ lastCheck: ok(0), lastVerified: ok(0), lastRun: failedRun(5) }), id: 'f', path: '/f', peers: [] };
  const status = {
    outbox: { waiting: 0, oldest: null, damaged: 0 },
    folders: [{ ...folder, nextCheck: null, overdue: false, backups: [] }],
  };
  assert.equal(needsAttention(status), true, 'synker status exits 1 for it');
});

test('noteRun: last complete, and not complete since the first run after it; out of order changes nothing it should not', () => {
  const s: { lastCompleteAt?: string; notCompleteSince?: string } = {};
  noteRun(s, missing(1));
  assert.deepEqual(s, { notCompleteSince: T(1) }, 'never complete: since the first run');
  noteRun(s, ok(2));
  assert.deepEqual(s, { lastCompleteAt: T(2) });
  noteRun(s, missing(3));
  noteRun(s, failedRun(4));
  assert.deepEqual(s, { lastCompleteAt: T(2), notCompleteSince: T(3) }, 'since the first run that was not complete');
  noteRun(s, missing(1));
  assert.deepEqual(s, { lastCompleteAt: T(2), notCompleteSince: T(3) }, 'a run older than the last complete one changes nothing');
  noteRun(s, ok(5));
  assert.deepEqual(s, { lastCompleteAt: T(5) });
});

test('recordRun keeps every run as lastRun with since when, in the schedule state synker status reads', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'synker-lastrun-'));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const store = new ScheduleStateStore(scheduleStateFile(dataDir));
  await recordRun(dataDir, { folderId: 'f', summary: ok(0, 'manual-check') }, Date.parse(T(0)));
  await recordRun(dataDir, { folderId: 'f', summary: failedRun(5) }, Date.parse(T(5)));
  const f = (await store.load()).folders.f!;
  assert.equal(f.lastRun?.status, 'error');
  assert.equal(f.lastRun?.by, 'manual-check');
  assert.deepEqual([f.lastCompleteAt, f.notCompleteSince], [T(0), T(5)]);
  assert.equal(folderVerdict({ ...backup({ lastVerified: ok(0) }), lastRun: f.lastRun ?? null }), 'failed');
});
