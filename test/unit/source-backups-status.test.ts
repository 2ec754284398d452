/**
 * The verdict of one backup machine on a source folder (status.ts
 * backupStatus), what needs attention on a source (needsAttention), and the
 * line `synker status` prints for it: "photos: verified by nas 2 hours ago,
 * by office-pc 9 days ago (stale)".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backupsLine } from '../../src/cli/commands/status.js';
import { backupStatus, folderVerdict, needsAttention, type FolderStatus, type StatusReport } from '../../src/schedule/status.js';
import type { CheckResultSummary } from '../../src/schedule/state.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-12-07T12:00:00Z');
const STALE_AFTER = 3 * DAY;
const NAS = 'A'.repeat(56);
const OFFICE = 'B'.repeat(56);

function at(msAgo: number): string {
  return new Date(NOW - msAgo).toISOString();
}
const complete = (msAgo: number): CheckResultSummary => ({
  status: 'complete',
  at: at(msAgo),
  summary: 'complete',
  differences: 0,
  by: 'scheduled-check',
});
const missing = (msAgo: number): CheckResultSummary => ({
  status: 'differences',
  at: at(msAgo),
  summary: '12 files missing (340 MiB)',
  differences: 12,
  by: 'scheduled-check',
});
const failed = (msAgo: number): CheckResultSummary => ({
  status: 'error',
  at: at(msAgo),
  summary: 'cannot read the backup',
  by: 'scheduled-check',
});

test("one backup's verdict: complete, incomplete, failed since, stale past staleAfter, not verified", () => {
  const verdict = (told: Parameters<typeof backupStatus>[2]) => backupStatus(NAS, 'nas', told, STALE_AFTER, NOW);
  assert.deepEqual(verdict({ firstToldAt: at(5 * DAY), lastVerified: complete(2 * HOUR), lastAttempt: complete(2 * HOUR) }), {
    device: { id: `${'AAAAAAA-'.repeat(7)}AAAAAAA`, name: 'nas' },
    lastVerified: complete(2 * HOUR),
    lastAttempt: complete(2 * HOUR),
    lastCompleteAt: at(2 * HOUR),
    notCompleteSince: null,
    stale: false,
    verdict: 'complete',
  });
  assert.equal(verdict({ firstToldAt: at(5 * DAY), lastVerified: missing(HOUR) }).verdict, 'incomplete');
  const old = verdict({ firstToldAt: at(20 * DAY), lastVerified: complete(9 * DAY) });
  assert.deepEqual([old.stale, old.verdict], [true, 'stale']);
  assert.equal(
    verdict({ firstToldAt: at(20 * DAY), lastVerified: complete(STALE_AFTER) }).stale,
    false,
    'exactly staleAfter is not past it',
  );
  assert.equal(
    verdict({ firstToldAt: at(5 * DAY), lastVerified: complete(2 * DAY), lastAttempt: failed(HOUR) }).verdict,
    'failed',
    'a failed attempt after the last verification',
  );
  assert.equal(
    verdict({ firstToldAt: at(5 * DAY), lastVerified: complete(HOUR), lastAttempt: failed(2 * HOUR) }).verdict,
    'complete',
    'a verification after the failed attempt answers for it',
  );
  assert.equal(verdict({ firstToldAt: at(HOUR), lastAttempt: failed(HOUR) }).verdict, 'failed');
  const neverVerified = verdict({ firstToldAt: at(4 * DAY), lastAttempt: failed(HOUR) });
  assert.deepEqual([neverVerified.stale, neverVerified.verdict], [true, 'stale'], 'only failures since it first reported, past staleAfter');
});

function source(backups: FolderStatus['backups']): FolderStatus {
  const status: Omit<FolderStatus, 'verdict'> = {
    id: 'photos',
    role: 'source',
    path: '/p',
    peers: ['nas', 'office-pc'],
    lastCheck: null,
    lastVerified: null,
    lastRun: null,
    lastCompleteAt: null,
    notCompleteSince: null,
    nextCheck: null,
    overdue: false,
    staleAlertAt: null,
    problem: null,
    backups,
  };
  return { ...status, verdict: folderVerdict(status) };
}

test('a stale or incomplete backup of a source folder needs attention; a fresh complete one, or none yet, does not', () => {
  const report = (f: FolderStatus): StatusReport => ({
    folders: [f],
    outbox: { waiting: 0, oldest: null, damaged: 0 },
    schedule: { check: '17 3 * * *', timezone: null, email: 'on-difference' },
  });
  const nas = backupStatus(NAS, 'nas', { firstToldAt: at(5 * DAY), lastVerified: complete(2 * HOUR) }, STALE_AFTER, NOW);
  const office = backupStatus(OFFICE, 'office-pc', { firstToldAt: at(20 * DAY), lastVerified: complete(9 * DAY) }, STALE_AFTER, NOW);
  const officeMissing = backupStatus(OFFICE, 'office-pc', { firstToldAt: at(20 * DAY), lastVerified: missing(HOUR) }, STALE_AFTER, NOW);
  assert.equal(needsAttention(report(source([]))), false);
  assert.equal(needsAttention(report(source([nas]))), false);
  assert.equal(needsAttention(report(source([nas, office]))), true);
  assert.equal(needsAttention(report(source([nas, officeMissing]))), true);

  // One line per backup machine under the folder's verdict (the worst of theirs), never one anonymous line.
  assert.equal(
    backupsLine(source([nas, office]), NOW),
    [
      'photos: stale (the worst of its 2 backups)',
      '  nas: complete, verified 2 hours ago',
      '  office-pc: stale: not verified for 9 days (complete, verified 9 days ago)',
    ].join('\n'),
  );
  assert.equal(
    backupsLine(source([officeMissing]), NOW),
    [
      'photos: incomplete',
      '  office-pc: 12 files missing (340 MiB), verified 1 hour ago; not verified complete since 2026-12-07 11:00 UTC, never complete',
      '  the list of files is kept on the backup: run synker check photos on office-pc, or open its page (synker ui there)',
    ].join('\n'),
  );
  assert.equal(backupsLine(source([]), NOW), 'photos: no backup has reported a check to this machine yet');
  const never = backupStatus(NAS, 'nas', { firstToldAt: at(HOUR), lastAttempt: failed(HOUR) }, STALE_AFTER, NOW);
  assert.equal(needsAttention(report(source([never]))), true, 'a backup whose last check failed: exit 1, as its verdict says');
  assert.equal(
    backupsLine(source([office, never]), NOW),
    [
      'photos: stale (the worst of its 2 backups)',
      '  office-pc: stale: not verified for 9 days (complete, verified 9 days ago)',
      '  nas: failed: cannot read the backup (1 hour ago); not verified complete since 2026-12-07 11:00 UTC, never complete',
    ].join('\n'),
  );
  // Since when, kept as runs are told (state.ts noteRun): "not verified complete since …, last complete 3 days ago".
  const officeSince = backupStatus(
    OFFICE,
    'office-pc',
    { firstToldAt: at(20 * DAY), lastVerified: missing(HOUR), lastCompleteAt: at(3 * DAY), notCompleteSince: at(2 * HOUR) },
    STALE_AFTER,
    NOW,
  );
  assert.deepEqual([officeSince.lastCompleteAt, officeSince.notCompleteSince], [at(3 * DAY), at(2 * HOUR)]);
  assert.match(
    backupsLine(source([officeSince]), NOW),
    /office-pc: 12 files missing \(340 MiB\), verified 1 hour ago; not verified complete since 2026-12-07 10:00 UTC, last complete 3 days ago/,
  );
  // Names and summaries a backup sent are escaped for the terminal.
  const hostile = backupStatus(
    NAS,
    'n\u001b[2Jas',
    { firstToldAt: at(HOUR), lastVerified: { ...missing(HOUR), summary: 'x\u202ey' } },
    STALE_AFTER,
    NOW,
  );
  assert.doesNotMatch(backupsLine(source([hostile]), NOW), /[\u001b\u202e]/);
});
