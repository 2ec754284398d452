/**
 * Planning a restore: the source side pulls from a backup. Without paths it
 * brings back everything missing on the source and every file damaged there
 * (content changed with size and mtime kept, judged against the hash last
 * verified, or unreadable); a source file that still holds its last verified
 * hash is never replaced by a backup copy that changed since, unless named
 * (`changed-on-backup`; --force does not name it); with paths it
 * brings back those files and folders. A source file newer than the backup's copy is never
 * overwritten without `--force`. What is replaced goes to the source's
 * versions folder. With `--to DIR`, the backup's files are written under DIR
 * (but for those already there) and nothing on the source is touched.
 */
import type { OwnDirKeys } from '../dirs/own-dirs.js';
import { comparePaths } from '../manifest/order.js';
import { type NameRules, unstorableReason } from '../manifest/storable.js';
import { planTotals, type PlanDifference, type PlanEntry, type SkippedItem, type SyncAction, type SyncPlan } from './plan-types.js';
import type { AlreadyThere } from './restore-target.js';

export interface RestoreOptions {
  /** Files or folders to restore (source paths); empty: everything missing or damaged. */
  paths?: string[];
  /** Overwrite source files that are newer than the backup's copy. */
  force?: boolean;
  /** Which names the file system restored onto can hold (manifest/storable.ts); default POSIX's. */
  nameRules?: NameRules;
  /** This machine's own synker folders inside the folder restored into (dirs/own-dirs.ts): never written, moved or replaced. */
  own?: OwnDirKeys;
}

const OWN_DETAIL =
  "synker's own folder on this machine is in there, which restore never moves or replaces; restore it with --to DIR elsewhere if you need the copy";

/**
 * Notes a backup entry at one of this machine's own synker folders in `leftAlone`: one path per
 * folder (entries come parents first), never one per file in it.
 */
function leaveAlone(leftAlone: LeftAlone, p: string, type: string): void {
  const last = leftAlone.paths[leftAlone.paths.length - 1];
  if (last !== undefined && isAtOrUnder(p, last)) return;
  leftAlone.paths.push(p);
  if (type !== 'dir') leftAlone.files.push(p);
}

/** What a restore leaves alone: the paths, and those of them that are not folders (shown without a trailing slash). */
interface LeftAlone {
  paths: string[];
  files: string[];
}

/** Whether restoring `d` would write into, move or replace one of this machine's own synker folders. */
function intoOwnDirs(d: PlanDifference, own: OwnDirKeys | undefined): boolean {
  if (own === undefined || own.size === 0) return false;
  if (own.holds(d.path) || (d.newPath !== undefined && own.holds(d.newPath))) return true;
  // A file of the backup's where this machine has a folder holding its own: restoring it would set that folder aside.
  return d.category === 'type' && d.source?.type === 'dir' && own.touches(d.path);
}

/** `p` is the requested path `w` or lies under it. */
export function isAtOrUnder(p: string, w: string): boolean {
  return p === w || p.startsWith(`${w}/`);
}

function matches(paths: string[], p: string): boolean {
  return paths.length === 0 || paths.some((w) => isAtOrUnder(p, w));
}

export function normalizePaths(paths: string[] | undefined): string[] {
  return (paths ?? []).map((p) => p.replace(/^\.\/+/, '').replace(/\/+$/, '')).filter((p) => p !== '' && p !== '.');
}

/** Actions that recreate `entry` (the backup's) at `path`. */
function recreate(
  path: string,
  entry: PlanEntry,
  reason: 'missing' | 'content' | 'type',
  skipped: SkippedItem[],
  rules: NameRules,
  replaces?: PlanEntry,
): SyncAction | undefined {
  const at = { path, disk: entry.raw ?? path };
  const problem = unstorableReason(at.disk, rules);
  if (problem !== undefined) {
    skipped.push({
      path,
      reason: 'unstorable',
      detail: `${problem}; rename it on the backup, or restore it with --to onto a disk that can hold it`,
    });
    return undefined;
  }
  const rep = replaces ? { replaces } : {};
  if (entry.type === 'dir') return { op: 'mkdir', at, entry, ...rep };
  if (entry.type === 'symlink' && entry.target !== undefined)
    return { op: 'symlink', at, entry: { ...entry, target: entry.target }, reason, ...rep };
  if (entry.type === 'file') {
    if (entry.hash === undefined) {
      skipped.push({ path, reason: 'no-hash', detail: 'the backup did not hash this file, so a copy could not be verified' });
      return undefined;
    }
    return { op: 'pull', at, entry: { ...entry, hash: entry.hash }, reason, ...rep };
  }
  return undefined;
}

/** Restore into place, from the check's differences (source = this side, backup = the peer). */
export function planRestore(differences: Iterable<PlanDifference>, options: RestoreOptions = {}): SyncPlan {
  const rules = options.nameRules ?? 'posix';
  const paths = normalizePaths(options.paths);
  const explicit = paths.length > 0;
  const actions: SyncAction[] = [];
  const skipped: SkippedItem[] = [];
  const leftAlone: LeftAlone = { paths: [], files: [] };
  for (const d of differences) {
    if (intoOwnDirs(d, options.own)) {
      if (d.backup === undefined || !matches(paths, d.newPath ?? d.path)) continue;
      // The backup's copy of this machine's synker folder: left alone, one line. A file of the backup's where a folder here holds them: skipped.
      if (options.own?.holds(d.path) === true) leaveAlone(leftAlone, d.path, d.backup.type);
      else skipped.push({ path: d.path, reason: 'unstorable', detail: OWN_DETAIL });
      continue;
    }
    if (explicit && d.category === 'moved' && d.newPath !== undefined && d.backup && matches(paths, d.newPath)) {
      // Renamed here since the backup was made: a named old path comes back from the backup's copy.
      if (d.backup.type === 'dir') {
        skipped.push({
          path: d.newPath,
          reason: 'differs',
          detail: `this folder is here as ${d.path} (renamed); restore it with --to DIR to get the backup's copy elsewhere`,
        });
        continue;
      }
      const a = recreate(d.newPath, d.backup, 'missing', skipped, rules);
      if (a) actions.push(a);
      continue;
    }
    if (!matches(paths, d.path)) continue;
    if (d.category === 'extra' && d.backup) {
      // Gone here, and the backup's copy is not what was verified (verdict `both`): damaged there?
      if (d.changedOn === 'both' && !explicit && !options.force) {
        skipped.push({
          path: d.path,
          reason: 'changed-on-backup',
          detail:
            "missing here, and the backup's copy changed since it was last verified (damaged there?); not restored unnamed (name it or use --force to restore it anyway)",
        });
        continue;
      }
      const a = recreate(d.path, d.backup, 'missing', skipped, rules);
      if (a) actions.push(a);
    } else if (d.category === 'unreadable' && d.side === 'source' && d.backup) {
      // Damaged on the source: it cannot be read there, the backup has a readable copy.
      if (d.backup.type === 'dir') {
        skipped.push({
          path: d.path,
          reason: 'unreadable',
          detail: 'this folder cannot be read on the source; fix its permissions (chmod), then restore again for what is missing inside',
        });
        continue;
      }
      if (d.source && d.source.mtime > d.backup.mtime && !options.force) {
        skipped.push({
          path: d.path,
          reason: 'newer-on-source',
          detail: "unreadable here but newer than the backup's copy; not overwritten (use --force, or --to DIR to restore it elsewhere)",
        });
        continue;
      }
      const a = recreate(d.path, d.backup, 'content', skipped, rules, d.source);
      if (a) actions.push(a);
    } else if ((d.category === 'content' || d.category === 'type') && d.source && d.backup) {
      const damaged = d.changedOn === 'source-suspicious';
      if (d.changedOn === 'backup' && !explicit) {
        // The source file still holds the last verified hash: the backup's copy is the one that changed.
        // Unnamed, it is never restored, --force or not (--force lets a named file replace a newer one).
        skipped.push({
          path: d.path,
          reason: 'changed-on-backup',
          detail:
            "the backup's copy changed since it was last verified (damaged there?) while this file still matches; kept (a sync repairs the backup; name it, with --force if it is newer here, to restore the backup's copy anyway)",
        });
        continue;
      }
      if (!damaged && !explicit) {
        // Which copy is right is not known here (an edit on the source, or damage on either side).
        skipped.push({
          path: d.path,
          reason: 'differs',
          detail: "differs from the backup's copy; name it to restore it (a newer source file still needs --force)",
        });
        continue;
      }
      if (d.source.mtime > d.backup.mtime && !options.force) {
        skipped.push({
          path: d.path,
          reason: 'newer-on-source',
          detail: "the source file is newer than the backup's copy; not overwritten (use --force, or --to DIR to restore it elsewhere)",
        });
        continue;
      }
      if (d.source.type === 'dir' && d.backup.type !== 'dir') {
        skipped.push({
          path: d.path,
          reason: 'folder-in-the-way',
          detail: 'the source has a folder where the backup has a file; move it away first',
        });
        continue;
      }
      const a = recreate(d.path, d.backup, d.category, skipped, rules, d.source);
      if (a) actions.push(a);
    }
  }
  return finish(actions, skipped, leftAlone);
}

/**
 * Restore under another folder: every backup entry under the requested paths,
 * except what the folder already holds with the backup's content
 * (restore-target.ts): those only get their time and mode set, if need be.
 */
export function planRestoreInto(
  backupEntries: Iterable<PlanEntry & { path: string }>,
  options: RestoreOptions = {},
  already: ReadonlyMap<string, AlreadyThere> = new Map(),
): SyncPlan {
  const rules = options.nameRules ?? 'posix';
  const paths = normalizePaths(options.paths);
  const actions: SyncAction[] = [];
  const skipped: SkippedItem[] = [];
  const leftAlone: LeftAlone = { paths: [], files: [] };
  for (const e of backupEntries) {
    if (!matches(paths, e.path)) continue;
    if (options.own?.holds(e.path) === true) {
      leaveAlone(leftAlone, e.path, e.type);
      continue;
    }
    const there = already.get(e.path);
    if (there === 'same') continue;
    if (there === 'same-content') {
      actions.push({ op: 'metadata', at: { path: e.path, disk: e.raw ?? e.path }, entry: e });
      continue;
    }
    const a = recreate(e.path, e, 'missing', skipped, rules);
    if (a) actions.push(a);
  }
  return finish(actions, skipped, leftAlone);
}

function finish(actions: SyncAction[], skipped: SkippedItem[], leftAlone: LeftAlone): SyncPlan {
  const key = (a: SyncAction) => ('at' in a ? a.at.path : a.to.path);
  actions.sort((a, b) => comparePaths(key(a), key(b)));
  return {
    actions,
    skipped,
    stops: [],
    totals: planTotals(actions),
    ...(leftAlone.paths.length > 0 ? { leftAlone: leftAlone.paths, leftAloneFiles: leftAlone.files } : {}),
  };
}
