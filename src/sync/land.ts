/**
 * Putting a verified partial file into place: parents created without
 * following symlinks, through the run's folder tree, whatever is at the target kept as a version, then one
 * atomic rename and an fsync of the folder so the new name is durable.
 */
import { renameSync } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { copyFileAnyDisk } from '../base/mode-bits.js';
import { SyncError } from './errors.js';
import { fsyncDir } from '../base/atomic-file.js';
import { withTree, type FolderTree } from '../transfer/folder-tree.js';
import { resolveUnderRoot } from '../transfer/safe-path.js';
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

/** What a run shares across the files it lands. */
export interface LandingRun {
  /** Folders (relative to the root) whose entries changed, fsynced once at the end of the run. */
  dirtyDirs: Set<string>;
  /** The run's view of the folder: every write resolves through it (transfer/folder-tree.ts). */
  tree: FolderTree;
}

/**
 * Renames the complete partial at `partialPath` (under `root`'s
 * `.synker/partial/`) to `targetRel` under `root`. `expectExisting` says
 * whether the plan saw a file there: a file found where none was expected is
 * checked for a case or normalisation collision first. Parents are made and
 * the rename done through the run's folder tree, so a folder swapped for a
 * symlink during the run is never followed.
 */
export async function landFile(
  root: string,
  partialPath: string,
  targetRel: string,
  keeper: VersionKeeper,
  expectExisting: boolean,
  /** A run's bookkeeping (default: a tree of its own, and an fsync now). */
  run?: LandingRun,
): Promise<LandResult> {
  resolveUnderRoot(root, targetRel);
  const partialRel = path.relative(root, partialPath).split(path.sep).join('/');
  return withTree(root, run?.tree, (tree) =>
    tree.parentOf(targetRel, true, async (dir, name) => {
      const target = dir.entry(name);
      const existing = lstatOrUndefined(target);
      const result: LandResult = {};
      if (existing !== undefined) {
        if (!expectExisting) {
          const onDisk = await nameOnDisk(dir.self, name);
          if (onDisk !== undefined && onDisk !== name) {
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
      await tree.parentOf(
        partialRel,
        false,
        async (partialDir, partialName) => {
          const partial = partialDir.entry(partialName);
          try {
            renameSync(partial, target);
          } catch (err) {
            if (errnoCode(err) !== 'EXDEV') throw err;
            // The target is on another mount inside the root: copy next to it, then rename there.
            const temp = siblingTempPath(target, 'synker-tmp');
            await rm(temp, { force: true });
            await copyFileAnyDisk(partial, temp);
            await rename(temp, target);
            await rm(partial, { force: true });
          }
        },
        targetRel,
      );
      if (run) run.dirtyDirs.add(dir.rel);
      else await fsyncDir(dir.self);
      return result;
    }),
  );
}

/** The name the file system actually stores for `base` in `dir` (differs on case-folding file systems). */
async function nameOnDisk(dir: string, base: string): Promise<string | undefined> {
  const names = await readdir(dir);
  if (names.includes(base)) return base;
  const folded = foldName(base);
  return names.find((n) => foldName(n) === folded);
}
