/**
 * What `restore --to DIR` finds already in DIR. Running the same restore
 * again (after an interruption, or to finish it) must not copy again what an
 * earlier run brought, nor keep those identical files as versions of
 * themselves. A file counts as already restored when it has the backup's
 * exact name and content: a file of another size is different without
 * reading it; one of the same size is hashed (SHA-256) and compared with the
 * backup's hash. Everything else is pulled as before.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { FAT_TOLERANCE_MS } from '../diff/mtime.js';
import { META_DIR } from '../manifest/layout.js';
import { appliedMode, keepsModes } from '../base/mode-bits.js';
import { SyncError } from './errors.js';
import type { PlanEntry } from './plan-types.js';
import { parentsAreRealFolders, resolveUnderRoot, unsafePathReason } from '../transfer/safe-path.js';
import { openHandleNoFollow } from '../base/no-follow.js';
import { realPath } from '../base/real-path.js';
import { nameRulesOf, unstorableReason } from '../manifest/storable.js';

const log = createLogger('restore');

/** `same`: nothing to do; `same-content`: the bytes are the backup's, its time or mode is not. */
export type AlreadyThere = 'same' | 'same-content';

/**
 * Refuses a `--to DIR` that cannot hold the restore, before anything is
 * downloaded: DIR (or a folder above it) being a file; DIR being the folder
 * itself or inside it (the guards of an in-place restore would be bypassed,
 * and DIR's `.synker/versions/` would become folder content the next check
 * reports); `DIR/.synker` being a symlink or a file, which would put the
 * versions and partial files somewhere else.
 */
export async function assertRestoreTarget(dir: string, folderRoot: string): Promise<void> {
  const given = path.resolve(dir);
  // The nearest part of DIR that exists; the rest is created by the restore.
  let existing = given;
  let rest: string[] = [];
  for (;;) {
    const st = await stat(existing).catch((err: unknown) => {
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
      throw err;
    });
    if (st !== undefined) {
      if (!st.isDirectory()) {
        throw new SyncError('E_RESTORE_TO_NOT_A_FOLDER', `--to ${dir}: ${existing} is a file, not a folder; nothing was restored`, {
          hint: 'name a folder (it is created if need be), or move the file away',
        });
      }
      break;
    }
    const parent = path.dirname(existing);
    if (parent === existing) break;
    rest = [path.basename(existing), ...rest];
    existing = parent;
  }
  const real = path.join(await realPath(existing), ...rest);
  const folderReal = await realPath(folderRoot).catch(() => path.resolve(folderRoot));
  const relToFolder = path.relative(folderReal, real);
  if (relToFolder === '' || (relToFolder !== '..' && !relToFolder.startsWith(`..${path.sep}`) && !path.isAbsolute(relToFolder))) {
    throw new SyncError(
      'E_RESTORE_TO_IN_FOLDER',
      `--to ${dir} is ${relToFolder === '' ? 'the folder itself' : 'inside the folder'} (${folderRoot}); nothing was restored`,
      {
        hint:
          relToFolder === ''
            ? 'to restore into place, leave out --to (a newer file here is then kept unless --force)'
            : 'name a folder outside the folder being restored',
      },
    );
  }
  const meta = await lstat(path.join(given, META_DIR)).catch(() => undefined);
  if (meta !== undefined && !meta.isDirectory()) {
    throw new SyncError(
      'E_RESTORE_TO_NOT_A_FOLDER',
      `--to ${dir}: ${path.join(given, META_DIR)} is ${meta.isSymbolicLink() ? 'a symlink' : 'not a folder'}, where restore keeps replaced files; nothing was restored`,
      {
        hint: `remove or rename ${path.join(given, META_DIR)}, or restore into another folder`,
      },
    );
  }
}

/** The backup's files and symlinks that DIR already holds, by path. */
export async function findAlreadyRestored(
  dir: string,
  entries: Iterable<PlanEntry & { path: string }>,
  /** Whether the backup's modes count (false from a Windows backup, or onto Windows: base/mode-bits.ts). */
  compareModes = true,
): Promise<Map<string, AlreadyThere>> {
  const found = new Map<string, AlreadyThere>();
  const names = new Map<string, Promise<Set<string>>>();
  // On a case-insensitive disk `readme.md` answers for `README.md`: only the exact name counts.
  const hasExactName = async (abs: string): Promise<boolean> => {
    const parent = path.dirname(abs);
    let listing = names.get(parent);
    if (listing === undefined) {
      listing = readdir(parent).then(
        (n) => new Set(n),
        () => new Set<string>(),
      );
      names.set(parent, listing);
    }
    return (await listing).has(path.basename(abs));
  };
  const modes = new ModeKeeping();
  for (const entry of entries) {
    if (entry.type !== 'file' && entry.type !== 'symlink') continue;
    const disk = entry.raw ?? entry.path;
    // A hostile path is refused when the plan is applied, and a name this machine cannot hold is skipped
    // there with its reason (manifest/storable.ts): neither is looked at here.
    if (unsafePathReason(disk) !== undefined || unstorableReason(disk, nameRulesOf()) !== undefined) continue;
    // Nor is anything behind a symlinked folder in DIR: the pull refuses it, and nothing outside DIR is read.
    if (!parentsAreRealFolders(dir, disk)) continue;
    const abs = resolveUnderRoot(dir, disk);
    const st = await lstat(abs).catch(() => undefined);
    if (st === undefined || !(await hasExactName(abs))) continue;
    const state = await compare(abs, st, entry, compareModes ? modes : undefined);
    if (state !== undefined) found.set(entry.path, state);
  }
  if (found.size > 0)
    log.info(`${found.size} ${found.size === 1 ? 'file is' : 'files are'} already in ${dir} with the backup's content: not copied again`);
  return found;
}

/** Whether DIR's file system keeps permission bits (base/mode-bits.ts), asked once, the first time a file's mode differs. */
class ModeKeeping {
  private kept: Promise<boolean> | undefined;

  keeps(abs: string): Promise<boolean> {
    this.kept ??= keepsModes(abs);
    return this.kept;
  }
}

/**
 * Times a file system could not have stored more closely: FAT keeps 2 s, some
 * disks whole seconds (the diff's MtimeTolerance reads the same evidence).
 */
function sameStoredTime(storedMs: number, wantedMs: number): boolean {
  const stored = Math.trunc(storedMs);
  const gap = Math.abs(stored - wantedMs);
  if (gap === 0) return true;
  if (stored % FAT_TOLERANCE_MS === 0) return gap < FAT_TOLERANCE_MS;
  return stored % 1000 === 0 && gap < 1000;
}

async function compare(abs: string, st: Stats, entry: PlanEntry, modes: ModeKeeping | undefined): Promise<AlreadyThere | undefined> {
  if (entry.type === 'symlink') {
    if (!st.isSymbolicLink()) return undefined;
    return (await readlink(abs).catch(() => undefined)) === entry.target ? 'same' : undefined;
  }
  if (!st.isFile() || st.size !== entry.size || entry.hash === undefined) return undefined;
  const hash = await hashFile(abs);
  if (hash !== entry.hash) return undefined;
  const sameTimes = sameStoredTime(st.mtimeMs, entry.mtime);
  const sameMode = modes === undefined || (st.mode & 0o777) === appliedMode(entry.mode) || !(await modes.keeps(abs));
  return sameTimes && sameMode ? 'same' : 'same-content';
}

/** The file's SHA-256; undefined when it cannot be read (then it is pulled, and replaced as a differing file is). */
async function hashFile(abs: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await openHandleNoFollow(abs, constants.O_RDONLY);
  } catch (err) {
    log.debug(`${abs}: cannot be read to compare it with the backup's copy (${errnoCode(err) ?? 'error'})`);
    return undefined;
  }
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch (err) {
    log.debug(`${abs}: reading it to compare with the backup's copy failed (${errnoCode(err) ?? 'error'})`);
    return undefined;
  } finally {
    await handle.close();
  }
}
