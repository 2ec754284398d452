/**
 * What the backup holds after a sync, counted from what the check found and
 * what the sync did (no second scan): the report's backup line after a sync
 * gives these, not the counts from before it. Each done action adds or takes
 * away the entries it placed or removed; a folder a file replaced takes its
 * contents with it (the check listed them as extras under it). Each backup
 * entry is taken away once, however many actions touch it.
 */
import type { Difference, EntryFacts, SideTotals } from '../diff/index.js';
import type { PlanEntry, SyncAction } from './plan-types.js';

export class BackupTotalsAfter {
  private readonly totals: SideTotals;
  private readonly removed = new Set<string>();

  constructor(
    before: SideTotals,
    /** The check's differences: what the backup has under a folder that a file or link replaces. */
    private readonly differences: readonly Difference[],
  ) {
    this.totals = { ...before };
  }

  get current(): SideTotals {
    return { ...this.totals };
  }

  /** An action carried out. */
  done(action: SyncAction): void {
    switch (action.op) {
      case 'pull':
      case 'symlink':
      case 'mkdir':
        if (action.replaces !== undefined) this.remove(action.at.path, action.replaces);
        this.add(action.entry, 1);
        return;
      case 'delete':
      case 'set-aside':
        this.remove(action.at.path, action.entry);
        return;
      case 'move':
      case 'metadata':
        // A rename keeps what the backup holds; times and permissions change no count.
        return;
    }
  }

  private remove(at: string, entry: PlanEntry | EntryFacts): void {
    if (this.removed.has(at)) return;
    this.removed.add(at);
    this.add(entry, -1);
    if (entry.type !== 'dir') return;
    // The folder went whole, with what the backup had in it.
    const prefix = `${at}/`;
    for (const d of this.differences) {
      if (d.category !== 'extra' || d.backup === undefined || !d.path.startsWith(prefix) || this.removed.has(d.path)) continue;
      this.removed.add(d.path);
      this.add(d.backup, -1);
    }
  }

  private add(entry: PlanEntry | EntryFacts, sign: 1 | -1): void {
    if (entry.type === 'file') {
      this.totals.files += sign;
      this.totals.bytes += sign * entry.size;
    } else if (entry.type === 'dir') this.totals.dirs += sign;
    else if (entry.type === 'symlink') this.totals.symlinks += sign;
    else this.totals.errors += sign;
  }
}
