/**
 * Writing inside a folder root whose tree may change while a run writes.
 * Node has no openat(): a write by path follows whatever the path's folders
 * are at that moment, so a folder swapped for a symlink between a check and
 * the write sends the write outside the root (rsync's CVE-2024-12087/12088).
 *
 * On Linux every folder is opened relative to its parent's descriptor,
 * without following a symlink (O_DIRECTORY | O_NOFOLLOW on
 * `/proc/self/fd/<parent>/<name>`), from the root down; every create,
 * rename, link, unlink, mkdir and rmdir then names its entry as
 * `/proc/self/fd/<folder>/<name>`, which the kernel resolves through the
 * descriptor and not through the path. A folder swapped for a symlink after
 * it was opened is therefore never followed: the run writes into the folder
 * it opened, wherever that now is. Before each use a kept descriptor is
 * checked to still be at its path (its /proc link names the real path); a
 * folder that moved is opened again from its parent, and a name that is now a
 * symlink or a file fails that one entry with FolderChangedError.
 *
 * Elsewhere (macOS has no /proc, and /dev/fd does not open folders; Windows)
 * each use walks the path from the root with lstat, one folder at a time,
 * right before the operation: a swap in the microseconds between that walk
 * and the operation is still followed (docs/platforms.md says so).
 */
import { closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { realPathSync } from '../base/real-path.js';
import { metaLinkError } from '../config/folder-marker.js';
import { META_DIR } from '../manifest/layout.js';
import { FolderChangedError, UnsafeParentError } from './errors.js';

/** Descriptors kept open per tree; unused ones beyond this are closed, oldest use first. */
const KEEP_OPEN = 64;

/** Whether this process can name a folder by its descriptor (Linux with /proc mounted). */
const PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');

/** A folder of the tree, held for one operation. */
export interface TreeDir {
  /** Its path under the root, `/`-separated ('' for the root). */
  readonly rel: string;
  /** A path for the entry `name` in this folder that does not depend on the folders above it (on Linux). */
  entry(name: string): string;
  /** A path for the folder itself (to fsync it). */
  readonly self: string;
}

interface Held {
  fd: number;
  rel: string;
  /** Where the folder is expected: the root's real path joined with `rel`. */
  real: string;
  refs: number;
  /** No longer in the cache: closed once nobody holds it. */
  dropped: boolean;
}

export interface FolderTreeOptions {
  /** Walk by path even where descriptors could anchor the tree (tests; how macOS and Windows always work). */
  byPath?: boolean;
}

export class FolderTree {
  private readonly open = new Map<string, Held>();
  private readonly rootHeld: Held | undefined;
  /** Folders this tree opened or checked: one of them becoming a link is a change under the run. */
  private readonly seen = new Set<string>();
  private closed = false;

  /** `root` must be a folder; symlinks in its own path are the user's and are followed once, here. */
  constructor(
    readonly root: string,
    options: FolderTreeOptions = {},
  ) {
    if (PROC_FD && options.byPath !== true) {
      const real = realPathSync(root);
      const fd = openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
      this.rootHeld = { fd, rel: '', real, refs: 1, dropped: false };
    }
  }

  /** Whether writes resolve through descriptors (true on Linux) rather than by a path checked just before. */
  get anchored(): boolean {
    return this.rootHeld !== undefined;
  }

  /**
   * Runs `fn` with the parent folder of `rel` (a `/`-separated path under the
   * root, checked by the caller), made where missing when `make`. A parent
   * that is a symlink or not a folder is refused (UnsafePathError; or
   * FolderChangedError when it was a folder earlier in this tree's life).
   */
  async parentOf<T>(
    rel: string,
    make: boolean,
    fn: (dir: TreeDir, name: string) => Promise<T> | T,
    /** The path a refusal names (default `rel`): the user's file when `rel` is synker's own (a partial). */
    forPath = rel,
  ): Promise<T> {
    const cut = rel.lastIndexOf('/');
    return this.at(cut < 0 ? '' : rel.slice(0, cut), make, (dir) => fn(dir, rel.slice(cut + 1)), forPath);
  }

  /** Runs `fn` with the folder `rel` itself (see parentOf). */
  async at<T>(rel: string, make: boolean, fn: (dir: TreeDir) => Promise<T> | T, forPath = rel): Promise<T> {
    if (this.closed) throw new Error(`the folder tree of ${this.root} is closed`);
    if (this.rootHeld === undefined) return fn(this.walkByPath(rel, make, forPath));
    const held = this.acquire(rel, make, forPath);
    try {
      return await fn({
        rel,
        entry: (name) => `/proc/self/fd/${held.fd}/${name}`,
        self: `/proc/self/fd/${held.fd}`,
      });
    } finally {
      this.release(held);
    }
  }

  /** Closes every descriptor; folders still held are closed when released. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const held of this.open.values()) this.drop(held);
    this.open.clear();
    if (this.rootHeld !== undefined) {
      this.rootHeld.dropped = true;
      this.release(this.rootHeld);
    }
  }

  private acquire(rel: string, make: boolean, forPath: string): Held {
    const root = this.rootHeld!;
    if (rel === '') {
      root.refs++;
      return root;
    }
    const kept = this.open.get(rel);
    if (kept !== undefined) {
      if (this.stillAt(kept)) {
        kept.refs++;
        // Most recently used last: the oldest unused descriptors are closed first.
        this.open.delete(rel);
        this.open.set(rel, kept);
        return kept;
      }
      this.open.delete(rel);
      this.drop(kept);
    }
    const cut = rel.lastIndexOf('/');
    const parent = this.acquire(cut < 0 ? '' : rel.slice(0, cut), make, forPath);
    let fd: number;
    try {
      fd = this.openChild(parent, rel.slice(cut + 1), rel, make, forPath);
    } finally {
      this.release(parent);
    }
    const held: Held = { fd, rel, real: path.join(root.real, ...rel.split('/')), refs: 1, dropped: false };
    this.open.set(rel, held);
    this.seen.add(rel);
    this.trim();
    return held;
  }

  /** Whether a kept descriptor's folder is still where the path says (its /proc link is the real path). */
  private stillAt(held: Held): boolean {
    try {
      return readlinkSync(`/proc/self/fd/${held.fd}`) === held.real;
    } catch {
      return false;
    }
  }

  private openChild(parent: Held, name: string, rel: string, make: boolean, forPath: string): number {
    const at = `/proc/self/fd/${parent.fd}/${name}`;
    const flags = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
    for (let attempt = 0; ; attempt++) {
      try {
        return openSync(at, flags);
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT' && make && attempt === 0) {
          try {
            mkdirSync(at);
          } catch (mkErr) {
            if (errnoCode(mkErr) !== 'EEXIST') throw mkErr;
          }
          continue;
        }
        if (code === 'ENOTDIR' || code === 'ELOOP') throw this.refusal(forPath, rel, lstatSync(at, { throwIfNoEntry: false }));
        if (code === 'ENOENT' && this.seen.has(rel)) throw this.refusal(forPath, rel, undefined);
        throw err;
      }
    }
  }

  private refusal(forPath: string, rel: string, st: { isSymbolicLink(): boolean } | undefined): Error {
    const what = st === undefined ? 'gone' : st.isSymbolicLink() ? 'a symlink' : 'not a folder';
    if (this.seen.has(rel)) return new FolderChangedError(forPath, rel, what);
    // synker's own folder has its own refusal, whichever file was being written.
    if (st !== undefined && (rel === META_DIR || rel.startsWith(`${META_DIR}/`)))
      return metaLinkError(path.join(this.root, ...rel.split('/')), st.isSymbolicLink());
    return new UnsafeParentError(forPath, rel, what === 'a symlink' ? 'a symlink' : 'not a folder');
  }

  /** Without descriptors: the folders of `rel` checked (and made) by path, right before the operation. */
  private walkByPath(rel: string, make: boolean, forPath: string): TreeDir {
    let dir = this.root;
    let sub = '';
    for (const part of rel === '' ? [] : rel.split('/')) {
      dir = path.join(dir, part);
      sub = sub === '' ? part : `${sub}/${part}`;
      let st = lstatSync(dir, { throwIfNoEntry: false });
      if (st === undefined && make) {
        try {
          mkdirSync(dir);
        } catch (err) {
          if (errnoCode(err) !== 'EEXIST') throw err;
        }
        st = lstatSync(dir);
      }
      if (st === undefined) {
        if (this.seen.has(sub)) throw this.refusal(forPath, sub, undefined);
        const err: NodeJS.ErrnoException = new Error(`ENOENT: no such folder, '${dir}'`);
        err.code = 'ENOENT';
        throw err;
      }
      if (!st.isDirectory()) throw this.refusal(forPath, sub, st);
      this.seen.add(sub);
    }
    const base = dir;
    return { rel, entry: (name) => path.join(base, name), self: base };
  }

  private release(held: Held): void {
    held.refs--;
    if (held.refs === 0 && held.dropped) closeSync(held.fd);
  }

  private drop(held: Held): void {
    if (held.dropped) return;
    held.dropped = true;
    if (held.refs === 0) closeSync(held.fd);
  }

  private trim(): void {
    if (this.open.size <= KEEP_OPEN) return;
    for (const [rel, held] of this.open) {
      if (this.open.size <= KEEP_OPEN) return;
      if (held.refs > 0) continue;
      this.open.delete(rel);
      this.drop(held);
    }
  }
}

/** Runs `fn` with `tree`, or with a tree of `root` opened for it alone. */
export async function withTree<T>(root: string, tree: FolderTree | undefined, fn: (tree: FolderTree) => Promise<T>): Promise<T> {
  if (tree !== undefined) return fn(tree);
  const own = new FolderTree(root);
  try {
    return await fn(own);
  } finally {
    own.close();
  }
}

/**
 * Whether a tree refused a path because a folder on it does not exist or is
 * a file (nothing can be at the path), as opposed to a symlink (which is
 * never looked through).
 */
export function isAbsentParent(err: unknown): boolean {
  if (err instanceof UnsafeParentError) return err.parentIs === 'not a folder';
  if (err instanceof FolderChangedError) return err.now !== 'a symlink';
  return (
    !(err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('E_')) && errnoCode(err) === 'ENOENT'
  );
}
