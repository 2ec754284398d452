/**
 * The check report: ONE versioned data structure that the terminal, JSON
 * and e-mail renderers read. It holds facts only (who, when, what differs);
 * renderers choose words and layout and hold no diff logic. Its JSON form is
 * the stable schema documented in docs/report-schema.md: within a schema
 * version fields are only ever added, never renamed or given a new meaning.
 *
 * Longer than 300 lines: the schema's types are read as one, beside the one
 * verdict rule they feed (docs/report-schema.md documents them together).
 */
import type { FolderRole } from '../config/types.js';
import {
  CATEGORIES,
  totalsByCategory,
  type Category,
  type CategoryTotal,
  type DiffResult,
  type Difference,
  type SideTotals,
  type SpecialModes,
} from '../diff/index.js';
import { SYNKER_VERSION } from '../base/version.js';
import { wholeFolders, type WholeFolder } from './whole-folders.js';

export const REPORT_SCHEMA = 'synker/check-report';
export const REPORT_VERSION = 1;

/** Exit codes of a check: 0 the backup is complete, 1 it differs, 2 the check could not be done. */
export const CHECK_EXIT = { complete: 0, differences: 1, error: 2 } as const;
export type CheckExitCode = (typeof CHECK_EXIT)[keyof typeof CHECK_EXIT];

export interface ScanTimes {
  /** ISO 8601, UTC. */
  startedAt: string;
  finishedAt: string;
}

export interface PeerReport {
  /** The name the machine announces (its agent's name); null when never reached. */
  name: string | null;
  /** Canonical device ID; null when never reached. */
  deviceId: string | null;
  role: FolderRole;
  /** Where it was reached (`host:port`), for the source; the local folder path, for the backup. */
  location: string | null;
  /** When its manifest was produced; null when the check stopped before. */
  scan: ScanTimes | null;
  totals: SideTotals | null;
}

export interface CheckSettings {
  /** Every file re-hashed on both sides, caches ignored. */
  verify: boolean;
  /** Sizes compared, no hashing on either side: an edit that keeps the size goes unseen, nothing is proven equal. */
  sizeOnly: boolean;
  mtimeToleranceMs: number;
  mtimeToleranceReason: DiffResult['mtimeToleranceReason'];
}

export interface ReportSummary {
  /** All differences listed, failing or not. */
  differences: number;
  /** Differences that make the backup incomplete. */
  failing: number;
  /** Bytes concerned by the failing differences. */
  failingBytes: number;
  /** Files proven equal by hash. */
  matchedFiles: number;
  /** Files of equal size compared without hashes (size-only): not proven equal. */
  sizeMatchedFiles: number;
  /** Content differences caused by a side's bytes changing under unchanged size, mtime and ctime (`--verify`). */
  silentChanges: { source: number; backup: number };
  byCategory: Record<Category, CategoryTotal>;
  /** Source files and folders with setuid, setgid or sticky bits, which synker never copies: how many, the first few. */
  specialModes: SpecialModes;
}

export interface ReportError {
  code: string;
  message: string;
  hint: string | null;
}

export interface CheckReport {
  schema: typeof REPORT_SCHEMA;
  version: typeof REPORT_VERSION;
  synkerVersion: string;
  folderId: string;
  /** ISO 8601, UTC: when the check started and ended. */
  startedAt: string;
  finishedAt: string;
  source: PeerReport;
  backup: PeerReport;
  settings: CheckSettings | null;
  /** True only when the check ran to the end and found no failing difference (verdictOf). */
  complete: boolean;
  exitCode: CheckExitCode;
  summary: ReportSummary;
  /** Every difference, in manifest order of `path`. */
  differences: Difference[];
  /**
   * The folders missing on the backup (or only on it) with everything inside, outermost only: how the
   * terminal, the e-mail and the page list them, one line each (report/whole-folders.ts). Their files
   * stay in `differences`. Absent from reports of versions before it.
   */
  wholeFolders?: WholeFolder[];
  /** Why the check could not be done (exit code 2); null when it ran. */
  error: ReportError | null;
  /** What a sync did after this check (`synker sync`, the agent's scheduled sync); null for a check alone. */
  sync: SyncReport | null;
}

/**
 * What a sync fixed, what it refused and why, and what still differs after
 * it. `differences` above are what the check found before the sync.
 */
export interface SyncReport {
  /** Nothing was changed: the plan was only shown. */
  dryRun: boolean;
  fixed: {
    /** Files copied from the source (verified by hash), and their bytes. */
    pulledFiles: number;
    pulledBytes: number;
    /** Bytes that came over the network (fewer when resumed or copied locally). */
    bytesReceived: number;
    /** Files renamed locally instead of copied (a folder move counts its files). */
    moved: number;
    /**
     * Renames done: one per renamed file or folder, as the check counts its `moved` differences and the
     * plan its `moves` (report/words.ts renamesPhrase says both the same way).
     */
    renames: number;
    /** Folders and symlinks created. */
    created: number;
    /** Files whose modification time or permissions were set. */
    metadataFixed: number;
    /** Files the source no longer has, moved into the versions folder (`--delete`). */
    deleted: number;
    /** Folders the sync's own renames emptied (the source does not have them), removed; absent in older reports. */
    emptiedFolders?: number;
    /** Every file the sync replaced or removed, kept under `.synker/versions/` (paths relative to the folder). */
    versions: string[];
  };
  /** Safety guards that stopped the whole run before anything changed. */
  stops: SyncStop[];
  /** Files the sync would not touch, and why (extras kept without `--delete` are only counted, in `keptExtras`). */
  refused: SyncRefusal[];
  keptExtras: number;
  /** Files that could not be fixed (after retries). */
  failed: Array<{ path: string; code: string; message: string }>;
  /** Why the run stopped part-way (e.g. the connection dropped); null when it ran to the end. */
  aborted: ReportError | null;
  /** What the backup holds after the run (the backup line's counts after a sync); null when nothing ran. */
  backupTotals: SideTotals | null;
  /** The check's differences the sync did not resolve, in manifest order, with their counts. */
  remaining: {
    failing: number;
    failingBytes: number;
    byCategory: Record<Category, CategoryTotal>;
    differences: Difference[];
    /** As the report's `wholeFolders`, of these differences. */
    wholeFolders?: WholeFolder[];
  };
  /** True when the sync ran to the end and nothing failing remains (verdictOf: extras never fail). */
  complete: boolean;
}

/** `mass-change`, `source-shrank` or `max-delete` (may gain values). */
export interface SyncStop {
  guard: string;
  message: string;
  hint: string;
}

/** `reason`: `suspicious`, `collision`, `unreadable`, `unstable`, `no-hash`, `folder-in-the-way`... (may gain values). */
export interface SyncRefusal {
  path: string;
  reason: string;
  detail: string;
}

export interface PeerFacts {
  name: string | null;
  deviceId: string | null;
  location: string | null;
  scan: ScanTimes | null;
}

export interface ReportInput {
  folderId: string;
  startedAt: Date;
  finishedAt: Date;
  source: PeerFacts;
  backup: PeerFacts;
  verify: boolean;
  sizeOnly: boolean;
  diff: DiffResult;
}

/**
 * The verdict on the backup, the ONE answer every command, the e-mail and
 * the status give (docs/check.md, "What complete means"):
 * - `complete`: every source entry is on the backup with its content, as
 *   compared (hashes; sizes only with --size-only). Only-on-the-backup files
 *   (extras, except in a `mirror` folder), metadata and normalisation-only
 *   names are listed, never failing.
 * - `incomplete`: at least one failing difference; `failing`/`failingBytes`
 *   count them, each once (a renamed folder is one difference of its bytes).
 * - `not-verified`: the comparison could not be done (exitCode 2).
 * After a real (not dry) sync: the state the sync left, counted after it.
 */
export type BackupState = 'complete' | 'incomplete' | 'not-verified';

export interface BackupVerdict {
  state: BackupState;
  /** Differences that make the backup incomplete, and their bytes. */
  failing: number;
  failingBytes: number;
  /** Differences still listed, failing or not; the extras among them that do not fail (all but in a mirror). */
  differences: number;
  extras: CategoryTotal;
  byCategory: Record<Category, CategoryTotal>;
  /** `check`: as the check found it; `sync`: as the sync left it. */
  after: 'check' | 'sync';
}

export function verdictOf(report: Pick<CheckReport, 'error' | 'differences' | 'summary' | 'sync'>): BackupVerdict {
  const sync = report.sync;
  const afterSync = sync !== null && !sync.dryRun;
  const differences = afterSync ? sync.remaining.differences : report.differences;
  const byCategory = afterSync ? sync.remaining.byCategory : report.summary.byCategory;
  const failing = differences.filter((d) => d.failing);
  const interrupted = afterSync && sync.aborted !== null; // it cannot vouch for what it did not reach
  const state: BackupState =
    report.error !== null && !afterSync ? 'not-verified' : failing.length > 0 || interrupted ? 'incomplete' : 'complete';
  return {
    state,
    failing: failing.length,
    failingBytes: failing.reduce((n, d) => n + d.bytes, 0),
    differences: differences.length,
    extras: totalsByCategory(differences.filter((d) => !d.failing)).extra,
    byCategory,
    after: afterSync ? 'sync' : 'check',
  };
}

/** What a sync left failing (see verdictOf). */
export function failingAfterSync(sync: SyncReport): { failing: number; failingBytes: number } {
  return { failing: sync.remaining.failing, failingBytes: sync.remaining.failingBytes };
}

/** The exit code a set of differences deserves: what does not fail (extras, metadata, notices) does not count. */
export function exitCodeOf(differences: readonly Difference[]): CheckExitCode {
  return differences.some((d) => d.failing) ? CHECK_EXIT.differences : CHECK_EXIT.complete;
}

export function summarize(
  differences: Difference[],
  matchedFiles: number,
  sizeMatchedFiles = 0,
  specialModes: SpecialModes = { count: 0, examples: [] },
): ReportSummary {
  const failing = differences.filter((d) => d.failing);
  const silent = (side: 'source' | 'backup') => differences.filter((d) => d.silentChange === side || d.silentChange === 'both').length;
  return {
    differences: differences.length,
    failing: failing.length,
    failingBytes: failing.reduce((sum, d) => sum + d.bytes, 0),
    matchedFiles,
    sizeMatchedFiles,
    silentChanges: { source: silent('source'), backup: silent('backup') },
    byCategory: totalsByCategory(differences),
    specialModes,
  };
}

export function buildReport(input: ReportInput): CheckReport {
  const exitCode = exitCodeOf(input.diff.differences);
  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    synkerVersion: SYNKER_VERSION,
    folderId: input.folderId,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    source: { ...input.source, role: 'source', totals: input.diff.sourceTotals },
    backup: { ...input.backup, role: 'backup', totals: input.diff.backupTotals },
    settings: {
      verify: input.verify,
      sizeOnly: input.sizeOnly,
      mtimeToleranceMs: input.diff.mtimeToleranceMs,
      mtimeToleranceReason: input.diff.mtimeToleranceReason,
    },
    complete: exitCode === CHECK_EXIT.complete,
    exitCode,
    summary: summarize(input.diff.differences, input.diff.matchedFiles, input.diff.sizeMatchedFiles, input.diff.specialModes),
    // Before the differences: a reader of the JSON as a stream meets the short list first.
    wholeFolders: wholeFolders(input.diff.differences),
    differences: input.diff.differences,
    error: null,
    sync: null,
  };
}

export interface FailedReportInput {
  folderId: string;
  startedAt: Date;
  finishedAt: Date;
  source: PeerFacts;
  backup: PeerFacts;
  error: { code: string; message: string; hint?: string | undefined };
}

/** A check that could not be done still yields a report (exit code 2), so scheduled checks can say why. */
export function buildFailedReport(input: FailedReportInput): CheckReport {
  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    synkerVersion: SYNKER_VERSION,
    folderId: input.folderId,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    source: { ...input.source, role: 'source', totals: null },
    backup: { ...input.backup, role: 'backup', totals: null },
    settings: null,
    complete: false,
    exitCode: CHECK_EXIT.error,
    summary: summarize([], 0),
    wholeFolders: [],
    differences: [],
    error: { code: input.error.code, message: input.error.message, hint: input.error.hint ?? null },
    sync: null,
  };
}

/** Categories in the order reports present them: what fails first, worst first. */
export const REPORT_CATEGORY_ORDER: readonly Category[] = CATEGORIES;
