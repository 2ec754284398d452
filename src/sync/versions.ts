/**
 * The versions folder: every file that sync overwrites or removes is first
 * kept under `.synker/versions/<path>~<UTC stamp>` inside the same folder
 * root (never scanned or transferred), so a sync never destroys data. A name
 * too long to take the stamp (255 bytes) is kept as `<folder>/~<stamp>/<name>`
 * instead: a stamp with no name before it applies to what is inside. One
 * stamp per run groups what that run replaced. Versions can be listed,
 * restored, and pruned by age or count.
 */
import { link, lstat, lutimes, readdir, readlink, rename, rm, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { copyFileAnyDisk } from '../base/mode-bits.js';
import { VERSIONS_DIR } from '../manifest/layout.js';
import { comparePaths } from '../manifest/order.js';
import { fsTime } from './fs-time.js';
import { fsyncDir } from '../base/atomic-file.js';
import { prepareParents, resolveUnderRoot } from '../transfer/safe-path.js';
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

function versionsRoot(root: string): string {
  return path.join(root, ...VERSIONS_DIR.split('/'));
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

  constructor(
    readonly root: string,
    now = new Date(),
  ) {
    this.stamp = versionStamp(now);
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
    const abs = resolveUnderRoot(this.root, relPath);
    const stats = lstatOrUndefined(abs);
    if (stats === undefined) return undefined;
    const dest = await this.freeVersionPath(relPath);
    if (stats.isFile()) {
      try {
        await link(abs, dest.abs);
        // The kept version must be durable before the live name is replaced.
        await fsyncDir(path.dirname(dest.abs));
        this.kept.push(dest.rel);
        return dest.rel;
      } catch (err) {
        const code = errnoCode(err);
        if (code !== 'EPERM' && code !== 'EXDEV' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw err;
      }
    }
    await this.move(abs, dest);
    return dest.rel;
  }

  /** Moves `relPath` (file, symlink or whole folder) into the versions folder. */
  async moveAway(relPath: string): Promise<string | undefined> {
    const abs = resolveUnderRoot(this.root, relPath);
    if (lstatOrUndefined(abs) === undefined) return undefined;
    const dest = await this.freeVersionPath(relPath);
    await this.move(abs, dest);
    return dest.rel;
  }

  private async move(abs: string, dest: { abs: string; rel: string }): Promise<void> {
    await rename(abs, dest.abs);
    await fsyncDir(path.dirname(dest.abs));
    await fsyncDir(path.dirname(abs));
    this.kept.push(dest.rel);
  }

  private async freeVersionPath(relPath: string): Promise<{ abs: string; rel: string }> {
    realVersionsRoot(this.root);
    const name = path.posix.basename(relPath);
    const dir = relPath.slice(0, relPath.length - name.length);
    for (let n = 1; ; n++) {
      const suffix = `~${this.stamp}${n === 1 ? '' : `-${n}`}`;
      const rel = fitsInName(name + suffix) ? `${relPath}${suffix}` : `${dir}${suffix}/${name}`;
      const abs = await prepareParents(versionsRoot(this.root), rel);
      if (lstatOrUndefined(abs) === undefined) return { abs, rel: `${VERSIONS_DIR}/${rel}` };
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
 * be undone. The version stays in the versions folder.
 */
export async function restoreVersion(
  root: string,
  version: VersionInfo,
  options: { toDir?: string; keeper?: VersionKeeper } = {},
): Promise<string> {
  const targetRoot = options.toDir ?? root;
  if (options.toDir !== undefined) await makeDirs(options.toDir);
  const target = await prepareParents(targetRoot, version.path);
  const source = path.join(root, ...version.versionPath.split('/'));
  const temp = siblingTempPath(target, `synker-restore-${process.pid}`);
  const stats = await lstat(source);
  await rm(temp, { force: true });
  if (stats.isSymbolicLink()) {
    await symlink(await readlink(source), temp);
    await lutimes(temp, fsTime(version.mtime), fsTime(version.mtime));
  } else {
    await copyFileAnyDisk(source, temp);
    await utimes(temp, fsTime(version.mtime), fsTime(version.mtime));
  }
  if (options.toDir === undefined) await (options.keeper ?? new VersionKeeper(root)).keepBeforeReplace(version.path);
  await rename(temp, target);
  await fsyncDir(path.dirname(target));
  return target;
}

export interface VersionRetention {
  /** Versions older than this many milliseconds are removed (undefined: kept forever). */
  maxAgeMs?: number;
  /** At most this many versions per path are kept, newest first (undefined: all). */
  keepPerPath?: number;
}

/** Removes versions outside the retention policy; returns what was removed. */
export async function pruneVersions(root: string, retention: VersionRetention, now = new Date()): Promise<VersionInfo[]> {
  const removed: VersionInfo[] = [];
  let seenForPath = 0;
  let lastPath: string | undefined;
  for (const v of await listVersions(root)) {
    seenForPath = v.path === lastPath ? seenForPath + 1 : 1;
    lastPath = v.path;
    const tooOld = retention.maxAgeMs !== undefined && now.getTime() - v.replacedAt.getTime() > retention.maxAgeMs;
    const tooMany = retention.keepPerPath !== undefined && seenForPath > retention.keepPerPath;
    if (tooOld || tooMany) {
      await rm(path.join(root, ...v.versionPath.split('/')), { force: true });
      removed.push(v);
    }
  }
  return removed;
}
