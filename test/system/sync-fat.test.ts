/**
 * Sync onto a real FAT file system (case-insensitive, no permission bits,
 * 2-second times) mounted through FUSE: needs fusefat, dosfstools and
 * /dev/fuse (Debian: `apt-get install fusefat fuse3 dosfstools`, as root).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { keepsModes } from '../../src/base/mode-bits.js';
import { readFolderMarker, writeFolderMarker } from '../../src/config/folder-marker.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { applyPlan } from '../../src/sync/apply.js';
import { findAlreadyRestored } from '../../src/sync/restore-target.js';
import { PartialFileError } from '../../src/sync/errors.js';
import { IncomingFile } from '../../src/sync/incoming-file.js';
import { landFile } from '../../src/sync/land.js';
import { directWritesSuit } from '../../src/sync/direct-write.js';
import { probeFolding } from '../../src/sync/folding.js';
import { LocalFolderSource } from '../harness/local-source.js';
import { planSync } from '../../src/sync/plan.js';
import { listVersions, restoreVersion, VersionKeeper } from '../../src/sync/versions.js';
import { diffTrees, listTree, sha256, T0, writeTree } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';

function missingTool(): string | undefined {
  if (!existsSync('/dev/fuse')) return '/dev/fuse is not available';
  for (const tool of ['fusefat', 'mkfs.vfat', 'fusermount3']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (apt-get install fusefat fuse3 dosfstools)`;
  }
  return undefined;
}
const skip = missingTool();

async function mountFat(t: TestContext, size = '32M'): Promise<string> {
  // Not tempDir(): the file system must be unmounted before its folder is removed.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synker-fat-'));
  const image = path.join(dir, 'fat.img');
  const mount = path.join(dir, 'mnt');
  mkdirSync(mount);
  assert.equal(spawnSync('truncate', ['-s', size, image]).status, 0);
  assert.equal(spawnSync('mkfs.vfat', [image]).status, 0);
  const r = spawnSync('fusefat', ['-o', 'rw+', image, mount], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  t.after(async () => {
    // The driver can still be busy with the last close: retry, then detach lazily, so the image is never
    // removed from under a live mount (rm would recurse into it and fail on the mount point).
    for (let attempt = 0; attempt < 5 && spawnSync('fusermount3', ['-u', mount]).status !== 0; attempt++) {
      if (spawnSync('mountpoint', ['-q', mount]).status !== 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (spawnSync('mountpoint', ['-q', mount]).status === 0) spawnSync('fusermount3', ['-u', '-z', mount]);
    await rm(dir, { recursive: true, force: true });
  });
  return mount;
}

const lookupOf = (entries: ManifestEntry[]) => {
  const m = new Map(entries.map((e) => [e.path, e]));
  return (p: string) => m.get(p);
};

test('a FAT backup is detected as case-insensitive and colliding names are reported, not overwritten', { skip }, async (t) => {
  const fat = await mountFat(t);
  const src = await tempDir(t);
  writeTree(src, { 'Readme.md': 'first', 'README.md': 'second', 'notes/a.txt': 'a' });
  writeTree(fat, {});
  assert.deepEqual(await probeFolding(fat), { case: true, normalization: true });
  assert.deepEqual(await probeFolding(src), { case: false, normalization: false });

  const s = listTree(src);
  const folding = await probeFolding(fat);
  const plan = planSync(await diffTrees(src, fat), { sourceFiles: s.length, backupFiles: 0, folding });
  assert.deepEqual(
    plan.skipped.map((x) => [x.reason, x.path]),
    [['collision', 'Readme.md']],
  );
  const result = await applyPlan(plan, { root: fat, source: new LocalFolderSource(src, lookupOf(s)) });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(
    readdirSync(fat)
      .filter((n) => n !== '.synker')
      .sort(),
    ['README.md', 'notes'],
  );
  assert.equal(readFileSync(path.join(fat, 'README.md'), 'utf8'), 'second');
});

test('a name that already exists on FAT in another case is never overwritten, even by an unprobed plan', { skip }, async (t) => {
  const fat = await mountFat(t);
  const src = await tempDir(t);
  writeTree(fat, { 'notes.txt': 'backup copy of notes.txt' });
  writeTree(src, { 'notes.txt': 'backup copy of notes.txt', 'NOTES.TXT': 'a different file' });
  const s = listTree(src);
  // The backup's `notes.txt` equals the source's: only NOTES.TXT is missing.
  const diffs = await diffTrees(src, fat);
  assert.deepEqual(
    diffs.filter((d) => d.category !== 'metadata').map((d) => [d.category, d.path, d.clash]),
    [
      ['missing', 'NOTES.TXT', undefined],
      ['name-clash', 'NOTES.TXT', 'within'],
    ],
  );
  const plan = planSync(diffs, { sourceFiles: 2, backupFiles: 1 });
  const result = await applyPlan(plan, { root: fat, source: new LocalFolderSource(src, lookupOf(s)) });
  assert.deepEqual(
    result.failed.map((f) => [f.path, f.code]),
    [['NOTES.TXT', 'E_SYNC_NAME_COLLISION']],
  );
  assert.equal(readFileSync(path.join(fat, 'notes.txt'), 'utf8'), 'backup copy of notes.txt');
});

test('a large file synced onto a FUSE disk goes through the page cache and lands intact', { skip }, async (t) => {
  const fat = await mountFat(t);
  const src = await tempDir(t);
  // Direct writes through FUSE would wait on the user-space daemon for every MiB (direct-write.ts).
  assert.equal(directWritesSuit(fat), false);
  const video = randomBytes(3 * 1024 * 1024 + 1);
  writeTree(src, { 'clips/video.mp4': video });
  writeTree(fat, {});
  const s = listTree(src);
  const plan = planSync(await diffTrees(src, fat), { sourceFiles: s.length, backupFiles: 0, folding: await probeFolding(fat) });
  const result = await applyPlan(plan, { root: fat, source: new LocalFolderSource(src, lookupOf(s)) });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(readFileSync(path.join(fat, 'clips/video.mp4')), video);
});

/** What an earlier run left when its transfer of `data` to `rel` was cut after `bytes`: the part kept for a resume. */
async function interruptedTransfer(root: string, rel: string, data: Buffer, bytes: number): Promise<void> {
  const first = await IncomingFile.open(root, rel, { hash: sha256(data), size: data.length, mtime: T0, mode: 0o644 });
  for (let i = 0; i < bytes; i += 262_144) await first.write(data.subarray(i, Math.min(i + 262_144, bytes)));
  await first.close();
}

test('a resumed file is read back before it lands: a FUSE FAT driver that loses the appended bytes is caught', { skip }, async (t) => {
  const fat = await mountFat(t, '300M');
  writeTree(fat, {});
  // Image and file sizes at which fusefat is known to return a short file after a reopened file grows (stat shows the full size).
  const data = randomBytes(20 * 1024 * 1024);
  const expected = { hash: sha256(data), size: data.length, mtime: T0, mode: 0o644 };
  await interruptedTransfer(fat, 'film.mp4', data, 2_359_296);

  const resumed = await IncomingFile.open(fat, 'film.mp4', expected);
  assert.equal(resumed.resumeOffset, 2_359_296);
  for (let i = resumed.resumeOffset; i < data.length; i += 262_144) await resumed.write(data.subarray(i, i + 262_144));
  await assert.rejects(
    resumed.complete(sha256(data)),
    (err: unknown) => err instanceof PartialFileError && /read back from the backup disk differs/.test(err.message),
  );

  // The part was deleted: the next attempt starts from byte 0 and lands the whole file.
  const again = await IncomingFile.open(fat, 'film.mp4', expected);
  assert.equal(again.resumeOffset, 0);
  for (let i = 0; i < data.length; i += 262_144) await again.write(data.subarray(i, i + 262_144));
  await again.complete(sha256(data));
  await landFile(fat, again.partialPath, 'film.mp4', new VersionKeeper(fat), false);
  assert.deepEqual(readFileSync(path.join(fat, 'film.mp4')), data);
});

test('a sync resumed onto FAT lands the whole file, whichever way the driver fails the kept part', { skip }, async (t) => {
  const fat = await mountFat(t, '300M');
  const src = await tempDir(t);
  const data = randomBytes(20 * 1024 * 1024);
  writeTree(src, { 'film.mp4': data });
  writeTree(fat, {});
  await interruptedTransfer(fat, 'film.mp4', data, 2_359_296);

  const s = listTree(src);
  const plan = planSync(await diffTrees(src, fat), { sourceFiles: s.length, backupFiles: 0, folding: await probeFolding(fat) });
  const result = await applyPlan(plan, { root: fat, source: new LocalFolderSource(src, lookupOf(s)) });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(readFileSync(path.join(fat, 'film.mp4')), data);
});

test('the folder marker is written on FAT, where chmod is not supported (ENOSYS)', { skip }, async (t) => {
  const fat = await mountFat(t);
  await writeFolderMarker(fat, 'pics');
  assert.equal((await readFolderMarker(fat))?.folderId, 'pics');
  assert.deepEqual(readdirSync(path.join(fat, '.synker')), ['folder.json'], 'no temporary file is left behind');
});

test("a version kept on FAT is restored, though the copy cannot take the original's mode", { skip }, async (t) => {
  const fat = await mountFat(t);
  writeTree(fat, { 'notes.txt': 'first draft' });
  const keeper = new VersionKeeper(fat);
  assert.ok(await keeper.keepBeforeReplace('notes.txt'));
  writeFileSync(path.join(fat, 'notes.txt'), 'second draft');
  const [version] = await listVersions(fat);
  await restoreVersion(fat, version!);
  assert.equal(readFileSync(path.join(fat, 'notes.txt'), 'utf8'), 'first draft');
  await restoreVersion(fat, version!, { toDir: path.join(fat, 'restored') });
  assert.equal(readFileSync(path.join(fat, 'restored', 'notes.txt'), 'utf8'), 'first draft');
});

test("restore --to a FAT disk settles: a file with the backup's content is there, whatever FAT keeps of its time and mode", {
  skip,
}, async (t) => {
  const fat = await mountFat(t);
  const backup = await tempDir(t);
  // An odd-millisecond time and a mode FAT cannot keep.
  writeTree(backup, { 'notes.txt': 'the backup copy' }, T0 + 1001);
  chmodSync(path.join(backup, 'notes.txt'), 0o600);
  writeTree(fat, { 'notes.txt': 'the backup copy' }, T0 + 1001);
  const entries = listTree(backup).filter((e) => e.path === 'notes.txt');
  assert.equal(entries[0]?.mode, 0o600);
  // Stored as FAT can (2 s, no mode bits): nothing is left to fix, on this run or the next.
  assert.equal((await findAlreadyRestored(fat, entries)).get('notes.txt'), 'same');
});

// Files only: fusefat loses a folder's entries on any rename of the folder (`mv dir other` leaves
// `other` empty), a driver bug Windows' and Linux's own FAT do not have.
test('a rename in case only on the source is a rename on FAT, with nothing set aside', { skip }, async (t) => {
  const src = await tempDir(t);
  const dst = await mountFat(t);
  writeTree(src, { 'README.md': 'read me' });
  writeTree(dst, { 'readme.md': 'read me' });
  const s = listTree(src);
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: s.length, backupFiles: s.length, folding: await probeFolding(dst) });
  const result = await applyPlan(plan, {
    root: dst,
    source: new LocalFolderSource(src, lookupOf(s)),
    requireMarker: false,
    keeper: new VersionKeeper(dst),
  });
  assert.deepEqual(result.failed, []);
  assert.deepEqual(
    readdirSync(dst).filter((n) => n !== '.synker'),
    ['README.md'],
  );
  assert.equal(readFileSync(path.join(dst, 'README.md'), 'utf8'), 'read me');
  assert.deepEqual(await listVersions(dst), [], 'renamed, not moved to versions');
});

test('what lies inside the second spelling of a folder is never pulled into the first on FAT', { skip }, async (t) => {
  const src = await tempDir(t);
  const dst = await mountFat(t);
  writeTree(src, { 'Photos/a.jpg': 'a', 'photos/b.jpg': 'b' });
  writeTree(dst, {});
  const s = listTree(src);
  const plan = planSync(await diffTrees(src, dst), { sourceFiles: s.length, backupFiles: 0, folding: await probeFolding(dst) });
  const pulled = plan.actions.filter((a) => a.op === 'pull').map((a) => ('at' in a ? a.at.path : ''));
  assert.deepEqual(pulled, ['Photos/a.jpg']);
  assert.deepEqual(plan.skipped.map((x) => [x.path, x.reason]).sort(), [
    ['photos', 'collision'],
    ['photos/b.jpg', 'collision'],
  ]);
});

test('a FAT disk keeps no modes, so a check compares none: its made-up 0700 is never a difference', { skip }, async (t) => {
  const dst = await mountFat(t);
  writeFileSync(path.join(dst, 'probe.txt'), 'x');
  assert.equal(await keepsModes(path.join(dst, 'probe.txt')), false);
  const disk = path.join(await tempDir(t), 'probe.txt');
  writeFileSync(disk, 'x');
  assert.equal(await keepsModes(disk), true);
});
