/**
 * Large received files go to the disk past the page cache (direct-write.ts).
 * Residency in the page cache is read with util-linux's fincore, so these
 * tests see what the kernel did, not what the code meant to do.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants, existsSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { directOpenFlag, directWritesSuit } from '../../src/sync/direct-write.js';
import { IncomingFile } from '../../src/sync/incoming-file.js';
import { landFile } from '../../src/sync/land.js';
import { VersionKeeper } from '../../src/sync/versions.js';
import { sha256, T0, writeTree } from '../harness/tree.js';
import { assertLandedAt } from '../harness/landed-time.js';

const expectFor = (data: Buffer) => ({ hash: sha256(data), size: data.length, mtime: T0, mode: 0o644 });

function cannotObserve(): string | undefined {
  if (process.platform !== 'linux') return 'direct writes are a Linux feature here';
  if (spawnSync('sh', ['-c', 'command -v fincore']).status !== 0) return 'fincore (util-linux) is not installed';
  return undefined;
}
const skip = cannotObserve();

/** Bytes of `file` in the page cache. */
function cachedBytes(file: string): number {
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

/** The file system type of `dir` as statfs names it (tmpfs, ramfs, ext2/ext3, xfs, ...). */
function fsTypeOf(dir: string): string {
  return spawnSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).stdout.trim();
}

/**
 * A folder on a file system where the page cache is not the storage itself (not tmpfs or ramfs):
 * the temporary folder, else /var/tmp, else this checkout (a disk on every CI machine). Skips
 * (a reason test/skips.json allows outside CI only) when none is.
 */
async function diskFolder(t: TestContext): Promise<string | undefined> {
  for (const parent of [os.tmpdir(), '/var/tmp', process.cwd()]) {
    if (!existsSync(parent) || ['tmpfs', 'ramfs'].includes(fsTypeOf(parent))) continue;
    let root: string;
    try {
      root = await mkdtemp(path.join(parent, 'synker-direct-'));
    } catch {
      continue; // not writable here
    }
    t.after(() => rm(root, { recursive: true, force: true }));
    writeTree(root, {});
    return root;
  }
  t.skip(`no folder on a disk-backed file system: ${os.tmpdir()}, /var/tmp and ${process.cwd()} are tmpfs or ramfs`);
  return undefined;
}

async function receiveAndLand(root: string, rel: string, data: Buffer, chunk: number): Promise<string> {
  const incoming = await IncomingFile.open(root, rel, expectFor(data));
  for (let i = incoming.resumeOffset; i < data.length; i += chunk) await incoming.write(data.subarray(i, Math.min(i + chunk, data.length)));
  await incoming.complete(sha256(data));
  await landFile(root, incoming.partialPath, rel, new VersionKeeper(root), false);
  return path.join(root, rel);
}

test('a large file reaches the disk without filling the page cache; with SYNKER_DIRECT_IO=0 it goes through it', { skip }, async (t) => {
  const root = await diskFolder(t);
  if (root === undefined) return;
  assert.equal(directWritesSuit(root), true, 'a local disk file system takes direct writes');
  const data = randomBytes(5 * 1024 * 1024 + 123);
  const direct = await receiveAndLand(root, 'direct.bin', data, 100_000);
  assert.deepEqual(readFileSync(direct), data);
  // Reading it back above cached it: only residency measured before that counts, so measure a second file.
  const again = await receiveAndLand(root, 'again.bin', data.subarray(0, 3 * 1024 * 1024), 256 * 1024);
  assert.ok(cachedBytes(again) <= 64 * 1024, `at most the last partial block is cached, found ${cachedBytes(again)} bytes`);

  const saved = process.env.SYNKER_DIRECT_IO;
  process.env.SYNKER_DIRECT_IO = '0';
  t.after(() => {
    if (saved === undefined) delete process.env.SYNKER_DIRECT_IO;
    else process.env.SYNKER_DIRECT_IO = saved;
  });
  const cached = await receiveAndLand(root, 'cached.bin', data.subarray(0, 3 * 1024 * 1024), 256 * 1024);
  assert.equal(cachedBytes(cached), 3 * 1024 * 1024, 'written through the page cache, every page stays cached');
});

test('a transfer interrupted after several direct writes resumes at the exact byte and lands intact', { skip }, async (t) => {
  const root = await diskFolder(t);
  if (root === undefined) return;
  const data = randomBytes(3 * 1024 * 1024 + 4097);
  const first = await IncomingFile.open(root, 'big', expectFor(data));
  for (let i = 0; i < 2_200_000; i += 100_000) await first.write(data.subarray(i, i + 100_000));
  await assert.rejects(first.complete(), /ended after 2200000 of/);
  assert.equal(statSync(first.partialPath).size, 2_200_000, 'the staged bytes are kept for the resume');
  assert.deepEqual(readFileSync(first.partialPath), data.subarray(0, 2_200_000));

  const second = await IncomingFile.open(root, 'big', expectFor(data));
  assert.equal(second.resumeOffset, 2_200_000);
  // Uneven pieces: the staged block boundary falls inside them.
  for (let i = 2_200_000; i < data.length; i += 77_777) await second.write(data.subarray(i, Math.min(i + 77_777, data.length)));
  await second.complete(sha256(data));
  await landFile(root, second.partialPath, 'big', new VersionKeeper(root), false);
  assert.deepEqual(readFileSync(path.join(root, 'big')), data);
  assertLandedAt(path.join(root, 'big'), T0); // set after the last write
});

test('a file whose size is a whole number of blocks lands intact', { skip }, async (t) => {
  const root = await diskFolder(t);
  if (root === undefined) return;
  const data = randomBytes(2 * 1024 * 1024);
  const landed = await receiveAndLand(root, 'exact.bin', data, 64 * 1024);
  assert.deepEqual(readFileSync(landed), data);
});

test('a file system that refuses direct writes (ramfs) gets every file through the page cache', {
  skip: skip ?? (process.getuid?.() === 0 ? undefined : 'mounting ramfs needs root'),
}, async (t) => {
  // Not tempDir(): the file system must be unmounted before its folder is removed.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synker-ramfs-'));
  const mount = path.join(dir, 'mnt');
  mkdirSync(mount);
  const r = spawnSync('mount', ['-t', 'ramfs', 'ramfs', mount], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  t.after(async () => {
    spawnSync('umount', [mount]);
    await rm(dir, { recursive: true, force: true });
  });
  writeTree(mount, {});
  // The premise: ramfs refuses a direct descriptor, so each landing below has to take the page cache.
  assert.equal(directWritesSuit(mount), true, 'ramfs is not on the list of file systems skipped up front');
  assert.throws(() => openSync(path.join(mount, 'probe'), constants.O_WRONLY | constants.O_CREAT | directOpenFlag(), 0o600), {
    code: 'EINVAL',
  });
  const data = randomBytes(2 * 1024 * 1024 + 5);
  for (const name of ['one.bin', 'two.bin']) {
    const landed = await receiveAndLand(mount, name, data, 128 * 1024);
    assert.deepEqual(readFileSync(landed), data);
  }
});
