/**
 * Whole folders: a folder missing on the backup with everything in it (or
 * only on the backup, `extra`, with everything in it) is told as ONE item,
 * "albums/2019/  whole folder, 1,204 files, 3.2 GiB", the way a moved folder
 * is one record, instead of one line per file: 150 such folders are 150
 * lines, not 150,000. Only the outermost such folder is an item (not each of
 * its sub-folders too), and only a folder that is itself missing (extra):
 * what lies below it then has no counterpart on the other side at all. A
 * folder the backup has, even empty, is no whole folder: the diff does not
 * list what matched in it, so its missing files are listed one by one. The
 * root is never one (it has no record). A missing folder with nothing in it,
 * or only sub-folders and links, is a whole folder too ("empty/  whole
 * folder, empty"): every missing folder is told one way, on every list.
 *
 * A folder is not whole when anything below it is told otherwise: a file
 * that moved out of it (`moved`), one that cannot be read, a name clash, a
 * name the backup cannot store (`unstorable`: a sync skips it, a person must
 * see which), or a suspicious change. That file keeps its own line, and the
 * folders around it list their entries as before; a sub-folder without such
 * an entry is still whole.
 *
 * Only the telling changes: `differences` keep every file (`check --json`,
 * the CSV, and sync's plan read them), and the report adds the folders as
 * `wholeFolders` (docs/report-schema.md). One pass over the differences in
 * manifest order, where what is inside a folder follows it: a stack of the
 * open folders on the current path, each entry counted once into the
 * innermost one and the counts rolled up as folders close, so a million
 * differences or a deep tree cost one walk, never a rescan per folder.
 */
import type { Category, Difference } from '../diff/index.js';
import { isInside } from '../diff/names.js';

/** One whole folder, as the JSON report lists it (`wholeFolders`). */
export interface WholeFolder {
  category: 'missing' | 'extra';
  /** The folder's path (for `extra`: on the backup), as its own difference has it. */
  path: string;
  /** Regular files inside it, at every depth. */
  fileCount: number;
  /** Differences inside it (files, sub-folders, symlinks), at every depth; its own not counted. */
  entries: number;
  /** Bytes of those files. */
  bytes: number;
  /** As its difference: always for `missing`; for `extra` only in a `mirror` folder. */
  failing: boolean;
}

/** A difference as the lists show it: a whole folder stands for itself and everything inside. */
export interface ListedDifference extends Difference {
  /** Set on the one item that stands for a whole folder (its `bytes` and `fileCount` are the folder's). */
  wholeFolder?: WholeFolder;
}

interface OpenFolder {
  record: Difference;
  index: number;
  whole: boolean;
  files: number;
  entries: number;
  bytes: number;
  /** Whether all its files say the same `changedOn` (then `changedOn`: theirs). */
  agree: boolean;
  changedOn: Difference['changedOn'];
  /** How many whole folders were found before it opened: inner ones found later give way to it. */
  mark: number;
}

function mayStart(d: Difference): d is Difference & { category: 'missing' | 'extra' } {
  if (d.category !== 'missing' && d.category !== 'extra') return false;
  const facts = d.category === 'missing' ? d.source : d.backup;
  return facts?.type === 'dir' && d.path !== '' && fitsPlain(d);
}

/** Nothing that a one-line folder would hide: no other name, no unstorable name, no suspicious or silent change. */
function fitsPlain(d: Difference): boolean {
  return (
    d.newPath === undefined &&
    d.otherPath === undefined &&
    d.unstorable === undefined &&
    d.silentChange === undefined &&
    d.changedOn !== 'source-suspicious'
  );
}

function fits(d: Difference, folder: Difference): boolean {
  return d.category === folder.category && d.failing === folder.failing && fitsPlain(d);
}

function isFile(d: Difference): boolean {
  return (d.category === 'missing' ? d.source : d.backup)?.type === 'file';
}

/** Counts `files` more files into `o`, and whether all its files still say the same `changedOn`. */
function addFiles(o: OpenFolder, files: number, agree: boolean, changedOn: Difference['changedOn']): void {
  if (files === 0) return;
  if (o.files === 0) {
    o.agree = agree;
    o.changedOn = changedOn;
  } else o.agree = o.agree && agree && o.changedOn === changedOn;
  o.files += files;
}

interface Found {
  folder: WholeFolder;
  record: Difference;
  /** Its files' `changedOn`, when they all say the same. */
  changedOn: Difference['changedOn'] | null;
  /** Its record's index, and the index after its last entry. */
  start: number;
  end: number;
}

function findWholeFolders(differences: readonly Difference[]): Found[] {
  const stack: OpenFolder[] = [];
  const found: Found[] = [];
  const close = (end: number): void => {
    const o = stack.pop()!;
    if (o.whole) {
      // The outermost only: whole folders found inside this one give way to it.
      found.length = o.mark;
      found.push({
        folder: {
          category: o.record.category as WholeFolder['category'],
          path: o.record.path,
          fileCount: o.files,
          entries: o.entries,
          bytes: o.bytes,
          failing: o.record.failing,
        },
        record: o.record,
        changedOn: o.agree ? o.changedOn : null,
        start: o.index,
        end,
      });
    }
    const parent = stack[stack.length - 1];
    if (parent === undefined) return;
    addFiles(parent, o.files, o.agree, o.changedOn);
    parent.entries += o.entries;
    parent.bytes += o.bytes;
  };
  for (let i = 0; i < differences.length; i++) {
    const d = differences[i]!;
    while (stack.length > 0 && !isInside(d.path, stack[stack.length - 1]!.record.path)) close(i);
    const top = stack[stack.length - 1];
    if (top !== undefined) {
      if (top.whole && !fits(d, top.record)) {
        // Every open folder holds `d`: none of them is whole. Those below a spoilt one are spoilt already.
        for (let k = stack.length - 1; k >= 0 && stack[k]!.whole; k--) stack[k]!.whole = false;
      }
      top.entries++;
      if (isFile(d)) {
        top.bytes += d.bytes;
        addFiles(top, 1, true, d.changedOn);
      }
    }
    if (mayStart(d))
      stack.push({
        record: d,
        index: i,
        whole: true,
        files: 0,
        entries: 0,
        bytes: 0,
        agree: true,
        changedOn: undefined,
        mark: found.length,
      });
  }
  while (stack.length > 0) close(differences.length);
  return found;
}

/** The whole folders among `differences` (in manifest order), outermost only, in order. */
export function wholeFolders(differences: readonly Difference[]): WholeFolder[] {
  return findWholeFolders(differences).map((f) => f.folder);
}

/**
 * The differences as the lists show them: each whole folder one item in
 * place of its record and everything inside it, the rest as they are, in
 * the same order.
 */
export function listedDifferences(differences: readonly Difference[]): ListedDifference[] {
  const found = findWholeFolders(differences);
  if (found.length === 0) return differences as ListedDifference[];
  const items: ListedDifference[] = [];
  let i = 0;
  for (const f of found) {
    for (; i < f.start; i++) items.push(differences[i]!);
    const { record, folder } = f;
    const item: ListedDifference = {
      category: record.category,
      path: record.path,
      bytes: folder.bytes,
      failing: record.failing,
      fileCount: folder.fileCount,
      wholeFolder: folder,
    };
    if (record.source !== undefined) item.source = record.source;
    if (record.backup !== undefined) item.backup = record.backup;
    // What the files say of which side changed, when they all say the same (a folder deleted from the backup).
    if (f.changedOn !== null && f.changedOn !== undefined && folder.fileCount > 0) item.changedOn = f.changedOn;
    items.push(item);
    i = f.end;
  }
  for (; i < differences.length; i++) items.push(differences[i]!);
  return items;
}

/** How many items of each category the lists show (a whole folder counts one). */
export function listedCounts(items: readonly ListedDifference[]): Map<Category, number> {
  const counts = new Map<Category, number>();
  for (const d of items) counts.set(d.category, (counts.get(d.category) ?? 0) + 1);
  return counts;
}
