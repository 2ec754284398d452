/**
 * One sync of one backup folder, after its check: the check (src/check/run.ts)
 * has found the source, streamed its manifest in a session that is still
 * open, scanned the local copy and diffed; this plans the fixes and applies
 * them over that same session, under the check's folder lock. The source is
 * never written to.
 */
import type { FolderConfig } from '../config/types.js';
import type { DiffResult, SideTotals } from '../diff/index.js';
import { BackupTotalsAfter } from './totals-after.js';
import { createLogger } from '../base/log.js';
import type { PeerSession } from '../peer/index.js';
import { applyPlan } from './apply.js';
import type { ApplyResult, HashRecorder, SyncProgress } from './apply-types.js';
import { probeFolding } from './folding.js';
import { PeerFileSource } from './peer-source.js';
import { planSync } from './plan.js';
import type { MaxDelete, SyncPlan } from './plan-types.js';
import { pruneVersions } from './versions-prune.js';
import { VersionKeeper, type VersionRetention } from './versions.js';
import { nameRulesOf } from '../manifest/storable.js';

const log = createLogger('sync');

export interface SyncOptions {
  dryRun?: boolean;
  delete?: boolean;
  maxDelete?: MaxDelete;
  force?: boolean;
  /** Versions older or beyond this are pruned after a successful run (default: kept forever). */
  retention?: VersionRetention;
  /** The backup's hash cache: what the sync writes is recorded, so the next scan does not re-read it. */
  hashCache?: HashRecorder;
  /** The folder's verified hashes: what the sync lands is recorded as verified, as a check's matches are. */
  verified?: LandedRecorder;
  onProgress?: (progress: SyncProgress) => void;
}

/** Where a sync records the files it proved equal to the source's (check/verified-store.ts VerifiedHashes). */
export interface LandedRecorder {
  recordLanded(source: { path: string; hash?: string | undefined; size: number; mtime: number }): void;
  /**
   * A file or folder renamed on the backup: its records (and those under a folder) move with it. Settles
   * once they have: a later rename of something in the folder must find them there.
   */
  recordMoved(from: string, to: string): Promise<void> | void;
  flush(): Promise<void>;
}

/** What the check hands over while its session and lock are still held. */
export interface CheckedFolder {
  folder: FolderConfig;
  /** Open session with the source; the folder's manifest was sent in it. */
  session: PeerSession;
  diff: DiffResult;
}

export interface SyncOutcome {
  plan: SyncPlan;
  /** Absent for a dry run or a run stopped by a guard (`plan.stops`). */
  result?: ApplyResult;
  /** Paths (NFC, as in the check's differences) of the actions carried out. */
  donePaths?: ReadonlySet<string>;
  /** What the backup holds after the run (totals-after.ts); absent when nothing ran. */
  backupTotals?: SideTotals;
  dryRun: boolean;
  /** 0: the backup now matches (extras kept by choice aside); 1: some files were skipped or failed; 2: nothing or not everything could be done. */
  exitCode: 0 | 1 | 2;
}

/** The part of the agent state sync uses (AgentState.store): remembers the source's size per folder. */
export interface SyncStateStore {
  store<V>(folderId: string, namespace: string): { get(key: string): V | undefined; put(key: string, value: V): Promise<void> };
}

interface SyncMemory {
  sourceFiles: number;
  at: number;
}

const NAMESPACE = 'sync';

export async function syncCheckedFolder(checked: CheckedFolder, state: SyncStateStore, options: SyncOptions = {}): Promise<SyncOutcome> {
  const { folder, diff } = checked;
  const memory = state.store<SyncMemory>(folder.id, NAMESPACE);
  const last = memory.get('last');
  const dryRun = options.dryRun ?? false;
  const folding = await probeFolding(folder.path, { readOnly: dryRun });
  const plan = planSync(diff.differences, {
    delete: options.delete ?? false,
    ...(options.maxDelete === undefined ? {} : { maxDelete: options.maxDelete }),
    force: options.force ?? false,
    sourceFiles: diff.sourceTotals.files,
    backupFiles: diff.backupTotals.files,
    ...(last === undefined ? {} : { lastSourceFiles: last.sourceFiles }),
    folding,
    nameRules: nameRulesOf(),
  });
  if (dryRun) return { plan, dryRun, exitCode: plan.stops.length > 0 ? 2 : exitCodeOf(plan) };
  // A guard stops the run before anything changes; the plan says which (syncFolder turns it into the run's error).
  if (plan.stops.length > 0) return { plan, dryRun, exitCode: 2 };
  const keeper = new VersionKeeper(folder.path);
  const donePaths = new Set<string>();
  const after = new BackupTotalsAfter(diff.backupTotals, diff.differences);
  const result = await applyPlan(plan, {
    root: folder.path,
    source: new PeerFileSource(checked.session, folder.id),
    modes: diff.modesCompared,
    keeper,
    ...(options.hashCache === undefined ? {} : { hashCache: options.hashCache }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    onActionDone: async (action) => {
      donePaths.add('at' in action ? action.at.path : action.to.path);
      after.done(action);
      const moved = action.op === 'move' ? options.verified?.recordMoved(action.from.path, action.to.path) : undefined;
      const landed = landedFile(action);
      if (landed !== undefined) options.verified?.recordLanded(landed);
      // A folder's records move in one write: renames after it, of what was in it, read them where it put them.
      if (action.op === 'move' && action.entry?.type === 'dir') await moved;
    },
  });
  await options.verified?.flush();
  if (result.aborted === undefined) {
    await memory.put('last', { sourceFiles: diff.sourceTotals.files, at: Date.now() });
    if (options.retention !== undefined) {
      const pruned = await pruneVersions(folder.path, options.retention);
      if (pruned.length > 0) log.info(`pruned ${pruned.length} old versions of "${folder.id}"`);
    }
  }
  const exitCode = result.aborted !== undefined ? 2 : result.failed.length > 0 ? 1 : exitCodeOf(plan);
  return { plan, result, donePaths, dryRun, exitCode, backupTotals: after.current };
}

/** The source's file that an action left on the backup, byte for byte verified; undefined for anything else. */
function landedFile(action: SyncPlan['actions'][number]): { path: string; hash: string; size: number; mtime: number } | undefined {
  const at = action.op === 'move' ? action.to.path : action.at.path;
  const entry = action.entry;
  if (entry === undefined || entry.type !== 'file' || entry.hash === undefined) return undefined;
  if (action.op !== 'pull' && action.op !== 'move' && action.op !== 'metadata') return undefined;
  return { path: at, hash: entry.hash, size: entry.size, mtime: entry.mtime };
}

/** Skipped files other than extras kept on purpose leave the backup incomplete. */
function exitCodeOf(plan: SyncPlan): 0 | 1 {
  return plan.skipped.some((s) => s.reason !== 'extra-kept') ? 1 : 0;
}
