import assert from 'node:assert/strict';
import { pbkdf2, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { IntegrityError } from '../../src/sync/errors.js';
import { UnsafePathError } from '../../src/transfer/errors.js';
import { IncomingFile } from '../../src/sync/incoming-file.js';
import { partialPathFor } from '../../src/sync/partial-files.js';
import { landFile } from '../../src/sync/land.js';
import { isMetaDirAlias, resolveUnderRoot, unsafePathReason } from '../../src/transfer/safe-path.js';
import { VersionKeeper } from '../../src/sync/versions.js';
import { sha256, T0, writeTree } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';
import { assertLandedAt } from '../harness/landed-time.js';

const expectFor = (data: Buffer, mode = 0o640) => ({ hash: sha256(data), size: data.length, mtime: T0, mode });

async function receive(root: string, rel: string, data: Buffer, chunks = 4): Promise<IncomingFile> {
  const incoming = await IncomingFile.open(root, rel, expectFor(data));
  const step = Math.ceil(data.length / chunks);
  for (let i = incoming.resumeOffset; i < data.length; i += step) await incoming.write(data.subarray(i, Math.min(i + step, data.length)));
  return incoming;
}

test('a verified file lands atomically with its mtime and mode, and no partial is left', async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(100_000);
  const incoming = await receive(root, 'a/b/file.bin', data);
  await incoming.complete(sha256(data));
  await landFile(root, incoming.partialPath, 'a/b/file.bin', new VersionKeeper(root), false);
  const abs = path.join(root, 'a/b/file.bin');
  assert.deepEqual(readFileSync(abs), data);
  assertLandedAt(abs, T0);
  assert.equal(statSync(abs).mode & 0o777, 0o640);
  assert.deepEqual(readdirSync(path.join(root, '.synker/partial')), []);
});

test('a large file is created off the calling thread, a small one on it', async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  // Occupy libuv's thread pool: a create made there completes only after some of these jobs.
  let jobsDone = 0;
  const jobs = Array.from(
    { length: 32 },
    () => new Promise<void>((resolve) => pbkdf2('x', 'y', 20_000, 32, 'sha256', () => resolve(void jobsDone++))),
  );
  const small = randomBytes(1000);
  const opened = await IncomingFile.open(root, 'small.bin', expectFor(small));
  assert.equal(jobsDone, 0, 'a small file is created synchronously');
  const large = { hash: 'ab'.repeat(32), size: 10 * 1024 * 1024, mtime: T0, mode: 0o644 };
  const big = await IncomingFile.open(root, 'large.bin', large);
  assert.ok(jobsDone > 0, "a large file's create waited its turn in the thread pool");
  await Promise.all(jobs);
  await opened.discard();
  await big.discard();
});

test('more bytes than announced are refused and the partial is deleted', async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(1000);
  const incoming = await IncomingFile.open(root, 'x', expectFor(data));
  await incoming.write(data);
  await assert.rejects(
    incoming.write(Buffer.from('!')),
    (err: unknown) => err instanceof IntegrityError && /more than the 1000 bytes/.test(err.message),
  );
  assert.equal(existsSync(incoming.partialPath), false);
  assert.equal(existsSync(path.join(root, 'x')), false);
});

test('content that does not match the expected hash never lands', async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(5000);
  const incoming = await IncomingFile.open(root, 'x', expectFor(data));
  const wrong = Buffer.from(data);
  wrong.writeUInt8(wrong.readUInt8(4000) ^ 0xff, 4000);
  await incoming.write(wrong);
  await assert.rejects(incoming.complete(), (err: unknown) => err instanceof IntegrityError && /SHA-256/.test(err.message));
  assert.equal(existsSync(incoming.partialPath), false);
  assert.equal(existsSync(path.join(root, 'x')), false);
});

test('a source whose own end-of-file hash disagrees is not trusted either', async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(5000);
  const incoming = await receive(root, 'x', data);
  await assert.rejects(incoming.complete(sha256('something else')), IntegrityError);
  assert.equal(existsSync(incoming.partialPath), false);
});

test('an interrupted transfer resumes from the verified prefix', async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const first = await IncomingFile.open(root, 'big', expectFor(data));
  await first.write(data.subarray(0, 1_000_000));
  await assert.rejects(first.complete(), /ended after 1000000 of/);
  assert.equal(statSync(first.partialPath).size, 1_000_000, 'the prefix is kept');

  const second = await IncomingFile.open(root, 'big', expectFor(data));
  assert.equal(second.resumeOffset, 1_000_000);
  await second.write(data.subarray(1_000_000));
  await second.complete(sha256(data));
  await landFile(root, second.partialPath, 'big', new VersionKeeper(root), false);
  assert.deepEqual(readFileSync(path.join(root, 'big')), data);
});

test('a damaged prefix is caught by the final hash and discarded', async (t) => {
  const root = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(10_000);
  mkdirSync(path.dirname(partialPathFor(root, sha256(data))), { recursive: true });
  const damaged = Buffer.from(data.subarray(0, 4000));
  damaged.writeUInt8(damaged.readUInt8(10) ^ 1, 10);
  writeFileSync(partialPathFor(root, sha256(data)), damaged);
  const incoming = await IncomingFile.open(root, 'f', expectFor(data));
  assert.equal(incoming.resumeOffset, 4000);
  await incoming.write(data.subarray(4000));
  await assert.rejects(incoming.complete(), IntegrityError);
  assert.equal(existsSync(partialPathFor(root, sha256(data))), false, 'next attempt starts from byte 0');
});

test('replacing a file keeps the old one in the versions folder', async (t) => {
  const root = await tempDir(t);
  writeTree(root, { 'docs/note.txt': 'old' });
  const data = Buffer.from('new content');
  const incoming = await receive(root, 'docs/note.txt', data);
  await incoming.complete();
  const keeper = new VersionKeeper(root, new Date(Date.UTC(2026, 10, 25, 16, 7, 12)));
  const result = await landFile(root, incoming.partialPath, 'docs/note.txt', keeper, true);
  assert.equal(result.keptVersion, '.synker/versions/docs/note.txt~20261125-160712');
  assert.equal(readFileSync(path.join(root, result.keptVersion!), 'utf8'), 'old');
  assert.equal(readFileSync(path.join(root, 'docs/note.txt'), 'utf8'), 'new content');
});

test('hostile paths are refused before touching the disk', () => {
  for (const bad of ['', '/etc/passwd', '../x', 'a/../../x', 'a//b', 'a/./b', 'a\\b', 'nul\0byte', '.synker/folder.json', 'a/']) {
    assert.notEqual(unsafePathReason(bad), undefined, JSON.stringify(bad));
  }
  // A drive or stream name only on Windows (test/unit/names-per-destination): an ordinary folder name elsewhere.
  assert.throws(() => resolveUnderRoot('/backup', 'C:/Windows', 'win32'), { code: 'E_SYNC_UNSAFE_PATH' });
  for (const ok of ['a', 'a/b.txt', '.hidden', 'x/.synker', 'é/ü']) assert.equal(unsafePathReason(ok), undefined, ok);
});

test(".SYNKER is an ordinary name on a disk that tells case apart, and synker's own folder wherever that cannot be told", async (t) => {
  const root = await tempDir(t);
  // No .synker yet: whether the disk folds case cannot be told, so the name counts as synker's own folder.
  assert.throws(
    () => resolveUnderRoot(root, '.SYNKER/x'),
    (err: unknown) => err instanceof UnsafePathError && /\.SYNKER is \.synker\//.test((err as Error).message),
  );
  writeTree(root, {});
  // This disk tells case apart (the tests' temporary folders are on Linux file systems that do).
  assert.equal(isMetaDirAlias(root, '.SYNKER'), false);
  assert.equal(resolveUnderRoot(root, '.SYNKER/x'), path.join(root, '.SYNKER', 'x'));
  assert.equal(resolveUnderRoot(root, '.Synker'), path.join(root, '.Synker'));
  assert.equal(isMetaDirAlias(root, '.synker'), true);
  assert.throws(() => resolveUnderRoot(root, '.synker/x'), UnsafePathError);
  // A symlink spelt .SYNKER to synker's own folder is not that folder, and is never written through.
  symlinkSync('.synker', path.join(root, '.SYNKER'));
  assert.equal(isMetaDirAlias(root, '.SYNKER'), false);
  const { FolderTree } = await import('../../src/transfer/folder-tree.js');
  const tree = new FolderTree(root);
  try {
    await assert.rejects(
      tree.parentOf('.SYNKER/folder.json', true, () => undefined),
      (err: unknown) => err instanceof UnsafePathError && /symlink/.test((err as Error).message),
    );
  } finally {
    tree.close();
  }
});

test('a parent folder that is a symlink is never written through', async (t) => {
  const root = await tempDir(t);
  const outside = await tempDir(t);
  writeTree(root, {});
  symlinkSync(outside, path.join(root, 'escape'));
  const { FolderTree } = await import('../../src/transfer/folder-tree.js');
  for (const byPath of [false, true]) {
    const tree = new FolderTree(root, { byPath });
    await assert.rejects(
      tree.parentOf('escape/passwd', true, () => undefined),
      (err: unknown) => err instanceof UnsafePathError && /symlink/.test(err.message),
    );
    tree.close();
  }
  const data = Buffer.from('x');
  const incoming = await receive(root, 'escape/passwd', data, 1);
  await incoming.complete();
  await assert.rejects(landFile(root, incoming.partialPath, 'escape/passwd', new VersionKeeper(root), false), UnsafePathError);
  assert.deepEqual(readdirSync(outside), []);
});

test('a partial file planted as a symlink or a hard link is replaced: the file outside is neither read nor written', async (t) => {
  const { linkSync, lstatSync } = await import('node:fs');
  const root = await tempDir(t);
  const outside = await tempDir(t);
  writeTree(root, {});
  const data = randomBytes(70_000);
  const victim = path.join(outside, 'victim.bin');
  const linked = path.join(outside, 'linked.bin');
  writeFileSync(victim, 'the first bytes of someone else');
  writeFileSync(linked, 'a file hard-linked into the partial folder');
  const partial = partialPathFor(root, sha256(data));
  mkdirSync(path.dirname(partial), { recursive: true });
  for (const plant of [() => symlinkSync(victim, partial), () => linkSync(linked, partial)]) {
    plant();
    const incoming = await receive(root, 'f.bin', data);
    assert.equal(incoming.resumeOffset, 0, 'nothing planted is taken for a resumed prefix');
    await incoming.complete();
    await landFile(root, incoming.partialPath, 'f.bin', new VersionKeeper(root), true);
    assert.deepEqual(readFileSync(path.join(root, 'f.bin')), data);
    assert.equal(lstatSync(path.join(root, 'f.bin')).nlink, 1);
  }
  assert.equal(readFileSync(victim, 'utf8'), 'the first bytes of someone else');
  assert.equal(readFileSync(linked, 'utf8'), 'a file hard-linked into the partial folder');
});

test('a folder swapped for a symlink between the check of its parents and the rename: the file never lands outside', async (t) => {
  const { FolderTree } = await import('../../src/transfer/folder-tree.js');
  const { renameSync, writeFileSync: write } = await import('node:fs');
  const root = await tempDir(t);
  const outside = await tempDir(t);
  writeTree(root, { 'd/old.txt': 'x' });
  const tree = new FolderTree(root);
  t.after(() => tree.close());
  await tree.parentOf('d/new.txt', true, (dir, name) => {
    // The check is done and the folder held; now someone swaps it.
    renameSync(path.join(root, 'd'), path.join(root, 'd.old'));
    symlinkSync(outside, path.join(root, 'd'));
    write(dir.entry(name), 'written after the swap');
  });
  if (tree.anchored) {
    assert.deepEqual(
      readdirSync(outside).filter((n) => n !== '.synker'),
      [],
    );
    assert.equal(readFileSync(path.join(root, 'd.old', 'new.txt'), 'utf8'), 'written after the swap');
    // The next use finds the swap and refuses it, naming the file.
    await assert.rejects(
      tree.parentOf('d/next.txt', true, () => undefined),
      { code: 'E_SYNC_FOLDER_CHANGED', folder: 'd', now: 'a symlink' },
    );
  } else {
    t.diagnostic('no /proc/self/fd here: the window between the check and the write remains (docs/platforms.md)');
  }
});

test('the partial folder swapped for a symlink after this process first used it: refused (E_META_LINK), nothing written outside', async (t) => {
  const { renameSync } = await import('node:fs');
  const root = await tempDir(t);
  const outside = await tempDir(t);
  writeTree(root, {});
  const first = Buffer.from('first file');
  const incoming = await receive(root, 'one.txt', first, 1);
  await incoming.complete();
  await landFile(root, incoming.partialPath, 'one.txt', new VersionKeeper(root), false);
  // This process has made and checked the partial folder; a neighbour now swaps it.
  const partialDir = path.join(root, '.synker', 'partial');
  mkdirSync(partialDir, { recursive: true });
  renameSync(partialDir, path.join(root, '.synker', 'partial.old'));
  symlinkSync(outside, partialDir);
  await assert.rejects(IncomingFile.open(root, 'two.txt', expectFor(Buffer.from('second file'))), { code: 'E_META_LINK' });
  assert.deepEqual(
    readdirSync(outside).filter((n) => n !== '.synker'),
    [],
  );
});
