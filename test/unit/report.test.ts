import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffManifests, type DiffOptions } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { buildFailedReport, buildReport, CHECK_EXIT, REPORT_SCHEMA, REPORT_VERSION, type CheckReport } from '../../src/report/model.js';
import { renderJson, renderJsonLines } from '../../src/report/json.js';
import { renderTerminal, shouldUseColor } from '../../src/report/terminal.js';
import { fixedPhrase } from '../../src/report/words.js';
import { dir, file, link, sha, stream, T0 } from '../harness/manifest.js';

const SOURCE_ID = 'A'.repeat(56);
const BACKUP_ID = 'B'.repeat(56);

async function reportOf(source: ManifestEntry[], backup: ManifestEntry[], options: DiffOptions = {}): Promise<CheckReport> {
  const diff = await diffManifests(stream(source), stream(backup), options);
  const scan = { startedAt: '2026-01-15T10:00:00.000Z', finishedAt: '2026-01-15T10:00:01.000Z' };
  return buildReport({
    folderId: 'photos',
    startedAt: new Date('2026-01-15T10:00:00Z'),
    finishedAt: new Date('2026-01-15T10:00:02Z'),
    source: { name: 'laptop', deviceId: SOURCE_ID, location: '127.0.0.1:22000', scan },
    backup: { name: 'nas', deviceId: BACKUP_ID, location: '/srv/backup/photos', scan },
    verify: false,
    sizeOnly: false,
    diff,
  });
}

const tree = [dir('a'), file('a/1', 'one'), file('a/2', 'two'), file('a/3', 'three'), file('b', 'bee')];

test('a complete backup: exit 0, complete, and metadata-only differences do not fail', async () => {
  const same = await reportOf(tree, tree);
  assert.equal(same.complete, true);
  assert.equal(same.exitCode, CHECK_EXIT.complete);
  const touched = await reportOf(
    tree,
    tree.map((e) => (e.path === 'b' ? { ...e, mtime: T0 + 90_000 } : e)),
  );
  assert.equal(touched.exitCode, CHECK_EXIT.complete);
  assert.equal(touched.summary.differences, 1);
  assert.equal(touched.summary.failing, 0);
  assert.match(
    renderTerminal(touched, { color: false, all: false }),
    /backup complete, 4 files verified; listed, not failing: 1 notice: metadata or names only$/m,
  );
});

test('differences: exit 1 with totals per category, and the model names both peers', async () => {
  const report = await reportOf(tree, [dir('a'), file('a/1', 'ONE'), file('a/3', 'three'), file('c', 'new!')]);
  assert.equal(report.schema, REPORT_SCHEMA);
  assert.equal(report.version, REPORT_VERSION);
  assert.equal(report.exitCode, CHECK_EXIT.differences);
  assert.equal(report.complete, false);
  assert.deepEqual(report.summary.byCategory.missing, { count: 2, bytes: 6 });
  assert.deepEqual(report.summary.byCategory.extra, { count: 1, bytes: 4 });
  assert.deepEqual(report.summary.byCategory.content, { count: 1, bytes: 3 });
  // The extra file is listed and does not fail: 2 missing (6 B) and 1 content (3 B).
  assert.equal(report.summary.failing, 3);
  assert.equal(report.summary.failingBytes, 9);
  assert.equal(report.source.deviceId, SOURCE_ID);
  assert.equal(report.backup.name, 'nas');
  assert.equal(report.source.totals!.files, 4);
  assert.equal(report.settings!.mtimeToleranceReason, 'auto-exact');
});

test('the terminal report puts the summary first, groups by category and folder, and cuts long lists', async () => {
  const many = Array.from({ length: 30 }, (_, i) => file(`big/f${String(i).padStart(2, '0')}`, `content ${i}`));
  const report = await reportOf([dir('big'), ...many, file('x', 'x'), file('y', 'same')], [dir('big'), file('x', 'X'), file('z', 'same')]);
  const text = renderTerminal(report, { color: false, all: false });
  const lines = text.split('\n');
  assert.match(lines[0]!, /^folder "photos": backup INCOMPLETE: 32 differences/);
  assert.match(lines[1]!, /source {2}laptop \(AAAAAAA\) 127\.0\.0\.1:22000: 32 files/);
  assert.match(lines[2]!, /backup {2}nas \(BBBBBBB\)/);
  assert.ok(text.indexOf('missing on backup') < text.indexOf('Missing on backup (30)'), 'summary before the lists');
  assert.match(text, /Missing on backup \(30\)\n {2}big\/\n {4}f00 {2}9 B\n/);
  assert.match(text, /\.\.\. and 10 more \(use --all to list them\)/);
  assert.match(text, /Moved or renamed \(1\)\n {2}z -> y {2}4 B/);
  assert.match(text, /Content differs \(1\)\n {2}x {2}same size \(1 B\), different content/);
  assert.doesNotMatch(text, /\x1b\[/, 'no colour when not asked');
  const all = renderTerminal(report, { color: false, all: true });
  assert.match(all, /f29/);
  assert.doesNotMatch(all, /more \(use --all/);
  assert.match(renderTerminal(report, { color: true, all: false }), /\x1b\[31m/);
});

test('colour only on a terminal, and never with NO_COLOR', () => {
  assert.equal(shouldUseColor({ isTTY: true }, {}), true);
  assert.equal(shouldUseColor({ isTTY: false }, {}), false);
  assert.equal(shouldUseColor({}, {}), false);
  assert.equal(shouldUseColor({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(shouldUseColor({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count (no-color.org)');
});

test('the suspicious source change stands out in the terminal report', async () => {
  const verified = { hash: sha('abc'), size: 3, mtime: T0 };
  const report = await reportOf([file('doc', 'abd')], [file('doc', 'abc')], { verified: () => verified });
  assert.equal(report.differences[0]!.changedOn, 'source-suspicious');
  assert.match(
    renderTerminal(report, { color: false, all: false }),
    /! doc {2}same size \(3 B\), different content; SUSPICIOUS: changed on source with size and mtime unchanged/,
  );
});

test('JSON is the model itself: parses back to the same report, one line per report', async () => {
  const report = await reportOf(tree, [file('b', 'bee')]);
  const json = renderJson(report);
  assert.deepEqual(JSON.parse(json), report);
  assert.equal(json.split('\n').length, 2);
  const lines = renderJsonLines([report, report]).trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.equal((JSON.parse(lines[1]!) as CheckReport).folderId, 'photos');
});

test('a check that could not be done is a report too: exit 2 with the error and what to do', () => {
  const report = buildFailedReport({
    folderId: 'photos',
    startedAt: new Date(),
    finishedAt: new Date(),
    source: { name: null, deviceId: null, location: '127.0.0.1:1', scan: null },
    backup: { name: 'nas', deviceId: BACKUP_ID, location: '/srv/backup/photos', scan: null },
    error: { code: 'E_PEER_UNREACHABLE', message: 'cannot reach the source at 127.0.0.1:1', hint: 'start synker agent on the source' },
  });
  assert.equal(report.exitCode, CHECK_EXIT.error);
  assert.equal(report.complete, false);
  const text = renderTerminal(report, { color: false, all: false });
  assert.match(text, /CHECK FAILED/);
  assert.match(text, /error: cannot reach the source/);
  assert.match(text, /hint: start synker agent on the source/);
});

test('a sync that fixed nothing says whether nothing needed fixing or nothing could be fixed', () => {
  const fixed = {
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
  const clean = { fixed, stops: [], aborted: null, failed: [], complete: true };
  assert.equal(fixedPhrase(clean), 'nothing needed fixing');
  assert.equal(
    fixedPhrase({ ...clean, complete: false, aborted: { code: 'E_SYNC_DISK_FULL', message: 'full', hint: null } }),
    'nothing was fixed',
  );
  assert.equal(fixedPhrase({ ...clean, complete: false, failed: [{ path: 'a', code: 'EACCES', message: 'denied' }] }), 'nothing was fixed');
  assert.equal(fixedPhrase({ ...clean, complete: false, stops: [{ guard: 'max-delete', message: 'm', hint: 'h' }] }), 'nothing was fixed');
  assert.equal(fixedPhrase({ ...clean, fixed: { ...fixed, pulledFiles: 2, pulledBytes: 2048 } }), '2 files copied (2.0 KiB)');
  assert.equal(
    fixedPhrase({ ...clean, fixed: { ...fixed, moved: 3, renames: 3, emptiedFolders: 1 } }),
    '3 renamed, 1 emptied folder removed',
  );
});

test('names and link targets are escaped in the terminal report, so a name cannot forge a line or disguise itself', async () => {
  const forged = 'x\n\nfolder "photos": backup complete, 1 file verified\x1b[8m';
  const source = [
    file(forged, 'hi'),
    file('invoice\u202egpj.exe', 'a'),
    dir('d\x1bir'),
    file('d\x1bir/1', '1'),
    file('d\x1bir/2', '2'),
    file('d\x1bir/3', '3'),
    file('moved\u2066.txt', 'same content'),
    link('a-link', 'photo\u202egpj.exe\n'),
  ];
  // The backup has the folder (so its missing files are listed under it, not as one whole folder).
  const backup = [dir('d\x1bir'), file('now\x07here.txt', 'same content'), link('a-link', 'plain')];
  const report = await reportOf(source, backup);
  for (const all of [false, true]) {
    const text = renderTerminal(report, { color: false, all });
    assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f\u202e\u2066]/, 'no control or bidi character but the line breaks');
    assert.doesNotMatch(text, /^folder "photos": backup complete/m, 'no forged line');
    assert.match(text, /x\\u\{a\}\\u\{a\}folder "photos": backup complete, 1 file verified\\u\{1b\}\[8m/);
    assert.match(text, /invoice\\u\{202e\}gpj\.exe/);
    assert.match(text, /\n {2}d\\u\{1b\}ir\/\n {4}1 /, 'the folder heading too');
    assert.match(text, /now\\u\{7\}here\.txt -> moved\\u\{2066\}\.txt/);
    assert.match(text, /a-link {2}link points to "photo\\u\{202e\}gpj\.exe\\u\{a\}" on source, "plain" on backup/);
  }
  // After a sync: the refused and failed lists, and what is left.
  const fixed = {
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
  const remaining = {
    failing: report.summary.failing,
    failingBytes: report.summary.failingBytes,
    byCategory: report.summary.byCategory,
    differences: report.differences,
  };
  const refused = [{ path: forged, reason: 'suspicious', detail: 'changed\u202e' }];
  const failed = [{ path: 'f\x1b[2J', code: 'EACCES', message: "EACCES: permission denied, open 'f\x1b[2J'" }];
  const synced = renderTerminal(
    {
      ...report,
      sync: {
        dryRun: false,
        fixed,
        stops: [],
        refused,
        keptExtras: 0,
        backupTotals: null,
        failed,
        aborted: null,
        remaining,
        complete: false,
      },
    },
    { color: false, all: false },
  );
  assert.doesNotMatch(synced, /[\x00-\x09\x0b-\x1f\x7f\u202e\u2066]/);
  assert.match(synced, /! x\\u\{a\}\\u\{a\}folder/);
  assert.match(synced, /f\\u\{1b\}\[2J {2}EACCES: permission denied, open 'f\\u\{1b\}\[2J'/);
});

test('permissions read as three octal digits, mode 0 too', async () => {
  const report = await reportOf([file('m.txt', 'm')], [file('m.txt', 'm', { mode: 0 })]);
  assert.match(renderTerminal(report, { color: false, all: false }), /m\.txt {2}permissions 644 on source, 000 on backup/);
});

test('a suspicious source change is named near the top and listed first, however long its category', async () => {
  const verified = { hash: sha('original'), size: 8, mtime: T0 };
  const many = Array.from({ length: 30 }, (_, i) => `c/file-${String(i).padStart(2, '0')}.txt`);
  const source = [dir('c'), ...many.map((p) => file(p, `s ${p}`)), file('zzz.txt', 'CORRUPT!')];
  const backup = [dir('c'), ...many.map((p) => file(p, `backup ${p}`)), file('zzz.txt', 'original')];
  const report = await reportOf(source, backup, { verified: (p) => (p === 'zzz.txt' ? verified : undefined) });
  const text = renderTerminal(report, { color: false, all: false });
  const lines = text.split('\n');
  const warning = lines.findIndex((l) => l.startsWith('! 1 file changed on the source while keeping size and modification time'));
  assert.ok(warning > 0 && warning < lines.findIndex((l) => l.includes('content differs')), 'the warning comes before the summary');
  assert.equal(lines[warning + 1], '    zzz.txt');
  assert.match(text, /Content differs \(31\)\n {2}! zzz\.txt {2}same size \(8 B\), different content; SUSPICIOUS/);
  assert.match(text, /\.\.\. and 11 more \(use --all to list them\)/);

  // Many of them: a bounded list, the rest counted.
  const bad = Array.from({ length: 14 }, (_, i) => `bad-${String(i).padStart(2, '0')}`);
  const many2 = await reportOf(
    bad.map((p) => file(p, 'CORRUPT!')),
    bad.map((p) => file(p, 'original')),
    { verified: () => verified },
  );
  const cut = renderTerminal(many2, { color: false, all: false });
  assert.match(
    cut,
    /^! 14 files changed on the source.*Look at them before the backup is updated from the source:\n {4}bad-00\n(?: {4}bad-0\d\n){9} {4}\.\.\. and 4 more \(use --all to list them\)\n/m,
  );
  assert.match(renderTerminal(many2, { color: false, all: true }), /\n {4}bad-13\n\n/);
  // No warning without a suspicious change.
  assert.doesNotMatch(renderTerminal(await reportOf(source, backup), { color: false, all: false }), /^!/m);
});

test('a folder stored in NFD is one line in the terminal, with its file count', async () => {
  const nfc = 'caf\u00e9';
  const nfd = 'cafe\u0301';
  const source = [dir(nfc), file(`${nfc}/a`, 'a'), file(`${nfc}/b`, 'b')];
  const backup = [dir(nfc, { raw: nfd }), file(`${nfc}/a`, 'a', { raw: `${nfd}/a` }), file(`${nfc}/b`, 'b', { raw: `${nfd}/b` })];
  const report = await reportOf(source, backup);
  assert.equal(report.exitCode, CHECK_EXIT.complete);
  assert.equal(report.summary.differences, 1);
  const text = renderTerminal(report, { color: false, all: false });
  assert.match(text, new RegExp(`\\n {2}${nfc} {2}same name in a different Unicode normalisation \\(NFC/NFD; folder, 2 files\\)`));
});

test('two names on one side that collide are not a rename: the terminal writes them as the e-mail does', async () => {
  const both = [file('Notes.txt', 'n1'), file('notes.txt', 'n2')];
  const report = await reportOf(both, both);
  const text = renderTerminal(report, { color: false, all: false });
  assert.match(text, /\n {2}Notes\.txt ≠ notes\.txt {2}both exist on both sides/);
  assert.doesNotMatch(text, /Notes\.txt ->/);
});

test('error messages and hints are escaped like names, their own line breaks kept', async () => {
  const { printableText } = await import('../../src/base/printable.js');
  assert.equal(
    printableText('bad name "x\u001b[8my" from nas\nhint on two lines\u202e'),
    'bad name "x\\u{1b}[8my" from nas\nhint on two lines\\u{202e}',
  );
  const report = buildFailedReport({
    folderId: 'photos',
    startedAt: new Date(0),
    finishedAt: new Date(0),
    source: { name: null, deviceId: null, location: null, scan: null },
    backup: { name: 'nas', deviceId: null, location: '/b', scan: null },
    error: { code: 'E_DIFF_ORDER', message: 'the peer sent "a\u001b]0;owned\u0007" out of order', hint: 'report it\u202e' },
  });
  const text = renderTerminal(report, { color: false, all: false });
  assert.match(text, /error: the peer sent "a\\u\{1b\}\]0;owned\\u\{7\}" out of order/);
  assert.match(text, /hint: report it\\u\{202e\}/);
  assert.doesNotMatch(text, /[\u001b\u0007\u202e]/);
});

test("the peers' names and places are escaped like any name: a source announces its own name", async () => {
  const report = await reportOf(tree, tree);
  report.source.name = 'laptop\u202e\u009b2J\u001b]0;x\u0007';
  report.backup.location = '/srv/\u001b[31mbackup';
  const text = renderTerminal(report, { color: false, all: true });
  assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  assert.match(text, /source {2}laptop\\u\{202e\}\\u\{9b\}2J/);
  assert.match(text, /\/srv\/\\u\{1b\}\[31mbackup/);
});
