/**
 * The versions folder: every file that sync overwrites or removes is first
 * kept under `.synker/versions/<path>~<UTC stamp>` inside the same folder
 * root (never scanned or transferred), so a sync never destroys data. A name
 * too long to take the stamp (255 bytes) is kept as `<folder>/~<stamp>/<name>`
 * instead: a stamp with no name before it applies to what is inside. One
 * stamp per run groups what that run replaced. Versions can be listed,
 * restored, and pruned by age or count (versions-prune.ts).
 */
import { link, lstat, lutimes, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { setModeAndTimesNoFollow } from '../base/no-follow.js';
import { copyFileAnyDisk } from '../base/mode-bits.js';
import { VERSIONS_DIR } from '../manifest/layout.js';
import { comparePaths } from '../manifest/order.js';
import { fsTime } from './fs-time.js';
import { fsyncDir } from '../base/atomic-file.js';
import { type FolderTree, isAbsentParent, withTree, type TreeDir } from '../transfer/folder-tree.js';
import { resolveUnderRoot } from '../transfer/safe-path.js';
import { lstatOrUndefined } from './lstat-optional.js';
import { fitsInName, siblingTempPath } from './temp-name.js';
import { existingMetaDir, realMetaDir } from '../config/folder-marker.js';
import { makeDirs } from '../base/make-dirs.js';

const STAMP_SUFFIX = /~(\d{8}-\d{6})(?:-(\d+))?$/;

/** `20261125-160712` (UTC): sorts by time, and is a valid name on every file system. */
export function versionStamp(date: Date): string {
  const iso = date.toISOString(); // 2026-11-25T16:07:12.345Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

export function parseVersionStamp(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(stamp);
  if (!m) throw new TypeError(`not a version stamp: ${stamp}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** The versions folder, checked to be a real folder (made where missing): never written or pruned through a link. */
function realVersionsRoot(root: string): string {
  return realMetaDir(root, ...VERSIONS_DIR.split('/').slice(1));
}

/** Keeps the current state of files before a sync run changes them. */
export class VersionKeeper {
  readonly stamp: string;
  /** Relative paths (under the versions folder) this run created, in order. */
  readonly kept: string[] = [];
  /** The run's folder tree (apply.ts sets it for the run); without one each call opens its own. */
  private tree: FolderTree | undefined;

  constructor(
    readonly root: string,
    now = new Date(),
  ) {
    this.stamp = versionStamp(now);
  }

  /** Resolves every path of this keeper through `tree` (undefined: a tree per call). */
  useTree(tree: FolderTree | undefined): void {
    this.tree = tree;
  }

  /**
   * Preserves `relPath` before it is replaced. Hard-links it into the
   * versions folder, so the live file stays in place until the replacement is
   * renamed over it (no moment without a file); where hard links are not
   * supported (FAT, across mounts) the file is moved instead. Returns the
   * version's path relative to the folder root, or undefined when there was
   * nothing to keep.
   */
  async keepBeforeReplace(relPath: string): Promise<string | undefined> {
    return this.withLive(relPath, async (tree, live) => {
      const stats = lstatOrUndefined(live.entry(live.name));
      if (stats === undefined) return undefined;
      const dest = await this.freeVersionPath(tree, relPath);
      if (stats.isFile()) {
        try {
          await tree.parentOf(dest, true, async (dir, name) => {
            // link(2) never follows a symlink at its source: the version is this name's own file.
            await link(live.entry(live.name), dir.entry(name));
            // The kept version must be durable before the live name is replaced.
            await fsyncDir(dir.self);
          });
          this.kept.push(dest);
          return dest;
        } catch (err) {
          const code = errnoCode(err);
          if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw err;
        }
      }
      await this.move(tree, live, dest);
      return dest;
    });
  }

  /** Moves `relPath` (file, symlink or whole folder) into the versions folder. */
  async moveAway(relPath: string): Promise<string | undefined> {
    return this.withLive(relPath, async (tree, live) => {
      if (lstatOrUndefined(live.entry(live.name)) === undefined) return undefined;
      const dest = await this.freeVersionPath(tree, relPath);
      await this.move(tree, live, dest);
      return dest;
    });
  }

  /** Runs `fn` with the live name's folder held; undefined when that folder does not exist (nothing to keep). */
  private async withLive<T>(
    relPath: string,
    fn: (tree: FolderTree, live: TreeDir & { name: string }) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    resolveUnderRoot(this.root, relPath);
    return withTree(this.root, this.tree, async (tree) => {
      try {
        return await tree.parentOf(relPath, false, (dir, name) => fn(tree, { ...dir, name }));
      } catch (err) {
        if (isAbsentParent(err)) return undefined;
        throw err;
      }
    });
  }

  private async move(tree: FolderTree, live: TreeDir & { name: string }, dest: string): Promise<void> {
    await tree.parentOf(dest, true, async (dir, name) => {
      await rename(live.entry(live.name), dir.entry(name));
      await fsyncDir(dir.self);
    });
    await fsyncDir(live.self);
    this.kept.push(dest);
  }

  /** A free version name for `relPath`, relative to the folder root (`.synker/versions/…`). */
  private async freeVersionPath(tree: FolderTree, relPath: string): Promise<string> {
    realVersionsRoot(this.root);
    const name = path.posix.basename(relPath);
    const dir = relPath.slice(0, relPath.length - name.length);
    for (let n = 1; ; n++) {
      const suffix = `~${this.stamp}${n === 1 ? '' : `-${n}`}`;
      const rel = `${VERSIONS_DIR}/${fitsInName(name + suffix) ? `${relPath}${suffix}` : `${dir}${suffix}/${name}`}`;
      const taken = await tree.parentOf(rel, true, (d, base) => lstatOrUndefined(d.entry(base)) !== undefined);
      if (!taken) return rel;
    }
  }
}

export interface VersionInfo {
  /** The path the file had in the folder. */
  path: string;
  /** When the run that replaced or removed it started. */
  replacedAt: Date;
  stamp: string;
  /** Where the version is, relative to the folder root. */
  versionPath: string;
  size: number;
  mtime: number;
  mode: number;
}

/**
 * Every file version under the folder, newest first per path, paths in
 * manifest order. `paths` limits the listing to those files and folders.
 */
export async function listVersions(root: string, paths: string[] = []): Promise<VersionInfo[]> {
  const found: VersionInfo[] = [];
  const base = existingMetaDir(root, ...VERSIONS_DIR.split('/').slice(1));
  // `stampFrom` is set once a folder itself was versioned (a moved-away folder).
  const walk = async (dirRel: string, origRel: string, stampFrom: string | undefined): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(dirRel === '' ? base : path.join(base, dirRel));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      const rel = dirRel === '' ? name : `${dirRel}/${name}`;
      const m = stampFrom === undefined ? STAMP_SUFFIX.exec(name) : null;
      const origName = m ? name.slice(0, m.index) : name;
      // `~<stamp>` alone holds a version whose name was too long to take the stamp.
      const orig = origName === '' ? origRel : origRel === '' ? origName : `${origRel}/${origName}`;
      const stamp = m ? m[1]! : stampFrom;
      const stats = await lstat(path.join(base, rel));
      if (stats.isDirectory()) {
        await walk(rel, orig, stamp);
      } else if (stamp !== undefined) {
        found.push({
          path: orig,
          replacedAt: parseVersionStamp(stamp),
          stamp,
          versionPath: `${VERSIONS_DIR}/${rel}`,
          size: stats.size,
          mtime: Math.trunc(stats.mtimeMs),
          mode: stats.mode & 0o7777,
        });
      }
    }
  };
  await walk('', '', undefined);
  const wanted = paths.map((p) => p.replace(/\/+$/, ''));
  return found
    .filter((v) => wanted.length === 0 || wanted.some((w) => v.path === w || v.path.startsWith(`${w}/`)))
    .sort((a, b) => comparePaths(a.path, b.path) || b.stamp.localeCompare(a.stamp) || b.versionPath.localeCompare(a.versionPath));
}

/**
 * Copies a version back to its path (or under `toDir`, created if need be).
 * A symlink comes back as the same symlink, never as what it points to.
 * Whatever is there now is itself kept as a version first, so restoring can
 * be undone. The version stays in the versions folder. The copy is written
 * and renamed through a folder tree (transfer/folder-tree.ts): a folder
 * swapped for a symlink is never followed.
 */
export async function restoreVersion(
  root: string,
  version: VersionInfo,
  options: { toDir?: string; keeper?: VersionKeeper } = {},
): Promise<string> {
  const targetRoot = options.toDir ?? root;
  const shown = resolveUnderRoot(targetRoot, version.path);
  if (options.toDir !== undefined) await makeDirs(options.toDir);
  const source = path.join(root, ...version.versionPath.split('/'));
  const stats = await lstat(source);
  await withTree(targetRoot, undefined, (tree) =>
    tree.parentOf(version.path, true, async (dir, name) => {
      const target = dir.entry(name);
      const temp = siblingTempPath(target, `synker-restore-${process.pid}`);
      await rm(temp, { force: true });
      if (stats.isSymbolicLink()) {
        await symlink(await readlink(source), temp);
        await lutimes(temp, fsTime(version.mtime), fsTime(version.mtime));
      } else {
        await copyFileAnyDisk(source, temp);
        await setModeAndTimesNoFollow(temp, undefined, fsTime(version.mtime));
      }
      if (options.toDir === undefined) await (options.keeper ?? new VersionKeeper(root)).keepBeforeReplace(version.path);
      await rename(temp, target);
      await fsyncDir(dir.self);
    }),
  );
  return shown;
}

export interface VersionRetention {
  /** Versions older than this many milliseconds are removed (undefined: kept forever). */
  maxAgeMs?: number;
  /** At most this many versions per path are kept, newest first (undefined: all). */
  keepPerPath?: number;
}
