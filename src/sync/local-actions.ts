/**
 * The plan's actions carried out inside the backup folder without a
 * transfer: renames (moves), setting aside, folders, symlinks, metadata and
 * deletions (into versions), and the mode and times they restore. The order
 * they run in, and the pulls, are apply.ts's.
 */
import { readdirSync, type Stats } from 'node:fs';
import { lstat, lutimes, mkdir, rename, rm, rmdir, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { chmodIfSupported } from '../base/mode-bits.js';
import { prepareParents, resolveUnderRoot } from '../transfer/safe-path.js';
import type { ApplyResult } from './apply-types.js';
import { SyncError } from './errors.js';
import { fsTime } from './fs-time.js';
import { fsyncDir } from '../base/atomic-file.js';
import { lstatOrUndefined } from './lstat-optional.js';
import type { PlanEntry, SyncAction } from './plan-types.js';
import { siblingTempPath } from './temp-name.js';
import type { VersionKeeper } from './versions.js';
import { foldName } from '../manifest/storable.js';

export class LocalActions {
  constructor(
    private readonly root: string,
    private readonly keeper: VersionKeeper,
    /** The run's result, counted into. */
    private readonly result: ApplyResult,
    /** Folders the run has made or found to be real folders (PlanRunner's `landing`). */
    private readonly landing: { checkedDirs: Set<string> },
    /** Records a file's verified hash for the next scan (PlanRunner.remember). */
    private readonly remember: (disk: string, hash: string) => Promise<void>,
    /** Apply the source's permission bits (false where either side has no POSIX modes: base/mode-bits.ts). */
    private readonly modes: boolean,
  ) {}

  async move(a: Extract<SyncAction, { op: 'move' }>): Promise<void> {
    const from = resolveUnderRoot(this.root, a.from.disk);
    const to = await prepareParents(this.root, a.to.disk);
    const present = lstatOrUndefined(from);
    if (present === undefined) {
      throw new SyncError(
        'E_SYNC_MOVE_SOURCE_GONE',
        `${a.from.path} is no longer on the backup, so it could not be renamed to ${a.to.path}; the next sync copies it`,
      );
    }
    const there = lstatOrUndefined(to);
    if (there !== undefined && isSameEntry(from, present, to, there)) {
      // A rename in case (or Unicode normalisation) only, on a disk that takes both spellings for one
      // name: `to` is the file itself, not something to keep. Through a temporary name, since some file
      // systems take a rename to the same name for nothing (Wine, some FUSE FAT drivers).
      const temp = siblingTempPath(from, 'synker-case');
      await rename(from, temp);
      await rename(temp, to);
    } else {
      if (there !== undefined) await this.keeper.keepBeforeReplace(a.to.disk);
      await rename(from, to);
    }
    await fsyncDir(path.dirname(to));
    if (path.dirname(from) !== path.dirname(to)) await fsyncDir(path.dirname(from));
    if (a.entry && a.entry.type === 'file') {
      await setTimes(to, a.entry, this.modes);
      if (a.entry.hash !== undefined) await this.remember(a.to.disk, a.entry.hash);
    }
    this.result.moved += a.fileCount;
    this.result.renames++;
  }

  async setAside(a: Extract<SyncAction, { op: 'set-aside' }>): Promise<void> {
    await this.keeper.moveAway(a.at.disk);
  }

  async mkdir(a: Extract<SyncAction, { op: 'mkdir' }>): Promise<void> {
    const abs = await prepareParents(this.root, a.at.disk);
    const existing = lstatOrUndefined(abs);
    if (existing !== undefined && !existing.isDirectory()) await this.keeper.moveAway(a.at.disk);
    if (existing === undefined || !existing.isDirectory()) {
      await mkdir(abs);
      await fsyncDir(path.dirname(abs));
      this.result.created++;
    }
    if (this.modes) await setMode(abs, a.entry.mode);
  }

  async symlink(a: Extract<SyncAction, { op: 'symlink' }>): Promise<void> {
    const abs = await prepareParents(this.root, a.at.disk);
    const existing = lstatOrUndefined(abs);
    if (existing?.isDirectory()) await this.keeper.moveAway(a.at.disk);
    else if (existing !== undefined) await this.keeper.keepBeforeReplace(a.at.disk);
    const temp = siblingTempPath(abs, 'synker-link');
    await rm(temp, { force: true });
    await symlink(a.entry.target, temp);
    await lutimes(temp, fsTime(a.entry.mtime), fsTime(a.entry.mtime)).catch((err: unknown) => {
      // Some platforms cannot set a symlink's own time; the link itself is what matters.
      if (!['ENOSYS', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP'].includes(errnoCode(err) ?? '')) throw err;
    });
    await rename(temp, abs);
    await fsyncDir(path.dirname(abs));
    this.result.created++;
  }

  async metadata(a: Extract<SyncAction, { op: 'metadata' }>): Promise<void> {
    // Checked like a pull's parents: a symlinked parent would point chmod and utimes outside the root.
    const abs = await prepareParents(this.root, a.at.disk, this.landing.checkedDirs);
    const stats = await lstat(abs);
    await setTimes(abs, a.entry, this.modes && !stats.isSymbolicLink());
    if (stats.isFile() && a.entry.hash !== undefined) await this.remember(a.at.disk, a.entry.hash);
    this.result.metadataFixed++;
  }

  async delete(a: Extract<SyncAction, { op: 'delete' }>): Promise<void> {
    if (a.entry.type === 'dir') {
      try {
        await rmdir(resolveUnderRoot(this.root, a.at.disk));
      } catch (err) {
        // Not empty: something in it was kept (skipped or failed); leave it.
        if (errnoCode(err) !== 'ENOTEMPTY' && errnoCode(err) !== 'ENOENT' && errnoCode(err) !== 'EEXIST') throw err;
      }
      return;
    }
    if ((await this.keeper.moveAway(a.at.disk)) !== undefined) this.result.deleted++;
  }
}

export async function setTimes(abs: string, entry: PlanEntry, withMode: boolean): Promise<void> {
  if (withMode) await setMode(abs, entry.mode);
  await utimes(abs, fsTime(entry.mtime), fsTime(entry.mtime));
}

function setMode(abs: string, mode: number): Promise<void> {
  return chmodIfSupported(abs, mode);
}

/**
 * Whether `to` is `from` itself, reached by another spelling of its name (a
 * disk that ignores case or normalisation): the same inode, or, where a
 * driver numbers inodes per lookup (FUSE FAT), spellings that fold to one
 * while the folder lists no entry of `to`'s exact name.
 */
function isSameEntry(from: string, a: Stats, to: string, b: Stats): boolean {
  if (a.ino !== 0 && a.ino === b.ino && a.dev === b.dev) return true;
  if (path.dirname(from) !== path.dirname(to) || foldName(path.basename(from)) !== foldName(path.basename(to))) return false;
  return !readdirSync(path.dirname(to)).includes(path.basename(to));
}
