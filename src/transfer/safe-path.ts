/**
 * Turning manifest paths into on-disk paths without ever leaving the folder
 * root. Peer-supplied paths are hostile: absolute paths, `..`, NUL,
 * backslashes, empty components and anything under `.synker/` are refused.
 * Writing under the root, never through a symlinked folder: folder-tree.ts.
 */
import { lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { META_DIR } from '../manifest/layout.js';
import { UnsafePathError } from '../transfer/errors.js';

/** Why a relative manifest path is unsafe, or undefined when it is fine. */
export function unsafePathReason(relPath: string): string | undefined {
  if (typeof relPath !== 'string' || relPath.length === 0) return 'empty path';
  if (relPath.length > 4096) return 'path longer than 4096 characters';
  if (relPath.includes('\0')) return 'contains a NUL character';
  if (relPath.includes('\\')) return 'contains a backslash';
  // `a:b.txt` is an ordinary name on Linux and macOS; on Windows resolveUnderRoot refuses it (a drive or a stream).
  if (relPath.startsWith('/')) return 'absolute path';
  const parts = relPath.split('/');
  for (const part of parts) {
    if (part === '') return 'empty path component';
    if (part === '.' || part === '..') return `"${part}" component`;
  }
  // `.SYNKER` is another name on a disk that tells case apart: resolveUnderRoot asks the disk (isMetaDirAlias).
  if (parts[0] === META_DIR) return `inside ${META_DIR}/, which synker keeps to itself`;
  return undefined;
}

/**
 * Whether `name`, a first path component spelt like `.synker` in another
 * case (`.SYNKER`), is synker's own folder on the disk of `root`: on a disk
 * that ignores case (FAT, APFS, NTFS as Windows mounts it) it is, and a
 * write there would land among synker's own files; on one that tells case
 * apart (ext4, btrfs) it is an ordinary name. The disk is asked: with
 * `.synker` there, a lookup of `name` that finds something the folder's
 * listing does not hold by that name found `.synker` under another case.
 * (Inode numbers cannot tell: FUSE file systems such as fusefat give each
 * spelling its own.) Where it cannot be told (no `.synker` yet), it counts as one.
 */
export function isMetaDirAlias(root: string, name: string): boolean {
  if (name.toLowerCase() !== META_DIR) return false;
  if (name === META_DIR) return true;
  if (lstatSync(path.join(root, META_DIR), { throwIfNoEntry: false }) === undefined) return true;
  // Not found: this disk tells `.SYNKER` from `.synker`.
  if (lstatSync(path.join(root, name), { throwIfNoEntry: false }) === undefined) return false;
  return !readdirSync(root).includes(name);
}

export function assertSafeRelPath(relPath: string): void {
  const reason = unsafePathReason(relPath);
  if (reason !== undefined) throw new UnsafePathError(relPath, reason);
}

/**
 * The absolute on-disk path of a checked relative path. On Windows a `:` in
 * a name would name a drive (`C:x`) or an NTFS alternate data stream of
 * another file (`a:b` is stream `b` of `a`): refused here whatever the
 * caller checked before (manifest/storable.ts skips such names earlier,
 * with a reason).
 */
export function resolveUnderRoot(root: string, relPath: string, platform: NodeJS.Platform = process.platform): string {
  assertSafeRelPath(relPath);
  const first = relPath.slice(0, (relPath.indexOf('/') + 1 || relPath.length + 1) - 1);
  if (isMetaDirAlias(root, first))
    throw new UnsafePathError(relPath, `${first} is ${META_DIR}/ on this disk (it does not tell case apart), which synker keeps to itself`);
  if (platform === 'win32' && relPath.includes(':'))
    throw new UnsafePathError(relPath, 'a ":" in a name on Windows names a drive or an alternate data stream');
  return path.join(root, ...relPath.split('/'));
}

/**
 * Whether every existing parent folder of `relPath` under `root` is a real
 * folder (not a symlink, not a file), without creating any: reading through
 * a symlinked parent would look at, and a later write change, what lies
 * outside the root. A missing parent is fine: nothing is there to follow.
 */
export function parentsAreRealFolders(root: string, relPath: string): boolean {
  let dir = root;
  for (const part of relPath.split('/').slice(0, -1)) {
    dir = path.join(dir, part);
    const stats = lstatSync(dir, { throwIfNoEntry: false });
    if (stats === undefined) return true;
    if (!stats.isDirectory()) return false;
  }
  return true;
}
