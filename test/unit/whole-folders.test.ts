/**
 * Whole folders (report/whole-folders.ts): a folder missing on the backup
 * with everything in it is one item in every list (terminal, e-mail, the
 * page's last report), the outermost such folder only; a folder the backup
 * has, or one with anything inside told otherwise, lists its files; the
 * root never is one; `--json` keeps every file and adds `wholeFolders`.
 * Reports are built the real way: hand-made manifests through the diff.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffManifests, type DiffOptions, type Difference } from '../../src/diff/index.js';
import { renderReportEmail } from '../../src/mail/report-email.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { buildReport, type CheckReport } from '../../src/report/model.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { listedDifferences, wholeFolders } from '../../src/report/whole-folders.js';
import { summarizeReport } from '../../src/schedule/check-process.js';
import { LAST_REPORT_ITEMS, lastReportOf } from '../../src/schedule/last-report.js';
import { renderKeptReportEmail } from '../../src/schedule/resend-report.js';
import { buildSyncReport } from '../../src/sync/sync-report.js';
import { dir, file, link, stream, unreadable } from '../harness/manifest.js';

const CTX = { now: new Date('2026-11-25T03:20:00Z'), timeZone: 'UTC', agentName: 'nas' };

async function reportOf(source: ManifestEntry[], backup: ManifestEntry[], options: DiffOptions = {}): Promise<CheckReport> {
  const diff = await diffManifests(stream(source), stream(backup), options);
  return buildReport({
    folderId: 'photos',
    startedAt: new Date('2026-01-15T10:00:00Z'),
    finishedAt: new Date('2026-01-15T10:00:02Z'),
    source: { name: 'laptop', deviceId: null, location: null, scan: null },
    backup: { name: 'nas', deviceId: null, location: null, scan: null },
    verify: false,
    sizeOnly: false,
    diff,
  });
}

/** A folder of `n` files of `size` bytes each (distinct contents: nothing pairs as a move). */
function folderOf(path: string, n: number, size = 10): ManifestEntry[] {
  return [dir(path), ...Array.from({ length: n }, (_, i) => file(`${path}/f${String(i).padStart(4, '0')}`, `${path} ${i}`, { size }))];
}

const terminal = (report: CheckReport, all = false) => renderTerminal(report, { color: false, all });

test('the outermost folder missing with everything in it is one item; its sub-folders are inside it, not items of their own', async () => {
  const source = [
    ...folderOf('albums', 2),
    ...folderOf('albums/2019', 3),
    ...folderOf('albums/2019/raw', 4),
    ...folderOf('albums/2020', 5),
    link('albums/2020/latest', 'f0000'),
    ...folderOf('docs', 1),
    file('docs/notes.txt', 'notes'),
    file('top.txt', 'top'),
  ];
  // The backup has docs/ with one file of it: docs/ is no whole folder, and lists what it lacks.
  const backup = [dir('docs'), file('docs/notes.txt', 'notes')];
  const report = await reportOf(source, backup);

  assert.deepEqual(report.wholeFolders, [
    { category: 'missing', path: 'albums', fileCount: 2 + 3 + 4 + 5, entries: 3 + 14 + 1, bytes: 140, failing: true },
  ]);
  // Every file is still a difference of its own: --json, the CSV and sync read them.
  assert.equal(report.differences.length, 1 + 18 + 1 + 1);
  assert.equal(report.summary.byCategory.missing.count, 21);

  const listed = listedDifferences(report.differences);
  assert.deepEqual(
    listed.map((d) => [d.path, d.wholeFolder !== undefined]),
    [
      ['albums', true],
      ['docs/f0000', false],
      ['top.txt', false],
    ],
  );
  const text = terminal(report);
  assert.match(text, /^folder "photos": backup INCOMPLETE: 21 differences \(/, 'the headline counts every difference');
  assert.match(
    text,
    /\nMissing on backup \(21\) - 1 whole folder, one line each \(--json lists every file\)\n {2}albums\/ {2}whole folder, 14 files, 140 B\n {2}docs\/f0000 {2}10 B\n {2}top\.txt {2}3 B\n/,
  );
  assert.doesNotMatch(text, /2019/, 'no sub-folder of a whole folder is listed');
});

test('a folder the backup has, with one file present, is no whole folder: its missing files are listed; a whole sub-folder inside it is one item', async () => {
  const source = [...folderOf('trip', 3), ...folderOf('trip/day1', 4)];
  const backup = [dir('trip'), file('trip/f0001', 'trip 1', { size: 10 })];
  const report = await reportOf(source, backup);
  assert.deepEqual(
    report.wholeFolders!.map((f) => [f.path, f.fileCount]),
    [['trip/day1', 4]],
  );
  const text = terminal(report);
  assert.match(text, /Missing on backup \(7\) - 1 whole folder, one line each/);
  // Grouped under their folder as before: the two missing files and the whole sub-folder.
  assert.match(text, /\n {2}trip\/\n {4}day1\/ {2}whole folder, 4 files, 40 B\n {4}f0000 {2}10 B\n {4}f0002 {2}10 B\n/);

  // The same folder missing altogether: one item.
  const gone = await reportOf(source, []);
  assert.deepEqual(
    gone.wholeFolders!.map((f) => [f.path, f.fileCount, f.entries]),
    [['trip', 7, 8]],
  );
});

test('the root is never a whole folder: a backup that lacks everything lists the files at its root one by one', async () => {
  const report = await reportOf([file('a.txt', 'a'), file('b.txt', 'b'), ...folderOf('pics', 2)], []);
  assert.deepEqual(
    listedDifferences(report.differences).map((d) => [d.path, d.wholeFolder !== undefined]),
    [
      ['a.txt', false],
      ['b.txt', false],
      ['pics', true],
    ],
  );
  // Even a record of the root itself, were one ever made, starts nothing.
  const root: Difference = {
    category: 'missing',
    path: '',
    source: { type: 'dir', size: 0, mtime: 0, mode: 0o755 },
    bytes: 0,
    failing: true,
  };
  const x: Difference = {
    category: 'missing',
    path: 'x',
    source: { type: 'file', size: 1, mtime: 0, mode: 0o644 },
    bytes: 1,
    failing: true,
  };
  assert.deepEqual(wholeFolders([root, x]), []);
});

test('a missing folder with no files is told as every missing folder is, on every list: "empty/  whole folder, empty"', async () => {
  // `onlyignored` holds only a file the source's .synkerignore leaves out: its scan lists the folder alone, as `empty`.
  const source = [dir('empty'), dir('onlyignored'), dir('withsub'), dir('withsub/inner'), ...folderOf('zfiles', 1)];
  const report = await reportOf(source, []);
  assert.deepEqual(
    report.wholeFolders!.map((f) => [f.path, f.fileCount, f.entries]),
    [
      ['empty', 0, 0],
      ['onlyignored', 0, 0],
      ['withsub', 0, 1],
      ['zfiles', 1, 1],
    ],
  );
  const text = terminal(report);
  assert.match(
    text,
    /\nMissing on backup \(6\) - 4 whole folders, one line each \(--json lists every file\)\n {2}empty\/ {2}whole folder, empty\n {2}onlyignored\/ {2}whole folder, empty\n {2}withsub\/ {2}whole folder, no files \(1 sub-folder or link\)\n {2}zfiles\/ {2}whole folder, 1 file, 10 B\n/,
  );
  assert.doesNotMatch(text, /withsub\/inner|entry/);
  const mail = renderReportEmail(report, CTX);
  assert.match(mail.text, /\n {2}empty\/ {2}\(whole folder, empty\)\n/);
  assert.match(mail.text, /\n {2}withsub\/ {2}\(whole folder, no files \(1 sub-folder or link\)\)\n/);
  const last = lastReportOf(report, summarizeReport(report, 'manual-check'), 'manual-check');
  assert.deepEqual(last.categories[0]!.items.slice(0, 3), [
    { path: 'empty', kind: 'dir', size: 0, files: 0, detail: 'whole folder, empty' },
    { path: 'onlyignored', kind: 'dir', size: 0, files: 0, detail: 'whole folder, empty' },
    { path: 'withsub', kind: 'dir', size: 0, files: 0, detail: 'whole folder, no files (1 sub-folder or link)' },
  ]);
});

test('anything inside told otherwise keeps the folder open: a file moved out, an unreadable entry, a name the backup cannot store', async () => {
  // moved: f0000's content is on the backup elsewhere; the sub-folder without it is still whole.
  const movedOut = await reportOf([...folderOf('old', 2), ...folderOf('old/inner', 2)], [file('f-moved', 'old 0', { size: 10 })]);
  assert.deepEqual(
    movedOut.wholeFolders!.map((f) => f.path),
    ['old/inner'],
  );
  const listed = listedDifferences(movedOut.differences).map((d) => `${d.category} ${d.path}`);
  assert.deepEqual(listed, ['missing old', 'moved old/f0000', 'missing old/f0001', 'missing old/inner']);

  const unread = await reportOf([...folderOf('u', 2), unreadable('u/locked')], []);
  assert.deepEqual(unread.wholeFolders, []);

  // A name a Windows backup cannot hold: a sync skips it, so it must be seen (check/unstorable.ts sets this).
  const report = await reportOf(folderOf('w', 3), []);
  report.differences[2]!.unstorable = '? is not allowed in Windows names';
  assert.deepEqual(wholeFolders(report.differences), []);
  assert.equal(listedDifferences(report.differences).length, 4);
});

test('a folder only on the backup is one item among the extras, not failing; in a mirror folder it fails, as its files do', async () => {
  const source = [file('keep.txt', 'k')];
  const backup = [file('keep.txt', 'k'), ...folderOf('old-stuff', 6), ...folderOf('old-stuff/deeper', 2)];
  const report = await reportOf(source, backup);
  assert.deepEqual(report.wholeFolders, [{ category: 'extra', path: 'old-stuff', fileCount: 8, entries: 9, bytes: 80, failing: false }]);
  const text = terminal(report);
  assert.match(
    text,
    /\nExtra on backup \(10\) - listed, does not fail the check; 1 whole folder, one line each \(--json lists every file\)\n {2}old-stuff\/ {2}whole folder, 8 files, 80 B\n/,
  );
  const mirror = await reportOf(source, backup, { extrasFail: true });
  assert.equal(mirror.wholeFolders![0]!.failing, true);
});

test('what the files say of which side changed is said of the folder when they all say it: a folder deleted from the backup', async () => {
  const source = folderOf('gone', 3);
  // All three files were verified on the backup before, as the source has them: their absence now is a deletion there.
  const records = new Map(source.filter((e) => e.type === 'file').map((e) => [e.path, { hash: e.hash!, size: e.size, mtime: e.mtime }]));
  const verified = (p: string) => records.get(p);
  const report = await reportOf(source, [], { verified });
  assert.match(terminal(report), /gone\/ {2}whole folder, 3 files, 30 B; deleted from the backup since last verified/);
  // One of them never verified: the folder says nothing of it (each file does, in --json).
  const mixed = await reportOf([...source, file('gone/new', 'n')], [], { verified });
  assert.match(terminal(mixed), /gone\/ {2}whole folder, 4 files, 31 B\n/);
  assert.deepEqual(
    mixed.differences.map((d) => d.changedOn),
    ['unknown', 'backup', 'backup', 'backup', 'unknown'],
  );
});

test('names with hostile characters: the whole folder line is escaped in the terminal, and in the e-mail text and HTML', async () => {
  const name = 'a\x1b[2J\u202eb\n\nfolder "photos": backup complete<img src=x onerror=alert(1)>';
  const report = await reportOf(folderOf(name, 3), []);
  assert.equal(report.wholeFolders![0]!.path, name, 'the JSON keeps the real name');
  for (const all of [false, true]) {
    const text = terminal(report, all);
    assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f\u202e]/, 'no control or bidi character but the line breaks');
    assert.doesNotMatch(text, /^folder "photos": backup complete/m, 'no forged line');
    assert.match(
      text,
      /\n {2}a\\u\{1b\}\[2J\\u\{202e\}b\\u\{a\}\\u\{a\}folder "photos": backup complete<img src=x onerror=alert\(1\)>\/ {2}whole folder, 3 files, 30 B\n/,
    );
  }
  const mail = renderReportEmail(report, CTX);
  assert.match(
    mail.text,
    /\n {2}a\\u\{1b\}\[2J\\u\{202e\}b\\u\{a\}\\u\{a\}folder "photos": backup complete<img src=x onerror=alert\(1\)>\/ {2}\(whole folder, 3 files, 30 B\)\n/,
  );
  assert.doesNotMatch(mail.html, /<img/);
  assert.match(
    mail.html,
    /a\\u\{1b\}\[2J\\u\{202e\}b\\u\{a\}\\u\{a\}folder &quot;photos&quot;: backup complete&lt;img src=x onerror=alert\(1\)&gt;\//,
  );
  const last = lastReportOf(report, summarizeReport(report, 'manual-check'), 'manual-check');
  assert.deepEqual(last.categories[0]!.items, [{ path: name, kind: 'dir', size: 30, files: 3, detail: 'whole folder, 3 files, 30 B' }]);
});

test('150 folders of 1,000 files missing: 150 lines in the terminal and the e-mail, 150 items in the last report, every file in --json', async () => {
  const source: ManifestEntry[] = [file('readme.txt', 'r')];
  for (let f = 0; f < 150; f++) source.push(...folderOf(`albums/${String(f).padStart(3, '0')}`, 1_000, 20));
  const report = await reportOf([dir('albums'), ...source], [dir('albums'), file('readme.txt', 'r')]);
  assert.equal(report.differences.length, 150 * 1_001);
  assert.equal(report.wholeFolders!.length, 150);
  assert.deepEqual(report.wholeFolders![0], {
    category: 'missing',
    path: 'albums/000',
    fileCount: 1_000,
    entries: 1_000,
    bytes: 20_000,
    failing: true,
  });

  const text = terminal(report);
  assert.match(
    text,
    /\nMissing on backup \(150,150\) - 150 whole folders, one line each \(--json lists every file\)\n {2}albums\/\n {4}000\/ {2}whole folder, 1,000 files, 20 KiB\n/,
  );
  assert.match(text, /\n {4}019\/ {2}whole folder, 1,000 files, 20 KiB\n {2}\.\.\. and 130 more \(use --all to list them\)\n/);
  const all = terminal(report, true);
  assert.equal(all.split('\n').filter((l) => l.includes('whole folder, 1,000 files')).length, 150);
  assert.doesNotMatch(all, /f0000/, 'no file of a whole folder is listed');

  // The e-mail lists the 150 folders and needs no attachment: nothing is left out.
  const mail = renderReportEmail(report, CTX);
  assert.equal(mail.text.split('\n').filter((l) => l.includes('(whole folder, 1,000 files, 20 KiB)')).length, 150);
  assert.match(mail.text, /Missing on backup \(150,150\): 150 whole folders, one line each\n/);
  assert.deepEqual(mail.attachments, []);

  // The page's last report: a whole folder counts as one item against the cap of 1,000.
  const last = lastReportOf(report, summarizeReport(report, 'manual-check'), 'manual-check');
  const missing = last.categories[0]!;
  assert.equal(missing.count, 150_150);
  assert.equal(missing.items.length, 150);
  assert.equal(missing.more, 0);
  assert.ok(missing.items.length < LAST_REPORT_ITEMS);
  assert.deepEqual(missing.items[149], {
    path: 'albums/149',
    kind: 'dir',
    size: 20_000,
    files: 1_000,
    detail: 'whole folder, 1,000 files, 20 KiB',
  });

  // "Send the report again" mails what the page keeps: the 150 folders, nothing said to be left out.
  const again = renderKeptReportEmail(last, CTX);
  assert.equal(again.text.split('\n').filter((l) => /^ {2}albums\/\d{3}\/ {2}whole folder, 1,000 files, 20 KiB$/.test(l)).length, 150);
  assert.doesNotMatch(again.text, /more|not listed here/);
  // Cut by its own budget of rows: what it leaves out is counted in items, a whole folder one.
  const many = lastReportOf(
    await reportOf(Array.from({ length: 400 }, (_, f) => folderOf(`many/${String(f).padStart(3, '0')}`, 2)).flat(), []),
    summarizeReport(report, 'manual-check'),
    'manual-check',
  );
  const cut = renderKeptReportEmail(many, CTX);
  assert.match(cut.text, /\n {2}and 100 more\n/);
  assert.match(cut.text, /\n100 items \(a folder missing with everything in it is one\) not listed here: /);

  // What a sync leaves says the same of what is left (here: it did nothing).
  const sync = buildSyncReport(report.differences, undefined);
  assert.equal(sync.remaining.wholeFolders!.length, 150);
  assert.equal(sync.remaining.differences.length, 150_150);
});

test('a deep tree is one pass: 2,000 nested folders missing are one item, and one file moved out of the deepest opens them all', async () => {
  const source: ManifestEntry[] = [];
  let p = 'd';
  for (let i = 0; i < 2_000; i++) {
    source.push(dir(p), file(`${p}/x`, `x${i}`));
    p = `${p}/d`;
  }
  const report = await reportOf(source, []);
  assert.deepEqual(
    report.wholeFolders!.map((f) => [f.path, f.fileCount, f.entries]),
    [['d', 2_000, 3_999]],
  );
  // The deepest file moved out to the root: no folder on its path is whole; each lists its file.
  const deepest = source[source.length - 1]!;
  const moved = await reportOf(source, [{ ...deepest, path: 'x-moved' }]);
  assert.deepEqual(moved.wholeFolders, []);
  assert.equal(listedDifferences(moved.differences).length, moved.differences.length);
});
