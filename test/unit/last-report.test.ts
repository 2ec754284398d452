/**
 * A folder's last report (schedule/last-report.ts): the report's categories
 * in its order, with their words, counts and bytes, at most 1,000 items each
 * with `more` saying how many were left out, suspicious ones first so the cut
 * never hides one; written atomically and read back; a damaged file is a
 * typed error, an absent one no report.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { buildFailedReport } from '../../src/report/model.js';
import { summarizeReport } from '../../src/schedule/check-process.js';
import { LAST_REPORT_ITEMS, lastReportFile, lastReportOf, readLastReport, writeLastReport } from '../../src/schedule/last-report.js';
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
  const summary = summarizeReport(report, 'manual');
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
  assert.deepEqual(last.categories[0]!.items[0], { path: 'missing/m000000', kind: 'file', size: 1, detail: '1 B' });
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
  const last = lastReportOf(failed, summarizeReport(failed), 'scheduled-check');
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
  await writeLastReport(dataDir, lastReportOf(report, summarizeReport(report), 'manual-check'));
  await writeFile(target, await readFile(lastReportFile(dataDir, 'music')));
  await assert.rejects(readLastReport(dataDir, 'photos'), { code: 'E_LAST_REPORT_DAMAGED' }, "another folder's report is not this one's");
  await mkdir(lastReportFile(dataDir, 'docs'));
  await assert.rejects(readLastReport(dataDir, 'docs'), { code: 'E_LAST_REPORT_READ' });
});
