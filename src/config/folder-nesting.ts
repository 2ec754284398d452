/**
 * Folders must not nest. A backup inside a source (or a source inside a
 * backup) means a sync of the backup writes into the source, which synker
 * never does (docs/security.md); and a folder inside another is scanned and
 * checked twice, its marker showing up as a file of the outer one.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';

/** True when `inner` is strictly inside `outer` (both absolute and normalised). */
export function isInsidePath(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** How two folder roots overlap: the same folder, one inside the other, or not at all. */
export function folderOverlap(a: string, b: string): 'same' | 'inside' | 'contains' | undefined {
  if (path.relative(a, b) === '') return 'same';
  if (isInsidePath(a, b)) return 'inside';
  if (isInsidePath(b, a)) return 'contains';
  return undefined;
}

/** The real path (symlinks resolved) where the folder exists; the path as written where it does not (an unmounted disk). */
export async function realFolderPath(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR' || errnoCode(err) === 'EACCES') return path.resolve(p);
    throw err;
  }
}
