/**
 * What a folder move does to the rest of a sync plan: the backup's folder is
 * renamed whole, so what was left over in it (extras) is then under the new
 * name. A left-over file the source changed (missing under the new name) is
 * the backup's old copy of it, not an extra: the pull replaces it (keeping it
 * in versions), or it stays as a refused change says. Deleting it after the
 * pull would throw away the copy just made.
 */
import type { SkippedItem, SyncAction } from './plan-types.js';

export function followFolderMoves(
  moves: readonly SyncAction[],
  deletes: Array<SyncAction & { op: 'delete' }>,
  skipped: SkippedItem[],
  /** Paths the plan creates (pulls, folders, links). */
  created: readonly string[],
): void {
  const movedExtras = new Set<string>();
  for (const m of moves) {
    if (m.op !== 'move' || m.entry?.type !== 'dir') continue;
    const from = `${m.from.path}/`;
    for (const del of deletes) {
      if (del.at.path.startsWith(from)) {
        const rest = del.at.path.slice(from.length);
        del.at = { path: `${m.to.path}/${rest}`, disk: `${m.to.disk}/${del.at.disk.slice(m.from.disk.length + 1)}` };
        movedExtras.add(del.at.path);
      }
    }
    for (const kept of skipped) {
      if (kept.reason === 'extra-kept' && kept.path.startsWith(from)) {
        kept.path = `${m.to.path}/${kept.path.slice(from.length)}`;
        movedExtras.add(kept.path);
      }
    }
  }
  if (movedExtras.size === 0) return;
  const claimed = new Set(created);
  for (const k of skipped) if (k.reason !== 'extra-kept') claimed.add(k.path);
  const stale = (p: string): boolean => movedExtras.has(p) && claimed.has(p);
  deletes.splice(0, deletes.length, ...deletes.filter((d) => !stale(d.at.path)));
  skipped.splice(0, skipped.length, ...skipped.filter((k) => k.reason !== 'extra-kept' || !stale(k.path)));
}
