/**
 * Where a sync plan's actions write (a rename's target, a created entry),
 * and which of those names fall on one another on a backup file system that
 * ignores case or Unicode normalisation.
 */
import { comparePaths } from '../manifest/order.js';
import { foldName } from '../manifest/storable.js';
import type { FoldingInfo } from './folding.js';
import type { PlanPath, SyncAction } from './plan-types.js';

export function targetOf(a: SyncAction): PlanPath | undefined {
  switch (a.op) {
    case 'move':
      return a.to;
    case 'pull':
    case 'mkdir':
    case 'symlink':
      return a.at;
    default:
      return undefined;
  }
}

/**
 * New names that fold to the same name on the backup's file system: the first (manifest order) wins.
 * `kept` are the names the backup holds or is given of the source's own colliding pairs (the diff's
 * within-clashes): another spelling of one is never pulled, or it would land on it, or fail only after
 * its bytes came.
 */
export function collisions(
  moves: SyncAction[],
  creates: SyncAction[],
  folding: FoldingInfo | undefined,
  kept: string[],
): Map<string, string> {
  const out = new Map<string, string>();
  if (!folding || (!folding.case && !folding.normalization)) return out;
  const targets = [...moves, ...creates].map((a) => targetOf(a)!).sort((a, b) => comparePaths(a.path, b.path));
  const firstByKey = new Map<string, PlanPath>();
  for (const k of kept) if (!firstByKey.has(foldName(k, folding))) firstByKey.set(foldName(k, folding), { path: k, disk: k });
  for (const t of targets) {
    const key = foldName(t.disk, folding);
    const first = firstByKey.get(key);
    if (first === undefined) firstByKey.set(key, t);
    else if (first.disk !== t.disk) out.set(t.path, first.path);
  }
  return out;
}

/** Takes out of `deletes` (and returns) the ones inside one of `folders`. */
export function splitInside<T extends { at: PlanPath }>(deletes: T[], folders: readonly string[]): T[] {
  if (folders.length === 0) return [];
  const set = new Set(folders);
  const inside = (p: string): boolean => {
    for (let slash = p.lastIndexOf('/'); slash > 0; slash = p.lastIndexOf('/', slash - 1)) if (set.has(p.slice(0, slash))) return true;
    return false;
  };
  const out = deletes.filter((d) => inside(d.at.path));
  if (out.length > 0) deletes.splice(0, deletes.length, ...deletes.filter((d) => !inside(d.at.path)));
  return out;
}
