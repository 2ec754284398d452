/**
 * What the diff produces: a list of differences between the source's and the
 * backup's manifests of one folder, each in one category. These shapes are
 * also the report's (src/report/model.ts) and are part of the documented JSON
 * schema (docs/report-schema.md): add fields, never change their meaning.
 */
import type { ManifestEntry } from '../manifest/entry.js';

export const CATEGORIES = [
  'missing',
  'extra',
  'content',
  'type',
  'moved',
  'name-clash',
  'unreadable',
  'unstable',
  'ignored',
  'metadata',
] as const;
/**
 * - `missing`: on the source, not on the backup.
 * - `extra`: on the backup, not on the source. Listed, never failing: the backup can hold more than the source.
 * - `content`: same path, different content (hash, or size when not hashed; symlink target).
 * - `type`: same path, different kind (file replaced by a folder, ...).
 * - `moved`: a missing and an extra file with the same hash and size, paired one to one
 *   (a moved folder is one record with its file count).
 * - `name-clash`: names equal up to case or Unicode normalisation.
 * - `unreadable`: an error entry on either side; nothing below it was compared.
 * - `unstable`: the file changed while it was hashed; it could not be compared.
 * - `ignored`: a file the backup verified before and still holds, which the source's ignore
 *   rules now hide: it is compared no more (added by the check, not by the diff).
 * - `metadata`: same content, modification time or permissions differ.
 */
export type Category = (typeof CATEGORIES)[number];

/** Which side a difference comes from, judged against the hashes last verified as matching. */
export const VERDICTS = ['source', 'source-suspicious', 'backup', 'both', 'unknown'] as const;
export type Verdict = (typeof VERDICTS)[number];

export type Side = 'source' | 'backup' | 'both';

/** What the report keeps of one side's manifest entry: all of it but the path (the difference's key) and flags. */
export type EntryFacts = Omit<ManifestEntry, 'path' | 'flags'>;

/** What differs between two entries at the same path. */
export type Change = 'size' | 'hash' | 'target' | 'mtime' | 'mode';

export interface Difference {
  category: Category;
  /** The path on the source (for `extra`: on the backup). NFC, relative, `/`-separated. */
  path: string;
  /** `moved`: where the backup has it. */
  newPath?: string;
  /** `name-clash`: the other name (on the backup for `case`; on the same side for `within`). */
  otherPath?: string;
  /** The source's entry at `path` (absent for `extra`, and for a `within` name clash: two names on one side). */
  source?: EntryFacts;
  /** The backup's entry (at `newPath`/`otherPath` when set, else at `path`; absent for `missing` and `within`). */
  backup?: EntryFacts;
  /** Bytes concerned: the source's size when it has the entry, else the backup's; a folder's total for folder moves. */
  bytes: number;
  /**
   * Whether this difference makes the backup incomplete. The backup is complete when every source entry
   * is there with its content; so false for what is only on the backup (`extra`: listed, never failing),
   * metadata, and names equal up to Unicode normalisation (docs/check.md).
   */
  failing: boolean;
  /** `content`/`metadata`: what differs. */
  changes?: Change[];
  /**
   * `name-clash`: `case` (the backup's name differs from the source's only in case), `normalization`
   * (only in Unicode normalisation: the same name to a person and to macOS), `within` (two names on
   * one side that collide on case-insensitive or normalising file systems).
   */
  clash?: 'case' | 'normalization' | 'within';
  /** `unreadable`/`unstable`/`name-clash` within one side: where the problem is. */
  side?: Side;
  /**
   * `missing`/`moved`: why the backup's file system cannot hold the source's name (a Windows backup:
   * `what?.txt`, `CON.txt`, `name.`; manifest/storable.ts); also `type`/`name-clash` where the
   * backup's own synker folder is in the way (dirs/own-dirs.ts). Set by the check on the backup; a
   * sync skips the entry with this reason. Still failing: the backup does not have the file.
   */
  unstorable?: string;
  /**
   * `missing`/`extra`/`content`/`type`: which side changed since the last verified match. Also a `case`
   * name clash of two files, and a `missing` file of a renamed folder whose old copy is `extra`: judged
   * against the record of the backup's name (diff/verdict.ts).
   */
  changedOn?: Verdict;
  /**
   * Set with `changedOn` `source` where the records alone would say `source-suspicious` (size and mtime
   * as verified, other content): the source's new content is the one last verified at this other path
   * of the comparison, so it moved here (names swapped, a chain of renames) rather than decayed.
   */
  contentOf?: string;
  /**
   * `content`: the side(s) whose re-hash (`--verify`) found other bytes than its hash cache recorded
   * while size, mtime, ctime and inode stayed the same (entry flag `silent-change`): bit rot or
   * tampering there. Decides `changedOn` (`source-suspicious`, `backup` or `both`).
   */
  silentChange?: Side;
  /**
   * `moved` folder / folder renamed only in case or normalisation: files that went with it.
   * `unreadable`: entries below it on the readable side, which could not be compared.
   */
  fileCount?: number;
  /**
   * `moved` folder, or `name-clash` folder renamed only in case or normalisation: every entry inside
   * that went with it (files, folders, symlinks), source path and backup path (the same NFC path for
   * `normalization`). These entries have no record of their own.
   */
  members?: Array<{ path: string; newPath: string }>;
}

/** What the backup remembers of a file it last verified as matching the source. */
export interface VerifiedRecord {
  hash: string;
  size: number;
  mtime: number;
}

/** Looks up the last verified record of a path (NFC key). */
export type VerifiedLookup = (path: string) => VerifiedRecord | undefined | Promise<VerifiedRecord | undefined>;

export interface DiffOptions {
  /**
   * Modification times closer than this count as equal. `'auto'` (default): 2000 ms when either side
   * looks FAT-like (every file's mtime a multiple of 2 s), 1000 ms when either side keeps whole
   * seconds only, else 0. See docs/diff.md.
   */
  mtimeToleranceMs?: number | 'auto';
  /** Compare permission bits (default true; turn off for file systems without POSIX modes). */
  compareMode?: boolean;
  /**
   * A file only on the backup (`extra`) makes the backup incomplete: the folder is configured as an exact
   * mirror (`mirror: true`). Default false: extras are listed and never fail (docs/check.md).
   */
  extrasFail?: boolean;
  /** Last verified hashes, for the which-side-changed verdicts. */
  verified?: VerifiedLookup;
  /**
   * Called for each file whose content is proven equal on both sides (hashes match). When it returns a
   * promise the diff waits for it before reading on (backpressure for whoever stores the matches).
   */
  onMatch?: (source: EntryFactsWithPath, backup: EntryFactsWithPath) => void | Promise<void>;
}

export interface EntryFactsWithPath extends EntryFacts {
  path: string;
}

export interface CategoryTotal {
  count: number;
  bytes: number;
}

/** Counts of what was compared, per side. */
export interface SideTotals {
  files: number;
  dirs: number;
  symlinks: number;
  errors: number;
  /** Sum of file sizes. */
  bytes: number;
}

/** Entries whose setuid, setgid or sticky bits are not carried over: how many, and the first few paths. */
export interface SpecialModes {
  count: number;
  examples: string[];
}

export interface DiffResult {
  differences: Difference[];
  byCategory: Record<Category, CategoryTotal>;
  sourceTotals: SideTotals;
  backupTotals: SideTotals;
  /** Files proven equal (same hash on both sides). */
  matchedFiles: number;
  /** Files of equal size whose content no hash compared (a side sent no hash: size-only). */
  sizeMatchedFiles: number;
  /**
   * Whether permission bits were compared: false where either side has no
   * POSIX modes (Windows). A sync or restore applies modes only when they were.
   */
  modesCompared: boolean;
  /**
   * Source files and folders with setuid, setgid or sticky bits, which no
   * sync or restore ever applies (base/mode-bits.ts): the report says so.
   * Absent where nobody counted (results made by hand).
   */
  specialModes?: SpecialModes;
  /** The tolerance applied and why. */
  mtimeToleranceMs: number;
  mtimeToleranceReason: 'configured' | 'auto-fat' | 'auto-seconds' | 'auto-exact';
}
