/**
 * The plan's renames run one after another, and each one changes where the
 * backup's entries are: a folder renamed takes everything in it along. So a
 * file renamed inside a folder that is renamed too (`Docs/Report.txt` ->
 * `Papers/Notes.txt`, or `Docs` -> `docs` and `Report.txt` -> `report.txt`
 * in case only) is renamed from where the folder's rename left it, and a
 * rename into a folder that is itself renamed waits for that folder.
 *
 * chainMoves orders the renames and gives each one the place it runs from;
 * followFolderMoves does the same for what was left over in a renamed folder
 * (extras, and what is set aside). Pure: paths only, no file system.
 */
import type { FoldingInfo } from './folding.js';
import { foldName } from '../manifest/storable.js';
import type { PlanEntry, PlanPath, SkippedItem, SyncAction } from './plan-types.js';

type Move = Extract<SyncAction, { op: 'move' }>;

/** A path as the backup's file system compares it (`folding`): the path itself where names are compared as written. */
function pathKey(folding: FoldingInfo | undefined): (p: string) => string {
  return folding !== undefined && (folding.case || folding.normalization) ? (p) => foldName(p, folding) : (p) => p;
}

export interface MoveChain {
  /** The renames in the order they run, each `from` where the renames before it leave the entry. */
  moves: Move[];
  /** Where an entry the check found at `p` on the backup is once every rename has run. */
  after(p: PlanPath): PlanPath;
}

/** `p` and the folders above it, deepest first (paths are `/`-separated, relative). */
function* selfAndAncestors(p: string): Generator<string> {
  yield p;
  for (let slash = p.lastIndexOf('/'); slash > 0; slash = p.lastIndexOf('/', slash - 1)) yield p.slice(0, slash);
}

/** `inner` with its leading `outer` (one of its ancestors, or itself) replaced by `to`. */
function rebase(inner: PlanPath, outer: PlanPath, to: PlanPath): PlanPath {
  return { path: to.path + inner.path.slice(outer.path.length), disk: to.disk + inner.disk.slice(outer.disk.length) };
}

/**
 * Orders `moves` (the check's order, except where one must wait for another)
 * so that:
 * - a rename into a folder that is itself a rename's target runs after it
 *   (the folder is there, not made anew and then in the way);
 * - a rename whose target lies in an entry that another rename takes away
 *   runs after that one (or it would be carried off with it);
 * and gives each its `from` where the renames before it leave the entry
 * (`foundAt` keeps where the check found it). Names are compared as the
 * backup's file system compares them (`folding`): on a disk that ignores
 * case, `docs` is `Docs`. A cycle (which the check's pairing does not make)
 * keeps the check's order.
 */
export function chainMoves(input: readonly Move[], folding?: FoldingInfo): MoveChain {
  const key = pathKey(folding);
  // Renames by their index in `input`: each one's origin and target as keys, and the indexes by them.
  const fromKey = input.map((m) => key(m.from.path));
  const toKey = input.map((m) => key(m.to.path));
  const byOrigin = new Map(fromKey.map((k, i) => [k, i]));
  const byTarget = new Map(toKey.map((k, i) => [k, i]));
  /** 0: not started, 1: running (waiting for others), 2: done. */
  const state = new Uint8Array(input.length);
  /** Renames done, by the backup path the check found them at and by their target; `seq` says which came last. */
  const doneFrom = new Map<string, { move: Move; seq: number }>();
  const doneTo = new Map<string, { i: number; seq: number }>();
  const out: Move[] = [];

  /** Where the entry the check found at `p` is now: below the deepest rename done of it or a folder it was in. */
  const current = (p: PlanPath): PlanPath => {
    if (doneFrom.size === 0) return p;
    for (const q of selfAndAncestors(key(p.path))) {
      const done = doneFrom.get(q);
      if (done !== undefined) return rebase(p, done.move.from, done.move.to);
    }
    return p;
  };
  /** A rename not started yet, other than `i`, that `i` must wait for. */
  const waiting = (other: number | undefined, i: number): number | undefined =>
    other !== undefined && other !== i && state[other] === 0 ? other : undefined;
  /**
   * A rename `i` must wait for, if any: one whose target is a folder `i`'s target is in, or one that
   * takes away what is now at that folder (or at the target itself). Walks the target's folders from
   * the top, keeping the check's backup path of what is there now (undefined: taken away, nothing
   * came in its place).
   */
  const blocker = (i: number): number | undefined => {
    const target = toKey[i]!;
    let origin: string | undefined = '';
    let at = 0;
    for (let end = target.indexOf('/'); ; end = target.indexOf('/', end + 1)) {
      const q = end < 0 ? target : target.slice(0, end);
      const came = doneTo.get(q);
      const went = doneFrom.get(q);
      if (came !== undefined && (went === undefined || came.seq > went.seq)) [origin, at] = [fromKey[came.i]!, q.length];
      else if (went !== undefined) origin = undefined;
      const there = origin === undefined ? undefined : at === 0 ? q : origin + q.slice(at);
      const first =
        (end < 0 ? undefined : waiting(byTarget.get(q), i)) ?? waiting(there === undefined ? undefined : byOrigin.get(there), i);
      if (first !== undefined || end < 0) return first;
    }
  };
  const run = (i: number): void => {
    if (state[i] !== 0) return;
    state[i] = 1;
    for (let first = blocker(i); first !== undefined; first = blocker(i)) run(first);
    const m = input[i]!;
    const from = current(m.from);
    out.push(from.path === m.from.path && from.disk === m.from.disk ? m : { ...m, from, foundAt: m.from });
    const seq = out.length;
    doneFrom.set(fromKey[i]!, { move: m, seq });
    doneTo.set(toKey[i]!, { i, seq });
    state[i] = 2;
  };
  for (let i = 0; i < input.length; i++) run(i);
  return { moves: out, after: current };
}

/**
 * What the renames do to the rest of a sync plan: what was left over in a
 * renamed folder (extras, and files set aside) is then under its new name. A
 * left-over file the source changed (missing under the new name) is the
 * backup's old copy of it, not an extra: the pull replaces it (keeping it in
 * versions), or it stays as a refused change says. Deleting it after the pull
 * would throw away the copy just made.
 */
export function followFolderMoves(
  chain: MoveChain,
  deletes: Array<SyncAction & { op: 'delete' }>,
  asides: Array<SyncAction & { op: 'set-aside' }>,
  skipped: SkippedItem[],
  /** Paths the plan creates (pulls, folders, links). */
  created: readonly string[],
): void {
  if (!chain.moves.some((m) => m.entry?.type === 'dir')) return;
  const movedExtras = new Set<string>();
  for (const del of deletes) {
    const at = chain.after(del.at);
    if (at.path === del.at.path) continue;
    del.at = at;
    movedExtras.add(at.path);
  }
  for (const aside of asides) aside.at = chain.after(aside.at);
  for (const kept of skipped) {
    if (kept.reason !== 'extra-kept') continue;
    const at = chain.after({ path: kept.path, disk: kept.path });
    if (at.path === kept.path) continue;
    kept.path = at.path;
    movedExtras.add(at.path);
  }
  if (movedExtras.size === 0) return;
  const claimed = new Set(created);
  for (const k of skipped) if (k.reason !== 'extra-kept') claimed.add(k.path);
  const stale = (p: string): boolean => movedExtras.has(p) && claimed.has(p);
  deletes.splice(0, deletes.length, ...deletes.filter((d) => !stale(d.at.path)));
  skipped.splice(0, skipped.length, ...skipped.filter((k) => k.reason !== 'extra-kept' || !stale(k.path)));
}

/**
 * The extra folders (ones the source does not have) that the renames empty:
 * something the check found in them is renamed away, so, as when the user
 * renamed a folder, nothing should be left of them. Each is removed at the
 * end of the run only if it is empty then (rmdir): a file the user put there,
 * or a folder of theirs, keeps it. Not one the renames carry elsewhere, nor
 * one the plan writes into or at (another spelling of a source name on a
 * disk that ignores case), whose place the source has.
 */
export function emptiedFolders(
  chain: MoveChain,
  extraFolders: ReadonlyArray<{ at: PlanPath; entry: PlanEntry }>,
  /** Paths the plan creates or renames to. */
  targets: readonly string[],
  folding?: FoldingInfo,
): Array<SyncAction & { op: 'delete' }> {
  if (chain.moves.length === 0 || extraFolders.length === 0) return [];
  const key = pathKey(folding);
  const renamedFrom = new Set<string>();
  for (const m of chain.moves) {
    const from = key((m.foundAt ?? m.from).path);
    for (const q of selfAndAncestors(from)) if (q !== from) renamedFrom.add(q);
  }
  const written = new Set<string>();
  for (const t of targets) for (const q of selfAndAncestors(key(t))) written.add(q);
  const out: Array<SyncAction & { op: 'delete' }> = [];
  for (const f of extraFolders) {
    const k = key(f.at.path);
    if (renamedFrom.has(k) && !written.has(k) && chain.after(f.at).path === f.at.path) out.push({ op: 'delete', ...f, emptied: true });
  }
  return out;
}

/**
 * Of the backup folders where the source has a file or symlink (`folders`), the ones this plan's renames
 * empty: something the check found in one is renamed away, the folder itself stays where it is, and
 * nothing else the check found in it (`found`: the backup side of every difference) stays there after
 * the renames, but for extra folders that are themselves `emptied`. Such a folder is the renames' to
 * remove (rmdir, when the file or link takes its place), not --delete's; anything the check did not list
 * (an ignored file) still keeps it, at that rmdir.
 */
export function emptiedInTheWay(
  chain: MoveChain,
  folders: readonly PlanPath[],
  found: readonly PlanPath[],
  emptied: readonly string[],
  folding?: FoldingInfo,
): Set<string> {
  const out = new Set<string>();
  if (chain.moves.length === 0) return out;
  const key = pathKey(folding);
  /** By key: the folder's path, and whether it is still a candidate. */
  const candidates = new Map<string, { path: string; ok: boolean; renamedOut: boolean }>();
  for (const f of folders)
    if (key(chain.after(f).path) === key(f.path)) candidates.set(key(f.path), { path: f.path, ok: true, renamedOut: false });
  if (candidates.size === 0) return out;
  /** The candidates `p` lies strictly inside. */
  const holding = (p: string): Array<{ ok: boolean; renamedOut: boolean }> => {
    const k = key(p);
    const hits = [];
    for (const q of selfAndAncestors(k)) if (q !== k && candidates.has(q)) hits.push(candidates.get(q)!);
    return hits;
  };
  for (const m of chain.moves) for (const c of holding((m.foundAt ?? m.from).path)) c.renamedOut = true;
  const gone = new Set(emptied.map(key));
  for (const b of found) {
    if (gone.has(key(b.path))) continue;
    const now = chain.after(b).path;
    for (const c of holding(b.path)) if (holding(now).includes(c)) c.ok = false;
  }
  for (const c of candidates.values()) if (c.ok && c.renamedOut) out.add(c.path);
  return out;
}
