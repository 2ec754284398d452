/**
 * The names of a folder's files in the history folder (schedule/history.ts
 * historyName): two folder IDs differing only in case (`Photos`, `photos`:
 * two folders) must not share a file on Windows or macOS, whose file systems
 * take such names for one; a Windows device name (`con`) must not name a
 * file; files under the names before are renamed once, nothing lost. And a
 * rename that Windows refuses while another program holds the file is tried
 * again (base/atomic-file.ts renameRetrying).
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { renameRetrying } from '../../src/base/atomic-file.js';
import { historyDir } from '../../src/dirs/data-files.js';
import {
  appendHistory,
  folderOfHistoryName,
  historyFile,
  historyFileStat,
  historyName,
  readHistory,
  type HistoryRecord,
} from '../../src/schedule/history.js';
import { HistoryFeed } from '../../src/schedule/history-feed.js';
import { lastReportFile, readLastReport } from '../../src/schedule/last-report.js';
import { tempDir } from '../harness/tmp.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const record = (at: number, differences = 0): HistoryRecord => ({
  at: new Date(at).toISOString(),
  status: differences === 0 ? 'complete' : 'differences',
  differences,
  bytesMissing: 0,
  by: 'scheduled-check',
});
const lines = (records: HistoryRecord[]): string => records.map((r) => `${JSON.stringify(r)}\n`).join('');

const IDS = [
  'photos',
  'Photos',
  'PHOTOS',
  'pHotos',
  'p_hotos',
  'p_Hotos',
  'con',
  'CON',
  'nul.x',
  'Lpt1',
  'a',
  'A',
  'a_',
  'a__b',
  'A_B',
  '9-x.Y',
];
const DEVICES = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

test('folder IDs differing only in case get file names that differ in more than case, none a Windows device, each read back', () => {
  const names = IDS.map(historyName);
  assert.equal(new Set(names.map((n) => n.toLowerCase())).size, IDS.length, `names meet when case is ignored: ${names.join(' ')}`);
  for (const [i, name] of names.entries()) {
    assert.equal(name, name.toLowerCase(), `${name} holds no capital`);
    assert.ok(!DEVICES.test(name.split('.')[0]!), `${name} is not a device name on Windows`);
    assert.equal(folderOfHistoryName(name), IDS[i], `${name} stands for ${IDS[i]}`);
  }
  assert.equal(historyName('Photos'), '__photos');
  for (const other of ['photos', 'Photos', '_x_', '_X', '___a', '_a_-']) assert.equal(folderOfHistoryName(other), undefined, other);
  assert.throws(() => historyName('../x'), TypeError);
});

test('two folders whose IDs differ only in case keep two histories and two last reports', async (t) => {
  const dataDir = await tempDir(t);
  await appendHistory(dataDir, 'Photos', record(NOW - 1000, 3), NOW);
  await appendHistory(dataDir, 'photos', record(NOW), NOW);
  assert.deepEqual(
    (await readHistory(dataDir, 'Photos', { now: NOW })).checks.map((r) => r.differences),
    [3],
  );
  assert.deepEqual(
    (await readHistory(dataDir, 'photos', { now: NOW })).checks.map((r) => r.differences),
    [0],
  );
  const files = (await readdir(historyDir(dataDir))).sort();
  assert.deepEqual(files, ['__photos.jsonl', '_photos.jsonl']);
  assert.notEqual(lastReportFile(dataDir, 'Photos').toLowerCase(), lastReportFile(dataDir, 'photos').toLowerCase());
});

test('files under the names before (the ID itself) are renamed once at the first read, their records kept', async (t) => {
  const dataDir = await tempDir(t);
  const dir = historyDir(dataDir);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'Photos.jsonl'), lines([record(NOW - 2000, 2)]));
  await writeFile(path.join(dir, 'music.jsonl'), lines([record(NOW - 1500)]));
  await writeFile(path.join(dir, 'music.jsonl.damaged'), 'bad\n');
  const last = { api: 1 };
  await writeFile(path.join(dir, 'Photos.last-report.json'), JSON.stringify(last));
  // A new-named file already there (an older synker wrote the old one since): the old one is left alone.
  await writeFile(path.join(dir, 'docs.jsonl'), lines([record(NOW - 900, 9)]));
  await writeFile(historyFile(dataDir, 'docs'), lines([record(NOW - 800, 1)]));
  await writeFile(path.join(dir, 'notes.txt'), 'not ours');

  assert.deepEqual(
    (await readHistory(dataDir, 'Photos', { now: NOW })).checks.map((r) => r.differences),
    [2],
  );
  assert.deepEqual(
    (await readdir(dir)).sort(),
    [
      '__photos.jsonl',
      '__photos.last-report.json',
      '_docs.jsonl',
      '_music.jsonl',
      '_music.jsonl.damaged',
      'docs.jsonl',
      'notes.txt',
    ].sort(),
  );
  assert.equal((await readHistory(dataDir, 'music', { now: NOW })).checks.length, 1);
  assert.deepEqual(
    (await readHistory(dataDir, 'docs', { now: NOW })).checks.map((r) => r.differences),
    [1],
  );
  assert.equal(await readFile(path.join(dir, '_music.jsonl.damaged'), 'utf8'), 'bad\n');
  await assert.rejects(readLastReport(dataDir, 'Photos'), { code: 'E_LAST_REPORT_DAMAGED' }, 'the renamed last report is the one read');
});

test("the page's feed knows a folder by its new file name, capitals and all", async (t) => {
  const dataDir = await tempDir(t);
  const feed = await HistoryFeed.start(dataDir, { pollMs: 60_000 });
  t.after(() => feed.close());
  const heard: string[] = [];
  feed.subscribe((e) => heard.push(e.folder));
  // Written as another process would: the file system tells the feed (or its poll does).
  const file = historyFile(dataDir, 'My_Photos');
  const got = new Promise<void>((resolve) => feed.subscribe(() => resolve()));
  await writeFile(file, lines([record(NOW)]));
  await got;
  assert.deepEqual(heard, ['My_Photos']);
});

test('on Windows a rename refused while another program holds the file is tried again; elsewhere, and for other errors, never', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'a'), 'new');
  await writeFile(path.join(dir, 'b'), 'old');
  let refusals = 0;
  const heldTwice = async (from: string, to: string): Promise<void> => {
    if (refusals < 2) {
      refusals++;
      throw Object.assign(new Error('EBUSY: resource busy or locked, rename'), { code: refusals === 1 ? 'EBUSY' : 'EPERM' });
    }
    await rename(from, to);
  };
  await renameRetrying(path.join(dir, 'a'), path.join(dir, 'b'), 'win32', heldTwice);
  assert.equal(refusals, 2);
  assert.equal(await readFile(path.join(dir, 'b'), 'utf8'), 'new');

  let tries = 0;
  const alwaysBusy = async (): Promise<void> => {
    tries++;
    throw Object.assign(new Error('EPERM'), { code: 'EPERM' });
  };
  await assert.rejects(renameRetrying('x', 'y', 'linux', alwaysBusy), { code: 'EPERM' });
  assert.equal(tries, 1, 'EPERM is final on Linux and macOS');
  tries = 0;
  await assert.rejects(renameRetrying(path.join(dir, 'none'), path.join(dir, 'c'), 'win32'), { code: 'ENOENT' });
  await assert.rejects(renameRetrying('x', 'y', 'win32', alwaysBusy), { code: 'EPERM' });
  assert.equal(tries, 9, 'given up after 8 waits (some 1.5 s)');
});

test("the page's feed tells a history from the file a prune put in its place by the exact file identity, never a rounded one", async (t) => {
  const dataDir = await tempDir(t);
  await appendHistory(dataDir, 'photos', record(NOW), NOW);
  const st = await historyFileStat(historyFile(dataDir, 'photos'));
  assert.equal(typeof st?.ino, 'bigint');
  assert.equal(st?.ino, (await stat(historyFile(dataDir, 'photos'), { bigint: true })).ino);
  // Why: an NTFS file ID with a sequence number of 32 or more is past 2^53, where a double rounds
  // neighbouring IDs (the history and the file a prune wrote just after it) to one number.
  const id = (1n << 58n) + 5n;
  assert.equal(Number(id), Number(id + 1n), 'as numbers, two files');
  assert.notEqual(id, id + 1n, 'as bigints, two files');
});
