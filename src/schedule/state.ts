/**
 * What the backup agent remembers about its scheduled checks, per folder:
 * when it last tried, when it last verified the backup and with what result,
 * and whether a "not verified" alert is out. Kept in the data directory
 * (`schedule.json`), written atomically; `synker status` reads it.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../base/atomic-file.js';
import { SynkerError, errnoCode } from '../base/errors.js';

export type CheckStatus = 'complete' | 'differences' | 'error';

export interface CheckResultSummary {
  status: CheckStatus;
  /** When the check finished (ISO). */
  at: string;
  /** One line a person understands: "12 files missing (340 MB)", "source unreachable: ...". */
  summary: string;
  /** Differences that make the backup incomplete (complete: 0); after a sync, those it left. */
  differences?: number;
  /** A scheduled sync: files and folders it fixed (copied, renamed, created, set, removed). */
  fixed?: number;
  peer?: string;
  error?: { code: string; message: string; hint?: string };
}

export interface FolderScheduleState {
  /** When the agent first scheduled this folder: the "not verified since" date before any success. */
  firstSeenAt: string;
  lastAttemptAt?: string;
  lastResult?: CheckResultSummary;
  /** Last check that compared the backup with the source (complete or differences). */
  lastVerified?: CheckResultSummary;
  /** Set when the "not verified since" alert was queued; cleared by the recovery mail. */
  staleAlertAt?: string;
  /** The status the last report mail told the user (on-difference policy: mail "complete" once after differences). */
  lastMailedStatus?: 'complete' | 'differences';
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

export class ScheduleStateStore {
  constructor(readonly file: string) {}

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
