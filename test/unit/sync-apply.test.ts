import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { applyPlan } from '../../src/sync/apply.js';
import { SyncError, SyncGuardError } from '../../src/sync/errors.js';
import { SourceFileError } from '../../src/transfer/errors.js';
import { LocalFolderSource } from '../harness/local-source.js';
import { planSync } from '../../src/sync/plan.js';
import { readManifestFile } from '../../src/transfer/file-reader.js';
import { listVersions, restoreVersion } from '../../src/sync/versions.js';
import { contentMap, diffTrees, listTree, T0, writeTree } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';

function lookupOf(entries: ManifestEntry[]) {
  const byPath = new Map(entries.map((e) => [e.path, e]));
  return (p: string) => byPath.get(p);
}

async function syncLocal(src: string, dst: string, opts: { delete?: boolean } = {}) {
  const s = listTree(src);
  const b = listTree(dst);
  const diffs = await diffTrees(src, dst);
  const plan = planSync(diffs, { sourceFiles: s.length, backupFiles: b.length, delete: opts.delete ?? false, maxDelete: { percent: 100 } });
  const source = new LocalFolderSource(src, lookupOf(s));
  const result = await applyPlan(plan, { root: dst, source });
  return { plan, result, source };
}

test('every kind of difference is fixed and the trees then match byte for byte', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  const big = randomBytes(2 * 1024 * 1024 + 5);
  writeTree(src, {
    'same.txt': 'unchanged',
    'new/deep/file.txt': 'only on the source',
    'edited.txt': 'version 2',
    'meta.txt': 'same bytes',
    'type/now-a-file': 'was a folder name on the backup? no: was a symlink',
    link: { link: 'same.txt' },
    'big.bin': big,
    'dup1.txt': 'duplicate content',
    'dup2.txt': 'duplicate content',
    'renamed/to.txt': 'moved content',
    'empty-dir': { dir: true },
    'album/1.jpg': 'photo one',
    'album/2.jpg': 'photo two',
    'album/new.jpg': 'photo three',
    'Case.txt': 'case-only rename',
  });
  writeTree(dst, {
    'same.txt': 'unchanged',
    'edited.txt': 'version 1',
    'meta.txt': 'same bytes',
    'type/now-a-file': { link: 'elsewhere' },
    'extra.txt': 'only on the backup',
    'renamed/from.txt': 'moved content',
    'old-album/1.jpg': 'photo one',
    'old-album/2.jpg': 'photo two',
    'old-album/stray.txt': 'left in the old folder',
    'case.txt': 'case-only rename',
  });
  chmodSync(path.join(src, 'meta.txt'), 0o600);
  utimesSync(path.join(src, 'meta.txt'), new Date(T0 + 60_000), new Date(T0 + 60_000));
  const s = listTree(src);
  const b = listTree(dst);
  const diffs = await diffTrees(src, dst);
  assert.deepEqual(
    diffs.filter((d) => d.category === 'moved' || d.category === 'name-clash').map((d) => [d.category, d.path, d.newPath ?? d.otherPath]),
    [
      ['name-clash', 'Case.txt', 'case.txt'],
      ['moved', 'album', 'old-album'],
      ['moved', 'renamed/to.txt', 'renamed/from.txt'],
    ],
  );
  const plan = planSync(diffs, { sourceFiles: s.length, backupFiles: b.length });
  const source = new LocalFolderSource(src, lookupOf(s));
  const result = await applyPlan(plan, { root: dst, source });
  assert.deepEqual(result.failed, []);
  assert.equal(result.aborted, undefined);
  assert.equal(result.moved, 1 + 2 + 1);
  // The move and the second duplicate were not transferred.
  assert.equal(
    source.bytesSent,
    big.length +
      'photo three'.length +
      'only on the source'.length +
      'version 2'.length +
      'duplicate content'.length +
      'was a folder name on the backup? no: was a symlink'.length,
  );

  const expected = contentMap(src);
  const actual = contentMap(dst);
  assert.equal(actual['extra.txt'] !== undefined, true, 'extras are kept without --delete');
  assert.equal(actual['album/stray.txt'] !== undefined, true, 'and stay in their renamed folder');
  delete actual['extra.txt'];
  delete actual['album/stray.txt'];
  assert.deepEqual(actual, expected);
  for (const e of listTree(src)) {
    if (e.type === 'file') {
      const st = statSync(path.join(dst, e.path));
      assert.equal(Math.trunc(st.mtimeMs), e.mtime, `mtime of ${e.path}`);
      assert.equal(st.mode & 0o7777, e.mode, `mode of ${e.path}`);
    }
  }
  // The replaced file and the replaced symlink were kept.
  const versions = await listVersions(dst);
  assert.deepEqual(versions.map((v) => v.path).sort(), ['edited.txt', 'type/now-a-file']);
  assert.equal(readFileSync(path.join(dst, versions.find((v) => v.path === 'edited.txt')!.versionPath), 'utf8'), 'version 1');

  // A second run finds nothing to do.
  const again = await syncLocal(src, dst, { delete: true });
  assert.deepEqual(
    again.plan.actions.map((a) => `${a.op} ${'at' in a ? a.at.path : a.to.path}`),
    ['delete album/stray.txt', 'delete extra.txt'],
  );
  assert.equal(again.source.bytesSent, 0);
});

test('--delete moves extras into versions; they can be listed and restored', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, { 'keep.txt': 'k' });
  writeTree(dst, { 'keep.txt': 'k', 'old/gone.txt': 'precious', 'old/also.txt': 'also' });
  const { result } = await syncLocal(src, dst, { delete: true });
  assert.equal(result.deleted, 2);
  assert.equal(existsSync(path.join(dst, 'old')), false, 'the emptied folder is removed');
  const versions = await listVersions(dst, ['old']);
  assert.deepEqual(
    versions.map((v) => v.path),
    ['old/also.txt', 'old/gone.txt'],
  );
  await restoreVersion(dst, versions[1]!);
  assert.equal(readFileSync(path.join(dst, 'old/gone.txt'), 'utf8'), 'precious');
});

test('a plan stopped by a guard changes nothing', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, {});
  const spec: Record<string, string> = {};
  for (let i = 0; i < 30; i++) spec[`f${i}.txt`] = String(i);
  writeTree(dst, spec);
  const s = listTree(src);
  const b = listTree(dst);
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: 0, backupFiles: b.length, delete: true });
  assert.equal(plan.stops[0]?.guard, 'max-delete');
  await assert.rejects(
    applyPlan(plan, { root: dst, source: new LocalFolderSource(src, lookupOf(s)) }),
    (err: unknown) => err instanceof SyncGuardError && /remove 30 files/.test(err.message),
  );
  assert.equal(listTree(dst).length, 30);
});

test('a backup folder without its marker is never written into', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, { 'a.txt': 'a' });
  const s = listTree(src);
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: 1, backupFiles: 0 });
  await assert.rejects(
    applyPlan(plan, { root: dst, source: new LocalFolderSource(src, lookupOf(s)) }),
    (err: unknown) => err instanceof SyncError && err.code === 'E_SYNC_NO_MARKER',
  );
  assert.equal(existsSync(path.join(dst, 'a.txt')), false);
});

test('a file that changes on the source during the sync is retried, then reported, never landed', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, { 'busy.log': 'line 1\n', 'calm.txt': 'calm' });
  writeTree(dst, {});
  const s = listTree(src);
  writeFileSync(path.join(src, 'busy.log'), 'line 1\nline 2\n'); // changed after the manifest
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: 2, backupFiles: 0 });
  const result = await applyPlan(plan, { root: dst, source: new LocalFolderSource(src, lookupOf(s)) });
  assert.deepEqual(
    result.failed.map((f) => [f.path, f.code]),
    [['busy.log', 'E_SYNC_SOURCE_CHANGED']],
  );
  assert.equal(existsSync(path.join(dst, 'busy.log')), false);
  assert.equal(readFileSync(path.join(dst, 'calm.txt'), 'utf8'), 'calm');
});

test('retry and failure log lines name the file once, and name it when the error does not', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, { 'busy.log': 'line 1\n', 'blocked/f.txt': 'f' });
  writeTree(dst, { blocked: 'a file where the source has a folder' });
  const s = listTree(src);
  writeFileSync(path.join(src, 'busy.log'), 'line 1\nline 2\n');
  const plan = planSync(
    [
      { category: 'missing', path: 'busy.log', source: s.find((e) => e.path === 'busy.log')! },
      // A pull under a file on the backup: the unsafe-parent error does not start with the path.
      { category: 'missing', path: 'blocked/f.txt', source: s.find((e) => e.path === 'blocked/f.txt')! },
    ],
    { sourceFiles: 2, backupFiles: 1 },
  );
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  t.mock.method(process.stderr, 'write', (chunk: string | Uint8Array, ...rest: never[]) => {
    lines.push(String(chunk));
    return write(chunk, ...rest);
  });
  const result = await applyPlan(plan, { root: dst, source: new LocalFolderSource(src, lookupOf(s)) });
  t.mock.restoreAll();
  assert.deepEqual(result.failed.map((f) => f.path).sort(), ['blocked/f.txt', 'busy.log']);
  const about = (p: string) => lines.filter((l) => l.includes(`[sync] ${p}`));
  const busy = about('busy.log');
  assert.equal(busy.filter((l) => /retrying \(\d of 2\)/.test(l)).length, 2, busy.join(''));
  assert.equal(busy.length, 3, busy.join(''));
  for (const line of busy) assert.equal(line.split('busy.log').length - 1, 1, line);
  const blocked = about('blocked/f.txt');
  assert.equal(blocked.length, 1, lines.join(''));
  assert.match(blocked[0]!, /\[sync\] blocked\/f\.txt: \S/);
});

test('the source refuses paths outside the manifest, symlink escapes and unsafe paths', async (t) => {
  const src = await tempDir(t);
  const outside = await tempDir(t);
  writeFileSync(path.join(outside, 'secret'), 'secret');
  writeTree(src, { 'ok.txt': 'ok', 'dir/f.txt': 'f' });
  const s = listTree(src);
  const source = new LocalFolderSource(src, lookupOf(s));
  const sink = async () => assert.fail('no byte may be sent');
  const ok = s.find((e) => e.path === 'ok.txt')!;
  await assert.rejects(
    source.fetch({ path: '../../etc/passwd', hash: ok.hash!, size: 1, offset: 0 }, sink),
    (e: unknown) => e instanceof SourceFileError && e.reason === 'refused',
  );
  await assert.rejects(source.fetch({ path: '/etc/passwd', hash: ok.hash!, size: 1, offset: 0 }, sink), SourceFileError);
  await assert.rejects(
    source.fetch({ path: 'not/listed', hash: ok.hash!, size: 1, offset: 0 }, sink),
    (e: unknown) => e instanceof SourceFileError && e.reason === 'not-found',
  );
  await assert.rejects(source.fetch({ path: '.synker/folder.json', hash: ok.hash!, size: 1, offset: 0 }, sink), SourceFileError);
  // The folder was swapped for a symlink to elsewhere after the manifest was made.
  renameSync(path.join(src, 'dir'), path.join(src, 'dir.moved'));
  symlinkSync(outside, path.join(src, 'dir'));
  writeFileSync(path.join(outside, 'f.txt'), 'f');
  const f = s.find((e) => e.path === 'dir/f.txt')!;
  await assert.rejects(
    readManifestFile(src, { ...f, mtime: Math.trunc(statSync(path.join(outside, 'f.txt')).mtimeMs) }, { offset: 0, onData: sink }),
    (e: unknown) => e instanceof SourceFileError && /symlink/.test(e.message),
  );
  // The file itself replaced by a symlink.
  renameSync(path.join(src, 'ok.txt'), path.join(src, 'ok.moved'));
  symlinkSync(path.join(outside, 'secret'), path.join(src, 'ok.txt'));
  await assert.rejects(
    source.fetch({ path: 'ok.txt', hash: ok.hash!, size: ok.size, offset: 0 }, sink),
    (e: unknown) => e instanceof SourceFileError && /symlink/.test(e.message),
  );
});

test('hostile paths in a plan are refused and nothing is written outside the root', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  const parent = path.dirname(dst);
  writeTree(src, { 'a.txt': 'a' });
  writeTree(dst, {});
  const good = listTree(src)[0]!;
  const evil = ['../evil.txt', '/tmp/evil.txt', '.synker/folder.json', 'x/../../evil.txt'];
  const plan = planSync(
    evil.map((p) => ({ category: 'missing' as const, path: p, source: { ...good, path: p } })),
    { sourceFiles: 1, backupFiles: 0 },
  );
  const lookup = (p: string) => (evil.includes(p) || p === 'a.txt' ? good : undefined);
  const result = await applyPlan(plan, { root: dst, source: new LocalFolderSource(src, lookup) });
  assert.deepEqual(
    result.failed.map((f) => f.code),
    evil.map(() => 'E_SYNC_UNSAFE_PATH'),
  );
  assert.equal(existsSync(path.join(parent, 'evil.txt')), false);
  assert.equal(existsSync('/tmp/evil.txt'), false);
  assert.equal(readFileSync(path.join(dst, '.synker/folder.json'), 'utf8'), JSON.stringify({ id: 'test' }));
});

test('versions are pruned by age and by count per path', async (t) => {
  const { VersionKeeper } = await import('../../src/sync/versions.js');
  const { pruneVersions } = await import('../../src/sync/versions-prune.js');
  const root = await tempDir(t);
  writeTree(root, { 'f.txt': 'v0' });
  const day = 86_400_000;
  const now = Date.UTC(2026, 10, 25);
  for (let i = 0; i < 4; i++) {
    writeFileSync(path.join(root, 'f.txt'), `v${i}`);
    await new VersionKeeper(root, new Date(now - (10 - i) * day)).moveAway('f.txt');
  }
  assert.equal((await listVersions(root)).length, 4);
  const removedByCount = await pruneVersions(root, { keepPerPath: 3 }, new Date(now));
  assert.deepEqual(
    removedByCount.map((v) => v.stamp),
    ['20261115-000000'],
  );
  const removedByAge = await pruneVersions(root, { maxAgeMs: 8.5 * day }, new Date(now));
  assert.deepEqual(
    removedByAge.map((v) => v.stamp),
    ['20261116-000000'],
  );
  assert.deepEqual(
    (await listVersions(root)).map((v) => readFileSync(path.join(root, v.versionPath), 'utf8')),
    ['v3', 'v2'],
  );
});

test('files the sync wrote are recorded in the hash cache: the next scan reads none of them', async (t) => {
  const { HashCache } = await import('../../src/scan/hash-cache.js');
  const { scanFolder } = await import('../../src/scan/index.js');
  const { realpathSync } = await import('node:fs');
  const src = await tempDir(t);
  const dst = await tempDir(t);
  const cacheDir = await tempDir(t);
  writeTree(src, { 'a.txt': 'a', 'd/b.bin': randomBytes(100_000), 'moved.txt': 'moved' });
  writeTree(dst, { 'old-name.txt': 'moved' });
  const s = listTree(src);
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: s.length, backupFiles: 1 });
  const cache = await HashCache.open(cacheDir, realpathSync(dst));
  const result = await applyPlan(plan, { root: dst, source: new LocalFolderSource(src, lookupOf(s)), hashCache: cache });
  await cache.close();
  assert.deepEqual(result.failed, []);
  const scan = scanFolder(dst, { cacheDir });
  const entries = [];
  for await (const e of scan) entries.push(e);
  assert.equal(scan.stats.files, 3);
  assert.equal(scan.stats.hashedFiles, 0, 'no file was read again');
  assert.equal(scan.stats.cachedFiles, 3);
  assert.deepEqual(
    entries.filter((e) => e.type === 'file').map((e) => e.hash),
    s.filter((e) => e.type === 'file').map((e) => e.hash),
  );
});

/** A source that runs `onFetch` before serving the file it is asked for: the tree changes between two files. */
class SwappingSource extends LocalFolderSource {
  fetched = 0;
  constructor(
    root: string,
    lookup: (p: string) => ManifestEntry | undefined,
    private readonly onFetch: (n: number) => void,
  ) {
    super(root, lookup);
  }
  override async fetch(...args: Parameters<LocalFolderSource['fetch']>): ReturnType<LocalFolderSource['fetch']> {
    this.onFetch(++this.fetched);
    return super.fetch(...args);
  }
}

for (const how of ['kept inside the folder', 'moved outside the folder', 'replaced by a file'] as const) {
  test(`a folder changed under the sync (${how}): nothing is written outside, the files still to come fail naming the file`, async (t) => {
    const src = await tempDir(t);
    const dst = await tempDir(t);
    const outside = await tempDir(t);
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`d/f${String(i).padStart(2, '0')}.txt`] = `content chosen by the source ${i}`;
    writeTree(src, files);
    writeTree(dst, { 'd/keep.txt': 'already here' });
    const s = listTree(src);
    const plan = planSync(await diffTrees(src, dst), { sourceFiles: s.length, backupFiles: 1 });
    const stash =
      how === 'moved outside the folder' ? path.join(outside, '..', `${path.basename(outside)}-stash`) : path.join(dst, 'd.old');
    t.after(() => rmSync(stash, { recursive: true, force: true }));
    const source = new SwappingSource(src, lookupOf(s), (n) => {
      if (n !== 11) return;
      renameSync(path.join(dst, 'd'), stash);
      if (how === 'replaced by a file') writeFileSync(path.join(dst, 'd'), 'a file now');
      else symlinkSync(outside, path.join(dst, 'd'));
    });
    // One file at a time: the change falls between the 10th file's landing and the 11th's.
    const result = await applyPlan(plan, { root: dst, source, concurrency: 1 });
    assert.deepEqual(
      readdirSync(outside).filter((n) => n !== '.synker'),
      [],
      'nothing was written through the symlink',
    );
    assert.equal(result.pulled, 10);
    assert.deepEqual(
      result.failed.map((f) => [f.path, f.code]),
      Object.keys(files)
        .slice(10)
        .map((p) => [p, 'E_SYNC_FOLDER_CHANGED']),
    );
    const became = how === 'replaced by a file' ? 'became a file' : 'became a symlink';
    assert.equal(result.failed[0]!.message, `d/f10.txt: its folder d ${became} while synker was writing there; d/f10.txt was not written`);
    // What landed before the change went into the real folder, wherever it is now.
    assert.equal(readdirSync(stash).filter((n) => n.startsWith('f')).length, 10);
    if (how === 'replaced by a file') assert.equal(readFileSync(path.join(dst, 'd'), 'utf8'), 'a file now');
  });
}

test('a name swapped for a symlink before its mode and times are fixed: the file it points to is not changed', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  const outside = await tempDir(t);
  writeTree(src, { 'm.txt': 'same bytes', 'sub/n.txt': 'same too' });
  writeTree(dst, { 'm.txt': 'same bytes', 'sub/n.txt': 'same too' });
  for (const p of ['m.txt', 'sub/n.txt']) {
    chmodSync(path.join(src, p), 0o666);
    utimesSync(path.join(src, p), new Date(T0 + 60_000), new Date(T0 + 60_000));
  }
  writeTree(outside, { 'victim.txt': "not the backup's", 'n.txt': "not the backup's either" });
  const victims = [path.join(outside, 'victim.txt'), path.join(outside, 'n.txt')];
  for (const v of victims) chmodSync(v, 0o600);
  const before = victims.map((v) => statSync(v).mtimeMs);
  const s = listTree(src);
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: s.length, backupFiles: 2 });
  assert.deepEqual(
    plan.actions.map((a) => a.op),
    ['metadata', 'metadata'],
  );
  // The tree changes after the plan: one name becomes a link, one folder becomes a link.
  rmSync(path.join(dst, 'm.txt'));
  symlinkSync(victims[0]!, path.join(dst, 'm.txt'));
  renameSync(path.join(dst, 'sub'), path.join(dst, 'sub.old'));
  symlinkSync(outside, path.join(dst, 'sub'));
  const result = await applyPlan(plan, { root: dst, source: new LocalFolderSource(src, lookupOf(s)) });
  for (const [i, v] of victims.entries()) {
    assert.equal(statSync(v).mode & 0o777, 0o600, `the mode of ${v} is unchanged`);
    assert.equal(statSync(v).mtimeMs, before[i], `and its time`);
  }
  assert.deepEqual(
    result.failed.map((f) => [f.path, f.code]),
    [['sub/n.txt', 'E_SYNC_UNSAFE_PATH']],
  );
});

test('versions prune removes the folders it empties and never follows a symlink planted among the versions', async (t) => {
  const { VersionKeeper } = await import('../../src/sync/versions.js');
  const { pruneVersions } = await import('../../src/sync/versions-prune.js');
  const root = await tempDir(t);
  const outside = await tempDir(t);
  const day = 86_400_000;
  const now = Date.UTC(2026, 10, 25);
  writeTree(root, { 'a/b/f.txt': 'old', 'gone/x.txt': 'x', 'gone/y.txt': 'y' });
  const old = new VersionKeeper(root, new Date(now - 10 * day));
  await old.moveAway('a/b/f.txt');
  await old.moveAway('gone');
  writeTree(root, { 'l/f.txt': 'v' });
  await new VersionKeeper(root, new Date(now - 9 * day)).moveAway('l/f.txt');
  // A neighbour swaps the versions' `l` folder for a link to their own files, named like versions.
  const versions = path.join(root, '.synker/versions');
  writeTree(outside, { 'f.txt~20261116-000000': 'not a version' });
  rmSync(path.join(versions, 'l'), { recursive: true });
  symlinkSync(outside, path.join(versions, 'l'));
  const removed = await pruneVersions(root, { maxAgeMs: 8 * day }, new Date(now));
  assert.deepEqual(removed.map((v) => v.path).sort(), ['a/b/f.txt', 'gone/x.txt', 'gone/y.txt']);
  assert.equal(readFileSync(path.join(outside, 'f.txt~20261116-000000'), 'utf8'), 'not a version', 'nothing outside was removed');
  assert.deepEqual(readdirSync(versions), ['l'], 'the emptied a/b/ and gone~STAMP/ folders are gone');
});

test('a backup file hard-linked to a file outside the folder is never changed in place: not by new content, mode or time', async (t) => {
  const { linkSync, lstatSync } = await import('node:fs');
  const src = await tempDir(t);
  const dst = await tempDir(t);
  const outside = await tempDir(t);
  writeTree(src, { 'meta.txt': 'same bytes', 'edited.txt': 'new content from the source' });
  writeTree(dst, {});
  writeTree(outside, { 'meta.txt': 'same bytes', 'edited.txt': 'old content' });
  for (const name of ['meta.txt', 'edited.txt']) {
    chmodSync(path.join(outside, name), 0o600);
    linkSync(path.join(outside, name), path.join(dst, name));
  }
  chmodSync(path.join(src, 'meta.txt'), 0o644);
  utimesSync(path.join(src, 'meta.txt'), new Date(T0 + 60_000), new Date(T0 + 60_000));
  const before = statSync(path.join(outside, 'meta.txt'));
  const { result, plan } = await syncLocal(src, dst);
  assert.deepEqual(plan.actions.map((a) => [a.op, 'at' in a ? a.at.path : '']).sort(), [
    ['metadata', 'meta.txt'],
    ['pull', 'edited.txt'],
  ]);
  assert.deepEqual(result.failed, []);
  const outsideMeta = statSync(path.join(outside, 'meta.txt'));
  assert.equal(outsideMeta.mode & 0o777, 0o600, 'the outside file keeps its mode');
  assert.equal(outsideMeta.mtimeMs, before.mtimeMs, 'and its time');
  assert.equal(readFileSync(path.join(outside, 'edited.txt'), 'utf8'), 'old content', 'and its content');
  assert.equal(statSync(path.join(dst, 'meta.txt')).mode & 0o777, 0o644);
  // Within the millisecond: times land a fraction of a microsecond above it (sync/fs-time.ts).
  assert.equal(Math.floor(statSync(path.join(dst, 'meta.txt')).mtimeMs), T0 + 60_000);
  assert.equal(readFileSync(path.join(dst, 'meta.txt'), 'utf8'), 'same bytes');
  assert.equal(readFileSync(path.join(dst, 'edited.txt'), 'utf8'), 'new content from the source');
  assert.equal(lstatSync(path.join(dst, 'meta.txt')).nlink, 1);
});

for (const swapped of ['.synker/partial', 'd'] as const) {
  test(`restore --to DIR with ${swapped} swapped for a symlink mid-run: nothing is written outside DIR`, async (t) => {
    const src = await tempDir(t);
    const parent = await tempDir(t);
    const outside = await tempDir(t);
    const to = path.join(parent, 'restored');
    const files: Record<string, string> = {};
    for (let i = 0; i < 20; i++) files[`d/f${String(i).padStart(2, '0')}.txt`] = `backup content ${i}`;
    writeTree(src, files);
    const s = listTree(src);
    const plan = planSync(await diffTrees(src, await tempDir(t)), { sourceFiles: s.length, backupFiles: 0 });
    const source = new SwappingSource(src, lookupOf(s), (n) => {
      if (n !== 6) return;
      renameSync(path.join(to, swapped), path.join(to, `${swapped}.old`));
      symlinkSync(outside, path.join(to, swapped));
    });
    const result = await applyPlan(plan, { root: to, source, concurrency: 1, requireMarker: false });
    assert.deepEqual(
      readdirSync(outside).filter((n) => n !== '.synker'),
      [],
    );
    assert.equal(result.pulled, 5);
    assert.deepEqual(
      result.failed.map((f) => f.code),
      Array(15).fill('E_SYNC_FOLDER_CHANGED'),
    );
    assert.match(result.failed[0]!.message, new RegExp(`^d/f05\\.txt: its folder ${swapped.replace('.', '\\.')} became a symlink`));
  });
}

test('a rename that counted on a folder rename that failed says so, and the file stays; "no longer on the backup" only when it is not', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, {});
  writeTree(dst, { 'Docs/Report.txt': 'the report', 'Docs/Other.txt': 'another', 'elsewhere/x': 'x' });
  // The folder's new name is inside a symlink on the backup: its rename is refused (never through a link).
  symlinkSync('elsewhere', path.join(dst, 'link'));
  const dir = { type: 'dir' as const, size: 0, mtime: T0, mode: 0o755 };
  const report = { type: 'file' as const, size: 10, mtime: T0, mode: 0o644, hash: 'a'.repeat(64) };
  const moved = (from: string, to: string, entry: typeof dir | typeof report) =>
    ({ category: 'moved', path: to, newPath: from, source: entry, backup: entry }) as const;
  const plan = planSync([moved('Docs', 'link/Papers', dir), moved('Docs/Report.txt', 'link/Papers/Notes.txt', report)], {
    sourceFiles: 1,
    backupFiles: 1,
  });
  const result = await applyPlan(plan, { root: dst, source: new LocalFolderSource(src, () => undefined) });
  assert.deepEqual(
    result.failed.map((f) => [f.path, f.code]),
    [
      ['link/Papers', 'E_SYNC_UNSAFE_PATH'],
      ['link/Papers/Notes.txt', 'E_SYNC_MOVE_AFTER_FAILED'],
    ],
  );
  assert.equal(
    result.failed[1]!.message,
    'Docs/Report.txt was not renamed to link/Papers/Notes.txt: renaming Docs to link/Papers failed first; the next sync tries again',
  );
  assert.equal(readFileSync(path.join(dst, 'Docs/Report.txt'), 'utf8'), 'the report', 'still where it was');
  assert.deepEqual(readdirSync(path.join(dst, 'elsewhere')), ['x'], 'nothing written through the link');

  // The folder renamed, the file inside gone from the backup since the check: that is what it says, by the check's name.
  rmSync(path.join(dst, 'link'));
  const again = planSync([moved('Docs', 'Papers', dir), moved('Docs/Report.txt', 'Papers/Notes.txt', report)], {
    sourceFiles: 1,
    backupFiles: 1,
  });
  rmSync(path.join(dst, 'Docs/Report.txt'));
  const gone = await applyPlan(again, { root: dst, source: new LocalFolderSource(src, () => undefined) });
  assert.deepEqual(
    gone.failed.map((f) => [f.path, f.code, f.message]),
    [
      [
        'Papers/Notes.txt',
        'E_SYNC_MOVE_SOURCE_GONE',
        'Docs/Report.txt is no longer on the backup, so it could not be renamed to Papers/Notes.txt; the next sync copies it',
      ],
    ],
  );
  assert.equal(readFileSync(path.join(dst, 'Papers/Other.txt'), 'utf8'), 'another', 'the folder was renamed');
});
