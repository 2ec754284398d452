/**
 * Durable file system changes: replacing a file atomically, and making a
 * rename, create or unlink in a folder survive a power cut.
 *
 * writeFileAtomic: readers (and a crash or power cut) see either the old
 * content or the new one, never half: write a temporary file next to it,
 * fsync, rename over the target, fsync the folder. Missing parent folders
 * are created (synker's own files), unless `makeDir: false` (a path the
 * user gave, where a typo must not become a new folder). `exactMode: true`
 * sets the mode whatever the umask (a folder marker meant to be 0644 stays
 * readable), where the file system keeps modes at all (base/mode-bits.ts).
 *
 * The fsync policy, for files and folders alike:
 * - a folder that cannot be opened or synced is NOT an error: Windows cannot
 *   open a folder for fsync (skipped there), and FAT/exFAT through FUSE,
 *   some network mounts and folders without read permission refuse it
 *   (EISDIR, EINVAL, ENOTSUP, EOPNOTSUPP, EPERM, EACCES, EBADF, ENOSYS). The
 *   rename has happened; only its durability cannot be forced there, and a
 *   sync or a report must not fail for that;
 * - on Windows a rename that another program's open file blocks is tried
 *   again for a moment (renameRetrying);
 * - any other error (EIO, ENOSPC, EROFS, ...) is a real failure of the disk
 *   and is thrown: the change may not be on the disk;
 * - a file's own fsync is never excused: a disk that cannot sync a file it
 *   just wrote cannot be trusted with it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { errnoCode } from './errors.js';
import { chmodIfSupported } from './mode-bits.js';
import { makeDirs } from './make-dirs.js';

export interface WriteFileAtomicOptions {
  /** Mode of the new file (default 0600), narrowed by the umask unless `exactMode`. */
  mode?: number;
  /** Set `mode` exactly, whatever the umask (default false). */
  exactMode?: boolean;
  /** Create missing parent folders (default true). */
  makeDir?: boolean;
}

/** `content` may come in pieces (an iterable of strings), written as they come: a long report is never one string. */
export async function writeFileAtomic(
  file: string,
  content: string | Buffer | Iterable<string>,
  options: WriteFileAtomicOptions = {},
): Promise<void> {
  const mode = options.mode ?? 0o600;
  const dir = path.dirname(file);
  if (options.makeDir !== false) await makeDirs(dir, 0o700);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      if (typeof content === 'string' || Buffer.isBuffer(content)) await handle.writeFile(content);
      else for (const piece of content) await handle.writeFile(piece);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameRetrying(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
  if (options.exactMode === true) await chmodIfSupported(file, mode);
}

/** Errors of a rename on Windows while another program has the file open without sharing its deletion. */
const RENAME_BUSY = new Set(['EPERM', 'EACCES', 'EBUSY']);
/** The waits between tries: some 1.5 s in all, longer than a virus scanner or the search indexer holds a file. */
const RENAME_WAITS_MS = [10, 20, 40, 80, 160, 320, 500, 500];

/**
 * rename, tried again on Windows while the file (or the one it replaces) is
 * open in a program that did not share its deletion: a virus scanner, the
 * search indexer or a backup tool opening it a moment; Node's own opens share
 * it, so synker's readers never block it. Windows then answers EPERM, EACCES
 * or EBUSY for a while; the same errors are final elsewhere, and after the
 * last wait here. `platform` and `renameFn` are for the tests.
 */
export async function renameRetrying(
  from: string,
  to: string,
  platform: NodeJS.Platform = process.platform,
  renameFn: (from: string, to: string) => Promise<void> = rename,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await renameFn(from, to);
      return;
    } catch (err) {
      const wait = RENAME_WAITS_MS[attempt];
      if (platform !== 'win32' || wait === undefined || !RENAME_BUSY.has(errnoCode(err) ?? '')) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** Errors of opening or syncing a folder where the file system cannot (see the header): not failures. */
const FOLDER_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EACCES', 'EBADF', 'ENOSYS']);

const fsyncAsync: (fd: number) => Promise<void> = promisify(fsync);

/** Makes a rename, create or unlink in `dir` durable, where the file system can (the policy above). */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let fd: number | undefined;
  try {
    // Opening a folder is cheap; only the fsync waits on the disk (off the main thread).
    fd = openSync(dir, 'r');
    await fsyncAsync(fd);
  } catch (err) {
    if (!FOLDER_SYNC_UNSUPPORTED.has(errnoCode(err) ?? '')) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
