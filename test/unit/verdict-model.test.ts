/**
 * The one verdict (report/model.ts verdictOf, docs/check.md "What complete
 * means"): the terminal, the dry run's headline, the JSON and the e-mail say
 * the same of the same differences; a file only on the backup is listed and
 * never fails; a rename counts its bytes once; after a sync the counts are
 * those it left.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffManifests, totalsByCategory } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { renderReportEmail } from '../../src/mail/report-email.js';
import { buildFailedReport, buildReport, verdictOf, type CheckReport, type SyncReport } from '../../src/report/model.js';
import { renderTerminal, verdictHeadline } from '../../src/report/terminal.js';
import { dir, file, stream } from '../harness/manifest.js';

const CTX = { now: new Date('2026-11-25T03:20:00Z'), timeZone: 'UTC', agentName: 'nas' };

async function reportOf(source: ManifestEntry[], backup: ManifestEntry[]): Promise<CheckReport> {
  const diff = await diffManifests(stream(source), stream(backup));
  const scan = { startedAt: '2026-01-15T10:00:00.000Z', finishedAt: '2026-01-15T10:00:01.000Z' };
  return buildReport({
    folderId: 'photos',
    startedAt: new Date('2026-01-15T10:00:00Z'),
    finishedAt: new Date('2026-01-15T10:00:02Z'),
    source: { name: 'laptop', deviceId: 'A'.repeat(56), location: '127.0.0.1:7780', scan },
    backup: { name: 'nas', deviceId: 'B'.repeat(56), location: '/srv/photos', scan },
    verify: false,
    sizeOnly: false,
    diff,
  });
}

const NOTHING_FIXED = {
  pulledFiles: 0,
  pulledBytes: 0,
  bytesReceived: 0,
  moved: 0,
  renames: 0,
  created: 0,
  metadataFixed: 0,
  deleted: 0,
  versions: [],
};

/** The report as a sync that left `left` would make it (sync/sync-report.ts builds the real one). */
function synced(report: CheckReport, left: CheckReport['differences'], keptExtras: number): CheckReport {
  const failing = left.filter((d) => d.failing);
  const remaining = {
    failing: failing.length,
    failingBytes: failing.reduce((n, d) => n + d.bytes, 0),
    byCategory: totalsByCategory(left),
    differences: left,
  };
  const sync: SyncReport = {
    dryRun: false,
    fixed: { ...NOTHING_FIXED, pulledFiles: 1, pulledBytes: 4 },
    stops: [],
    refused: [],
    keptExtras,
    failed: [],
    aborted: null,
    remaining,
    complete: failing.length === 0,
    backupTotals: null,
  };
  return { ...report, sync };
}

test('a file only on the backup is listed and does not fail: complete in the terminal, the JSON and the e-mail', async () => {
  const source = [file('a.jpg', 'alpha')];
  const report = await reportOf(source, [...source, file('leftover.tmp', 'left over')]);
  assert.equal(report.complete, true);
  assert.equal(report.exitCode, 0);
  assert.deepEqual(
    report.differences.map((d) => [d.category, d.failing]),
    [['extra', false]],
  );
  const v = verdictOf(report);
  assert.deepEqual([v.state, v.failing, v.failingBytes, v.differences, v.extras.count], ['complete', 0, 0, 1, 1]);
  const text = renderTerminal(report, { color: false, all: false });
  assert.equal(text.split('\n')[0], 'folder "photos": backup complete, 1 file verified; listed, not failing: 1 extra on backup');
  assert.match(text, /extra on backup +1 +9 B {2}\(does not fail\)/);
  assert.match(text, /Extra on backup \(1\) - listed, does not fail the check\n {2}leftover\.tmp/);
  const mail = renderReportEmail(report, CTX);
  assert.equal(mail.subject, 'Backup of photos on nas is complete');
  assert.match(mail.text, /Total failing +0 +0 B/);
});

test('a folder renamed with one file edited on the way counts its bytes once', async () => {
  const source = [dir('album2'), file('album2/1.jpg', 'one'), file('album2/2.jpg', 'two, edited')];
  const backup = [dir('album'), file('album/1.jpg', 'one'), file('album/2.jpg', 'two')];
  const report = await reportOf(source, backup);
  // The move (1.jpg went with the folder), the edited file missing under the new name, its old copy extra.
  assert.deepEqual(
    report.differences.map((d) => [d.category, d.path, d.bytes, d.failing]),
    [
      ['extra', 'album/2.jpg', 3, false],
      ['moved', 'album2', 3, true],
      ['missing', 'album2/2.jpg', 11, true],
    ],
  );
  // Failing bytes are the source folder's bytes, no more: the old copy is not counted again.
  assert.equal(report.summary.failingBytes, report.source.totals!.bytes);
  assert.equal(verdictOf(report).failingBytes, 14);
  const headline = 'folder "photos": backup INCOMPLETE: 2 differences (14 B); listed, not failing: 1 extra on backup';
  assert.equal(renderTerminal(report, { color: false, all: false }).split('\n')[0], headline);
  // A dry run's headline is the check's: the sync section of a dry run changes nothing.
  const dry = { ...synced(report, report.differences, 1), sync: { ...synced(report, report.differences, 1).sync!, dryRun: true } };
  assert.equal(verdictHeadline(dry, false), headline);
  const mail = renderReportEmail(report, CTX);
  assert.match(mail.text, /Total failing +2 +14 B/);
  assert.match(mail.html, /<strong>Total failing<\/strong>.*<strong>2<\/strong>.*<strong>14 B<\/strong>/s);
  assert.match(mail.subject, /: 1 file missing \(11 B\), 1 folder moved$/);
});

test('after a sync the verdict counts what is left: an extra kept is complete, whatever --delete was', async () => {
  const source = [file('a.jpg', 'alpha'), file('b.jpg', 'bravo')];
  const report = await reportOf(source, [file('a.jpg', 'alpha'), file('old.jpg', 'old!')]);
  assert.equal(verdictOf(report).state, 'incomplete');
  const extra = report.differences.filter((d) => d.category === 'extra');
  // Kept without --delete (keptExtras 1), or left by a --delete run that could not move it (keptExtras 0): the same answer.
  for (const keptExtras of [1, 0]) {
    const after = synced(report, extra, keptExtras);
    const v = verdictOf(after);
    assert.deepEqual([v.state, v.after, v.failing, v.extras.count], ['complete', 'sync', 0, 1]);
    const text = renderTerminal(after, { color: false, all: false });
    assert.equal(text.split('\n')[0], 'folder "photos": synced, backup complete; listed, not failing: 1 extra on backup');
    assert.match(text, /\nafter the sync: backup complete\n/);
  }
  // Something failing left: the headline counts it after the sync, not the check's 2.
  const missing = report.differences.filter((d) => d.category === 'missing');
  const partly = synced(report, [...missing, ...extra], 1);
  assert.equal(
    renderTerminal(partly, { color: false, all: false }).split('\n')[0],
    'folder "photos": synced, backup INCOMPLETE: 1 difference left (5 B); listed, not failing: 1 extra on backup',
  );
});

test('a check that could not be done is not verified', () => {
  const when = new Date('2026-01-15T10:00:00Z');
  const peer = { name: null, deviceId: null, location: null, scan: null };
  const report = buildFailedReport({
    folderId: 'photos',
    startedAt: when,
    finishedAt: when,
    source: peer,
    backup: peer,
    error: { code: 'E_SOURCE_UNREACHABLE', message: 'no source' },
  });
  assert.equal(verdictOf(report).state, 'not-verified');
});
