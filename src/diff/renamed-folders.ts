/**
 * A folder whose name differs between the sides only in case or only in
 * Unicode normalisation changes the path of everything below it, so every
 * entry inside would be a name clash of its own: a big folder would flood
 * the report. Those entries are folded into the folder's one record
 * (`members`, `fileCount`), the way a moved folder is.
 */
import type { Difference } from './types.js';

/** The key of a folder clash: the folder's path on each side. */
export function folderPairKey(a: string, b: string): string {
  return `${a}\0${b}`;
}

/**
 * The folder clash that alone explains why paths `a` and `b` (one entry, as
 * each side names it) differ: the folder at the deepest component where they
 * differ. Undefined when the entry's own name differs: that is a clash of its
 * own. The deepest, so that in `Café/Été/x` with both folders renamed, `x`
 * joins `Été`, and `Été` (its own name differs) keeps its own record.
 */
export function renamedFolderKeyOf(a: string, b: string): string | undefined {
  if (a === b) return undefined;
  const x = a.split('/');
  const y = b.split('/');
  if (x.length !== y.length || x[x.length - 1] !== y[y.length - 1]) return undefined;
  let k = x.length - 2;
  while (x[k] === y[k]) k--;
  return folderPairKey(x.slice(0, k + 1).join('/'), y.slice(0, k + 1).join('/'));
}

/**
 * Adds an entry that went with a renamed folder to the folder's record. `isFile`: a regular file on
 * both sides (a type change below the folder is listed as `type`; it counts on neither side, so the
 * count is the same whichever way round the check runs).
 */
export function addMember(folder: Difference, path: string, newPath: string, isFile: boolean, bytes: number): void {
  folder.members ??= [];
  folder.members.push({ path, newPath });
  // fileCount counts files; sub-folders and symlinks are in `members` only.
  folder.fileCount ??= 0;
  if (isFile) {
    folder.fileCount++;
    folder.bytes += bytes;
  }
}
