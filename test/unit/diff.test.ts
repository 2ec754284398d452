import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffManifests, type DiffOptions, type DiffResult, type Difference } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { dir, file, link, sha, stream, T0, unreadable } from '../harness/manifest.js';

function diff(source: ManifestEntry[], backup: ManifestEntry[], options: DiffOptions = {}): Promise<DiffResult> {
  return diffManifests(stream(source), stream(backup), options);
}

function brief(d: Difference): string {
  const to = d.newPath ?? d.otherPath;
  return `${d.category} ${d.path}${to === undefined ? '' : ` -> ${to}`}`;
}

const base = [dir('docs'), file('docs/a.txt', 'alpha'), file('docs/b.txt', 'bravo'), file('top.txt', 'top')];

test('identical manifests have no differences and every file is proven equal', async () => {
  const matched: string[] = [];
  const result = await diff(base, base, { onMatch: (s) => void matched.push(s.path) });
  assert.deepEqual(result.differences, []);
  assert.equal(result.matchedFiles, 3);
  assert.deepEqual(matched, ['docs/a.txt', 'docs/b.txt', 'top.txt']);
  assert.equal(result.sourceTotals.files, 3);
  assert.equal(result.sourceTotals.dirs, 1);
  assert.equal(result.sourceTotals.bytes, 13);
});

test('missing and extra entries, with counts and bytes', async () => {
  const result = await diff(base, [...base.filter((e) => e.path !== 'docs/b.txt'), file('new.bin', 'xyzzy!')]);
  assert.deepEqual(result.differences.map(brief), ['missing docs/b.txt', 'extra new.bin']);
  assert.deepEqual(result.byCategory.missing, { count: 1, bytes: 5 });
  assert.deepEqual(result.byCategory.extra, { count: 1, bytes: 6 });
  // The backup is complete when every source file is there: a file only on the backup is listed, never failing.
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.failing]),
    [
      ['missing docs/b.txt', true],
      ['extra new.bin', false],
    ],
  );
});

test('in a folder that must be an exact mirror (extrasFail), an extra fails', async () => {
  const result = await diff(base, [...base, file('new.bin', 'xyzzy!')], { extrasFail: true });
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.failing]),
    [['extra new.bin', true]],
  );
});

test('an in-place edit that keeps size and mtime is a content difference', async () => {
  const result = await diff(base, [dir('docs'), file('docs/a.txt', 'ALPHA'), file('docs/b.txt', 'bravo'), file('top.txt', 'top')]);
  assert.deepEqual(result.differences.map(brief), ['content docs/a.txt']);
  assert.deepEqual(result.differences[0]!.changes, ['hash']);
  assert.equal(result.byCategory.content.bytes, 5);
  assert.equal(result.matchedFiles, 2);
});

test('a touched file or changed permissions is metadata only and does not fail', async () => {
  const result = await diff(base, [
    dir('docs'),
    file('docs/a.txt', 'alpha', { mtime: T0 + 60_000 }),
    file('docs/b.txt', 'bravo', { mode: 0o600 }),
    file('top.txt', 'top'),
  ]);
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.changes, d.failing]),
    [
      ['metadata docs/a.txt', ['mtime'], false],
      ['metadata docs/b.txt', ['mode'], false],
    ],
  );
});

test('mtime tolerance: exact by default, 2 s when a side looks FAT-like, or as configured', async () => {
  const src = [file('a', 'a', { mtime: T0 }), file('b', 'b', { mtime: T0 + 500 })];
  const exact = await diff(src, [file('a', 'a', { mtime: T0 + 1 }), file('b', 'b', { mtime: T0 + 500 })]);
  assert.deepEqual(exact.differences.map(brief), ['metadata a']);
  assert.equal(exact.mtimeToleranceReason, 'auto-exact');
  // A FAT disk rounds to even seconds: every backup mtime is a multiple of 2000 ms.
  const fatTime = (t: number) => Math.ceil(t / 2000) * 2000;
  const fat = await diff(src, [file('a', 'a', { mtime: fatTime(T0) }), file('b', 'b', { mtime: fatTime(T0 + 500) + 2000 })]);
  assert.equal(fat.mtimeToleranceReason, 'auto-fat');
  assert.equal(fat.mtimeToleranceMs, 2000);
  assert.deepEqual(fat.differences.map(brief), ['metadata b'], 'a is within 2 s, b is 3.6 s off');
  const configured = await diff(src, [file('a', 'a', { mtime: T0 + 5000 }), file('b', 'b', { mtime: T0 + 500 })], {
    mtimeToleranceMs: 10_000,
  });
  assert.deepEqual(configured.differences, []);
  assert.equal(configured.mtimeToleranceReason, 'configured');
});

test('a file replaced by a folder is a type change; what the folder holds is extra', async () => {
  const result = await diff(base, [
    dir('docs'),
    file('docs/a.txt', 'alpha'),
    file('docs/b.txt', 'bravo'),
    dir('top.txt'),
    file('top.txt/inner', 'i'),
  ]);
  assert.deepEqual(result.differences.map(brief), ['type top.txt', 'extra top.txt/inner']);
  assert.equal(result.differences[0]!.source!.type, 'file');
  assert.equal(result.differences[0]!.backup!.type, 'dir');
});

test('a renamed file is one move, matched by hash and size', async () => {
  const result = await diff(base, [dir('docs'), file('docs/a.txt', 'alpha'), file('docs/b-renamed.txt', 'bravo'), file('top.txt', 'top')]);
  assert.deepEqual(result.differences.map(brief), ['moved docs/b.txt -> docs/b-renamed.txt']);
  assert.equal(result.byCategory.moved.bytes, 5);
});

test('a moved folder is one move with its file count', async () => {
  const source = [
    dir('photos'),
    dir('photos/2024'),
    file('photos/2024/1.jpg', 'one'),
    file('photos/2024/2.jpg', 'two'),
    file('photos/2024/empty', ''),
    dir('photos/2024/sub'),
    file('photos/2024/sub/3.jpg', 'three'),
    file('keep', 'k'),
  ];
  const backup = [
    dir('photos'),
    dir('photos/archive-2024'),
    file('photos/archive-2024/1.jpg', 'one'),
    file('photos/archive-2024/2.jpg', 'two'),
    file('photos/archive-2024/empty', ''),
    dir('photos/archive-2024/sub'),
    file('photos/archive-2024/sub/3.jpg', 'three'),
    file('keep', 'k'),
  ];
  const result = await diff(source, backup);
  assert.deepEqual(result.differences.map(brief), ['moved photos/2024 -> photos/archive-2024']);
  const move = result.differences[0]!;
  assert.equal(move.fileCount, 4);
  assert.equal(move.bytes, 11);
  assert.deepEqual(
    move.members!.map((m) => m.path),
    ['photos/2024/1.jpg', 'photos/2024/2.jpg', 'photos/2024/empty', 'photos/2024/sub', 'photos/2024/sub/3.jpg'],
  );
});

test('a moved folder counts its files only: symlinks and sub-folders are members, not files', async () => {
  const source = [dir('New'), file('New/p1.jpg', 'p1'), link('New/link1', 'p1.jpg'), link('New/link2', 'p1.jpg'), dir('New/sub')];
  const backup = [dir('Old'), file('Old/p1.jpg', 'p1'), link('Old/link1', 'p1.jpg'), link('Old/link2', 'p1.jpg'), dir('Old/sub')];
  const [move] = (await diff(source, backup)).differences;
  assert.equal(brief(move!), 'moved New -> Old');
  assert.equal(move!.fileCount, 1);
  assert.deepEqual(
    move!.members!.map((m) => m.path),
    ['New/link1', 'New/link2', 'New/p1.jpg', 'New/sub'],
  );
  const [clash] = (
    await diff(
      [dir('Music'), file('Music/a.mp3', 'a'), link('Music/l', 'a.mp3')],
      [dir('music'), file('music/a.mp3', 'a'), link('music/l', 'a.mp3')],
    )
  ).differences;
  assert.equal(brief(clash!), 'name-clash Music -> music');
  assert.equal(clash!.fileCount, 1);
});

test('a moved folder with one file edited: the move plus what differs', async () => {
  const source = [dir('a'), file('a/1', 'one'), file('a/2', 'two')];
  const backup = [dir('b'), file('b/1', 'one'), file('b/2', 'TWO!')];
  const result = await diff(source, backup);
  assert.deepEqual(result.differences.map(brief), ['moved a -> b', 'missing a/2', 'extra b/2']);
  assert.equal(result.differences[0]!.fileCount, 1);
});

test('a case-only rename is a name clash, not a missing and an extra file', async () => {
  const result = await diff([file('Readme.md', 'r')], [file('README.md', 'r')]);
  assert.deepEqual(result.differences.map(brief), ['name-clash Readme.md -> README.md']);
  assert.equal(result.differences[0]!.clash, 'case');
  assert.equal(result.differences[0]!.failing, true);
});

test('a folder renamed only in case is one clash with its file count', async () => {
  const result = await diff(
    [dir('Music'), file('Music/a.mp3', 'a'), file('Music/b.mp3', 'b')],
    [dir('music'), file('music/a.mp3', 'a'), file('music/b.mp3', 'b')],
  );
  assert.deepEqual(result.differences.map(brief), ['name-clash Music -> music']);
  assert.equal(result.differences[0]!.fileCount, 2);
  // A sub-folder renamed too: its entries join it, the nearest renamed folder.
  const nested = await diff(
    [dir('Music'), dir('Music/Live'), file('Music/Live/a.mp3', 'a'), file('Music/b.mp3', 'b')],
    [dir('music'), dir('music/live'), file('music/live/a.mp3', 'a'), file('music/b.mp3', 'b')],
  );
  assert.deepEqual(
    nested.differences.map((d) => [brief(d), d.fileCount, d.members?.map((m) => m.newPath)]),
    [
      ['name-clash Music -> music', 1, ['music/b.mp3']],
      ['name-clash Music/Live -> music/live', 1, ['music/live/a.mp3']],
    ],
  );
});

test('an NFC/NFD pair: same name up to normalisation is compared, flagged, and does not fail', async () => {
  const nfc = 'caf\u00e9.txt';
  const nfd = 'cafe\u0301.txt';
  const result = await diff([file(nfc, 'coffee')], [file(nfc, 'coffee', { raw: nfd })]);
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.clash, d.failing]),
    [[`name-clash ${nfc}`, 'normalization', false]],
  );
  assert.equal(result.differences[0]!.backup!.raw, nfd);
  assert.equal(result.matchedFiles, 1);
});

test('a folder stored in NFD on one side is one normalisation clash: what lies below is folded into it', async () => {
  const nfc = 'd\u00e9caf\u00e9';
  const nfd = 'de\u0301cafe\u0301';
  const inner = `${nfc}/r\u00e9sum\u00e9`;
  const innerNfd = `${nfd}/re\u0301sume\u0301`;
  const source = [
    dir(nfc),
    file(`${nfc}/a.txt`, 'a'),
    file(`${nfc}/b.txt`, 'bb'),
    dir(`${nfc}/sub`),
    file(`${nfc}/sub/c.txt`, 'ccc'),
    link(`${nfc}/l`, 'a.txt'),
    file(`${nfc}/edited.txt`, 'old'),
    file(`${nfc}/caf\u00e9.txt`, 'k'),
    dir(inner),
    file(`${inner}/1.pdf`, 'one'),
    file(`${inner}/2.pdf`, 'two'),
  ];
  // The backup's copy, every path below the folder on disk under its NFD name; one file's own name is NFD too.
  const backup = source.map((e) => {
    const rest = e.path.slice(nfc.length);
    const raw =
      e.path === `${nfc}/caf\u00e9.txt`
        ? `${nfd}/cafe\u0301.txt`
        : e.path.startsWith(inner)
          ? innerNfd + e.path.slice(inner.length)
          : nfd + rest;
    return e.path === `${nfc}/edited.txt` ? file(e.path, 'new', { raw }) : { ...e, raw };
  });
  const result = await diff(source, backup);
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.clash, d.fileCount]),
    [
      [`name-clash ${nfc}`, 'normalization', 4],
      [`name-clash ${nfc}/caf\u00e9.txt`, 'normalization', undefined],
      [`content ${nfc}/edited.txt`, undefined, undefined],
      [`name-clash ${inner}`, 'normalization', 2],
    ],
  );
  const [folder, , , innerFolder] = result.differences;
  assert.deepEqual(folder!.members, [
    { path: `${nfc}/a.txt`, newPath: `${nfc}/a.txt` },
    { path: `${nfc}/b.txt`, newPath: `${nfc}/b.txt` },
    { path: `${nfc}/edited.txt`, newPath: `${nfc}/edited.txt` },
    { path: `${nfc}/l`, newPath: `${nfc}/l` },
    { path: `${nfc}/sub`, newPath: `${nfc}/sub` },
    { path: `${nfc}/sub/c.txt`, newPath: `${nfc}/sub/c.txt` },
  ]);
  assert.equal(folder!.bytes, 1 + 2 + 3 + 3);
  assert.equal(folder!.backup!.raw, nfd);
  assert.equal(folder!.failing, false);
  assert.deepEqual(
    innerFolder!.members!.map((m) => m.path),
    [`${inner}/1.pdf`, `${inner}/2.pdf`],
  );
  assert.deepEqual(result.byCategory['name-clash'], { count: 3, bytes: 1 + 2 + 3 + 3 + 1 + 3 + 3 });
  assert.equal(result.matchedFiles, 6);
  // The other way round: the same records.
  const mirrored = await diff(backup, source);
  assert.deepEqual(
    mirrored.differences.map((d) => [brief(d), d.fileCount, d.members?.length]),
    result.differences.map((d) => [brief(d), d.fileCount, d.members?.length]),
  );
});

test('a name clash within one side names the two paths and its side, and carries no entry facts', async () => {
  const both = [file('Notes.txt', 'n1'), file('notes.txt', 'n2')];
  const [onBoth] = (await diff(both, both)).differences;
  // As docs/report-schema.md says: the entries themselves are compared like any other.
  assert.deepEqual(onBoth, {
    category: 'name-clash',
    clash: 'within',
    path: 'Notes.txt',
    otherPath: 'notes.txt',
    bytes: 0,
    failing: false,
    side: 'both',
  });
});

test('two names on one side that collide on case-insensitive disks are reported once per pair', async () => {
  const both = [file('Notes.txt', 'n1'), file('notes.txt', 'n2')];
  const result = await diff(both, both);
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.clash, d.side, d.failing]),
    [['name-clash Notes.txt -> notes.txt', 'within', 'both', false]],
  );
  const nfcClash = await diff([file('\u00e9', 'x'), file('\u00e9', 'y', { raw: 'e\u0301', flags: ['nfc-clash'] })], []);
  assert.ok(nfcClash.differences.some((d) => d.clash === 'within' && d.side === 'source'));
});

test('unreadable entries: reported with their side; what lies below is not compared', async () => {
  const source = [dir('private'), file('private/x', 'x'), file('private/y', 'y'), file('z', 'z')];
  const backup = [unreadable('private'), file('z', 'z')];
  const result = await diff(source, backup);
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.side, d.fileCount]),
    [['unreadable private', 'backup', 2]],
  );
  const both = await diff([unreadable('f')], [unreadable('f')]);
  assert.equal(both.differences[0]!.side, 'both');
});

test('a file that changed while it was hashed is unstable', async () => {
  const { hash: _hash, ...unhashed } = file('log', 'l', { flags: ['unstable'] });
  const result = await diff([unhashed], [file('log', 'l')]);
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.side]),
    [['unstable log', 'source']],
  );
});

test('symlinks compare by target', async () => {
  const result = await diff([link('l', 'a'), link('m', 'b')], [link('l', 'a'), link('m', 'c')]);
  assert.deepEqual(
    result.differences.map((d) => [brief(d), d.changes]),
    [['content m', ['target']]],
  );
});

test('size-only manifests (no hashes) compare sizes: an edit keeping the size is not seen', async () => {
  const noHash = ({ hash: _hash, ...e }: ManifestEntry): ManifestEntry => e;
  const result = await diff([file('a', 'aaa'), file('b', 'bbb')].map(noHash), [file('a', 'AAA'), file('b', 'bbbb')].map(noHash));
  assert.deepEqual(result.differences.map(brief), ['content b']);
  assert.equal(result.matchedFiles, 0, 'nothing is proven equal without hashes');
});

test('which side changed, from the hashes last verified as matching', async () => {
  const verified = new Map([
    ['edited-on-source', { hash: sha('old'), size: 3, mtime: T0 - 10_000 }],
    ['rotted-on-source', { hash: sha('abc'), size: 3, mtime: T0 }],
    ['damaged-on-backup', { hash: sha('abc'), size: 3, mtime: T0 }],
    ['both', { hash: sha('abc'), size: 3, mtime: T0 }],
    ['deleted-on-backup', { hash: sha('abc'), size: 3, mtime: T0 }],
  ]);
  const source = [
    file('edited-on-source', 'new'),
    file('rotted-on-source', 'abd'),
    file('damaged-on-backup', 'abc'),
    file('both', 'xyz'),
    file('never-verified', 'aaa'),
    file('deleted-on-backup', 'abc'),
  ];
  const backup = [
    file('edited-on-source', 'old', { mtime: T0 - 10_000 }),
    file('rotted-on-source', 'abc'),
    file('damaged-on-backup', 'abX'),
    file('both', 'zyx'),
    file('never-verified', 'bbb'),
  ];
  const result = await diff(source, backup, { verified: (p) => verified.get(p) });
  const verdicts = Object.fromEntries(result.differences.map((d) => [d.path, d.changedOn]));
  assert.deepEqual(verdicts, {
    'edited-on-source': 'source',
    'rotted-on-source': 'source-suspicious',
    'damaged-on-backup': 'backup',
    both: 'both',
    'never-verified': 'unknown',
    'deleted-on-backup': 'backup',
  });
});

test("which side changed, across a rename: a file of a renamed folder and one renamed in case are judged against the old name's record", async () => {
  const verified = new Map([
    ['d/rotted.txt', { hash: sha('abc'), size: 3, mtime: T0 }],
    ['d/edited.txt', { hash: sha('old'), size: 3, mtime: T0 - 10_000 }],
    ['Cased.txt', { hash: sha('abc'), size: 3, mtime: T0 }],
  ]);
  // The source renamed d to e (two files went with it unchanged) and Cased.txt to CASED.txt.
  const source = [
    file('CASED.txt', 'abd'),
    dir('e'),
    file('e/edited.txt', 'new'),
    file('e/k1.txt', 'kept one'),
    file('e/k2.txt', 'kept two'),
    file('e/rotted.txt', 'abd'),
  ];
  const backup = [
    file('Cased.txt', 'abc'),
    dir('d'),
    file('d/edited.txt', 'old', { mtime: T0 - 10_000 }),
    file('d/k1.txt', 'kept one'),
    file('d/k2.txt', 'kept two'),
    file('d/rotted.txt', 'abc'),
  ];
  const result = await diff(source, backup, { verified: (p) => verified.get(p) });
  const verdicts = Object.fromEntries(
    result.differences.filter((d) => d.changedOn !== undefined).map((d) => [`${d.category} ${d.path}`, d.changedOn]),
  );
  assert.equal(verdicts['missing e/rotted.txt'], 'source-suspicious');
  assert.equal(verdicts['missing e/edited.txt'], 'source');
  assert.equal(verdicts['name-clash CASED.txt'], 'source-suspicious');
  // The other way round: the backup's folder was renamed, its records are under the source's names.
  const back = await diff(
    backup.map((e) => ({ ...e })),
    source.map((e) => ({ ...e })),
    { verified: (p) => verified.get(p) },
  );
  const backVerdicts = Object.fromEntries(
    back.differences.filter((d) => d.changedOn !== undefined).map((d) => [`${d.category} ${d.path}`, d.changedOn]),
  );
  assert.equal(backVerdicts['missing d/rotted.txt'], 'backup', "the backup's copy changed under its new folder name");
});

test('an out-of-order manifest is refused with a clear error', async () => {
  async function* unsorted() {
    yield file('b', 'b');
    yield file('a', 'a');
  }
  await assert.rejects(diffManifests(unsorted(), stream([])), (err: Error & { code?: string; hint?: string }) => {
    assert.equal(err.code, 'E_DIFF_ORDER');
    assert.match(err.message, /source's manifest is not in manifest order/);
    assert.ok(err.hint);
    return true;
  });
});

test('an entry listed below a symlink or a file is refused as a bad manifest, whether at hand or awaited', async () => {
  /** Entries at hand through takeReady() (as a peer's manifest stream hands them), or awaited one by one. */
  function manifest(entries: ManifestEntry[], ready: boolean): AsyncIterable<ManifestEntry> {
    return {
      [Symbol.asyncIterator]() {
        let i = 0;
        const it = {
          next: async () =>
            i < entries.length ? { done: false as const, value: entries[i++]! } : { done: true as const, value: undefined },
          return: async () => ({ done: true as const, value: undefined }),
          ...(ready ? { takeReady: () => entries[i++] } : {}),
        };
        return it;
      },
    };
  }
  const hostile: Array<[string, ManifestEntry[]]> = [
    ['symlink', [link('l', '/etc'), file('l/pwned', 'x')]],
    ['symlink', [dir('a'), link('a/l', '..'), dir('a/l/d'), file('a/l/d/pwned', 'x')]],
    ['file', [file('f', 'plain'), file('f/pwned', 'x'), file('g', 'g')]],
  ];
  for (const [kind, entries] of hostile)
    for (const ready of [false, true])
      await assert.rejects(diffManifests(manifest(entries, ready), stream([])), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'E_DIFF_PARENT', `${kind}, ready ${ready}`);
        assert.match(err.message, new RegExp(`source's manifest lists "[^"]+" inside "[^"]+", which it lists as a ${kind}`));
        return true;
      });
  // Folders, two raw names of one key, and entries after a symlink's siblings are all fine.
  const fine = [
    dir('a'),
    file('a/1', '1'),
    link('a/l', '..'),
    file('a/m', 'm'),
    dir('b'),
    dir('b/c'),
    file('b/c/d', 'd'),
    file('b/e', 'e'),
  ];
  for (const ready of [false, true]) {
    const result = await diffManifests(manifest(fine, ready), manifest(fine, ready));
    assert.equal(result.differences.length, 0);
  }
});

test('a slow onMatch holds the diff back (backpressure for whoever stores the matches)', async () => {
  const entries = Array.from({ length: 50 }, (_, i) => file(`f${String(i).padStart(2, '0')}`, `c${i}`));
  let inFlight = 0;
  let most = 0;
  const result = await diff(entries, entries, {
    onMatch: () => {
      inFlight++;
      most = Math.max(most, inFlight);
      return new Promise((resolve) =>
        setImmediate(() => {
          inFlight--;
          resolve();
        }),
      );
    },
  });
  assert.equal(result.matchedFiles, 50);
  assert.equal(most, 1, 'each match is awaited before the next pair is read');
});
