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
import { comparePaths } from '../manifest/order.js';
import { unstorableReason } from '../manifest/storable.js';
import { guards } from './plan-guards.js';
import { backupPathOf, unreadableDetail } from './plan-difference.js';
import { collisions, splitInside, targetOf } from './plan-targets.js';
import { chainMoves, emptiedFolders, emptiedInTheWay, followFolderMoves } from './plan-moves.js';
import {
  planTotals,
  type PlanDifference,
  type PlanEntry,
  type PlanOptions,
  type PlanPath,
  type SkippedItem,
  type SyncAction,
  type SyncPlan,
} from './plan-types.js';

const SUSPICIOUS_DETAIL =
  'content changed on the source but its size and modification time did not: possible corruption or tampering (use --force once you have checked the source file)';

function onDisk(path: string, entry: PlanEntry | undefined): PlanPath {
  return { path, disk: entry?.raw ?? path };
}

function depth(p: string): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 0x2f) n++;
  return n;
}

export function planSync(differences: Iterable<PlanDifference>, options: PlanOptions): SyncPlan {
  const moves: Array<SyncAction & { op: 'move' }> = [];
  const asides: Array<SyncAction & { op: 'set-aside' }> = [];
  const creates: SyncAction[] = [];
  const metadata: SyncAction[] = [];
  const deletes: Array<SyncAction & { op: 'delete' }> = [];
  const skipped: SkippedItem[] = [];
  /** Extra folders kept (no --delete): one the renames empty goes (plan-moves.ts emptiedFolders). */
  const extraFolders: Array<{ at: PlanPath; entry: PlanEntry }> = [];
  /** Backup folders where the source has a file or symlink: replaced by rmdir if the renames empty them (plan-moves.ts). */
  const inTheWay: Array<{ d: PlanDifference; create?: SyncAction }> = [];
  /** Where the check found each backup entry it lists (the backup side of a difference). */
  const onBackup: PlanPath[] = [];
  let changedOnSource = 0;
  let removedOnSource = 0;

  const rules = options.nameRules ?? 'posix';
  /** A name this backup cannot hold is skipped with the reason, never attempted (no failed write, no partial left). */
  const unstorable = (path: string, disk: string, said?: string): boolean => {
    const problem = said ?? unstorableReason(disk, rules);
    if (problem === undefined) return false;
    skipped.push({ path, reason: 'unstorable', detail: `${problem}; rename it on the source` });
    return true;
  };

  const create = (d: PlanDifference, reason: 'missing' | 'content' | 'type'): void => {
    const src = d.source!;
    const at = onDisk(d.path, src);
    if (unstorable(d.path, at.disk, d.unstorable)) return;
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

  const pairs: Array<[string, string]> = [];
  /** Source names the backup does not have (as spelt on disk): of a colliding pair, one it has stays. */
  const notOnBackup = new Set<string>();
  for (const d of differences) {
    if (d.category === 'name-clash' && d.clash === 'within' && d.side !== 'backup' && d.otherPath !== undefined)
      pairs.push([d.path, d.otherPath]);
    if ((d.category === 'missing' || d.category === 'moved') && d.source) notOnBackup.add(onDisk(d.path, d.source).disk);
    const found = backupPathOf(d);
    if (found !== undefined) onBackup.push(onDisk(found, d.backup));
    switch (d.category) {
      case 'missing':
        if (!d.source) break;
        // A file of a folder the source renamed, changed on the way with its size and mtime kept (diff/verdict.ts).
        if (d.changedOn === 'source-suspicious' && !options.force) {
          skipped.push({ path: d.path, reason: 'suspicious', detail: SUSPICIOUS_DETAIL });
          break;
        }
        create(d, 'missing');
        break;
      case 'content':
        if (!d.source || !d.backup) break;
        if (d.changedOn === 'source' || d.changedOn === 'source-suspicious' || d.changedOn === 'both') changedOnSource++;
        if (d.changedOn === 'source-suspicious' && !options.force) {
          skipped.push({
            path: d.path,
            reason: 'suspicious',
            detail: SUSPICIOUS_DETAIL,
          });
          break;
        }
        create(d, 'content');
        break;
      case 'type':
        if (!d.source || !d.backup) break;
        if (d.backup.type === 'dir') {
          // Decided once the renames are known: one that empties the folder lets it go without --delete.
          const before = creates.length;
          create(d, 'type');
          inTheWay.push({ d, ...(creates.length > before ? { create: creates[creates.length - 1] } : {}) });
          break;
        }
        create(d, 'type');
        break;
      case 'moved': {
        const backup = d.backup;
        if (unstorable(d.path, onDisk(d.path, d.source).disk, d.unstorable)) break;
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
        // synker's own folder on this backup is in the way (check/unstorable.ts markOwnDirs): neither renamed nor set aside.
        if (d.unstorable !== undefined && d.source !== undefined) {
          skipped.push({ path: d.path, reason: 'unstorable', detail: d.unstorable });
          break;
        }
        if ((d.clash === 'case' || d.clash === 'normalization') && d.otherPath !== undefined && d.source && d.backup) {
          // The backup holds the file under a name that differs only in case or normalisation.
          // A folder renamed only in case is one record: rename it, what differs inside is listed separately.
          const sameContent =
            d.source.type === d.backup.type &&
            (d.source.type === 'dir' || (d.source.hash !== undefined && d.source.hash === d.backup.hash));
          if (d.clash === 'normalization' && (options.folding?.normalization ?? false)) break; // one name there
          if (sameContent) {
            moves.push({
              op: 'move',
              from: onDisk(d.otherPath, d.backup),
              to: onDisk(d.path, d.source),
              fileCount: 1,
              bytes: d.source.size,
              entry: d.source,
            });
          } else if (d.changedOn === 'source-suspicious' && !options.force) {
            // Renamed in case and changed with size and mtime kept: the backup's copy under the old name stays.
            skipped.push({ path: d.path, reason: 'suspicious', detail: SUSPICIOUS_DETAIL });
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
          if (d.backup.type === 'dir') extraFolders.push({ at: onDisk(d.path, d.backup), entry: d.backup });
          else
            skipped.push({
              path: d.path,
              reason: 'extra-kept',
              detail: 'not on the source; kept (use --delete to move it to the versions folder)',
            });
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
        skipped.push({
          path: d.path,
          reason: 'unstable',
          detail: `kept changing while the ${d.side ?? 'source'} was scanned; sync again once it is still`,
        });
        break;
    }
  }

  // Of two source names the backup may take for one, the one it holds already stays; else the first.
  const kept = pairs.map(([first, second]) => (notOnBackup.has(first) && !notOnBackup.has(second) ? second : first));
  const collided = collisions(moves, creates, options.folding, kept);
  // A folder not created (its name collides, or the backup cannot hold it): nothing inside it is
  // either, or it would land inside the other spelling, or fail. (Extras kept are files: nothing is inside them.)
  const skippedFolders = new Map(skipped.filter((s) => s.reason !== 'extra-kept').map((s) => [s.path, s.reason]));
  const keep = (a: SyncAction): boolean => {
    const p = targetOf(a);
    if (p === undefined) return true;
    if (collided.has(p.path)) {
      skippedFolders.set(p.path, 'collision');
      skipped.push({
        path: p.path,
        reason: 'collision',
        detail: `collides with ${collided.get(p.path)} on the backup's file system (names there ignore ${options.folding?.case ? 'case' : 'Unicode normalisation'}); neither overwrites the other`,
      });
      return false;
    }
    for (let slash = p.path.lastIndexOf('/'); slash > 0; slash = p.path.lastIndexOf('/', slash - 1)) {
      const reason = skippedFolders.get(p.path.slice(0, slash));
      if (reason === undefined) continue;
      skipped.push({ path: p.path, reason, detail: `inside ${p.path.slice(0, slash)}, which is not synced either` });
      return false;
    }
    return true;
  };

  // The renames that run, in an order where each finds what the ones before it left (plan-moves.ts).
  const chain = chainMoves(moves.filter(keep), options.folding);
  followFolderMoves(
    chain,
    deletes,
    asides,
    skipped,
    creates.map((c) => targetOf(c)!.path),
  );
  const targets = [...chain.moves, ...creates].map((a) => targetOf(a)!.path);
  const emptied = emptiedFolders(chain, extraFolders, targets, options.folding);
  deletes.push(...emptied);
  if (inTheWay.length > 0) {
    const replaceable = emptiedInTheWay(
      chain,
      inTheWay.map(({ d }) => onDisk(d.path, d.backup)),
      onBackup,
      emptied.map((e) => e.at.path),
      options.folding,
    );
    for (const { d, create: c } of inTheWay) {
      if (replaceable.has(d.path)) {
        if (c !== undefined && (c.op === 'pull' || c.op === 'symlink')) c.emptied = true;
      } else if (!options.delete && c !== undefined) {
        // (A create already declined said why: unstorable, unhashed.)
        creates.splice(creates.indexOf(c), 1);
        skipped.push({
          path: d.path,
          reason: 'folder-in-the-way',
          detail: `the backup has a folder where the source has a ${d.source!.type}; use --delete to replace it (the folder is kept in versions)`,
        });
      }
    }
  }

  const written = creates.filter(keep).sort((a, b) => comparePaths(targetOf(a)!.path, targetOf(b)!.path));
  // A folder a file or link replaces (--delete) goes to versions whole, with the extras in it: not deleted one by one after.
  const replaced = inTheWay.flatMap(({ d, create: c }) =>
    c !== undefined && written.includes(c) && !('emptied' in c && c.emptied) ? [d.path] : [],
  );
  const carried = splitInside(deletes, replaced);
  // Deepest first so a folder is emptied before it is removed.
  deletes.sort((a, b) => depth(b.at.path) - depth(a.at.path) || comparePaths(a.at.path, b.at.path));
  const actions: SyncAction[] = [...chain.moves, ...asides, ...written, ...metadata, ...deletes];
  const totals = planTotals(actions);
  // The files carried away with a replaced folder are removed all the same: --max-delete counts them.
  const removing = totals.deletes + planTotals(carried).deletes;
  return { actions, skipped, stops: guards(options, removing, changedOnSource, removedOnSource), totals };
}
