/**
 * What synker remembers about the checks of each backup folder: when the
 * schedule last tried, when the backup was last verified (by a scheduled
 * check or sync, or by a `synker check` or `synker sync` run by hand) and
 * with what result, and whether a "not verified" alert is out. Kept in the
 * data directory (`schedule.json`), written atomically; `synker status`
 * reads it. The agent and the command line both write it: every change is a
 * read-modify-write under a cross-process lock (update()), so neither loses
 * the other's record. On a source, the agent keeps here what each backup
 * told it (`backups`, backup-verdicts.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../base/atomic-file.js';
import { SynkerError, errnoCode } from '../base/errors.js';
import { acquireLock } from '../state/lock.js';

export type CheckStatus = 'complete' | 'differences' | 'error';

/** Who compared the backup with its source: the agent's schedule, or a person running the command. */
export type VerifiedBy = 'scheduled-check' | 'scheduled-sync' | 'manual-check' | 'manual-sync';

/** `VerifiedBy` in words, for `synker status`. */
export const VERIFIED_BY_WORDS: Record<VerifiedBy, string> = {
  'scheduled-check': 'scheduled check',
  'scheduled-sync': 'scheduled sync',
  'manual-check': 'manual check',
  'manual-sync': 'manual sync',
};

export interface CheckResultSummary {
  status: CheckStatus;
  /** When the check finished (ISO). */
  at: string;
  /** One line a person understands: "12 files missing (340 MiB)", "source unreachable: ...". */
  summary: string;
  /** Differences that make the backup incomplete (complete: 0); after a sync, those it left. */
  differences?: number;
  /** The bytes of those differences (absent when the check could not be done, and in records written before synker said). */
  bytesMissing?: number;
  /** A scheduled sync: files and folders it fixed (copied, renamed, created, set, removed). */
  fixed?: number;
  peer?: string;
  error?: { code: string; message: string; hint?: string };
  /** Who ran it (absent in records written before synker said: those were the schedule's). */
  by?: VerifiedBy;
}

/**
 * What one backup machine told this source about a folder (a
 * `backup-verdict` over its pinned session): kept per folder and per backup
 * device in `folders[id].backups[deviceId]`, under the same lock as the
 * schedule's own records, so `synker status` on the source reads both from
 * one file.
 */
export interface BackupReportState {
  /** When this source first heard from the backup about the folder: "not verified since" before any verification. */
  firstToldAt: string;
  /** The latest check or sync it ran, whatever its status. */
  lastAttempt?: CheckResultSummary;
  /** The latest one that compared the backup with this source (complete or differences). */
  lastVerified?: CheckResultSummary;
  /** When a check it told of last found the folder complete; the first one after that did not (noteRun). */
  lastCompleteAt?: string;
  notCompleteSince?: string;
}

export interface FolderScheduleState {
  /** When the agent first scheduled this folder: the "not verified since" date before any success. */
  firstSeenAt: string;
  lastAttemptAt?: string;
  lastResult?: CheckResultSummary;
  /**
   * Last check that compared the backup with the source (complete or differences): scheduled or
   * run by hand (`by` says which). The latest one wins (laterVerified).
   */
  lastVerified?: CheckResultSummary;
  /** Set when the "not verified since" alert was queued; cleared by the recovery mail. */
  staleAlertAt?: string;
  /** The "since" the alert named: the recovery mail says it again, even if a manual check verified the backup meanwhile. */
  staleSince?: string;
  /** The status the last report mail told the user (on-difference policy: mail "complete" once after differences). */
  lastMailedStatus?: 'complete' | 'differences';
  /** A source folder: what each backup machine (by device ID) last told this source. */
  backups?: Record<string, BackupReportState>;
  /**
   * The latest run of any kind (scheduled or by hand; complete, differences or failed), kept where runs
   * are recorded (record.ts): a failed run after the last verification makes the verdict `failed`.
   */
  lastRun?: CheckResultSummary;
  /** When a run last found the backup complete (noteRun): "last complete 3 days ago". */
  lastCompleteAt?: string;
  /** The first run after the last complete one that did not find it complete (noteRun): "incomplete since 14:02". */
  notCompleteSince?: string;
}

export interface ScheduleState {
  version: 1;
  folders: Record<string, FolderScheduleState>;
}

export class ScheduleStateError extends SynkerError {
  constructor(message: string, hint: string, cause?: unknown) {
    super('E_SCHEDULE_STATE', message, { hint, cause });
  }
}

/** How long a writer waits for another one's read-modify-write (each takes milliseconds). */
const UPDATE_WAIT_MS = 30_000;

export class ScheduleStateStore {
  constructor(readonly file: string) {}

  /**
   * Reads the state, lets `change` edit it, and writes it back, holding a lock
   * that every writer (the agent's schedule, a `synker check` or `sync` run by
   * hand) takes for this: no writer replaces the file with a copy missing
   * another's change. Returns what `change` returned.
   */
  async update<T>(change: (state: ScheduleState) => T): Promise<T> {
    const lock = await acquireLock(`schedule-state:${path.resolve(this.file)}`, {
      purpose: 'recording a check',
      waitMs: UPDATE_WAIT_MS,
      description: this.file,
    });
    try {
      const state = await this.load();
      const result = change(state);
      await this.save(state);
      return result;
    } finally {
      await lock.release();
    }
  }

  async load(): Promise<ScheduleState> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { version: 1, folders: {} };
      throw new ScheduleStateError(
        `cannot read ${this.file}: ${errnoCode(err) ?? String(err)}`,
        "Check the permissions of synker's data directory.",
        err,
      );
    }
    try {
      const state = JSON.parse(text) as ScheduleState;
      if (state.version !== 1 || typeof state.folders !== 'object' || state.folders === null) throw new Error('unexpected format');
      return state;
    } catch (err) {
      throw new ScheduleStateError(
        `${this.file} is damaged (${(err as Error).message})`,
        'Move it away; synker starts a fresh schedule state (the next check runs at its scheduled time).',
        err,
      );
    }
  }

  async save(state: ScheduleState): Promise<void> {
    try {
      await writeFileAtomic(this.file, `${JSON.stringify(state, null, 2)}\n`);
    } catch (err) {
      throw new ScheduleStateError(
        `cannot write ${this.file}: ${errnoCode(err) ?? String(err)}`,
        "Check free disk space and the permissions of synker's data directory.",
        err,
      );
    }
  }
}

/** The later of two verifications (by their `at`); either may be absent. */
export function laterVerified(a: CheckResultSummary | undefined, b: CheckResultSummary | undefined): CheckResultSummary | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Date.parse(b.at) > Date.parse(a.at) ? b : a;
}

/**
 * Records a check or sync run by hand that compared the backup with its
 * source (`status` not `error`): `synker status` then shows it as the last
 * verification, with who ran it. A failed one is not a verification and is
 * not recorded (the schedule's own attempts and failures are its business).
 * The schedule's timing is left alone: its next check runs when it was due.
 */
export async function recordVerification(
  store: ScheduleStateStore,
  folderId: string,
  result: CheckResultSummary,
  now: number,
): Promise<boolean> {
  if (result.status === 'error') return false;
  await store.update((state) => {
    const folder = state.folders[folderId] ?? { firstSeenAt: new Date(now).toISOString() };
    folder.lastVerified = laterVerified(folder.lastVerified, result) ?? result;
    state.folders[folderId] = folder;
  });
  return true;
}

/**
 * Since when the backup has (not) been complete, as each run is recorded,
 * so no request scans the history: a complete run sets `lastCompleteAt` and
 * ends `notCompleteSince`; the first run after it that is not complete
 * (differences or failed) starts `notCompleteSince`. Runs may be recorded
 * out of order: one older than what is kept changes nothing it should not.
 */
export function noteRun(target: { lastCompleteAt?: string; notCompleteSince?: string }, result: CheckResultSummary): void {
  const at = Date.parse(result.at);
  const lastComplete = target.lastCompleteAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(target.lastCompleteAt);
  if (result.status === 'complete') {
    if (at <= lastComplete) return;
    target.lastCompleteAt = result.at;
    if (target.notCompleteSince !== undefined && Date.parse(target.notCompleteSince) <= at) delete target.notCompleteSince;
    return;
  }
  if (at <= lastComplete) return;
  if (target.notCompleteSince === undefined || at < Date.parse(target.notCompleteSince)) target.notCompleteSince = result.at;
}
