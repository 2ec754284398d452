/**
 * The status of every folder as `synker status`, the agent's status page
 * and its JSON API show it: role, peers, the last scheduled check, the last
 * verification (scheduled or by hand: `lastVerified.by`), the next check,
 * a folder that is absent, and the outbox. One collection, so the terminal
 * and the page never tell two stories; needsAttention() is the one rule of
 * "something needs a person".
 */
import { shortDeviceId } from '../identity/device-id.js';
import type { FolderConfig, SynkerConfig } from '../config/types.js';
import { Outbox } from '../mail/outbox.js';
import { outboxDir, scheduleStateFile } from '../dirs/data-files.js';
import { nextCheckAt } from './scheduler.js';
import { createCron, type ScheduleSettings } from '../config/schedule.js';
import { scheduleSettingsOf } from '../config/settings.js';
import { ScheduleStateStore, type CheckResultSummary, type FolderScheduleState } from './state.js';
import { verifyFolderRoot } from '../config/folder-marker.js';
import { SynkerError } from '../base/errors.js';

export interface FolderStatus {
  id: string;
  role: FolderConfig['role'];
  path: string;
  peers: string[];
  lastCheck: CheckResultSummary | null;
  lastVerified: CheckResultSummary | null;
  /** ISO time of the next scheduled check (backup folders). */
  nextCheck: string | null;
  /** The next check's slot already passed: it runs soon after the agent starts or wakes. */
  overdue: boolean;
  /** A "not verified since" alert is out. */
  staleAlertAt: string | null;
  /** Why the folder cannot be used now (absent: an unmounted disk; another folder's marker; unreadable), or null. */
  problem: { code: string; message: string; hint: string | null } | null;
  /** The one word for the folder (folderVerdict): what `synker status` and the page say. */
  verdict: Verdict;
}

/**
 * The folder's state in one word, the same in the terminal, on the page and
 * in the API (docs/api.md): `absent` the folder is not there; `stale` the
 * "not verified since" alert stands; `failed` the last check could not
 * compare and nothing verified the backup since; `not-verified` no check ever
 * compared it; `incomplete` / `complete` what the last verification found.
 */
export type Verdict = 'complete' | 'incomplete' | 'failed' | 'not-verified' | 'stale' | 'absent';

/** From worst to best: a source folder says the worst of what its backups told it. */
export const VERDICT_ORDER: readonly Verdict[] = ['absent', 'stale', 'failed', 'incomplete', 'not-verified', 'complete'];

/** What the folder's records say, as one Verdict (backups: what each backup machine told a source folder). */
export function folderVerdict(
  f: Pick<FolderStatus, 'role' | 'lastCheck' | 'lastVerified' | 'staleAlertAt' | 'problem'> & {
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
  if (f.lastCheck !== null && f.lastCheck.status === 'error' && !supersedes(f.lastVerified, f.lastCheck.at)) return 'failed';
  if (f.lastVerified === null) return 'not-verified';
  return f.lastVerified.status === 'complete' ? 'complete' : 'incomplete';
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
      nextCheck,
      overdue,
      staleAlertAt: fs?.staleAlertAt ?? null,
      problem: problems[index] ?? null,
    };
    return { ...status, verdict: folderVerdict(status) };
  });
  return {
    folders,
    outbox: { waiting: waiting.length, oldest: waiting[0]?.createdAt ?? null, damaged: damaged.length },
    schedule: { check: settings.check, timezone: settings.timezone ?? null, email: settings.email },
  };
}

/** A check that verified the backup after the last scheduled attempt (or after the alert) answers for it. */
function supersedes(verified: CheckResultSummary | null, at: string | null | undefined): boolean {
  return verified !== null && at != null && Date.parse(verified.at) > Date.parse(at);
}

/** The "not verified since" alert is out and no check verified the backup since it went out. */
export function alertStands(f: Pick<FolderStatus, 'staleAlertAt' | 'lastVerified'>): boolean {
  return f.staleAlertAt !== null && !supersedes(f.lastVerified, f.staleAlertAt);
}

export function needsAttention(status: Pick<StatusReport, 'outbox'> & { folders: ReadonlyArray<Omit<FolderStatus, 'verdict'>> }): boolean {
  return (
    status.outbox.waiting > 0 ||
    status.outbox.damaged > 0 ||
    status.folders.some((f) => f.problem !== null) ||
    status.folders.some(
      (f) =>
        f.role === 'backup' &&
        // The last scheduled check failing counts at once, not only once the stale alert is out (days later),
        // unless a later check (one run by hand) verified the backup since.
        (alertStands(f) ||
          f.lastVerified === null ||
          f.lastVerified.status !== 'complete' ||
          (f.lastCheck !== null && f.lastCheck.status !== 'complete' && !supersedes(f.lastVerified, f.lastCheck.at))),
    )
  );
}
