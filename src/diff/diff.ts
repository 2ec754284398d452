/**
 * The diff: a streaming merge-join of the source's and the backup's sorted
 * manifests. Both streams are read once, in step; an entry is kept only when
 * it is a difference, so memory grows with the number of differences, not
 * with the size of the tree. Missing and extra entries are paired into moves
 * and case-only renames at the end. Rules in docs/diff.md.
 *
 * Longer than 300 lines: Join is one state machine over both streams; its
 * methods read and write the same fields in step (mtimes pending a verdict,
 * the shadowing folder, the clash finders, the totals), and the rules it
 * applies already live in compare.ts, pairing.ts, mtime.ts and groups.ts.
 */
import { appliedMode } from '../base/mode-bits.js';
import type { ManifestEntry } from '../manifest/entry.js';
import { comparePaths } from '../manifest/order.js';
import { contentChanges, factsOf, isUnstable, provenEqual, silentSide } from './compare.js';
import { GroupReader, PENDING } from './groups.js';
import { MtimeTolerance } from './mtime.js';
import { isInside, WithinSideClashFinder } from './names.js';
import { pairMissingAndExtra } from './pairing.js';
import { addMember, folderPairKey, renamedFolderKeyOf } from './renamed-folders.js';
import {
  CATEGORIES,
  type Category,
  type CategoryTotal,
  type Change,
  type DiffOptions,
  type DiffResult,
  type Difference,
  type SideTotals,
  type SpecialModes,
} from './types.js';
import { attachVerdicts } from './verdict.js';

type SideName = 'source' | 'backup';

function emptyTotals(): SideTotals {
  return { files: 0, dirs: 0, symlinks: 0, errors: 0, bytes: 0 };
}

export async function diffManifests(
  source: AsyncIterable<ManifestEntry>,
  backup: AsyncIterable<ManifestEntry>,
  options: DiffOptions = {},
): Promise<DiffResult> {
  const join = new Join(options);
  const sourceGroups = new GroupReader(source, 'source');
  const backupGroups = new GroupReader(backup, 'backup');
  // Awaits only when a side has nothing at hand: a promise per entry would cost more than the comparison.
  let s: ManifestEntry[] | undefined;
  let b: ManifestEntry[] | undefined;
  let takeSource = true;
  let takeBackup = true;
  try {
    for (;;) {
      if (takeSource) {
        const group = sourceGroups.tryNext();
        s = group === PENDING ? await sourceGroups.next() : group;
        takeSource = false;
      }
      if (takeBackup) {
        const group = backupGroups.tryNext();
        b = group === PENDING ? await backupGroups.next() : group;
        takeBackup = false;
      }
      if (s === undefined && b === undefined) break;
      const order = s === undefined ? 1 : b === undefined ? -1 : comparePaths(s[0]!.path, b[0]!.path);
      if (order === 0) {
        join.both(s!, b!);
        const wait = join.takeBackpressure();
        if (wait !== undefined) await wait;
        takeSource = takeBackup = true;
      } else if (order < 0) {
        for (const entry of s!) join.only('source', entry);
        takeSource = true;
      } else {
        for (const entry of b!) join.only('backup', entry);
        takeBackup = true;
      }
    }
  } finally {
    await Promise.all([sourceGroups.close(), backupGroups.close()]);
  }
  return join.finish();
}

interface PendingMtime {
  difference: Difference;
  deltaMs: number;
}

class Join {
  private readonly differences: Difference[] = [];
  private readonly missing: Difference[] = [];
  private readonly extra: Difference[] = [];
  private pending: PendingMtime[] = [];
  private readonly withinClashes = new Map<string, Difference>();
  /** Folders whose names differ only in normalisation, by their on-disk paths: what lies below joins their record. */
  private readonly normalizedFolders = new Map<string, Difference>();
  private readonly finders = { source: new WithinSideClashFinder(), backup: new WithinSideClashFinder() };
  private readonly totals = { source: emptyTotals(), backup: emptyTotals() };
  private readonly specialModes: SpecialModes = { count: 0, examples: [] };
  private readonly tolerance: MtimeTolerance;
  private readonly compareMode: boolean;
  /** An unreadable entry: what lies below it on the other side cannot be compared. */
  private shadow: { prefix: string; record: Difference; side: SideName } | undefined;
  private matchedFiles = 0;
  /** Files whose sizes were equal but that no hash compared (a size-only check). */
  private sizeMatchedFiles = 0;
  private silentChanges = false;
  private backpressure: Promise<void> | undefined;

  constructor(private readonly options: DiffOptions) {
    this.tolerance = new MtimeTolerance(options.mtimeToleranceMs ?? 'auto');
    this.compareMode = options.compareMode ?? true;
  }

  /** What onMatch asked the diff to wait for, if anything. */
  takeBackpressure(): Promise<void> | undefined {
    const wait = this.backpressure;
    this.backpressure = undefined;
    return wait;
  }

  only(side: SideName, entry: ManifestEntry): void {
    if (this.shadowed(side, entry)) return;
    this.see(side, entry);
    if (entry.type === 'error') {
      this.unreadable(side, side === 'source' ? entry : undefined, side === 'backup' ? entry : undefined);
      return;
    }
    const facts = factsOf(entry);
    const bytes = entry.type === 'file' ? entry.size : 0;
    if (side === 'source') this.missing.push({ category: 'missing', path: entry.path, source: facts, bytes, failing: true });
    // An extra does not make the backup incomplete (every source file can still be there), unless the
    // folder is an exact mirror (docs/check.md, "What complete means").
    else this.extra.push({ category: 'extra', path: entry.path, backup: facts, bytes, failing: this.options.extrasFail === true });
  }

  both(sourceGroup: ManifestEntry[], backupGroup: ManifestEntry[]): void {
    if (this.shadowed('source', sourceGroup[0]!)) {
      for (const entry of sourceGroup.slice(1)) this.shadowed('source', entry);
      for (const entry of backupGroup) this.shadowed('backup', entry);
      return;
    }
    // Usually one entry each, with the same name.
    if (sourceGroup.length === 1 && backupGroup.length === 1) {
      const s = sourceGroup[0]!;
      const b = backupGroup[0]!;
      if (rawOf(s) === rawOf(b)) {
        this.compare(s, b);
        return;
      }
    }
    // Several share a key only when raw names normalise alike:
    // pair identical raw names first, then the rest in order (same name up to normalisation).
    const restSource: ManifestEntry[] = [];
    const restBackup = [...backupGroup];
    for (const s of sourceGroup) {
      const i = restBackup.findIndex((b) => rawOf(b) === rawOf(s));
      if (i < 0) restSource.push(s);
      else this.compare(s, restBackup.splice(i, 1)[0]!);
    }
    const n = Math.min(restSource.length, restBackup.length);
    for (let i = 0; i < n; i++) {
      const s = restSource[i]!;
      const b = restBackup[i]!;
      this.compare(s, b);
      this.normalizationClash(s, b);
    }
    for (const s of restSource.slice(n)) this.only('source', s);
    for (const b of restBackup.slice(n)) this.only('backup', b);
  }

  /**
   * The same name on both sides up to Unicode normalisation. Below a folder stored in the other
   * normalisation every path differs although the entry's own name does not (a folder copied from a
   * Mac): such an entry joins the folder's record instead of being a notice of its own.
   */
  private normalizationClash(s: ManifestEntry, b: ManifestEntry): void {
    const bytes = s.type === 'file' ? s.size : 0;
    const key = renamedFolderKeyOf(rawOf(s), rawOf(b));
    const folder = key === undefined ? undefined : this.normalizedFolders.get(key);
    if (folder !== undefined) {
      addMember(folder, s.path, b.path, s.type === 'file' && b.type === 'file', bytes);
      return;
    }
    const record: Difference = {
      category: 'name-clash',
      clash: 'normalization',
      path: s.path,
      source: factsOf(s),
      backup: factsOf(b),
      bytes,
      failing: false,
    };
    this.differences.push(record);
    if (s.type === 'dir' && b.type === 'dir') this.normalizedFolders.set(folderPairKey(rawOf(s), rawOf(b)), record);
  }

  private compare(s: ManifestEntry, b: ManifestEntry): void {
    this.see('source', s);
    this.see('backup', b);
    if (s.type === 'error' || b.type === 'error') {
      this.unreadable(s.type === 'error' ? (b.type === 'error' ? 'both' : 'source') : 'backup', s, b);
      return;
    }
    // Most pairs are equal: their facts are copied out only when a difference keeps them.
    const bytes = s.type === 'file' ? s.size : 0;
    if (s.type !== b.type) {
      this.differences.push({ category: 'type', path: s.path, source: factsOf(s), backup: factsOf(b), bytes, failing: true });
      return;
    }
    if (isUnstable(s) || isUnstable(b)) {
      const side = isUnstable(s) ? (isUnstable(b) ? 'both' : 'source') : 'backup';
      this.differences.push({ category: 'unstable', path: s.path, source: factsOf(s), backup: factsOf(b), bytes, failing: true, side });
      return;
    }
    // Equal files (nearly every pair of a warm check) build no list of changes.
    const content = sameFile(s, b) ? undefined : contentChanges(s, b);
    if (content !== undefined && content.length > 0) {
      const record: Difference = {
        category: 'content',
        path: s.path,
        source: factsOf(s),
        backup: factsOf(b),
        bytes,
        failing: true,
        changes: content,
      };
      const silent = silentSide(s, b);
      if (silent !== undefined) {
        record.silentChange = silent;
        this.silentChanges = true;
      }
      this.differences.push(record);
      return;
    }
    if (provenEqual(s, b)) {
      this.matchedFiles++;
      const wait = this.options.onMatch?.(s, b);
      if (wait !== undefined)
        this.backpressure = this.backpressure === undefined ? wait : Promise.all([this.backpressure, wait]).then(() => undefined);
    } else if (s.type === 'file') {
      this.sizeMatchedFiles++;
    }
    this.metadata(s, b);
  }

  /** Same content: permissions and (files only) modification time. */
  private metadata(s: ManifestEntry, b: ManifestEntry): void {
    // Symlink permissions mean nothing on Linux; folder mtimes change whenever their
    // contents do and no copy tool keeps them reliably.
    // Only the bits a sync applies: setuid, setgid and sticky never cross (base/mode-bits.ts).
    const modeDiffers = this.compareMode && s.type !== 'symlink' && appliedMode(s.mode) !== (b.mode & 0o777);
    const deltaMs = s.type === 'file' ? Math.abs(s.mtime - b.mtime) : 0;
    if (!modeDiffers && deltaMs === 0) return;
    const changes: Change[] = modeDiffers ? ['mode'] : [];
    let waits = false;
    if (deltaMs > 0) {
      if (!this.tolerance.mayTolerate(deltaMs)) changes.push('mtime');
      else if (this.tolerance.decided === undefined) waits = true;
    }
    if (changes.length === 0 && !waits) return;
    const record: Difference = {
      category: 'metadata',
      path: s.path,
      source: factsOf(s),
      backup: factsOf(b),
      bytes: 0,
      failing: false,
      changes,
    };
    if (waits) this.pending.push({ difference: record, deltaMs });
    else this.differences.push(record);
  }

  private unreadable(side: 'source' | 'backup' | 'both', s: ManifestEntry | undefined, b: ManifestEntry | undefined): void {
    const path = (s ?? b)!.path;
    const record: Difference = { category: 'unreadable', path, bytes: 0, failing: true, side, fileCount: 0 };
    if (s !== undefined) record.source = factsOf(s);
    if (b !== undefined) record.backup = factsOf(b);
    const other = side === 'source' ? b : side === 'backup' ? s : undefined;
    if (other !== undefined && other.type === 'file') record.bytes = other.size;
    this.differences.push(record);
    this.shadow = { prefix: path, record, side: side === 'both' ? 'source' : side };
  }

  /** Entries below an unreadable one are not compared; those on the readable side are counted. */
  private shadowed(side: SideName, entry: ManifestEntry): boolean {
    if (this.shadow === undefined) return false;
    if (!isInside(entry.path, this.shadow.prefix)) {
      this.shadow = undefined;
      return false;
    }
    this.count(side, entry);
    if (side !== this.shadow.side) this.shadow.record.fileCount = (this.shadow.record.fileCount ?? 0) + 1;
    return true;
  }

  private see(side: SideName, entry: ManifestEntry): void {
    this.count(side, entry);
    if (entry.type === 'file') {
      this.tolerance.observe(side, entry.mtime);
      if (this.pending.length > 0 && this.tolerance.decided !== undefined) this.settlePending(this.tolerance.decided);
    }
    const earlier = this.finders[side].add(entry);
    if (earlier !== undefined) this.withinClash(side, earlier, entry.raw ?? entry.path);
  }

  private count(side: SideName, entry: ManifestEntry): void {
    const totals = this.totals[side];
    // Bits a sync never applies (setuid, setgid, sticky): the report names them, as it names nothing else it leaves.
    if (side === 'source' && (entry.type === 'file' || entry.type === 'dir') && (entry.mode & 0o7000) !== 0) {
      this.specialModes.count++;
      if (this.specialModes.examples.length < SPECIAL_MODE_EXAMPLES) this.specialModes.examples.push(entry.path);
    }
    if (entry.type === 'file') {
      totals.files++;
      totals.bytes += entry.size;
    } else if (entry.type === 'dir') totals.dirs++;
    else if (entry.type === 'symlink') totals.symlinks++;
    else totals.errors++;
  }

  /**
   * Two names on one side that collide. The record names them and carries no entry facts: giving the
   * first name's would mean keeping every entry of every folder on the current path, not just its
   * name (three times the memory in a wide folder). Both entries are compared like any other.
   */
  private withinClash(side: SideName, first: string, second: string): void {
    const key = `${first}\0${second}`;
    const known = this.withinClashes.get(key);
    if (known !== undefined) {
      if (known.side !== side) known.side = 'both';
      return;
    }
    this.withinClashes.set(key, {
      category: 'name-clash',
      clash: 'within',
      path: first,
      otherPath: second,
      bytes: 0,
      failing: false,
      side,
    });
  }

  private settlePending(toleranceMs: number): void {
    for (const { difference, deltaMs } of this.pending) {
      if (deltaMs > toleranceMs) difference.changes!.push('mtime');
      if (difference.changes!.length > 0) this.differences.push(difference);
    }
    this.pending = [];
  }

  async finish(): Promise<DiffResult> {
    const tolerance = this.tolerance.final();
    this.settlePending(tolerance.ms);
    const { differences: paired } = pairMissingAndExtra(this.missing, this.extra);
    const differences = [...this.differences, ...paired, ...this.withinClashes.values()];
    differences.sort((x, y) => comparePaths(x.path, y.path) || CATEGORIES.indexOf(x.category) - CATEGORIES.indexOf(y.category));
    if (this.options.verified !== undefined || this.silentChanges)
      await attachVerdicts(differences, this.options.verified ?? noRecords, tolerance.ms);
    return {
      differences,
      byCategory: totalsByCategory(differences),
      sourceTotals: this.totals.source,
      backupTotals: this.totals.backup,
      matchedFiles: this.matchedFiles,
      sizeMatchedFiles: this.sizeMatchedFiles,
      modesCompared: this.compareMode,
      specialModes: this.specialModes,
      mtimeToleranceMs: tolerance.ms,
      mtimeToleranceReason: tolerance.reason,
    };
  }
}

const noRecords = (): undefined => undefined;
/** Two files whose content contentChanges() would find no change in (the common case, told without a list). */
function sameFile(s: ManifestEntry, b: ManifestEntry): boolean {
  return s.type === 'file' && b.type === 'file' && s.size === b.size && (s.hash === undefined || b.hash === undefined || s.hash === b.hash);
}
const SPECIAL_MODE_EXAMPLES = 3;

export function totalsByCategory(differences: Difference[]): Record<Category, CategoryTotal> {
  const totals = Object.fromEntries(CATEGORIES.map((c) => [c, { count: 0, bytes: 0 }])) as Record<Category, CategoryTotal>;
  for (const d of differences) {
    totals[d.category].count++;
    totals[d.category].bytes += d.bytes;
  }
  return totals;
}

/** The name on disk: the raw name where it differs from the NFC key. */
function rawOf(entry: ManifestEntry): string {
  return entry.raw ?? entry.path;
}
