/**
 * A folder's check history (schedule/history.ts): kept 90 days and at most
 * 10,000 records, pruned as it is written but not rewritten per check; a
 * torn last line (a crash mid-write) is skipped and never swallows the next
 * record; damaged lines are skipped, counted and, at the next prune, kept
 * aside; a file that cannot be read is a typed error. The feed of ended
 * checks (history-feed.ts) hears appends from this process and from the file
 * system, once each, and never replays a pruned file.
 */
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import {
  HISTORY_MAX_RECORDS,
  HISTORY_READ_MAX_BYTES,
  appendHistory,
  historyFile,
  historyRecordOf,
  readHistory,
  type HistoryRecord,
} from '../../src/schedule/history.js';
import { HistoryFeed, type CheckEnded } from '../../src/schedule/history-feed.js';
import { tempDir } from '../harness/tmp.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const DAY = 86_400_000;

function record(at: number, extra: Partial<HistoryRecord> = {}): HistoryRecord {
  return { at: new Date(at).toISOString(), status: 'complete', differences: 0, bytesMissing: 0, by: 'scheduled-check', ...extra };
}

function lines(records: HistoryRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

async function lineCount(file: string): Promise<number> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '').length;
}

test('records older than 90 days are pruned as the history is written, and readers see only the days asked for', async (t) => {
  const dataDir = await tempDir(t);
  const file = historyFile(dataDir, 'photos');
  await mkdir(path.dirname(file), { recursive: true });
  // One a day for 100 days, the oldest first.
  await writeFile(file, lines(Array.from({ length: 100 }, (_, i) => record(NOW - (100 - i) * DAY))));
  await appendHistory(dataDir, 'photos', record(NOW), NOW);
  const kept = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as HistoryRecord);
  assert.equal(kept.length, 91, '90 days back (the one exactly 90 days old stays) and the new one');
  assert.ok(kept.every((r) => Date.parse(r.at) >= NOW - 90 * DAY));
  assert.equal(kept.at(-1)!.at, new Date(NOW).toISOString());

  const week = await readHistory(dataDir, 'photos', { days: 7, now: NOW });
  assert.equal(week.checks.length, 8);
  assert.deepEqual(
    week.checks.map((r) => r.at),
    [...week.checks.map((r) => r.at)].sort(),
    'oldest first',
  );
  assert.equal((await readHistory(dataDir, 'photos', { days: 365, now: NOW })).checks.length, 91, 'never more than 90 days');
});

test('an old record a few hours past 90 days waits for the daily prune: the file is not rewritten by every check', async (t) => {
  const dataDir = await tempDir(t);
  const file = historyFile(dataDir, 'photos');
  await appendHistory(dataDir, 'photos', record(NOW - 90 * DAY - 3_600_000), NOW - 90 * DAY);
  const { ino } = await stat(file);
  await appendHistory(dataDir, 'photos', record(NOW), NOW);
  assert.equal((await stat(file)).ino, ino, 'appended in place');
  assert.equal(await lineCount(file), 2);
  assert.equal((await readHistory(dataDir, 'photos', { now: NOW })).checks.length, 1, 'readers leave it out already');
  await appendHistory(dataDir, 'photos', record(NOW + DAY), NOW + DAY);
  assert.equal(await lineCount(file), 2, 'a day later it went');
});

test('at most 10,000 records stay, the oldest dropped; a check a minute for 90 days keeps the file under 2 MB', async (t) => {
  const dataDir = await tempDir(t);
  const file = historyFile(dataDir, 'photos');
  const start = NOW - 10 * DAY;
  // Records alike in size, as a folder's are.
  const one = (at: number): HistoryRecord => record(at, { status: 'differences', differences: 12, bytesMissing: 123_456 });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, lines(Array.from({ length: HISTORY_MAX_RECORDS }, (_, i) => one(start + i * 60_000))));
  const { ino } = await stat(file);
  // A few hundred more, one a minute: appended in place, no rewrite yet.
  let at = start + HISTORY_MAX_RECORDS * 60_000;
  for (let i = 0; i < 300; i++, at += 60_000) await appendHistory(dataDir, 'photos', one(at), at);
  assert.equal((await stat(file)).ino, ino);
  assert.equal(await lineCount(file), HISTORY_MAX_RECORDS + 300);
  // Readers never get more than the cap, the newest.
  const read = await readHistory(dataDir, 'photos', { now: at });
  assert.equal(read.checks.length, HISTORY_MAX_RECORDS);
  assert.equal(read.checks.at(-1)!.at, new Date(at - 60_000).toISOString());
  // 700 more (as another writer would add them), then the appends that pass the slack of 10 %: pruned to the cap.
  const more: HistoryRecord[] = [];
  for (let i = 0; i < 700; i++, at += 60_000) more.push(one(at));
  await appendFile(file, lines(more));
  let appended = 0;
  for (; appended < 20 && (await stat(file)).ino === ino; appended++, at += 60_000) await appendHistory(dataDir, 'photos', one(at), at);
  assert.ok(appended >= 1 && appended < 20, `pruned after ${appended} more`);
  assert.notEqual((await stat(file)).ino, ino, 'pruned');
  assert.equal(await lineCount(file), HISTORY_MAX_RECORDS);
  const after = await readHistory(dataDir, 'photos', { now: at });
  assert.equal(after.checks.at(-1)!.at, new Date(at - 60_000).toISOString(), 'the newest stays');
  assert.ok((await stat(file)).size < 2_000_000, `${(await stat(file)).size} bytes`);
});

test('a torn last line (a crash mid-write) is skipped, and the next record is not lost in it', async (t) => {
  const dataDir = await tempDir(t);
  const file = historyFile(dataDir, 'photos');
  await appendHistory(dataDir, 'photos', record(NOW - 2000), NOW);
  await appendFile(file, '{"at":"2026-12-01T11:59:59.000Z","status":"compl');
  const torn = await readHistory(dataDir, 'photos', { now: NOW });
  assert.deepEqual({ checks: torn.checks.length, skipped: torn.skipped }, { checks: 1, skipped: 1 });
  await appendHistory(dataDir, 'photos', record(NOW, { status: 'differences', differences: 3, bytesMissing: 42 }), NOW);
  const read = await readHistory(dataDir, 'photos', { now: NOW });
  assert.equal(read.checks.length, 2, 'the record after the torn line reads whole');
  assert.deepEqual(read.checks[1], record(NOW, { status: 'differences', differences: 3, bytesMissing: 42 }));
  assert.equal(read.skipped, 1);
});

test('a damaged history: bad lines are skipped and counted, kept aside at the next prune; a folder in its place is a typed error', async (t) => {
  const dataDir = await tempDir(t);
  const file = historyFile(dataDir, 'photos');
  await mkdir(path.dirname(file), { recursive: true });
  const garbage =
    '\u0000\u0001binary\uFFFD\n[1,2,3]\n{"at":"yesterday","status":"complete","differences":0,"bytesMissing":0,"by":"x"}\nnull\n';
  await writeFile(file, `${garbage}${lines([record(NOW - 1000)])}{"at":${'9'.repeat(400)}}\n`);
  const read = await readHistory(dataDir, 'photos', { now: NOW });
  assert.deepEqual({ checks: read.checks.length, skipped: read.skipped }, { checks: 1, skipped: 5 });
  // The first line is bad, so the next append prunes: the good records stay, the file as it was is kept aside.
  const before = await readFile(file, 'utf8');
  await appendHistory(dataDir, 'photos', record(NOW), NOW);
  assert.equal(await readFile(`${file}.damaged`, 'utf8'), `${before}${JSON.stringify(record(NOW))}\n`);
  assert.deepEqual(await readHistory(dataDir, 'photos', { now: NOW }), { checks: [record(NOW - 1000), record(NOW)], skipped: 0 });

  const other = historyFile(dataDir, 'music');
  await mkdir(other);
  await assert.rejects(readHistory(dataDir, 'music'), { code: 'E_HISTORY_READ', file: other });
  await assert.rejects(appendHistory(dataDir, 'music', record(NOW), NOW), { code: 'E_HISTORY_WRITE', file: other });
  assert.throws(() => historyFile(dataDir, '../escape'), TypeError);
});

test('a file bigger than any history (damage): its records at the tail are read, the feed starts, the next append moves it aside', async (t) => {
  const dataDir = await tempDir(t);
  const file = historyFile(dataDir, 'photos');
  await mkdir(path.dirname(file), { recursive: true });
  const junk = `${'x'.repeat(1023)}\n`.repeat(Math.ceil(HISTORY_READ_MAX_BYTES / 1024) + 10);
  const tail = [record(NOW - 3000), record(NOW - 2000)];
  await writeFile(file, junk + lines(tail));
  const read = await readHistory(dataDir, 'photos', { now: NOW });
  assert.deepEqual(read.checks, tail);
  assert.ok(read.skipped > 1000, `${read.skipped}: the junk lines read, and the head left out`);
  const feed = await HistoryFeed.start(dataDir, { pollMs: 60_000 });
  t.after(() => feed.close());
  const heard = next(feed, 1);
  await appendHistory(dataDir, 'photos', record(NOW), NOW);
  assert.equal((await heard)[0]!.at, new Date(NOW).toISOString(), 'the feed read the tail only');
  assert.deepEqual(await readHistory(dataDir, 'photos', { now: NOW }), { checks: [...tail, record(NOW)], skipped: 0 });
  assert.equal((await stat(`${file}.damaged`)).size, Buffer.byteLength(junk + lines([...tail, record(NOW)])));
});

test('a record says what the summary says; a failed run has no counts rather than zeros', () => {
  assert.deepEqual(
    historyRecordOf(
      {
        status: 'differences',
        at: '2026-12-01T12:00:00.000Z',
        summary: '2 files missing',
        differences: 2,
        bytesMissing: 10,
        by: 'manual-sync',
        fixed: 4,
      },
      { durationMs: 1500 },
    ),
    {
      at: '2026-12-01T12:00:00.000Z',
      status: 'differences',
      differences: 2,
      bytesMissing: 10,
      fixed: 4,
      by: 'manual-sync',
      durationMs: 1500,
    },
  );
  assert.deepEqual(
    historyRecordOf(
      { status: 'error', at: '2026-12-01T12:00:00.000Z', summary: 'unreachable', error: { code: 'E_NO_SOURCE', message: 'm' } },
      { by: 'scheduled-sync' },
    ),
    { at: '2026-12-01T12:00:00.000Z', status: 'error', differences: null, bytesMissing: null, by: 'scheduled-sync', error: 'E_NO_SOURCE' },
  );
});

/** The next `n` events of the feed. */
function next(feed: HistoryFeed, n: number): Promise<CheckEnded[]> {
  return new Promise((resolve) => {
    const got: CheckEnded[] = [];
    const stop = feed.subscribe((e) => {
      got.push(e);
      if (got.length === n) {
        stop();
        resolve(got);
      }
    });
  });
}

test('the feed of ended checks: appends in this process and by others (through the file system), once each, never older ones', async (t) => {
  const dataDir = await tempDir(t);
  await appendHistory(dataDir, 'photos', record(NOW - 5000), NOW);
  const feed = await HistoryFeed.start(dataDir, { pollMs: 60_000 });
  t.after(() => feed.close());
  const all: CheckEnded[] = [];
  feed.subscribe((e) => all.push(e));

  // In this process.
  let events = next(feed, 1);
  await appendHistory(dataDir, 'photos', record(NOW - 4000, { status: 'differences', differences: 2, bytesMissing: 9 }), NOW);
  assert.deepEqual(
    (await events).map((e) => [e.folder, e.status, e.at, e.record.differences]),
    [['photos', 'differences', new Date(NOW - 4000).toISOString(), 2]],
  );

  // Another process appends (written here the way it writes: a line, through the file system only); a new folder too.
  events = next(feed, 2);
  await appendFile(historyFile(dataDir, 'photos'), lines([record(NOW - 3000, { status: 'error', differences: null, bytesMissing: null })]));
  await writeFile(historyFile(dataDir, 'music'), lines([record(NOW - 2500, { by: 'manual-check' })]));
  assert.deepEqual((await events).map((e) => `${e.folder} ${e.status}`).sort(), ['music complete', 'photos error']);

  // A line still being written waits until it is whole.
  events = next(feed, 1);
  const line = JSON.stringify(record(NOW - 2000));
  await appendFile(historyFile(dataDir, 'photos'), line.slice(0, 20));
  await appendFile(historyFile(dataDir, 'photos'), `${line.slice(20)}\n`);
  assert.equal((await events)[0]!.at, new Date(NOW - 2000).toISOString());

  // A prune replaces the file: what was heard before is not heard again, the new record is.
  events = next(feed, 1);
  await appendHistory(dataDir, 'photos', record(NOW + 91 * DAY), NOW + 91 * DAY + 1);
  assert.equal((await events)[0]!.at, new Date(NOW + 91 * DAY).toISOString());
  assert.equal(await lineCount(historyFile(dataDir, 'photos')), 1, 'pruned');
  await feed.settled();
  assert.deepEqual(
    all.map((e) => `${e.folder} ${e.at}`),
    [
      `photos ${new Date(NOW - 4000).toISOString()}`,
      ...all.slice(1, 3).map((e) => `${e.folder} ${e.at}`),
      `photos ${new Date(NOW - 2000).toISOString()}`,
      `photos ${new Date(NOW + 91 * DAY).toISOString()}`,
    ],
    'each once; the record from before the feed started never',
  );
  assert.equal(all.length, 5);
});

test('the feed polls where the file system does not tell', async (t) => {
  const dataDir = await tempDir(t);
  const feed = await HistoryFeed.start(dataDir, { pollMs: 20 });
  t.after(() => feed.close());
  // Stop the watch, as on a file system that never reports: only the poll is left.
  (feed as unknown as { watcher?: { close(): void } }).watcher?.close();
  // The feed's timer does not hold a process open (the agent's server does): this test's own does.
  const alive = setInterval(() => {}, 60_000);
  t.after(() => clearInterval(alive));
  const events = next(feed, 1);
  await writeFile(historyFile(dataDir, 'photos'), lines([record(NOW)]));
  assert.equal((await events)[0]!.folder, 'photos');
});
