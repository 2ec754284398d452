/**
 * The per-entry shortcuts of a check (docs/check.md, "Where a warm check's
 * time goes") answer exactly as the general code does: the hash threads'
 * batch of paths as one string, name folding without a lower-cased copy,
 * and the name-clash finder that slices a parent only when the folder
 * changes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WithinSideClashFinder } from '../../src/diff/names.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { foldName } from '../../src/manifest/storable.js';
import { packBatch, unpackPaths } from '../../src/scan/hash-protocol.js';

test('a batch for a hash thread carries every path as it was, whatever characters it holds, with its state in order', () => {
  const paths = ['/r/plain.txt', '/r/with space/and\nnewline', '/r/tab\there', '/r/back\\slash', '/r/ünï/𝄞.txt', '/r/'];
  const jobs = paths.map((p, i) => ({ path: p, state: { size: i, mtimeMs: 1000.5 + i, ctimeMs: 2000.25 + i, ino: 10 + i } }));
  const batch = packBatch(jobs);
  assert.equal(typeof batch.paths, 'string');
  assert.deepEqual(unpackPaths(batch), paths);
  assert.deepEqual(
    [...batch.states],
    jobs.flatMap((j) => [j.state.size, j.state.mtimeMs, j.state.ctimeMs, j.state.ino]),
  );
  assert.deepEqual(unpackPaths(packBatch([{ path: '/only', state: { size: 0, mtimeMs: 0, ctimeMs: 0, ino: 0 } }])), ['/only']);
});

/** The folding as it was written before the ASCII shortcuts: the reference. */
function reference(name: string, folding = { case: true, normalization: true }): string {
  if (/^[\x00-\x7f]*$/.test(name)) return folding.case ? name.toLowerCase() : name;
  let key = folding.normalization ? name.normalize('NFC') : name;
  if (folding.case) key = key.toLowerCase();
  return folding.normalization && folding.case ? key.normalize('NFC') : key;
}

test('folding a name gives what the general rule gives, for lower-case, capitalised and non-ASCII names', () => {
  const names = ['readme', 'README', 'ReadMe.TXT', 'a-b_c.d', '@[`{', 'Z', 'z', '', 'é', 'e\u0301', 'É', 'ß', 'ẞ', 'İ', '\u212Aelvin', 'ǅ'];
  for (const folding of [
    { case: true, normalization: true },
    { case: true, normalization: false },
    { case: false, normalization: true },
    { case: false, normalization: false },
  ]) {
    for (const name of names)
      assert.equal(foldName(name, folding), reference(name, folding), `${JSON.stringify(name)} ${JSON.stringify(folding)}`);
  }
});

function entry(path: string, type: ManifestEntry['type'] = 'file'): ManifestEntry {
  return { path, type, size: 0, mtime: 0, mode: 0o644 };
}

test('the name-clash finder remembers a folder’s names across a walk into its subfolders, and at the root', () => {
  const finder = new WithinSideClashFinder();
  // Manifest order: `a/foo` comes after the walk went down into `a/b`.
  const found = [
    entry('README'),
    entry('a', 'dir'),
    entry('a/Foo'),
    entry('a/b', 'dir'),
    entry('a/b/X'),
    entry('a/b/x'),
    entry('a/foo'),
    entry('readme'),
  ].map((e) => [e.path, finder.add(e)]);
  assert.deepEqual(found, [
    ['README', undefined],
    ['a', undefined],
    ['a/Foo', undefined],
    ['a/b', undefined],
    ['a/b/X', undefined],
    ['a/b/x', 'a/b/X'],
    ['a/foo', 'a/Foo'],
    ['readme', 'README'],
  ]);
  // A name in another folder with the same spelling is no clash: a folder named like the start of
  // another, and folders of equal name length met without their own entries (the finder does not rely on them).
  const other = new WithinSideClashFinder();
  const sequence = [entry('a', 'dir'), entry('a/x'), entry('ab', 'dir'), entry('ab/X'), entry('b', 'dir'), entry('b/x')];
  assert.deepEqual(
    sequence.map((e) => other.add(e)),
    sequence.map(() => undefined),
  );
  const bare = new WithinSideClashFinder();
  assert.deepEqual(
    [entry('ab/x'), entry('cd/X'), entry('cd/y/Z'), entry('ef/y/z')].map((e) => bare.add(e)),
    [undefined, undefined, undefined, undefined],
  );
});
