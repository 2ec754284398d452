/**
 * The shapes the sync planner reads and writes (a difference, an action, a
 * plan), and what a plan's actions add up to; apart from the planner so the
 * parts that apply, render and restore plans need not import the planner.
 */
import type { EntryFacts } from '../diff/types.js';
import type { NameRules } from '../manifest/storable.js';
import type { FoldingInfo } from './folding.js';

/** What the planner reads of one side's entry (the check's EntryFacts, less the error fields). */
export type PlanEntry = Omit<EntryFacts, 'errorCode' | 'error'>;

/** What the planner reads of one difference (the check's Difference, src/diff/types.ts). */
export interface PlanDifference {
  category: 'missing' | 'extra' | 'content' | 'type' | 'moved' | 'name-clash' | 'unreadable' | 'unstable' | 'ignored' | 'metadata';
  path: string;
  newPath?: string;
  otherPath?: string;
  source?: PlanEntry & { errorCode?: string };
  backup?: PlanEntry & { errorCode?: string };
  clash?: 'case' | 'normalization' | 'within';
  side?: 'source' | 'backup' | 'both';
  changedOn?: 'source' | 'source-suspicious' | 'backup' | 'both' | 'unknown';
  fileCount?: number;
  members?: Array<{ path: string; newPath: string }>;
  /** Why the backup cannot hold the source's name, as the check found (Difference.unstorable). */
  unstorable?: string;
}

export type MaxDelete = { count: number } | { percent: number };

export interface PlanOptions {
  /** Remove (into versions) what the source no longer has. */
  delete?: boolean;
  /** Default: 10% of the backup's files, but at least 10 files. */
  maxDelete?: MaxDelete;
  /** Pull suspicious changes and ignore the mass-change and shrink guards. */
  force?: boolean;
  /** Files on each side (the check's side totals). */
  sourceFiles: number;
  backupFiles: number;
  /** How many files the source listed at the last successful sync, if known. */
  lastSourceFiles?: number;
  /** How the backup's file system treats names; default: case-sensitive, no normalisation. */
  folding?: FoldingInfo;
  /** Which names the backup's file system can hold (manifest/storable.ts); default POSIX's. */
  nameRules?: NameRules;
  /** Share (0..1) of the source's files changed at once that stops the run; default 0.25. */
  massChangeShare?: number;
  /** ...but only from this many files on; default 20. */
  massChangeMinFiles?: number;
}

/** A path as the report shows it (NFC) and as it is on disk. */
export interface PlanPath {
  path: string;
  disk: string;
}

export type SyncAction =
  | {
      op: 'move';
      /** Where the entry is when this rename runs: a rename before it in the plan may have taken its folder along. */
      from: PlanPath;
      to: PlanPath;
      fileCount: number;
      bytes: number;
      entry?: PlanEntry;
      /** Where the check found it, when that is not `from` (its folder is renamed first: plan-moves.ts). */
      foundAt?: PlanPath;
    }
  | { op: 'mkdir'; at: PlanPath; entry: PlanEntry; replaces?: PlanEntry }
  /**
   * `emptied` (with `replaces` a folder): the backup's folder there is one this plan's renames empty; it is
   * removed only if empty then (rmdir, nothing kept in versions), else the entry is not written (in the way).
   */
  | {
      op: 'pull';
      at: PlanPath;
      entry: PlanEntry & { hash: string };
      reason: 'missing' | 'content' | 'type';
      replaces?: PlanEntry;
      emptied?: true;
    }
  | {
      op: 'symlink';
      at: PlanPath;
      entry: PlanEntry & { target: string };
      reason: 'missing' | 'content' | 'type';
      replaces?: PlanEntry;
      emptied?: true;
    }
  | { op: 'metadata'; at: PlanPath; entry: PlanEntry }
  /**
   * Removes an extra (into versions; a folder only once empty). `emptied`: a folder the source does not
   * have that this plan's renames empty, removed without --delete, and only if nothing else is in it.
   */
  | { op: 'delete'; at: PlanPath; entry: PlanEntry; emptied?: true }
  /** Moves a backup file whose name differs only in case from the source's aside (into versions) before the pull. */
  | { op: 'set-aside'; at: PlanPath; entry: PlanEntry };

export type SkipReason =
  | 'suspicious'
  | 'newer-on-source'
  | 'changed-on-backup'
  | 'differs'
  | 'extra-kept'
  | 'unreadable'
  | 'unstable'
  | 'no-hash'
  | 'folder-in-the-way'
  | 'collision'
  | 'unstorable';

export interface SkippedItem {
  path: string;
  reason: SkipReason;
  detail: string;
}

export type GuardName = 'mass-change' | 'source-shrank' | 'max-delete';

/** A reason the whole run must not proceed. */
export interface GuardStop {
  guard: GuardName;
  message: string;
  hint: string;
}

export interface SyncPlan {
  actions: SyncAction[];
  skipped: SkippedItem[];
  /**
   * Restore only: what the backup holds where this machine keeps its own synker folders (an old copy of
   * them), outermost only. Never restored, by design (docs/configuration.md), and not a failure.
   */
  leftAlone?: string[];
  /** Those of `leftAlone` that are files (or links), not folders: shown without the trailing `/` of a folder. */
  leftAloneFiles?: string[];
  stops: GuardStop[];
  totals: PlanTotals;
}

export interface PlanTotals {
  pullFiles: number;
  pullBytes: number;
  /** Renames: one per renamed file or folder. */
  moves: number;
  /** Files those renames carry (a folder's rename counts its files). */
  movedFiles: number;
  mkdirs: number;
  symlinks: number;
  metadata: number;
  /** Files and links to delete (folders are not counted). */
  deletes: number;
  deleteBytes: number;
}

/** What a plan's actions add up to: one count for sync and restore plans alike. */
export function planTotals(actions: readonly SyncAction[]): PlanTotals {
  const totals: PlanTotals = {
    pullFiles: 0,
    pullBytes: 0,
    moves: 0,
    movedFiles: 0,
    mkdirs: 0,
    symlinks: 0,
    metadata: 0,
    deletes: 0,
    deleteBytes: 0,
  };
  for (const a of actions) {
    if (a.op === 'pull') {
      totals.pullFiles++;
      totals.pullBytes += a.entry.size;
    } else if (a.op === 'move') {
      totals.moves++;
      totals.movedFiles += a.fileCount;
    } else if (a.op === 'mkdir') totals.mkdirs++;
    else if (a.op === 'symlink') totals.symlinks++;
    else if (a.op === 'metadata') totals.metadata++;
    else if (a.op === 'delete' && a.entry.type !== 'dir') {
      totals.deletes++;
      totals.deleteBytes += a.entry.size;
    }
  }
  return totals;
}
