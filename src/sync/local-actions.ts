/**
 * The plan's actions carried out inside the backup folder without a
 * transfer: renames (moves), setting aside, folders, symlinks, metadata and
 * deletions (into versions), and the mode and times they restore. The order
 * they run in, and the pulls, are apply.ts's.
 */
import { createHash } from 'node:crypto';
import { constants, readdirSync, type Stats } from 'node:fs';
import { lutimes, mkdir, rename, rm, rmdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, SynkerError } from '../base/errors.js';
import { fchmodIfSupported } from '../base/mode-bits.js';
import { openHandleNoFollow, setModeAndTimesNoFollow } from '../base/no-follow.js';
import { isAbsentParent, type FolderTree, type TreeDir } from '../transfer/folder-tree.js';
import { resolveUnderRoot } from '../transfer/safe-path.js';
import type { ApplyResult } from './apply-types.js';
import { IntegrityError, SyncError } from './errors.js';
import { fsTime } from './fs-time.js';
import { fsyncDir } from '../base/atomic-file.js';
import { lstatOrUndefined } from './lstat-optional.js';
import type { PlanEntry, SyncAction } from './plan-types.js';
import { siblingTempPath } from './temp-name.js';
import type { VersionKeeper } from './versions.js';
import { foldName } from '../manifest/storable.js';

type Move = Extract<SyncAction, { op: 'move' }>;

export class LocalActions {
  /** Renames of this run that failed: a later one that counted on one of them is not tried (reliesOn). */
  private readonly failedMoves: Move[] = [];

  constructor(
    private readonly root: string,
    private readonly keeper: VersionKeeper,
    /** The run's result, counted into. */
    private readonly result: ApplyResult,
    /** The run's folder tree: every change resolves through it (transfer/folder-tree.ts). */
    private readonly tree: FolderTree,
    /** Records a file's verified hash for the next scan (PlanRunner.remember). */
    private readonly remember: (disk: string, hash: string) => Promise<void>,
    /** Apply the source's permission bits (false where either side has no POSIX modes: base/mode-bits.ts). */
    private readonly modes: boolean,
  ) {}

  async move(a: Move): Promise<void> {
    try {
      await this.rename(a);
    } catch (err) {
      this.failedMoves.push(a);
      throw err;
    }
  }

  private async rename(a: Move): Promise<void> {
    resolveUnderRoot(this.root, a.from.disk);
    resolveUnderRoot(this.root, a.to.disk);
    const found = a.foundAt ?? a.from;
    // A rename this one counted on failed: its entry is not where the plan put it, or its folder is not there.
    const waitedOn = this.failedMoves.find((f) => reliesOn(a, f));
    if (waitedOn !== undefined) {
      throw new SyncError(
        'E_SYNC_MOVE_AFTER_FAILED',
        `${found.path} was not renamed to ${a.to.path}: renaming ${(waitedOn.foundAt ?? waitedOn.from).path} to ${waitedOn.to.path} failed first; the next sync tries again`,
      );
    }
    const gone = (): SyncError =>
      new SyncError(
        'E_SYNC_MOVE_SOURCE_GONE',
        `${found.path} is no longer on the backup, so it could not be renamed to ${a.to.path}; the next sync copies it`,
      );
    await this.tree
      .parentOf(a.from.disk, false, (fromDir, fromName) =>
        this.tree.parentOf(a.to.disk, true, async (toDir, toName) => {
          const from = fromDir.entry(fromName);
          const to = toDir.entry(toName);
          const present = lstatOrUndefined(from);
          if (present === undefined) throw gone();
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
          await fsyncDir(toDir.self);
          if (fromDir.rel !== toDir.rel) await fsyncDir(fromDir.self);
          if (a.entry && a.entry.type === 'file') await setModeAndTimes(to, a.entry, this.modes);
        }),
      )
      .catch((err: unknown) => {
        // The folder it was in is gone (not a change to a link: that is its own error).
        if (isAbsentParent(err)) throw gone();
        throw err;
      });
    if (a.entry && a.entry.type === 'file' && a.entry.hash !== undefined) await this.remember(a.to.disk, a.entry.hash);
    this.result.moved += a.fileCount;
    this.result.renames++;
  }

  async setAside(a: Extract<SyncAction, { op: 'set-aside' }>): Promise<void> {
    await this.keeper.moveAway(a.at.disk);
  }

  async mkdir(a: Extract<SyncAction, { op: 'mkdir' }>): Promise<void> {
    resolveUnderRoot(this.root, a.at.disk);
    await this.tree.parentOf(a.at.disk, true, async (dir, name) => {
      const abs = dir.entry(name);
      const existing = lstatOrUndefined(abs);
      if (existing !== undefined && !existing.isDirectory()) await this.keeper.moveAway(a.at.disk);
      if (existing === undefined || !existing.isDirectory()) {
        await mkdir(abs);
        await fsyncDir(dir.self);
        this.result.created++;
      }
      if (this.modes) await setModeAndTimesNoFollow(abs, a.entry.mode, undefined);
    });
  }

  async symlink(a: Extract<SyncAction, { op: 'symlink' }>): Promise<void> {
    resolveUnderRoot(this.root, a.at.disk);
    await this.tree.parentOf(a.at.disk, true, async (dir, name) => {
      const abs = dir.entry(name);
      const existing = lstatOrUndefined(abs);
      if (existing?.isDirectory()) await (a.emptied ? removeInTheWay(abs, a.at.path) : this.keeper.moveAway(a.at.disk));
      else if (existing !== undefined) await this.keeper.keepBeforeReplace(a.at.disk);
      const temp = siblingTempPath(abs, 'synker-link');
      await rm(temp, { force: true });
      await symlink(a.entry.target, temp);
      await lutimes(temp, fsTime(a.entry.mtime), fsTime(a.entry.mtime)).catch((err: unknown) => {
        // Some platforms cannot set a symlink's own time; the link itself is what matters.
        if (!['ENOSYS', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP'].includes(errnoCode(err) ?? '')) throw err;
      });
      await rename(temp, abs);
      await fsyncDir(dir.self);
    });
    this.result.created++;
  }

  async metadata(a: Extract<SyncAction, { op: 'metadata' }>): Promise<void> {
    resolveUnderRoot(this.root, a.at.disk);
    // Through the tree, and without following a symlink at the name: chmod and utimes would change what it points to.
    const stats = await this.tree.parentOf(a.at.disk, false, async (dir, name) => {
      const st = await setModeAndTimesNoFollow(dir.entry(name), this.modes ? a.entry.mode : undefined, fsTime(a.entry.mtime), {
        sparingLinks: true,
      });
      // A file with other hard links (perhaps outside the folder) is never changed in place: it gets a copy of its own.
      if (st.isFile() && st.nlink > 1) await this.unshare(dir, name, a.at.path, a.entry, st);
      return st;
    });
    if (stats.isFile() && a.entry.hash !== undefined) await this.remember(a.at.disk, a.entry.hash);
    this.result.metadataFixed++;
  }

  /** Removes the folder the renames emptied where a pulled file lands (`emptied`), or says why it stays. */
  async clearEmptied(a: Extract<SyncAction, { op: 'pull' }>): Promise<void> {
    resolveUnderRoot(this.root, a.at.disk);
    await this.tree.parentOf(a.at.disk, false, (dir, name) => removeInTheWay(dir.entry(name), a.at.path));
  }

  /** False when a folder stays: something is still in it (it is still there, not done). */
  async delete(a: Extract<SyncAction, { op: 'delete' }>): Promise<boolean> {
    if (a.entry.type === 'dir') {
      resolveUnderRoot(this.root, a.at.disk);
      try {
        await this.tree.parentOf(a.at.disk, false, (dir, name) => rmdir(dir.entry(name)));
      } catch (err) {
        // Not empty: something in it was kept (skipped or failed, or the user's); leave it. Gone already: nothing to do.
        if (isAbsentParent(err)) return true;
        const code = errnoCode(err) ?? '';
        if (err instanceof SynkerError || !['ENOTEMPTY', 'ENOENT', 'EEXIST', 'ENOTDIR'].includes(code)) throw err;
        return code === 'ENOENT';
      }
      return true;
    }
    if ((await this.keeper.moveAway(a.at.disk)) !== undefined) this.result.deleted++;
    return true;
  }

  /**
   * Replaces the file `name` in `dir`, which has other hard links, with a copy
   * of its own carrying the plan's mode and time: the other names keep theirs.
   * The copy must still hash to the plan's content.
   */
  private async unshare(dir: TreeDir, name: string, shown: string, entry: PlanEntry, st: Stats): Promise<void> {
    const live = dir.entry(name);
    const temp = siblingTempPath(live, 'synker-unlink');
    await rm(temp, { force: true });
    const input = await openHandleNoFollow(live, constants.O_RDONLY);
    try {
      const output = await openHandleNoFollow(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        const hash = createHash('sha256');
        for await (const chunk of input.createReadStream({ autoClose: false, start: 0 })) {
          hash.update(chunk as Buffer);
          await output.write(chunk as Buffer);
        }
        if (entry.hash !== undefined && hash.digest('hex') !== entry.hash)
          throw new IntegrityError(shown, 'changed on the backup while a copy of its own was made (it had other hard links)');
        fchmodIfSupported(output.fd, this.modes ? entry.mode : st.mode & 0o777);
        await output.utimes(fsTime(entry.mtime), fsTime(entry.mtime));
        await output.sync();
      } finally {
        await output.close();
      }
      await rename(temp, live);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    } finally {
      await input.close();
    }
    await fsyncDir(dir.self);
  }

  /** Restores a folder's time once everything in it is written (apply.ts, deepest first). */
  async folderTime(a: Extract<SyncAction, { op: 'mkdir' }>): Promise<void> {
    resolveUnderRoot(this.root, a.at.disk);
    await this.tree.parentOf(a.at.disk, false, (dir, name) => setModeAndTimesNoFollow(dir.entry(name), undefined, fsTime(a.entry.mtime)));
  }
}

/**
 * rmdir of a folder the plan's renames emptied, where the source has a file or a symlink: if anything is
 * still in it, it stays, and so does all in it (the entry is not written: SyncError, an item's failure).
 */
async function removeInTheWay(abs: string, shown: string): Promise<void> {
  try {
    await rmdir(abs);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
    throw new SyncError(
      'E_SYNC_FOLDER_IN_WAY',
      `${shown}: a folder is in the way: the renames emptied it of what the check found there, but something else is in it now; it was kept, with what is in it`,
      { hint: 'move what is in it elsewhere, or replace the folder with `synker sync --delete` (the folder is kept in versions)' },
    );
  }
}

/** Sets mode (when `withMode`) and times at `abs`, never through a symlink there. */
function setModeAndTimes(abs: string, entry: PlanEntry, withMode: boolean): Promise<Stats> {
  return setModeAndTimesNoFollow(abs, withMode ? entry.mode : undefined, fsTime(entry.mtime));
}

/** Whether `path` is `folder` or inside it. */
function within(p: string, folder: string): boolean {
  return p === folder || (p.startsWith(folder) && p.charCodeAt(folder.length) === 0x2f);
}

/**
 * Whether rename `a` counted on the earlier rename `b` (plan-moves.ts orders them so): `a`'s entry was
 * to be carried by `b`'s, or `a` lands in `b`'s target, or in what `b` was to take out of the way.
 */
function reliesOn(a: Move, b: Move): boolean {
  return within(a.from.disk, b.to.disk) || within(a.to.disk, b.to.disk) || within(a.to.disk, b.from.disk);
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
