/**
 * The sync planner: turns the check's differences into the actions that make
 * the backup match the source, and decides what must not be done. Pure: no
 * file system access, so `--dry-run` shows exactly what a run would do.
 *
 * Rules (docs/sync.md):
 * - missing files and content that differs are pulled; the backup's old copy
 *   goes to the versions folder first;
 * - moves and case-only renames are local renames, never re-transferred;
 * - extras stay unless `--delete` (then they go to versions), limited by
 *   `--max-delete`;
 * - a *suspicious* source change (content changed, size and mtime kept) is
 *   not pulled without `--force`;
 * - a mass change on the source (ransomware-like) or a source listing far
 *   fewer files than last time stops the whole run before anything changes;
 * - two names that are one on the backup's file system are reported and
 *   neither overwrites the other.
 */
import type { EntryFacts } from '../diff/types.js';
import { comparePaths } from '../manifest/order.js';
import type { FoldingInfo } from './folding.js';
import { foldKey } from './folding.js';

/** What the planner reads of one side's entry (the check's EntryFacts, less the error fields). */
export type PlanEntry = Omit<EntryFacts, 'errorCode' | 'error'>;

/** What the planner reads of one difference (the check's Difference, src/diff/types.ts). */
export interface PlanDifference {
  category: 'missing' | 'extra' | 'content' | 'type' | 'moved' | 'name-clash' | 'unreadable' | 'unstable' | 'metadata';
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
  | { op: 'move'; from: PlanPath; to: PlanPath; fileCount: number; bytes: number; entry?: PlanEntry }
  | { op: 'mkdir'; at: PlanPath; entry: PlanEntry; replaces?: PlanEntry }
  | { op: 'pull'; at: PlanPath; entry: PlanEntry & { hash: string }; reason: 'missing' | 'content' | 'type'; replaces?: PlanEntry }
  | { op: 'symlink'; at: PlanPath; entry: PlanEntry & { target: string }; reason: 'missing' | 'content' | 'type'; replaces?: PlanEntry }
  | { op: 'metadata'; at: PlanPath; entry: PlanEntry }
  | { op: 'delete'; at: PlanPath; entry: PlanEntry }
  /** Moves a backup file whose name differs only in case from the source's aside (into versions) before the pull. */
  | { op: 'set-aside'; at: PlanPath; entry: PlanEntry };

export type SkipReason = 'suspicious' | 'newer-on-source' | 'differs' | 'extra-kept' | 'unreadable' | 'unstable' | 'no-hash' | 'folder-in-the-way' | 'collision';

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
  stops: GuardStop[];
  totals: PlanTotals;
}

export interface PlanTotals {
  pullFiles: number;
  pullBytes: number;
  moves: number;
  mkdirs: number;
  symlinks: number;
  metadata: number;
  /** Files and links to delete (folders are not counted). */
  deletes: number;
  deleteBytes: number;
}

/** What a plan's actions add up to: one count for sync and restore plans alike. */
export function planTotals(actions: readonly SyncAction[]): PlanTotals {
  const totals: PlanTotals = { pullFiles: 0, pullBytes: 0, moves: 0, mkdirs: 0, symlinks: 0, metadata: 0, deletes: 0, deleteBytes: 0 };
  for (const a of actions) {
    if (a.op === 'pull') {
      totals.pullFiles++;
      totals.pullBytes += a.entry.size;
    } else if (a.op === 'move') totals.moves++;
    else if (a.op === 'mkdir') totals.mkdirs++;
    else if (a.op === 'symlink') totals.symlinks++;
    else if (a.op === 'metadata') totals.metadata++;
    else if (a.op === 'delete' && a.entry.type !== 'dir') {
      totals.deletes++;
      totals.deleteBytes += a.entry.size;
    }
  }
  return totals;
}

const DEFAULT_DELETE_PERCENT = 10;
const DEFAULT_DELETE_FLOOR = 10;

function onDisk(path: string, entry: PlanEntry | undefined): PlanPath {
  return { path, disk: entry?.raw ?? path };
}

function depth(p: string): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 0x2f) n++;
  return n;
}

export function planSync(differences: Iterable<PlanDifference>, options: PlanOptions): SyncPlan {
  const moves: SyncAction[] = [];
  const asides: SyncAction[] = [];
  const creates: SyncAction[] = [];
  const metadata: SyncAction[] = [];
  const deletes: Array<SyncAction & { op: 'delete' }> = [];
  const skipped: SkippedItem[] = [];
  let changedOnSource = 0;
  let removedOnSource = 0;

  const create = (d: PlanDifference, reason: 'missing' | 'content' | 'type'): void => {
    const src = d.source!;
    const at = onDisk(d.path, src);
    const replaces = reason === 'missing' ? undefined : d.backup;
    if (src.type === 'file') {
      if (src.hash === undefined) {
        skipped.push({ path: d.path, reason: 'no-hash', detail: 'the source did not hash this file, so its copy could not be verified' });
        return;
      }
      creates.push({ op: 'pull', at, entry: { ...src, hash: src.hash }, reason, ...(replaces ? { replaces } : {}) });
    } else if (src.type === 'dir') {
      creates.push({ op: 'mkdir', at, entry: src, ...(replaces ? { replaces } : {}) });
    } else if (src.type === 'symlink' && src.target !== undefined) {
      creates.push({ op: 'symlink', at, entry: { ...src, target: src.target }, reason, ...(replaces ? { replaces } : {}) });
    }
  };

  for (const d of differences) {
    switch (d.category) {
      case 'missing':
        if (d.source) create(d, 'missing');
        break;
      case 'content':
        if (!d.source || !d.backup) break;
        if (d.changedOn === 'source' || d.changedOn === 'source-suspicious' || d.changedOn === 'both') changedOnSource++;
        if (d.changedOn === 'source-suspicious' && !options.force) {
          skipped.push({
            path: d.path,
            reason: 'suspicious',
            detail: 'content changed on the source but its size and modification time did not: possible corruption or tampering (use --force once you have checked the source file)',
          });
          break;
        }
        create(d, 'content');
        break;
      case 'type':
        if (!d.source || !d.backup) break;
        if (d.backup.type === 'dir' && !options.delete) {
          skipped.push({ path: d.path, reason: 'folder-in-the-way', detail: `the backup has a folder where the source has a ${d.source.type}; use --delete to replace it (the folder is kept in versions)` });
          break;
        }
        create(d, 'type');
        break;
      case 'moved': {
        const backup = d.backup;
        moves.push({
          op: 'move',
          from: onDisk(d.newPath!, backup),
          to: onDisk(d.path, d.source),
          fileCount: d.fileCount ?? 1,
          bytes: d.source?.size ?? backup?.size ?? 0,
          ...(d.source ? { entry: d.source } : {}),
        });
        break;
      }
      case 'name-clash':
        if ((d.clash === 'case' || d.clash === 'normalization') && d.otherPath !== undefined && d.source && d.backup) {
          // The backup holds the file under a name that differs only in case or normalisation.
          // A folder renamed only in case is one record: rename it, what differs inside is listed separately.
          const sameContent = d.source.type === d.backup.type && (d.source.type === 'dir' || (d.source.hash !== undefined && d.source.hash === d.backup.hash));
          if (d.clash === 'normalization' && (options.folding?.normalization ?? false)) break; // one name there
          if (sameContent) {
            moves.push({ op: 'move', from: onDisk(d.otherPath, d.backup), to: onDisk(d.path, d.source), fileCount: 1, bytes: d.source.size, entry: d.source });
          } else {
            asides.push({ op: 'set-aside', at: onDisk(d.otherPath, d.backup), entry: d.backup });
            create({ ...d, category: 'missing' }, 'missing');
          }
        }
        break;
      case 'extra':
        if (!d.backup) break;
        if (d.changedOn === 'source') removedOnSource++;
        if (!options.delete) {
          if (d.backup.type !== 'dir') skipped.push({ path: d.path, reason: 'extra-kept', detail: 'not on the source; kept (use --delete to move it to the versions folder)' });
          break;
        }
        deletes.push({ op: 'delete', at: onDisk(d.path, d.backup), entry: d.backup });
        break;
      case 'metadata':
        if (d.source && d.backup) metadata.push({ op: 'metadata', at: onDisk(d.path, d.backup), entry: d.source });
        break;
      case 'unreadable':
        skipped.push({ path: d.path, reason: 'unreadable', detail: unreadableDetail(d) });
        break;
      case 'unstable':
        skipped.push({ path: d.path, reason: 'unstable', detail: `kept changing while the ${d.side ?? 'source'} was scanned; sync again once it is still` });
        break;
    }
  }

  // A folder move renames the whole folder: what was left over in it (extras) is then under the new name.
  for (const m of moves) {
    if (m.op !== 'move' || m.entry?.type !== 'dir') continue;
    const from = `${m.from.path}/`;
    for (const del of deletes) {
      if (del.at.path.startsWith(from)) {
        const rest = del.at.path.slice(from.length);
        del.at = { path: `${m.to.path}/${rest}`, disk: `${m.to.disk}/${del.at.disk.slice(m.from.disk.length + 1)}` };
      }
    }
  }
  const collided = collisions(moves, creates, options.folding);
  const keep = (a: SyncAction): boolean => {
    const p = targetOf(a);
    if (p === undefined || !collided.has(p.path)) return true;
    skipped.push({ path: p.path, reason: 'collision', detail: `collides with ${collided.get(p.path)} on the backup's file system (names there ignore ${options.folding?.case ? 'case' : 'Unicode normalisation'}); neither overwrites the other` });
    return false;
  };

  // Deepest first so a folder is emptied before it is removed.
  deletes.sort((a, b) => depth(b.at.path) - depth(a.at.path) || comparePaths(a.at.path, b.at.path));
  const actions: SyncAction[] = [
    ...moves.filter(keep),
    ...asides,
    ...creates.filter(keep).sort((a, b) => comparePaths(targetOf(a)!.path, targetOf(b)!.path)),
    ...metadata,
    ...deletes,
  ];
  const totals = planTotals(actions);
  return { actions, skipped, stops: guards(options, totals.deletes, changedOnSource, removedOnSource), totals };
}

function targetOf(a: SyncAction): PlanPath | undefined {
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

/** New names that fold to the same name on the backup's file system: the first (manifest order) wins. */
function collisions(moves: SyncAction[], creates: SyncAction[], folding: FoldingInfo | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!folding || (!folding.case && !folding.normalization)) return out;
  const targets = [...moves, ...creates]
    .map((a) => targetOf(a)!)
    .sort((a, b) => comparePaths(a.path, b.path));
  const firstByKey = new Map<string, PlanPath>();
  for (const t of targets) {
    const key = foldKey(t.disk, folding);
    const first = firstByKey.get(key);
    if (first === undefined) firstByKey.set(key, t);
    else if (first.disk !== t.disk) out.set(t.path, first.path);
  }
  return out;
}

function guards(options: PlanOptions, deletions: number, changedOnSource: number, removedOnSource: number): GuardStop[] {
  const stops: GuardStop[] = [];
  if (!options.force) {
    const share = options.massChangeShare ?? 0.25;
    const minFiles = options.massChangeMinFiles ?? 20;
    const changed = changedOnSource + removedOnSource;
    const base = Math.max(options.sourceFiles + removedOnSource, 1);
    if (changed >= minFiles && changed / base >= share) {
      stops.push({
        guard: 'mass-change',
        message: `${changed} of ${base} files changed or disappeared on the source since the last verified sync (${percent(changed / base)}): this looks like ransomware or a failing disk, so nothing was synced`,
        hint: 'inspect the source before anything else; if the change is intended, run `synker sync --force`',
      });
    }
    const last = options.lastSourceFiles;
    if (last !== undefined && last >= 20 && options.sourceFiles < last / 2) {
      stops.push({
        guard: 'source-shrank',
        message: `the source lists ${options.sourceFiles} files where it listed ${last} at the last sync: part of it may be unmounted or lost, so nothing was synced`,
        hint: 'check the source folder; if the files were removed on purpose, run `synker sync --force`',
      });
    }
  }
  if (options.delete) {
    const limit = deleteLimit(options.maxDelete, options.backupFiles);
    if (deletions > limit) {
      stops.push({
        guard: 'max-delete',
        message: `this sync would remove ${deletions} files from the backup, more than the limit of ${limit}${options.maxDelete ? '' : ` (${DEFAULT_DELETE_PERCENT}% of its files, at least ${DEFAULT_DELETE_FLOOR})`}; nothing was synced`,
        hint: `check the source; if the deletions are intended, raise the limit, e.g. --max-delete ${deletions}`,
      });
    }
  }
  return stops;
}

/** The largest number of files `--delete` may remove in one run. */
export function deleteLimit(maxDelete: MaxDelete | undefined, backupFiles: number): number {
  if (maxDelete === undefined) return Math.max(Math.floor((backupFiles * DEFAULT_DELETE_PERCENT) / 100), DEFAULT_DELETE_FLOOR);
  if ('count' in maxDelete) return maxDelete.count;
  return Math.floor((backupFiles * maxDelete.percent) / 100);
}

/** Parses `--max-delete` values: `250` or `5%`. */
export function parseMaxDelete(text: string): MaxDelete | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (m[2] === '%') return n <= 100 ? { percent: n } : undefined;
  return Number.isInteger(n) ? { count: n } : undefined;
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** Why an unreadable entry was left alone, and the fix that fits its error. */
function unreadableDetail(d: PlanDifference): string {
  const side = d.side ?? 'source';
  const code = (side === 'backup' ? d.backup : d.source)?.errorCode ?? (side === 'both' ? d.source?.errorCode : undefined);
  if (code === 'INVALID_NAME') {
    return `its name on the ${side} cannot be sent between machines (not valid UTF-8, or a backslash); rename it there (convmv can fix old non-UTF-8 names), then sync again`;
  }
  if (code === 'EACCES' || code === 'EPERM') return `unreadable on the ${side} (permission denied); fix its permissions and sync again`;
  return `unreadable on the ${side}${code === undefined ? '' : ` (${code})`}; see the check report for why, fix it there and sync again`;
}
