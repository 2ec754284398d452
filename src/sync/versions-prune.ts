/**
 * Pruning the versions folder by age and by count per path, and removing the
 * folders a prune empties (versions.ts keeps and lists the versions).
 */
import { rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { printablePath, printableText } from '../base/printable.js';
import { VERSIONS_DIR } from '../manifest/layout.js';
import { FolderTree } from '../transfer/folder-tree.js';
import { listVersions, type VersionInfo, type VersionRetention } from './versions.js';

const log = createLogger('sync');

/**
 * Removes versions outside the retention policy; returns what was removed.
 * Folders left empty under the versions folder (a pruned folder's
 * `~STAMP/`, a path's parents) go too. Removals go through a folder tree: a
 * folder under the versions folder swapped for a symlink is skipped with a
 * warning, never followed.
 */
export async function pruneVersions(root: string, retention: VersionRetention, now = new Date()): Promise<VersionInfo[]> {
  const due: VersionInfo[] = [];
  let seenForPath = 0;
  let lastPath: string | undefined;
  for (const v of await listVersions(root)) {
    seenForPath = v.path === lastPath ? seenForPath + 1 : 1;
    lastPath = v.path;
    const tooOld = retention.maxAgeMs !== undefined && now.getTime() - v.replacedAt.getTime() > retention.maxAgeMs;
    const tooMany = retention.keepPerPath !== undefined && seenForPath > retention.keepPerPath;
    if (tooOld || tooMany) due.push(v);
  }
  if (due.length === 0) return [];
  const removed: VersionInfo[] = [];
  const emptied = new Set<string>();
  const tree = new FolderTree(root);
  try {
    for (const v of due) {
      try {
        await tree.parentOf(v.versionPath, false, (dir, name) => rm(dir.entry(name), { force: true }));
      } catch (err) {
        if (!(err instanceof SynkerError)) throw err;
        log.warn(`${printablePath(v.versionPath)} was not removed: ${printableText(err.message)}`);
        continue;
      }
      removed.push(v);
      emptied.add(path.posix.dirname(v.versionPath));
    }
    await removeEmptyFolders(tree, emptied);
  } finally {
    tree.close();
  }
  return removed;
}

/** Removes each folder (and then its parents) that is empty, up to but not including the versions folder. */
async function removeEmptyFolders(tree: FolderTree, folders: Set<string>): Promise<void> {
  // Deepest first, so a parent is tried after its children.
  const order = [...folders].sort((a, b) => b.split('/').length - a.split('/').length);
  const tried = new Set<string>();
  for (let dir of order) {
    while (dir.startsWith(`${VERSIONS_DIR}/`) && !tried.has(dir)) {
      tried.add(dir);
      const gone = await tree
        .parentOf(dir, false, async (parent, name) => {
          await rmdir(parent.entry(name));
          return true;
        })
        .catch((err: unknown) => {
          // Not empty (another version is there), or already gone: leave it.
          if (err instanceof SynkerError || ['ENOTEMPTY', 'EEXIST', 'ENOENT', 'ENOTDIR'].includes(errnoCode(err) ?? '')) return false;
          throw err;
        });
      if (!gone) break;
      dir = path.posix.dirname(dir);
    }
  }
}
