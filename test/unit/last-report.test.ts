/**
 * A folder's last report (schedule/last-report.ts): the report's categories
 * in its order, with their words, counts and bytes, at most 1,000 items each
 * with `more` saying how many were left out, suspicious ones first so the cut
 * never hides one; written atomically and read back; a damaged file is a
 * typed error, an absent one no report. A scheduled run that ended without a
 * report is recorded too, its error being its last report.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildFailedReport } from '../../src/report/model.js';
import { startBackupSchedule } from '../../src/schedule/backup-schedule.js';
import { CheckProcessError, summarizeReport } from '../../src/schedule/check-process.js';
import { readHistory } from '../../src/schedule/history.js';
import { LAST_REPORT_ITEMS, lastReportFile, lastReportOf, readLastReport, writeLastReport } from '../../src/schedule/last-report.js';
import { ManualClock } from '../harness/clock.js';
import { file, reportOf } from '../harness/report.js';
import { tempDir } from '../harness/tmp.js';

function numbered(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);
}

test('150,000 differences: 1,000 items per category in the report order, `more` for the rest, suspicious ones first', async (t) => {
  const dataDir = await tempDir(t);
  const source = [
    ...numbered('missing/m', 100_000).map((p) => file(p, 'x')),
    ...numbered('a-content/c', 1_200).map((p) => file(p, 'new')),
    // Changed on the source with the size it had when verified: SUSPICIOUS (test/harness/report.ts), listed after the others by path.
    ...['suspicious/one', 'suspicious/two', 'suspicious/three'].map((p) => file(p, 'abc')),
  ];
  const backup = [
    ...numbered('extra/e', 48_800).map((p) => file(p, 'yy')),
    ...numbered('a-content/c', 1_200).map((p) => file(p, 'old')),
    ...['suspicious/one', 'suspicious/two', 'suspicious/three'].map((p) => file(p, 'old')),
  ];
  const report = await reportOf(source, backup, 'big');
  assert.equal(report.differences.length, 150_003);
  const summary = summarizeReport(report, 'manual-check');
  const last = lastReportOf(report, summary, 'manual-check');

  assert.deepEqual(
    last.categories.map((c) => [c.category, c.words, c.count, c.bytes, c.items.length, c.more, c.failing]),
    [
      ['missing', 'Missing on backup', 100_000, 100_000, LAST_REPORT_ITEMS, 99_000, true],
      ['extra', 'Extra on backup', 48_800, 97_600, LAST_REPORT_ITEMS, 47_800, false],
      ['content', 'Content differs', 1_203, 3 * 1_203, LAST_REPORT_ITEMS, 203, true],
    ],
  );
  for (const c of last.categories) assert.equal(c.bytes, report.summary.byCategory[c.category].bytes);
  const content = last.categories[2]!;
  assert.deepEqual(
    content.items.slice(0, 3).map((i) => [i.path, i.flagged]),
    [
      ['suspicious/one', true],
      ['suspicious/three', true],
      ['suspicious/two', true],
    ],
    'the suspicious files first: the cut does not hide them',
  );
  assert.match(content.items[0]!.detail!, /SUSPICIOUS/);
  assert.deepEqual(last.categories[0]!.items[0], {
    path: 'missing/m000000',
    kind: 'file',
    size: 1,
    detail: '1 B',
  });
  assert.deepEqual(
    { status: last.status, differences: last.differences, bytesMissing: last.bytesMissing, by: last.by, after: last.after },
    { status: 'differences', differences: 101_203, bytesMissing: 100_000 + 3 * 1_203, by: 'manual-check', after: 'check' },
  );
  assert.equal(last.bytesMissing, summary.bytesMissing);

  await writeLastReport(dataDir, last);
  assert.deepEqual(await readLastReport(dataDir, 'big'), last);
  const size = (await stat(lastReportFile(dataDir, 'big'))).size;
  assert.ok(size < 1_000_000, `${size} bytes for 3,000 items`);
});

test('a check that could not be done: its error is the last report, with nothing counted', async () => {
  const failed = buildFailedReport({
    folderId: 'photos',
    startedAt: new Date('2026-12-01T12:00:00Z'),
    finishedAt: new Date('2026-12-01T12:00:05Z'),
    source: { name: null, deviceId: null, location: null, scan: null },
    backup: { name: 'nas', deviceId: null, location: '/srv/photos', scan: null },
    error: { code: 'E_NO_SOURCE', message: 'the source of "photos" was not found', hint: 'start its agent' },
  });
  const last = lastReportOf(failed, summarizeReport(failed, 'scheduled-check'), 'scheduled-check');
  assert.deepEqual(
    { status: last.status, differences: last.differences, bytesMissing: last.bytesMissing, categories: last.categories, error: last.error },
    {
      status: 'error',
      differences: null,
      bytesMissing: null,
      categories: [],
      error: { code: 'E_NO_SOURCE', message: 'the source of "photos" was not found', hint: 'start its agent' },
    },
  );
});

test('no last report yet is null; a damaged or foreign one is a typed error', async (t) => {
  const dataDir = await tempDir(t);
  assert.equal(await readLastReport(dataDir, 'photos'), null);
  const target = lastReportFile(dataDir, 'photos');
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, '{"version":1,"folder":"photos","at":"2026-12-01T1');
  await assert.rejects(readLastReport(dataDir, 'photos'), { code: 'E_LAST_REPORT_DAMAGED', file: target });
  const report = await reportOf([file('a', 'a')], [file('a', 'a')], 'music');
  await writeLastReport(dataDir, lastReportOf(report, summarizeReport(report, 'manual-check'), 'manual-check'));
  await writeFile(target, await readFile(lastReportFile(dataDir, 'music')));
  await assert.rejects(readLastReport(dataDir, 'photos'), { code: 'E_LAST_REPORT_DAMAGED' }, "another folder's report is not this one's");
  await mkdir(lastReportFile(dataDir, 'docs'));
  await assert.rejects(readLastReport(dataDir, 'docs'), { code: 'E_LAST_REPORT_READ' });
});

test('names are kept exactly as they are (whoever shows one escapes it); a moved file says where the backup has it', async () => {
  const hostile = 'sub/a\u001b[31mred\u202egpj.exe<img src=x onerror=alert(1)>';
  const report = await reportOf(
    [file(hostile, 'h'), file('albums/1.jpg', 'one'), file('albums/2.jpg', 'two')],
    [file('album/1.jpg', 'one'), file('album/2.jpg', 'two')],
    'photos',
  );
  const last = lastReportOf(report, summarizeReport(report, 'manual-check'), 'manual-check');
  assert.deepEqual(
    last.categories.flatMap((c) => c.items.map((i) => ({ category: c.category, ...i }))),
    [
      { category: 'missing', path: hostile, kind: 'file', size: 1, detail: '1 B' },
      { category: 'moved', path: 'albums/1.jpg', kind: 'file', size: 3, detail: '3 B', otherPath: 'album/1.jpg' },
      { category: 'moved', path: 'albums/2.jpg', kind: 'file', size: 3, detail: '3 B', otherPath: 'album/2.jpg' },
    ],
  );
});

test('a scheduled sync that ended without a report: its error is the last report and a record of the sync', async (t) => {
  const dataDir = await tempDir(t);
  const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
  const schedule = startBackupSchedule({
    config: () => ({
      name: 'nas',
      folders: [{ id: 'photos', path: '/srv/photos', role: 'backup', shareWith: [], sync: true }],
      schedule: { check: '0 4 * * *', timezone: 'UTC', email: 'never' },
    }),
    dataDir,
    clock,
    tickMs: 3_600_000,
    runCheck: async () => {
      throw new CheckProcessError('the sync of photos ended without a report (signal SIGKILL)', 'Run synker sync photos by hand.');
    },
  });
  t.after(() => schedule.stop());
  await schedule.scheduler.tick(); // the folder is seen: its first check is at the next 04:00
  clock.set('2026-12-02T03:59:00Z');
  await schedule.scheduler.tick();
  clock.set('2026-12-02T04:03:00Z');
  await schedule.scheduler.tick();
  const { checks } = await readHistory(dataDir, 'photos', { now: clock.now() });
  assert.deepEqual(checks, [
    {
      at: '2026-12-02T04:03:00.000Z',
      status: 'error',
      differences: null,
      bytesMissing: null,
      by: 'scheduled-sync',
      error: 'E_CHECK_PROCESS',
    },
  ]);
  const last = (await readLastReport(dataDir, 'photos'))!;
  assert.deepEqual(
    { status: last.status, by: last.by, after: last.after, categories: last.categories, code: last.error?.code },
    { status: 'error', by: 'scheduled-sync', after: 'check', categories: [], code: 'E_CHECK_PROCESS' },
  );
  assert.equal(last.error?.hint, 'Run synker sync photos by hand.');
});
