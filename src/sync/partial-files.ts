/**
 * The partial files under `.synker/partial/`: where a file's bytes wait,
 * named by the expected SHA-256, until they are verified and land. Owns
 * making that folder, resuming from the prefix a partial already holds,
 * reading a resumed partial back, and removing the partials no pull of this
 * run can use. The writer that fills them is incoming-file.ts.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, ftruncateSync, rmSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { printablePath } from '../base/printable.js';
import { META_DIR } from '../manifest/layout.js';
import { BackupDiskError } from './errors.js';
import { fdRead, SYNC_IO_MAX_BYTES } from '../transfer/fd-io.js';
import { openNoFollow, openNoFollowSync } from '../base/no-follow.js';
import { existingMetaDir, realMetaDir } from '../config/folder-marker.js';
import { withTree, type FolderTree } from '../transfer/folder-tree.js';

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
 * Opens (creating it) the partial at `at`, an entry of the partial folder
 * (`shown` names it in messages). What was planted there that synker never
 * makes, a symlink, a folder, a FIFO or socket, or a file with other hard
 * links (written in place, it would change a file outside the folder), is
 * removed and a new file made in its place: the partial folder is synker's
 * own. A large file's create leaves the thread (openNoFollow says why); a
 * small file's stays cheap.
 */
export async function openPartial(at: string, shown: string, size: number): Promise<number> {
  const flags = constants.O_RDWR | constants.O_CREAT;
  const create = (extra: number): number | Promise<number> =>
    size <= SYNC_IO_MAX_BYTES ? openNoFollowSync(at, flags | extra, 0o600) : openNoFollow(at, flags | extra, 0o600);
  let why: string;
  try {
    const fd = await create(0);
    const st = fstatSync(fd);
    if (st.isFile() && st.nlink <= 1) return fd;
    closeSync(fd);
    why = st.isFile() ? `has ${st.nlink} hard links` : 'is not a regular file';
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'ELOOP' && code !== 'EISDIR' && code !== 'ENXIO') throw err;
    why = code === 'ELOOP' ? 'is a symlink' : code === 'EISDIR' ? 'is a folder' : 'is not a regular file';
  }
  log.warn(`${printablePath(shown)} ${why}, which synker never makes there: replaced by a new partial file`);
  rmSync(at, { recursive: true, force: true });
  return create(constants.O_EXCL);
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
  // Non-blocking, and only a regular file is read: a FIFO put in its place would block for ever.
  const fd = await openNoFollow(partialPath, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0), 0);
  try {
    if (!fstatSync(fd).isFile()) return false;
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
 * Listed and removed through the run's folder tree: never through a link.
 */
export async function prunePartials(root: string, wantedHashes: ReadonlySet<string>, tree?: FolderTree): Promise<string[]> {
  // A link at `.synker` or `.synker/partial` is refused with its own clear error (E_META_LINK).
  existingMetaDir(root, ...PARTIAL_DIR.split('/').slice(1));
  return withTree(root, tree, async (t) => {
    let names: string[];
    try {
      names = await t.at(PARTIAL_DIR, false, (dir) => readdir(dir.self));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
      throw err;
    }
    const removed: string[] = [];
    await t.at(PARTIAL_DIR, false, async (dir) => {
      for (const name of names) {
        const hash = name.endsWith('.part') ? name.slice(0, -'.part'.length) : '';
        if (!HASH_RE.test(hash) || wantedHashes.has(hash)) continue;
        await rm(dir.entry(name), { force: true, recursive: true });
        removed.push(hash);
      }
    });
    return removed;
  });
}

/**
 * Removes the partial folder when nothing is left in it, and `.synker/` too
 * when `alsoMetaDir` and it is empty (a restore into a new folder leaves no
 * trace of synker's own files there). Tidying only: a folder that cannot be
 * removed (some FUSE file systems refuse rmdir) stays, and is reused.
 */
export async function removeEmptyPartialDir(root: string, alsoMetaDir: boolean, tree?: FolderTree): Promise<void> {
  const dir = partialDirOf(root);
  await withTree(root, tree, async (t) => {
    for (const rel of alsoMetaDir ? [PARTIAL_DIR, META_DIR] : [PARTIAL_DIR]) {
      try {
        await t.parentOf(rel, false, async (parent, name) => {
          if ((await readdir(parent.entry(name))).length > 0) throw new Error('not empty');
          await rmdir(parent.entry(name));
        });
        partialDirs.delete(path.join(root, ...rel.split('/')));
      } catch (err) {
        log.debug(`${rel === PARTIAL_DIR ? dir : path.dirname(dir)} left in place: ${(err as Error).message}`);
        return;
      }
    }
  });
}

/** The partial of `hash` relative to the folder root, for a FolderTree. */
export function partialRelFor(hash: string): string {
  if (!HASH_RE.test(hash)) throw new TypeError(`not a SHA-256 hex digest: ${hash}`);
  return `${PARTIAL_DIR}/${hash}.part`;
}
