/**
 * The status of every folder as `synker status`, the agent's status page
 * and its JSON API show it: role, peers, the last scheduled check, the last
 * verification (scheduled or by hand: `lastVerified.by`), the next check,
 * a folder that is absent, and the outbox. One collection, so the terminal
 * and the page never tell two stories; needsAttention() is the one rule of
 * "something needs a person".
 */
import { formatDeviceId, shortDeviceId } from '../identity/device-id.js';
import type { FolderConfig, SynkerConfig } from '../config/types.js';
import { Outbox } from '../mail/outbox.js';
import { outboxDir, scheduleStateFile } from '../dirs/data-files.js';
import { nextCheckAt } from './scheduler.js';
import { createCron, type ScheduleSettings } from '../config/schedule.js';
import { scheduleSettingsOf } from '../config/settings.js';
import { ScheduleStateStore, laterVerified, type BackupReportState, type CheckResultSummary, type FolderScheduleState } from './state.js';
import { verifyFolderRoot } from '../config/folder-marker.js';
import { SynkerError } from '../base/errors.js';

export interface FolderStatus {
  id: string;
  role: FolderConfig['role'];
  path: string;
  peers: string[];
  lastCheck: CheckResultSummary | null;
  lastVerified: CheckResultSummary | null;
  /** The latest run of any kind (scheduled or by hand, failed ones too): a backup folder. */
  lastRun: CheckResultSummary | null;
  /** When a run last found the backup complete (a source: the latest of its backups'), or null: never. */
  lastCompleteAt: string | null;
  /** Not complete (incomplete, failed, stale, not verified): since when, as best known; null when complete. */
  notCompleteSince: string | null;
  /** ISO time of the next scheduled check (backup folders). */
  nextCheck: string | null;
  /** The next check's slot already passed: it runs soon after the agent starts or wakes. */
  overdue: boolean;
  /** A "not verified since" alert is out. */
  staleAlertAt: string | null;
  /** Why the folder cannot be used now (absent: an unmounted disk; another folder's marker; unreadable), or null. */
  problem: { code: string; message: string; hint: string | null } | null;
  /**
   * A source folder: what each backup machine it is shared with last told
   * this source (backup-verdicts.ts), latest verification first; [] on a
   * backup folder, and on a source no backup has told anything yet.
   */
  backups: BackupStatus[];
  /** The one word for the folder (folderVerdict): what `synker status` and the page say. */
  verdict: Verdict;
}

/**
 * The folder's state in one word, the same in the terminal, on the page and
 * in the API (docs/api.md): `absent` the folder is not there; `stale` the
 * "not verified since" alert stands; `failed` the last run of any kind
 * (scheduled or by hand) could not compare and nothing verified the backup
 * since; `not-verified` no check ever
 * compared it; `incomplete` / `complete` what the last verification found.
 */
export type Verdict = 'complete' | 'incomplete' | 'failed' | 'not-verified' | 'stale' | 'absent';

/** From worst to best: a source folder says the worst of what its backups told it. */
export const VERDICT_ORDER: readonly Verdict[] = ['absent', 'stale', 'failed', 'incomplete', 'not-verified', 'complete'];

/** What the folder's records say, as one Verdict (backups: what each backup machine told a source folder). */
export function folderVerdict(
  f: Pick<FolderStatus, 'role' | 'lastCheck' | 'lastVerified' | 'staleAlertAt' | 'problem'> & {
    lastRun?: CheckResultSummary | null;
    backups?: ReadonlyArray<{ verdict: Verdict }>;
  },
): Verdict {
  if (f.problem !== null) return 'absent';
  if (f.role === 'source') {
    // A source is checked by its backups: it knows only what they told it.
    const told = (f.backups ?? []).map((b) => VERDICT_ORDER.indexOf(b.verdict));
    return told.length === 0 ? 'not-verified' : VERDICT_ORDER[Math.min(...told)]!;
  }
  if (alertStands(f)) return 'stale';
  if (lastFailed(f)) return 'failed';
  if (f.lastVerified === null) return 'not-verified';
  return f.lastVerified.status === 'complete' ? 'complete' : 'incomplete';
}

/** The latest run (the schedule's last check, or `lastRun`: any run, by hand too) failed, and nothing verified the backup since. */
export function lastFailed(f: {
  lastCheck: CheckResultSummary | null;
  lastVerified: CheckResultSummary | null;
  lastRun?: CheckResultSummary | null;
}): boolean {
  const last = laterVerified(f.lastCheck ?? undefined, f.lastRun ?? undefined);
  return last !== undefined && last.status === 'error' && !supersedes(f.lastVerified, last.at);
}

/** One backup machine of a source folder, as it told this source. */
export interface BackupStatus {
  /** `id` as `synker id` prints it; `name` as this machine trusts it. */
  device: { id: string; name: string };
  lastVerified: CheckResultSummary | null;
  /** The latest check or sync it told of, whatever its status. */
  lastAttempt: CheckResultSummary | null;
  lastCompleteAt: string | null;
  notCompleteSince: string | null;
  /** No verification within the schedule's `staleAfter` (since the last one, or since the backup first reported). */
  stale: boolean;
  verdict: Verdict;
}

export interface StatusReport {
  folders: FolderStatus[];
  /** `damaged`: message files that cannot be read, so will never be sent (kept for a person to look at). */
  outbox: { waiting: number; oldest: string | null; damaged: number };
  schedule: { check: string; timezone: string | null; email: ScheduleSettings['email'] };
}

export async function collectStatus(config: SynkerConfig, dataDir: string, now: number): Promise<StatusReport> {
  const settings = scheduleSettingsOf(config);
  const cron = createCron(settings.check, settings.timezone);
  const state = await new ScheduleStateStore(scheduleStateFile(dataDir)).load();
  const { entries: waiting, damaged } = await new Outbox(outboxDir(dataDir)).inspect();
  const names = new Map(config.trusted.map((d) => [d.deviceId, d.name ?? shortDeviceId(d.deviceId)]));
  // The folder as it is now, as check and sync would find it: an unmounted disk is said here too.
  const problems = await Promise.all(
    config.folders.map(async (folder): Promise<FolderStatus['problem']> => {
      try {
        await verifyFolderRoot(folder.path, folder.id);
        return null;
      } catch (err) {
        if (!(err instanceof SynkerError)) throw err;
        return { code: err.code, message: err.message, hint: err.hint ?? null };
      }
    }),
  );
  const folders = config.folders.map((folder, index): FolderStatus => {
    const fs: FolderScheduleState | undefined = state.folders[folder.id];
    let nextCheck: string | null = null;
    let overdue = false;
    if (folder.role === 'backup') {
      // Without a running agent to say when it woke, compute the plain schedule; a passed slot is "overdue".
      const due = nextCheckAt(cron, settings, fs ?? { firstSeenAt: new Date(now).toISOString() }, Number.NEGATIVE_INFINITY);
      overdue = due <= now;
      nextCheck = Number.isFinite(due) ? new Date(due).toISOString() : null;
    }
    const status: Omit<FolderStatus, 'verdict'> = {
      id: folder.id,
      role: folder.role,
      path: folder.path,
      peers: folder.shareWith.map((id) => names.get(id) ?? shortDeviceId(id)),
      lastCheck: fs?.lastResult ?? null,
      lastVerified: fs?.lastVerified ?? null,
      lastRun: fs?.lastRun ?? null,
      lastCompleteAt: null,
      notCompleteSince: null,
      nextCheck,
      overdue,
      staleAlertAt: fs?.staleAlertAt ?? null,
      problem: problems[index] ?? null,
      backups:
        folder.role === 'source'
          ? backupsOf(fs, folder.shareWith, (id) => names.get(id) ?? shortDeviceId(id), settings.staleAfterMs, now)
          : [],
    };
    const verdict = folderVerdict(status);
    return { ...status, ...sinceWhen(status, fs, verdict), verdict };
  });
  return {
    folders,
    outbox: { waiting: waiting.length, oldest: waiting[0]?.createdAt ?? null, damaged: damaged.length },
    schedule: { check: settings.check, timezone: settings.timezone ?? null, email: settings.email },
  };
}

/**
 * The backups of a source folder that told it something, for the devices it
 * is still shared with (a device no longer shared is no backup of it), the
 * latest verification first.
 */
function backupsOf(
  fs: FolderScheduleState | undefined,
  shareWith: readonly string[],
  nameOf: (deviceId: string) => string,
  staleAfterMs: number,
  now: number,
): BackupStatus[] {
  const told = fs?.backups ?? {};
  return shareWith
    .filter((id) => Object.hasOwn(told, id))
    .map((id) => backupStatus(id, nameOf(id), told[id]!, staleAfterMs, now))
    .sort(
      (a, b) =>
        (b.lastVerified === null ? 0 : Date.parse(b.lastVerified.at)) - (a.lastVerified === null ? 0 : Date.parse(a.lastVerified.at)),
    );
}

/** One backup's verdict on a source folder: the one rule, for the terminal, the page and the API. */
export function backupStatus(deviceId: string, name: string, told: BackupReportState, staleAfterMs: number, now: number): BackupStatus {
  const lastVerified = told.lastVerified ?? null;
  const since = Date.parse(lastVerified?.at ?? told.firstToldAt);
  const stale = now - since > staleAfterMs;
  const attempt = told.lastAttempt;
  const failedSince = attempt !== undefined && attempt.status === 'error' && !supersedes(lastVerified, attempt.at);
  const verdict: Verdict = stale
    ? 'stale'
    : failedSince
      ? 'failed'
      : lastVerified === null
        ? 'not-verified'
        : lastVerified.status === 'complete'
          ? 'complete'
          : 'incomplete';
  const sinceWords = sinceWhenOf(verdict, told.lastCompleteAt, told.notCompleteSince, lastVerified, attempt ?? null, told.firstToldAt);
  return { device: { id: formatDeviceId(deviceId), name }, lastVerified, lastAttempt: attempt ?? null, ...sinceWords, stale, verdict };
}

/**
 * Since when a folder has (not) been complete: kept as runs are recorded
 * (state.ts noteRun); for records written before synker kept it, the best
 * the records say (the last complete verification; the first record that
 * is not complete). A source: each backup has its own (backups[]); the
 * folder's are the newest "last complete" when all are complete, else the
 * oldest "not complete since" of those that are not (lastCompleteAt null).
 */
function sinceWhen(
  f: Omit<FolderStatus, 'verdict'>,
  fs: FolderScheduleState | undefined,
  verdict: Verdict,
): Pick<FolderStatus, 'lastCompleteAt' | 'notCompleteSince'> {
  if (f.role === 'source') {
    const completes = f.backups.map((b) => b.lastCompleteAt).filter((t): t is string => t !== null);
    const notSince = f.backups.map((b) => b.notCompleteSince).filter((t): t is string => t !== null);
    // Complete as a whole since the last of its backups' complete runs, when every backup's last word is complete;
    // otherwise not complete since the oldest "not complete since" of those that are not.
    return verdict === 'complete'
      ? { lastCompleteAt: completes.sort().at(-1) ?? null, notCompleteSince: null }
      : { lastCompleteAt: null, notCompleteSince: notSince.sort()[0] ?? fs?.firstSeenAt ?? null };
  }
  const last = laterVerified(f.lastCheck ?? undefined, f.lastRun ?? undefined) ?? null;
  return sinceWhenOf(verdict, fs?.lastCompleteAt, fs?.notCompleteSince, f.lastVerified, last, fs?.firstSeenAt ?? null);
}

function sinceWhenOf(
  verdict: Verdict,
  lastCompleteAt: string | undefined,
  notCompleteSince: string | undefined,
  lastVerified: CheckResultSummary | null,
  lastRun: CheckResultSummary | null,
  firstSeenAt: string | null,
): Pick<FolderStatus, 'lastCompleteAt' | 'notCompleteSince'> {
  const complete = lastCompleteAt ?? (lastVerified?.status === 'complete' ? lastVerified.at : null);
  if (verdict === 'complete') return { lastCompleteAt: complete, notCompleteSince: null };
  // Not complete: since the first run after the last complete one; or since the last complete verification
  // (stale: it has not been shown complete since); or, never complete, since synker first knew the folder.
  const since =
    notCompleteSince ??
    (complete !== null && verdict === 'stale' ? complete : null) ??
    (lastVerified !== null && lastVerified.status !== 'complete' ? lastVerified.at : null) ??
    (lastRun !== null && lastRun.status !== 'complete' ? lastRun.at : null) ??
    complete ??
    firstSeenAt;
  return { lastCompleteAt: complete, notCompleteSince: since };
}

/** A check that verified the backup after the last scheduled attempt (or after the alert) answers for it. */
function supersedes(verified: CheckResultSummary | null, at: string | null | undefined): boolean {
  return verified !== null && at != null && Date.parse(verified.at) > Date.parse(at);
}

/** The "not verified since" alert is out and no check verified the backup since it went out. */
export function alertStands(f: Pick<FolderStatus, 'staleAlertAt' | 'lastVerified'>): boolean {
  return f.staleAlertAt !== null && !supersedes(f.lastVerified, f.staleAlertAt);
}

export function needsAttention(
  status: Pick<StatusReport, 'outbox'> & {
    folders: ReadonlyArray<
      Omit<FolderStatus, 'verdict' | 'lastRun' | 'lastCompleteAt' | 'notCompleteSince'> & { lastRun?: CheckResultSummary | null }
    >;
  },
): boolean {
  return (
    status.outbox.waiting > 0 ||
    status.outbox.damaged > 0 ||
    status.folders.some((f) => f.problem !== null) ||
    // A source: one of its backups has not verified it within staleAfter, found it incomplete, or its last check failed (its verdict: failed).
    status.folders.some(
      (f) => f.role === 'source' && f.backups.some((b) => b.stale || b.verdict === 'incomplete' || b.verdict === 'failed'),
    ) ||
    status.folders.some(
      (f) =>
        f.role === 'backup' &&
        // The last scheduled check failing counts at once, not only once the stale alert is out (days later),
        // unless a later check (one run by hand) verified the backup since.
        (alertStands(f) ||
          f.lastVerified === null ||
          f.lastVerified.status !== 'complete' ||
          (f.lastCheck !== null && f.lastCheck.status !== 'complete' && !supersedes(f.lastVerified, f.lastCheck.at)) ||
          lastFailed(f)),
    )
  );
}
