import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatDuration, formatExactBytes, sizesApart, withSize } from '../../src/base/units.js';
import { buildReport } from '../../src/report/model.js';
import { diffManifests } from '../../src/diff/index.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { file, stream } from '../harness/manifest.js';

test('two sizes that differ are never written alike: exact bytes where they would round to the same text', () => {
  assert.deepEqual(sizesApart(2486, 2472), ['2,486 B', '2,472 B']);
  assert.deepEqual(sizesApart(2486, 5000), ['2.4 KiB', '4.9 KiB'], 'rounded as usual when the text differs');
  assert.deepEqual(sizesApart(2486, 2486), ['2.4 KiB', '2.4 KiB'], 'equal sizes read alike');
  assert.deepEqual(sizesApart(340 * 2 ** 20 + 1, 340 * 2 ** 20), ['356,515,841 B', '356,515,840 B']);
  assert.equal(formatExactBytes(1_234_567), '1,234,567 B');
});

test('a size next to a count says nothing when it is zero', () => {
  assert.equal(withSize('4 differences', 0), '4 differences');
  assert.equal(withSize('3 differences', 2486), '3 differences (2.4 KiB)');
  assert.equal(withSize('1 difference', 6), '1 difference (6 B)');
});

test('durations: never "60.0 s" or "1 min 60 s"', () => {
  assert.equal(formatDuration(850), '850 ms');
  assert.equal(formatDuration(999.6), '1 s');
  assert.equal(formatDuration(3000), '3 s');
  assert.equal(formatDuration(1500), '1.5 s');
  assert.equal(formatDuration(3250), '3.25 s');
  assert.equal(formatDuration(9_996), '10 s');
  assert.equal(formatDuration(12_500), '12.5 s');
  assert.equal(formatDuration(59_960), '1 min 0 s');
  assert.equal(formatDuration(119_600), '2 min 0 s');
  assert.equal(formatDuration(247_000), '4 min 7 s');
  assert.equal(formatDuration(7_170_000), '2 h 0 min');
  assert.equal(formatDuration(7_500_000), '2 h 5 min');
});

async function reportOf(source: ReturnType<typeof file>[], backup: ReturnType<typeof file>[]) {
  const scan = { startedAt: '2026-01-15T10:00:00.000Z', finishedAt: '2026-01-15T10:00:01.000Z' };
  return buildReport({
    folderId: 'photos',
    startedAt: new Date('2026-01-15T10:00:00Z'),
    finishedAt: new Date('2026-01-15T10:00:02Z'),
    source: { name: 'laptop', deviceId: 'A'.repeat(56), location: '127.0.0.1:7780', scan },
    backup: { name: 'nas', deviceId: 'B'.repeat(56), location: '/srv/backup/photos', scan },
    verify: false,
    sizeOnly: false,
    diff: await diffManifests(stream(source), stream(backup), {}),
  });
}

test('the check report: exact bytes for an edit that rounds alike, no "(0 B)" for differences of no bytes', async () => {
  const edited = await reportOf([file('a.txt', 'x'.repeat(2486))], [file('a.txt', 'y'.repeat(2472))]);
  const text = renderTerminal(edited, { color: false, all: false });
  assert.match(text, /a\.txt {2}2,486 B on source, 2,472 B on backup/);
  // The two sides' totals too.
  assert.match(text, /source {2}laptop .*: 1 file, 2,486 B, scanned/);
  assert.match(text, /backup {2}nas .*: 1 file, 2,472 B, scanned/);
  assert.doesNotMatch(text, /2\.4 KiB on source, 2\.4 KiB on backup/);

  // Four empty files missing: four differences, no bytes.
  const empty = await reportOf(
    ['e1', 'e2', 'e3', 'e4'].map((p) => file(p, '')),
    [],
  );
  const emptyText = renderTerminal(empty, { color: false, all: false });
  assert.match(emptyText, /backup INCOMPLETE: 4 differences\n/);
  assert.doesNotMatch(emptyText, /\(0 B\)/);
  assert.equal(formatBytes(0), '0 B', 'a size alone still says 0 B');
});

test('a size that is not a whole number of bytes (a rate: bytes per second) is rounded like any size', () => {
  // `synker scan` wrote "34.50008162719313 B/s hashed": formatBytes printed bytes under 1 KiB as they came.
  assert.equal(formatBytes(34.50008162719313), '35 B');
  assert.equal(formatBytes(0.4), '0 B');
  assert.equal(formatBytes(1023.7), '1.0 KiB', 'rounded up to 1 KiB: then in KiB, never "1024 B"');
  assert.equal(formatBytes(1536.4), '1.5 KiB');
});
