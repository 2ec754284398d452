/**
 * The last report of each folder: what its last check or sync found, kept so
 * the status page can list "what is missing" and "send the report again" has
 * the report to send. The same data as the terminal and e-mail reports
 * (report/model.ts), grouped as they group it: categories in the report's
 * order (REPORT_CATEGORY_ORDER), with their words (report/words.ts), counts
 * and bytes, and up to LAST_REPORT_ITEMS items per category, the flagged ones
 * (suspicious, silent changes) first as the terminal lists them, so the cut
 * never hides one; `more` says how many were left out. A folder missing on
 * the backup with everything in it is one item, as the terminal and the
 * e-mail list it (report/whole-folders.ts): 150 such folders are 150 items,
 * not the first 1,000 files of one of them. After a real sync the
 * differences are those it left (verdictOf), as the terminal shows them.
 * Names are kept as they are: whoever shows one escapes it the way every
 * report does (base/printable.ts; the page has its copy of that module).
 *
 * On disk: `<data>/history/<folder id>.last-report.json`, replaced atomically
 * (base/atomic-file.ts) by each run. Written before the run's history record
 * (recordRun), so whoever hears of the record (history-feed.ts) reads the
 * report of that run.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../base/atomic-file.js';
import { SynkerError, errnoCode } from '../base/errors.js';
import type { Category, Difference } from '../diff/index.js';
import { historyDir } from '../dirs/data-files.js';
import { REPORT_CATEGORY_ORDER, verdictOf, type CheckReport } from '../report/model.js';
import { CATEGORY_LABELS, CATEGORY_TITLES, describeDifference } from '../report/words.js';
import { listedCounts, listedDifferences, type ListedDifference } from '../report/whole-folders.js';
import { historyName, migrateHistoryNames } from './history.js';
import type { CheckResultSummary, CheckStatus, VerifiedBy } from './state.js';

/** Items kept per category. */
export const LAST_REPORT_ITEMS = 1000;
const LAST_REPORT_VERSION = 1;

export interface LastReportItem {
  /** The source's path (for `extra`: the backup's), as on disk. */
  path: string;
  /** `file`, `dir`, `symlink`, or `error` (an entry that could not be read). */
  kind: string;
  /** Bytes concerned (a file's size; a moved or whole folder's total). */
  size?: number;
  /** A folder that stands for what is inside it (a whole folder missing or only on the backup, a moved folder): its files. */
  files?: number;
  /** The report's line about it (report/words.ts describeDifference), names in it escaped for a terminal. */
  detail?: string;
  /** The other name: where the backup has it (moved, case clash), or the colliding name on the same side. */
  otherPath?: string;
  /** A suspicious or silent change: listed first, marked. */
  flagged?: boolean;
}

export interface LastReportCategory {
  category: Category;
  /** The category's title ("Missing on backup") and short label ("missing on backup"). */
  words: string;
  label: string;
  /** Whether it makes the backup incomplete (else "listed, does not fail"). */
  failing: boolean;
  count: number;
  bytes: number;
  items: LastReportItem[];
  /** Items left out (a whole folder is one item, so `count` may be more than items + more). */
  more: number;
}

export interface LastReport {
  version: typeof LAST_REPORT_VERSION;
  folder: string;
  /** When the run ended (ISO). */
  at: string;
  startedAt: string | null;
  status: CheckStatus;
  /** The same line as the schedule state and `synker status`. */
  summary: string;
  by: VerifiedBy;
  /** The source's name, when it was reached. */
  peer: string | null;
  /** `check`: as the check found it; `sync`: as the sync left it. */
  after: 'check' | 'sync';
  /** Failing differences and their bytes; null when nothing was compared. */
  differences: number | null;
  bytesMissing: number | null;
  fixed?: number;
  error: { code: string; message: string; hint: string | null } | null;
  categories: LastReportCategory[];
}

export class LastReportError extends SynkerError {
  constructor(
    code: 'E_LAST_REPORT_READ' | 'E_LAST_REPORT_DAMAGED',
    readonly file: string,
    message: string,
    hint: string,
    cause?: unknown,
  ) {
    super(code, message, { hint, cause });
  }
}

export function lastReportFile(dataDir: string, folderId: string): string {
  return path.join(historyDir(dataDir), `${historyName(folderId)}.last-report.json`);
}

function flagged(d: Difference): boolean {
  return d.changedOn === 'source-suspicious' || d.silentChange !== undefined;
}

function itemOf(d: ListedDifference): LastReportItem {
  const facts = d.source ?? d.backup;
  const folder = (d.category === 'moved' && d.fileCount !== undefined) || d.wholeFolder !== undefined;
  const kind = folder ? 'dir' : (facts?.type ?? 'file');
  const other = d.newPath ?? d.otherPath;
  const detail = describeDifference(d);
  return {
    path: d.path,
    kind,
    // A file's size, a moved or whole folder's total (a folder alone has none).
    ...(kind === 'file' || d.fileCount !== undefined ? { size: d.bytes } : {}),
    ...(folder ? { files: d.fileCount! } : {}),
    ...(detail !== '' ? { detail } : {}),
    ...(other !== undefined ? { otherPath: other } : {}),
    ...(flagged(d) ? { flagged: true } : {}),
  };
}

/** The last report of a run, from its report and the summary the schedule state keeps of it. */
export function lastReportOf(report: CheckReport, summary: CheckResultSummary, by: VerifiedBy): LastReport {
  const verdict = verdictOf(report);
  const afterSync = verdict.after === 'sync';
  const differences = afterSync && report.sync !== null ? report.sync.remaining.differences : report.differences;
  // One pass over what may be hundreds of thousands of differences: flagged first, then the rest, each capped.
  const firsts = new Map<Category, ListedDifference[]>();
  const rests = new Map<Category, ListedDifference[]>();
  const failing = new Set<Category>();
  const counted = new Map<Category, number>();
  for (const d of differences) {
    counted.set(d.category, (counted.get(d.category) ?? 0) + 1);
    if (d.failing) failing.add(d.category);
  }
  // A whole folder is one item (report/whole-folders.ts): the cap and `more` count items, `count` differences.
  const listed = listedDifferences(differences);
  const items = listedCounts(listed);
  for (const d of listed) {
    const bucket = flagged(d) ? firsts : rests;
    let list = bucket.get(d.category);
    if (list === undefined) {
      list = [];
      bucket.set(d.category, list);
    }
    if (list.length < LAST_REPORT_ITEMS) list.push(d);
  }
  const categories: LastReportCategory[] = [];
  for (const category of REPORT_CATEGORY_ORDER) {
    const count = counted.get(category) ?? 0;
    if (count === 0) continue;
    const shown = [...(firsts.get(category) ?? []), ...(rests.get(category) ?? [])].slice(0, LAST_REPORT_ITEMS);
    categories.push({
      category,
      words: CATEGORY_TITLES[category],
      label: CATEGORY_LABELS[category],
      failing: failing.has(category),
      count,
      bytes: verdict.byCategory[category]?.bytes ?? 0,
      items: shown.map(itemOf),
      more: (items.get(category) ?? 0) - shown.length,
    });
  }
  const compared = summary.status !== 'error';
  return {
    version: LAST_REPORT_VERSION,
    folder: report.folderId,
    at: summary.at,
    startedAt: report.startedAt,
    status: summary.status,
    summary: summary.summary,
    by,
    peer: report.source.name,
    after: verdict.after,
    differences: compared ? verdict.failing : null,
    bytesMissing: compared ? verdict.failingBytes : null,
    ...(summary.fixed !== undefined ? { fixed: summary.fixed } : {}),
    error: report.error,
    categories: compared ? categories : [],
  };
}

/**
 * The last report of a run known only by its summary: one that ended without
 * a report (its process died or could not start: the error is its report),
 * or a verdict another machine told this one. Its counts are the summary's;
 * it lists nothing.
 */
export function lastReportOfSummary(folderId: string, summary: CheckResultSummary, by: VerifiedBy): LastReport {
  const compared = summary.status !== 'error';
  return {
    version: LAST_REPORT_VERSION,
    folder: folderId,
    at: summary.at,
    startedAt: null,
    status: summary.status,
    summary: summary.summary,
    by,
    peer: summary.peer ?? null,
    // As a report says it: a run that compared nothing left nothing to say "after the sync" of.
    after: compared && by.endsWith('sync') ? 'sync' : 'check',
    differences: compared ? (summary.differences ?? null) : null,
    bytesMissing: compared ? (summary.bytesMissing ?? null) : null,
    ...(summary.fixed !== undefined ? { fixed: summary.fixed } : {}),
    error:
      summary.error === undefined ? null : { code: summary.error.code, message: summary.error.message, hint: summary.error.hint ?? null },
    categories: [],
  };
}

const WRITE_PIECE_CHARS = 256 * 1024;

/** Replaces the folder's last report, atomically. */
export async function writeLastReport(dataDir: string, last: LastReport): Promise<void> {
  // In pieces: 10 categories of 1,000 items is a couple of MB.
  const file = lastReportFile(dataDir, last.folder);
  await migrateHistoryNames(dataDir);
  const { categories, ...head } = last;
  // Pieces of up to WRITE_PIECE_CHARS: the usual report (a few categories, or none) is one write.
  const pieces = function* (): Generator<string> {
    let piece = `${JSON.stringify(head).slice(0, -1)},"categories":[`;
    for (let i = 0; i < categories.length; i++) {
      if (piece.length >= WRITE_PIECE_CHARS) {
        yield piece;
        piece = '';
      }
      piece += `${i > 0 ? ',' : ''}${JSON.stringify(categories[i])}`;
    }
    yield `${piece}]}\n`;
  };
  await writeFileAtomic(file, pieces());
}

/** The folder's last report; null when no run was recorded yet. A damaged file is a LastReportError (the next run replaces it). */
export async function readLastReport(dataDir: string, folderId: string): Promise<LastReport | null> {
  const file = lastReportFile(dataDir, folderId);
  await migrateHistoryNames(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return null;
    throw new LastReportError(
      'E_LAST_REPORT_READ',
      file,
      `cannot read the last report of "${folderId}" (${file}): ${errnoCode(err) ?? String(err)}`,
      "Check the permissions of synker's data directory.",
      err,
    );
  }
  let parsed: LastReport;
  try {
    parsed = JSON.parse(text) as LastReport;
  } catch (err) {
    throw damaged(file, folderId, (err as Error).message, err);
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    parsed.version !== LAST_REPORT_VERSION ||
    parsed.folder !== folderId ||
    typeof parsed.at !== 'string' ||
    !Array.isArray(parsed.categories)
  )
    throw damaged(file, folderId, 'unexpected format');
  return parsed;
}

function damaged(file: string, folderId: string, why: string, cause?: unknown): LastReportError {
  return new LastReportError(
    'E_LAST_REPORT_DAMAGED',
    file,
    `the last report of "${folderId}" (${file}) is damaged (${why})`,
    `The next check of ${folderId} replaces it; run \`synker check ${folderId}\` to have one now.`,
    cause,
  );
}
