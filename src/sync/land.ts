/**
 * Putting a verified partial file into place: parents created without
 * following symlinks, whatever is at the target kept as a version, then one
 * atomic rename and an fsync of the folder so the new name is durable.
 */
import { renameSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { copyFileAnyDisk } from '../base/mode-bits.js';
import { SyncError } from './errors.js';
import { fsyncDir } from '../base/atomic-file.js';
import { prepareParents } from '../transfer/safe-path.js';
import type { VersionKeeper } from './versions.js';
import { lstatOrUndefined } from './lstat-optional.js';
import { siblingTempPath } from './temp-name.js';
import { foldName } from '../manifest/storable.js';

/** Two names that are one on this file system (FAT, APFS, NTFS fold case): neither overwrites the other. */
export class NameCollisionError extends SyncError {
  constructor(
    readonly wanted: string,
    readonly existing: string,
  ) {
    super('E_SYNC_NAME_COLLISION', `${wanted} and ${existing} are the same name on this file system; ${wanted} was not written`, {
      hint: 'rename one of them on the source, or keep the backup on a case-sensitive file system',
    });
  }
}

export interface LandResult {
  /** The version kept of what was at the target, relative to the folder root. */
  keptVersion?: string;
}

/**
 * Renames the complete partial at `partialPath` to `targetRel` under `root`.
 * `expectExisting` says whether the plan saw a file there: a file found where
 * none was expected is checked for a case or normalisation collision first.
 */
export async function landFile(
  root: string,
  partialPath: string,
  targetRel: string,
  keeper: VersionKeeper,
  expectExisting: boolean,
  /** A run's bookkeeping: folders to fsync once at its end (default: fsync now), and folders it has checked. */
  run?: { dirtyDirs: Set<string>; checkedDirs: Set<string> },
): Promise<LandResult> {
  const target = await prepareParents(root, targetRel, run?.checkedDirs);
  const existing = lstatOrUndefined(target);
  const result: LandResult = {};
  if (existing !== undefined) {
    if (!expectExisting) {
      const onDisk = await nameOnDisk(target);
      if (onDisk !== undefined && onDisk !== path.basename(target)) {
        throw new NameCollisionError(targetRel, path.posix.join(path.posix.dirname(targetRel), onDisk).replace(/^\.\//, ''));
      }
    }
    if (existing.isDirectory()) {
      throw new SyncError('E_SYNC_FOLDER_IN_WAY', `${targetRel} is a folder on this side; the file was not written`, {
        hint: 'run `synker sync --delete` to replace the folder (its files are kept in .synker/versions/)',
      });
    }
    const kept = await keeper.keepBeforeReplace(targetRel);
    if (kept !== undefined) result.keptVersion = kept;
  }
  try {
    renameSync(partialPath, target);
  } catch (err) {
    if (errnoCode(err) !== 'EXDEV') throw err;
    // The target is on another mount inside the root: copy next to it, then rename there.
    const temp = siblingTempPath(target, 'synker-tmp');
    await copyFileAnyDisk(partialPath, temp);
    await rename(temp, target);
    await rm(partialPath, { force: true });
  }
  if (run) run.dirtyDirs.add(path.dirname(target));
  else await fsyncDir(path.dirname(target));
  return result;
}

/** The name the file system actually stores for `abs` (differs on case-folding file systems). */
async function nameOnDisk(abs: string): Promise<string | undefined> {
  const base = path.basename(abs);
  const names = await readdir(path.dirname(abs));
  if (names.includes(base)) return base;
  const folded = foldName(base);
  return names.find((n) => foldName(n) === folded);
}
