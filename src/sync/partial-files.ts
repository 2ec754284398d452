/**
 * The partial files under `.synker/partial/`: where a file's bytes wait,
 * named by the expected SHA-256, until they are verified and land. Owns
 * making that folder, resuming from the prefix a partial already holds,
 * reading a resumed partial back, and removing the partials no pull of this
 * run can use. The writer that fills them is incoming-file.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { META_DIR } from '../manifest/layout.js';
import { BackupDiskError } from './errors.js';
import { fdRead } from '../transfer/fd-io.js';
import { openNoFollow } from '../base/no-follow.js';
import { realMetaDir } from '../config/folder-marker.js';

export const PARTIAL_DIR = `${META_DIR}/partial`;
const HASH_RE = /^[0-9a-f]{64}$/;
const log = createLogger('sync');
const READ_CHUNK = 1 << 20;

/** Partial folders known to exist (created once per process, not once per file). */
const partialDirs = new Set<string>();

function partialDirOf(root: string): string {
  return path.join(root, ...PARTIAL_DIR.split('/'));
}

export function partialPathFor(root: string, hash: string): string {
  if (!HASH_RE.test(hash)) throw new TypeError(`not a SHA-256 hex digest: ${hash}`);
  return path.join(partialDirOf(root), `${hash}.part`);
}

/** Makes the partial folder `dir` unless this process already made or found it. */
export function makePartialDir(dir: string): void {
  if (!partialDirs.has(dir)) {
    // The partial folder is always <root>/.synker/partial: made as real folders, never through a link.
    realMetaDir(path.dirname(path.dirname(dir)), ...PARTIAL_DIR.split('/').slice(1));
    partialDirs.add(dir);
  }
}

/**
 * The bytes an open partial already holds from an earlier attempt, hashed so
 * the running digest covers the bytes on disk: `pos` is where to resume. A
 * partial longer than the content, or one whose prefix cannot be read back,
 * is emptied and the transfer starts from byte 0.
 */
export async function resumePrefix(fd: number, relPath: string, expectedSize: number): Promise<{ hash: Hash; pos: number }> {
  let hash = createHash('sha256');
  let size = fstatSync(fd).size;
  if (size > expectedSize) {
    // Never produced by us; a stale or foreign file. Start over.
    ftruncateSync(fd, 0);
    size = 0;
  }
  // Re-hash the prefix so the running digest covers the bytes on disk.
  let pos = 0;
  if (size > 0) {
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size));
    try {
      while (pos < size) {
        const bytesRead = await fdRead(fd, buf, 0, Math.min(buf.length, size - pos), pos);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
    } catch (err) {
      // A part the file system cannot give back (EPERM from a FUSE FAT driver) would fail every run: start over.
      if (errnoCode(err) === undefined || BackupDiskError.of(relPath, err) !== undefined) throw err;
      log.info(
        `${relPath}: the part kept from an interrupted transfer cannot be read (${errnoCode(err)}); fetching the file from its first byte`,
      );
      ftruncateSync(fd, 0);
      hash = createHash('sha256');
      pos = 0;
    }
  }
  return { hash, pos };
}

/**
 * Whether the partial, read back through a new descriptor, hashes to the
 * expected content. Only after a resume: the bytes appended to a file kept
 * from an earlier run are where file systems have been seen to lose data
 * (a FUSE FAT driver returned a short file while stat gave the full size),
 * and the running hash only covers the bytes as received.
 */
export async function readsBackIntact(partialPath: string, relPath: string, expected: { hash: string; size: number }): Promise<boolean> {
  const fd = await openNoFollow(partialPath, constants.O_RDONLY, 0);
  try {
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let pos = 0;
    for (;;) {
      let bytesRead: number;
      try {
        bytesRead = await fdRead(fd, buf, 0, buf.length, pos);
      } catch (err) {
        // The same driver refuses to read the bytes it lost (EPERM); a failing disk (EIO) stops the run.
        if (errnoCode(err) === undefined || BackupDiskError.of(relPath, err) !== undefined) throw err;
        log.debug(`${partialPath}: reading it back failed at byte ${pos}: ${(err as Error).message}`);
        return false;
      }
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return pos === expected.size && hash.digest('hex') === expected.hash;
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the partial files no pull of this run can resume: a partial is kept
 * for the content it was receiving, and once the source file has changed
 * that content will never be asked for again. Without this, an interrupted
 * transfer of an edited file would hold its space on the backup disk forever.
 */
export async function prunePartials(root: string, wantedHashes: ReadonlySet<string>): Promise<string[]> {
  const dir = partialDirOf(root);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const hash = name.endsWith('.part') ? name.slice(0, -'.part'.length) : '';
    if (!HASH_RE.test(hash) || wantedHashes.has(hash)) continue;
    await rm(path.join(dir, name), { force: true });
    removed.push(hash);
  }
  return removed;
}

/**
 * Removes the partial folder when nothing is left in it, and `.synker/` too
 * when `alsoMetaDir` and it is empty (a restore into a new folder leaves no
 * trace of synker's own files there). Tidying only: a folder that cannot be
 * removed (some FUSE file systems refuse rmdir) stays, and is reused.
 */
export async function removeEmptyPartialDir(root: string, alsoMetaDir: boolean): Promise<void> {
  const dir = partialDirOf(root);
  for (const d of alsoMetaDir ? [dir, path.dirname(dir)] : [dir]) {
    try {
      if ((await readdir(d)).length > 0) return;
      await rmdir(d);
      partialDirs.delete(d);
    } catch (err) {
      log.debug(`${d} left in place: ${(err as Error).message}`);
      return;
    }
  }
}
