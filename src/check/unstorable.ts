/**
 * What a check marks as impossible to store on this backup (a name its file
 * system cannot hold, two names it takes for one, synker's own folder under
 * another case): the difference says why, and sync and restore skip it with
 * that reason instead of failing at every run.
 */
import type { Difference } from '../diff/index.js';
import type { OwnDirKeys } from '../dirs/own-dirs.js';
import { META_DIR } from '../manifest/layout.js';
import { type NameRules, sameNameOnDisk, unstorableReason } from '../manifest/storable.js';
import { isMetaDirAlias } from '../transfer/safe-path.js';

/**
 * `.SYNKER/...` and the like on a backup disk that ignores case: there that
 * name is synker's own folder, so the sync skips it with this reason (once)
 * instead of failing to write it at every run (transfer/safe-path.ts).
 */
export function markMetaDirAliases(differences: Difference[], root: string): void {
  for (const d of differences) {
    if ((d.category !== 'missing' && d.category !== 'moved') || d.source === undefined || d.unstorable !== undefined) continue;
    const disk = d.source.raw ?? d.path;
    const first = disk.slice(0, (disk.indexOf('/') + 1 || disk.length + 1) - 1);
    if (first.toLowerCase() === META_DIR && isMetaDirAlias(root, first))
      d.unstorable = `${first} is synker's own ${META_DIR} folder on this disk, which does not tell case apart`;
  }
}

/**
 * What the source has where this backup keeps its own synker folders (a
 * whole home as the backup folder; dirs/own-dirs.ts): the backup's scan
 * leaves them out, and sync never writes there, so the difference says why
 * instead of a sync overwriting this machine's key or state.
 */
export function markOwnDirs(differences: Difference[], own: OwnDirKeys): void {
  if (own.size === 0) return;
  for (const d of differences) {
    if (d.unstorable !== undefined) continue;
    // Where the source's entry would land, and what of the backup's would be moved or replaced.
    const landing = d.category === 'missing' || d.category === 'moved' || d.category === 'type' || d.category === 'name-clash';
    if (!landing || d.source === undefined) continue;
    const touched =
      own.holds(d.source.raw ?? d.path) ||
      own.holds(d.path) ||
      (d.category === 'type' && d.backup?.type === 'dir' && own.touches(d.path)) ||
      (d.category === 'moved' && d.newPath !== undefined && own.touches(d.newPath)) ||
      (d.category === 'name-clash' && d.otherPath !== undefined && own.touches(d.otherPath));
    if (touched) d.unstorable = "synker's own folder on this machine is there, which sync never writes, moves or replaces";
  }
}

/**
 * Names the source has that this backup's file system cannot hold: the
 * difference says why, and sync skips them with that reason (manifest/storable.ts).
 */
export function markUnstorable(differences: Difference[], rules: NameRules): void {
  // Two source names this disk takes for one: the one the backup holds stays, else the first in manifest order.
  const missing = new Set(
    differences.filter((d) => d.category === 'missing' || d.category === 'moved').map((d) => d.source?.raw ?? d.path),
  );
  const otherOf = new Map<string, string>();
  for (const d of differences) {
    if (d.category !== 'name-clash' || d.clash !== 'within' || d.side === 'backup' || d.otherPath === undefined) continue;
    if (!sameNameOnDisk(d.path, d.otherPath, rules)) continue;
    const [kept, left] = missing.has(d.path) && !missing.has(d.otherPath) ? [d.otherPath, d.path] : [d.path, d.otherPath];
    otherOf.set(left, kept);
  }
  for (const d of differences) {
    if ((d.category !== 'missing' && d.category !== 'moved') || d.source === undefined) continue;
    const disk = d.source.raw ?? d.path;
    const kept = otherOf.get(disk);
    const reason =
      unstorableReason(disk, rules) ?? (kept === undefined ? undefined : `differs only in case from ${kept}, the same name on this disk`);
    if (reason !== undefined) d.unstorable = reason;
  }
  // What lies inside a folder this disk cannot hold cannot be stored either (differences are in path order: parents first).
  const folders = new Set<string>();
  for (const d of differences) {
    if (d.category !== 'missing' || d.source === undefined) continue;
    if (d.unstorable !== undefined) {
      if (d.source.type === 'dir') folders.add(d.path);
      continue;
    }
    for (let slash = d.path.lastIndexOf('/'); slash > 0; slash = d.path.lastIndexOf('/', slash - 1)) {
      if (!folders.has(d.path.slice(0, slash))) continue;
      d.unstorable = `inside ${d.path.slice(0, slash)}, which cannot be stored here`;
      if (d.source.type === 'dir') folders.add(d.path);
      break;
    }
  }
}
