/**
 * One line of a folder's check history (history.ts): the record of a check
 * or sync that ended, what it says, and how a line is read back, a torn or
 * damaged one giving no record rather than an error.
 */
import { VERIFIED_BY_WORDS, type CheckResultSummary, type CheckStatus, type VerifiedBy } from './state.js';

/** The backup machine a source's record came from. */
export interface HistoryDevice {
  id: string;
  name: string;
}

export interface HistoryRecord {
  /** When the check or sync ended (ISO, UTC). */
  at: string;
  status: CheckStatus;
  /** Differences that make the backup incomplete (after a sync: those it left); null when nothing was compared (`error`). */
  differences: number | null;
  /** Their bytes; null when nothing was compared. */
  bytesMissing: number | null;
  /** A sync: files and folders it fixed. */
  fixed?: number;
  by: VerifiedBy;
  durationMs?: number;
  /** On a source: the backup machine that did the check and told this one. */
  device?: HistoryDevice;
  /** `error`: the error's code (CheckResultSummary.error has its words). */
  error?: string;
}

/** The record of a run, from the summary the schedule state keeps (and what the report adds). */
export function historyRecordOf(
  summary: CheckResultSummary,
  extra: { by?: VerifiedBy; durationMs?: number; device?: HistoryDevice } = {},
): HistoryRecord {
  const compared = summary.status !== 'error';
  const by = summary.by ?? extra.by ?? 'scheduled-check';
  return {
    at: summary.at,
    status: summary.status,
    differences: compared ? (summary.differences ?? 0) : null,
    bytesMissing: compared ? (summary.bytesMissing ?? null) : null,
    ...(summary.fixed !== undefined ? { fixed: summary.fixed } : {}),
    by,
    ...(extra.durationMs !== undefined && Number.isFinite(extra.durationMs) ? { durationMs: Math.max(0, extra.durationMs) } : {}),
    ...(extra.device !== undefined ? { device: extra.device } : {}),
    ...(summary.error !== undefined ? { error: summary.error.code } : {}),
  };
}

const STATUSES: ReadonlySet<string> = new Set<CheckStatus>(['complete', 'differences', 'error']);

function countOrNull(v: unknown): boolean {
  return v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
}

/** The record a line holds, or undefined for a torn or damaged line. */
export function parseHistoryLine(line: string): HistoryRecord | undefined {
  let r: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    r = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof r.at !== 'string' || !Number.isFinite(Date.parse(r.at))) return undefined;
  if (typeof r.status !== 'string' || !STATUSES.has(r.status)) return undefined;
  if (!countOrNull(r.differences) || !countOrNull(r.bytesMissing)) return undefined;
  if (typeof r.by !== 'string' || !Object.hasOwn(VERIFIED_BY_WORDS, r.by)) return undefined;
  if (r.fixed !== undefined && !(typeof r.fixed === 'number' && Number.isSafeInteger(r.fixed) && r.fixed >= 0)) return undefined;
  if (r.durationMs !== undefined && !(typeof r.durationMs === 'number' && Number.isFinite(r.durationMs) && r.durationMs >= 0))
    return undefined;
  if (r.error !== undefined && typeof r.error !== 'string') return undefined;
  let device: HistoryDevice | undefined;
  if (r.device !== undefined) {
    const d = r.device as Record<string, unknown> | null;
    if (typeof d !== 'object' || d === null || typeof d.id !== 'string' || typeof d.name !== 'string') return undefined;
    device = { id: d.id, name: d.name };
  }
  // Only the known fields, in one order: a line with more is read as the record it holds.
  return {
    at: r.at,
    status: r.status as CheckStatus,
    differences: r.differences as number | null,
    bytesMissing: r.bytesMissing as number | null,
    ...(r.fixed !== undefined ? { fixed: r.fixed as number } : {}),
    by: r.by as VerifiedBy,
    ...(r.durationMs !== undefined ? { durationMs: r.durationMs as number } : {}),
    ...(device !== undefined ? { device } : {}),
    ...(r.error !== undefined ? { error: r.error as string } : {}),
  };
}

/** Every line's record, in file order; `skipped` counts lines that hold none (torn, damaged). */
export function parseHistoryText(text: string): { records: HistoryRecord[]; skipped: number } {
  const records: HistoryRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const record = parseHistoryLine(line);
    if (record === undefined) skipped++;
    else records.push(record);
  }
  return { records, skipped };
}
