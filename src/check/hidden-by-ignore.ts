/**
 * Ignore rules cannot fake completeness. The source's ignore rules govern
 * both sides, so a path they hide is in neither manifest: a source whose
 * `.synkerignore` says `*` would otherwise read as "backup complete, 0 files
 * verified". A file the backup verified before (it has a verified record),
 * still holds, and the source's rules now hide is therefore a failing
 * difference of its own (`ignored`), until the rule is undone on the source
 * or the file is removed from the backup on purpose.
 */
import { lstatSync } from 'node:fs';
import path from 'node:path';
import type { Difference } from '../diff/index.js';
import { comparePaths } from '../manifest/order.js';
import { buildIgnoreMatcher, type IgnoreMatcher } from '../scan/ignore-rules.js';

/** Whether the rules hide `relPath`: itself, or a folder it is in (a walk never enters an ignored folder). */
export function hiddenByRules(matcher: IgnoreMatcher, relPath: string, folders?: Map<string, boolean>): boolean {
  for (let slash = relPath.indexOf('/'); slash > 0; slash = relPath.indexOf('/', slash + 1)) {
    const folder = relPath.slice(0, slash);
    let hidden = folders?.get(folder);
    if (hidden === undefined) {
      hidden = matcher.ignores(folder, true);
      // Paths come grouped by folder: a small memo spares testing each folder again for every file in it.
      if (folders !== undefined) {
        if (folders.size >= FOLDER_MEMO) folders.clear();
        folders.set(folder, hidden);
      }
    }
    if (hidden) return true;
  }
  return matcher.ignores(relPath, false);
}

/** Folders whose verdict hiddenVerifiedFiles() remembers at a time. */
const FOLDER_MEMO = 4096;

/**
 * The `ignored` differences: verified paths (`verifiedPaths`, any order) that
 * the source's `ignoreRules` hide and the backup folder `root` still holds,
 * in manifest order.
 */
export function hiddenVerifiedFiles(verifiedPaths: Iterable<string>, ignoreRules: readonly string[], root: string): Difference[] {
  const matcher = buildIgnoreMatcher('', ignoreRules.join('\n'));
  const hidden: Difference[] = [];
  const folders = new Map<string, boolean>();
  for (const relPath of verifiedPaths) {
    if (!hiddenByRules(matcher, relPath, folders)) continue;
    const st = lstatSync(path.join(root, ...relPath.split('/')), { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) continue;
    hidden.push({
      category: 'ignored',
      path: relPath,
      backup: { type: 'file', size: st.size, mtime: Math.floor(st.mtimeMs), mode: st.mode & 0o7777 },
      bytes: st.size,
      failing: true,
    });
  }
  return hidden.sort((a, b) => comparePaths(a.path, b.path));
}

/** Merges `more` (in manifest order) into `differences` (in manifest order), in place. */
export function mergeDifferences(differences: Difference[], more: readonly Difference[]): void {
  if (more.length === 0) return;
  const merged: Difference[] = [];
  let j = 0;
  for (const d of differences) {
    while (j < more.length && comparePaths(more[j]!.path, d.path) < 0) merged.push(more[j++]!);
    merged.push(d);
  }
  while (j < more.length) merged.push(more[j++]!);
  differences.length = 0;
  for (const d of merged) differences.push(d);
}
