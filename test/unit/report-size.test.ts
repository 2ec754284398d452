/**
 * Reports of any size: a few hundred thousand differences in one category
 * are listed whole with --all (no spread of a list into a call, which
 * overflows the stack), paired by the diff, and written as JSON in bounded
 * pieces that join to exactly JSON.stringify of the model.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffManifests } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { buildReport, type CheckReport } from '../../src/report/model.js';
import { jsonLinesPieces, jsonPieces } from '../../src/report/json.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { formatTable } from '../../src/cli/table.js';
import { T0 } from '../harness/manifest.js';

/** Past the ~125,000 arguments where a spread into push() or Math.max() overflowed the stack. */
const MANY = 200_000;
const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function names(prefix: string, count = MANY): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);
}

function empty(path: string): ManifestEntry {
  return { path, type: 'file', size: 0, mtime: T0, mode: 0o644, hash: EMPTY_HASH };
}

/** Already in manifest order (the names sort as they are made). */
async function* inOrder(entries: ManifestEntry[]): AsyncGenerator<ManifestEntry> {
  yield* entries;
}

async function reportOf(source: ManifestEntry[], backup: ManifestEntry[]): Promise<CheckReport> {
  const diff = await diffManifests(inOrder(source), inOrder(backup));
  return buildReport({
    folderId: 'big',
    startedAt: new Date(T0),
    finishedAt: new Date(T0),
    source: { name: 'laptop', deviceId: 'A'.repeat(56), location: null, scan: null },
    backup: { name: 'nas', deviceId: 'B'.repeat(56), location: null, scan: null },
    verify: false,
    sizeOnly: false,
    diff,
  });
}

test('check --all lists 200,000 missing files whole, and the cut list says how many more with a thousands separator', async () => {
  const report = await reportOf(
    names('d/f').map((p) => empty(p)),
    [],
  );
  assert.equal(report.summary.byCategory.missing.count, MANY);
  const all = renderTerminal(report, { color: false, all: true });
  assert.match(all, /Missing on backup \(200,000\)/);
  assert.match(all, /\n {4}f199999 {2}0 B\n/);
  assert.equal(all.split('\n').filter((l) => / {4}f\d{6} {2}0 B$/.test(l)).length, MANY);
  const cut = renderTerminal(report, { color: false, all: false });
  assert.match(cut, /\.\.\. and 199,980 more \(use --all to list them\)/);
});

// A run of entries at the folder root is written in one pass: one step at a time it was scanned again
// from each entry (150,000 at the root: minutes). The timeout turns that back into a failure, not a hang.
test('check --all lists 200,000 files missing at the folder root, each on its own line', { timeout: 120_000 }, async () => {
  const report = await reportOf(
    names('f').map((p) => empty(p)),
    [],
  );
  const all = renderTerminal(report, { color: false, all: true });
  assert.equal(all.split('\n').filter((l) => /^ {2}f\d{6} {2}0 B$/.test(l)).length, MANY);
});

test('150,000 case-only renames and 150,000 moved files are paired without overflowing the stack', async () => {
  const count = 150_000;
  const renamed = await reportOf(
    names('F', count).map((p) => empty(p)),
    names('f', count).map((p) => empty(p)),
  );
  assert.equal(renamed.summary.byCategory['name-clash'].count, count);
  // Moved one by one: every file has its own content (one byte, so it can be paired), found under a new name.
  const moved = (p: string, i: number): ManifestEntry => ({ ...empty(p), size: 1, hash: i.toString(16).padStart(64, '0') });
  const report = await reportOf(names('a', count).map(moved), names('b', count).map(moved));
  assert.equal(report.summary.byCategory.moved.count, count);
  assert.match(renderTerminal(report, { color: false, all: true }), /b149999 -> a149999/);
});

test('the JSON of a report comes in bounded pieces that join to exactly JSON.stringify of it', async () => {
  const report = await reportOf(
    names('d/f', 20_000).map((p) => empty(p)),
    [empty('extra')],
  );
  const pieces = [...jsonLinesPieces([report, report])];
  const longest = pieces.reduce((n, p) => Math.max(n, p.length), 0);
  assert.ok(longest < 256 * 1024, `a piece of ${longest} characters`);
  assert.ok(pieces.length > 100, `${pieces.length} pieces`);
  const line = JSON.stringify(report);
  assert.equal(pieces.join(''), `${line}\n${line}\n`);
});

test('jsonPieces follows JSON.stringify: toJSON, undefined and functions left out of objects, null in arrays', () => {
  const big = Array.from({ length: 2000 }, (_, i) => ({ i, nested: { list: [i, undefined, () => i, 'x'] }, gone: undefined }));
  const values: unknown[] = [
    { when: new Date(0), u: undefined, f: () => 1, n: null, nan: Number.NaN, s: 'é"\n\u2028', list: big, empty: [], obj: {} },
    big,
    'text',
    42,
    null,
    [undefined],
  ];
  for (const value of values) assert.equal([...jsonPieces(value)].join(''), JSON.stringify(value));
});

test('a table of 200,000 rows is laid out without overflowing the stack', () => {
  const text = formatTable(
    ['PATH', 'SIZE'],
    names('f').map((n) => [n, '0 B']),
  );
  assert.match(text, /^PATH {5}SIZE\nf000000 {2}0 B\n/);
});
