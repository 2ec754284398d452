/**
 * Turns missing/extra pairs that are really one thing into one difference:
 * names that differ only in case (a case-only rename), and files that moved
 * (same hash and size, paired one to one). A folder that moved becomes one
 * record with its file count instead of one per file.
 *
 * Pairing is deterministic and symmetric: swapping source and backup swaps
 * each pair's ends and nothing else (both lists are in manifest order and
 * the i-th candidate on one side is paired with the i-th on the other).
 */
import { comparePaths } from '../manifest/order.js';
import { contentChanges, sameContent } from './compare.js';
import { foldName } from '../manifest/storable.js';
import { baseName, isInside } from './names.js';
import { addMember, folderPairKey, renamedFolderKeyOf } from './renamed-folders.js';
import type { Difference, EntryFacts } from './types.js';

interface Pairing {
  differences: Difference[];
}

/** Pairs missing and extra entries; returns everything that remains a difference. */
export function pairMissingAndExtra(missing: Difference[], extra: Difference[]): Pairing {
  const used = new Set<Difference>();
  const out: Difference[] = [];

  // Loops, never push(...list): a spread of a few hundred thousand pairs overflows the stack.
  for (const d of pairCaseOnlyRenames(missing, extra, used)) out.push(d);
  const moves = pairMoves(
    missing.filter((d) => !used.has(d)),
    extra.filter((d) => !used.has(d)),
    used,
  );
  const leftMissing = missing.filter((d) => !used.has(d));
  const leftExtra = extra.filter((d) => !used.has(d));
  for (const d of collapseMovedFolders(moves, leftMissing, leftExtra, used)) out.push(d);
  for (const list of [missing, extra]) for (const d of list) if (!used.has(d)) out.push(d);
  return { differences: collapseCaseRenamedFolders(out) };
}

function groupBy<T>(items: T[], key: (item: T) => string | undefined): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [item]);
    else list.push(item);
  }
  return groups;
}

/**
 * `groupBy` of both lists, each kept to the keys the other list also has (the only groups pairing
 * reads), `a`'s groups in the order groupBy gives them. The smaller list is grouped whole and the
 * larger one only where it meets it: a million missing files against an empty or unrelated backup
 * build no map of a million keys (docs/diff.md, "Memory").
 */
export function meetingGroups<T>(
  a: T[],
  b: T[],
  keyA: (item: T) => string | undefined,
  keyB: (item: T) => string | undefined,
): [Map<string, T[]>, Map<string, T[]>] {
  if (a.length === 0 || b.length === 0) return [new Map(), new Map()];
  if (a.length <= b.length) {
    const groupsA = groupBy(a, keyA);
    const groupsB = groupBy(b, (item) => {
      const k = keyB(item);
      return k !== undefined && groupsA.has(k) ? k : undefined;
    });
    for (const k of groupsA.keys()) if (!groupsB.has(k)) groupsA.delete(k);
    return [groupsA, groupsB];
  }
  const [groupsB, groupsA] = meetingGroups(b, a, keyB, keyA);
  return [groupsA, groupsB];
}

function pairCaseOnlyRenames(missing: Difference[], extra: Difference[], used: Set<Difference>): Difference[] {
  const fold = (d: Difference) => foldName(d.path);
  const [missingByFold, extraByFold] = meetingGroups(missing, extra, fold, fold);
  const out: Difference[] = [];
  for (const [fold, missingGroup] of missingByFold) {
    const extraGroup = extraByFold.get(fold);
    if (extraGroup === undefined) continue;
    const n = Math.min(missingGroup.length, extraGroup.length);
    for (let i = 0; i < n; i++) {
      const m = missingGroup[i]!;
      const e = extraGroup[i]!;
      used.add(m).add(e);
      const clash: Difference = {
        category: 'name-clash',
        clash: 'case',
        path: m.path,
        otherPath: e.path,
        source: m.source!,
        backup: e.backup!,
        bytes: m.bytes,
        failing: true,
      };
      if (m.source!.type === e.backup!.type) {
        const changes = contentChanges(m.source!, e.backup!);
        if (changes.length > 0) clash.changes = changes;
      }
      out.push(clash);
    }
  }
  return out;
}

interface Move {
  from: Difference;
  to: Difference;
}

/** Files with the same hash and size: first pairs with the same base name, then in manifest order. */
function pairMoves(missing: Difference[], extra: Difference[], used: Set<Difference>): Move[] {
  // Empty files all look alike: pairing them would be guesswork. They join a moved folder below.
  const key = (f: EntryFacts | undefined) =>
    f !== undefined && f.type === 'file' && f.hash !== undefined && f.size > 0 ? `${f.hash}:${f.size}` : undefined;
  const [missingByContent, extraByContent] = meetingGroups(
    missing,
    extra,
    (d) => key(d.source),
    (d) => key(d.backup),
  );
  const moves: Move[] = [];
  for (const [content, from] of missingByContent) {
    const to = extraByContent.get(content);
    if (to === undefined) continue;
    const taken = new Set<Difference>();
    const pair = (m: Difference, e: Difference) => {
      taken.add(m).add(e);
      used.add(m).add(e);
      moves.push({ from: m, to: e });
    };
    const toByName = groupBy(to, (d) => baseName(d.path));
    for (const [name, fromGroup] of groupBy(from, (d) => baseName(d.path))) {
      const toGroup = toByName.get(name);
      if (toGroup === undefined) continue;
      for (let i = 0; i < Math.min(fromGroup.length, toGroup.length); i++) pair(fromGroup[i]!, toGroup[i]!);
    }
    const restFrom = from.filter((d) => !taken.has(d));
    const restTo = to.filter((d) => !taken.has(d));
    for (let i = 0; i < Math.min(restFrom.length, restTo.length); i++) pair(restFrom[i]!, restTo[i]!);
  }
  return moves;
}

function components(path: string): string[] {
  return path.split('/');
}

/**
 * The outermost folder pair (S, D) that explains a move: the paths share
 * their tail below S and D, and at every level from S/D down to the file's
 * folder the source folder is missing on the backup and the backup folder is
 * extra. Undefined when the file moved on its own.
 */
function movedFolderOf(move: Move, missingDirs: Set<string>, extraDirs: Set<string>): [string, string] | undefined {
  const a = components(move.from.path);
  const b = components(move.to.path);
  let found: [string, string] | undefined;
  for (let i = a.length - 1, j = b.length - 1; i > 0 && j > 0 && a[i] === b[j]; i--, j--) {
    const s = a.slice(0, i).join('/');
    const d = b.slice(0, j).join('/');
    if (!missingDirs.has(s) || !extraDirs.has(d)) break;
    found = [s, d];
  }
  return found;
}

function collapseMovedFolders(moves: Move[], missing: Difference[], extra: Difference[], used: Set<Difference>): Difference[] {
  const missingDirs = new Set(missing.filter((d) => d.source!.type === 'dir').map((d) => d.path));
  const extraDirs = new Set(extra.filter((d) => d.backup!.type === 'dir').map((d) => d.path));
  const folders = new Map<string, { s: string; d: string; moves: Move[] }>();
  const out: Difference[] = [];
  for (const move of moves) {
    const folder = movedFolderOf(move, missingDirs, extraDirs);
    if (folder === undefined) {
      out.push(moveRecord(move));
      continue;
    }
    const k = `${folder[0]}\0${folder[1]}`;
    const group = folders.get(k);
    if (group === undefined) folders.set(k, { s: folder[0], d: folder[1], moves: [move] });
    else group.moves.push(move);
  }
  // Every extra by path, only when a folder moved (a map of a million extras otherwise for nothing).
  const extraByPath = folders.size === 0 ? new Map<string, Difference>() : new Map(extra.map((d) => [d.path, d]));
  for (const { s, d, moves: group } of folders.values()) {
    const members = group.map((m) => ({ path: m.from.path, newPath: m.to.path }));
    let bytes = group.reduce((sum, m) => sum + m.from.bytes, 0);
    let files = group.length;
    // Sub-folders, empty files and symlinks that moved along with the folder.
    for (const m of missing) {
      if (used.has(m) || (m.path !== s && !isInside(m.path, s))) continue;
      const counterpart = extraByPath.get(d + m.path.slice(s.length));
      if (counterpart === undefined || used.has(counterpart) || !sameContent(m.source!, counterpart.backup!)) continue;
      used.add(m).add(counterpart);
      if (m.path !== s) members.push({ path: m.path, newPath: counterpart.path });
      // fileCount counts files; sub-folders and symlinks are in `members` only.
      if (m.source!.type === 'file') {
        files++;
        bytes += m.bytes;
      }
    }
    members.sort((x, y) => comparePaths(x.path, y.path));
    const folderFrom = missing.find((m) => m.path === s)!;
    const folderTo = extraByPath.get(d)!;
    out.push({
      category: 'moved',
      path: s,
      newPath: d,
      source: folderFrom.source!,
      backup: folderTo.backup!,
      bytes,
      failing: true,
      fileCount: files,
      members,
    });
  }
  return out;
}

function moveRecord(move: Move): Difference {
  return {
    category: 'moved',
    path: move.from.path,
    newPath: move.to.path,
    source: move.from.source!,
    backup: move.to.backup!,
    bytes: move.from.bytes,
    failing: true,
  };
}

/**
 * A folder renamed only in case (`Photos` -> `photos`) would otherwise list
 * every entry inside as its own clash: fold those whose own names match and
 * whose content is the same into the folder's record.
 */
function collapseCaseRenamedFolders(differences: Difference[]): Difference[] {
  const folderClashes = new Map<string, Difference>();
  for (const d of differences) {
    if (d.category === 'name-clash' && d.clash === 'case' && d.source!.type === 'dir' && d.backup!.type === 'dir') {
      folderClashes.set(folderPairKey(d.path, d.otherPath!), d);
    }
  }
  if (folderClashes.size === 0) return differences;
  const kept: Difference[] = [];
  for (const d of differences) {
    const key = d.category === 'name-clash' && d.clash === 'case' ? renamedFolderKeyOf(d.path, d.otherPath!) : undefined;
    const parent = key === undefined ? undefined : folderClashes.get(key);
    if (parent === undefined || !sameContent(d.source!, d.backup!)) {
      kept.push(d);
      continue;
    }
    addMember(parent, d.path, d.otherPath!, d.source!.type === 'file', d.bytes);
  }
  return kept;
}
