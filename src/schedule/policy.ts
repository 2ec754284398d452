/**
 * What to tell the user after a scheduled check: a pure function of the
 * e-mail policy, what the agent remembers, and the new result. Kept apart from
 * the timer code so every rule is tested directly.
 *
 * - A verified backup (complete or with differences) is reported per policy:
 *   `always` every time; `on-difference` when there are differences, when a
 *   sync fixed something, and once more when it is complete again; `never`
 *   not at all.
 * - A failed check (source unreachable, backup disk missing, ...) sends
 *   nothing by itself, so hourly retries do not flood the inbox. When no check
 *   has succeeded for `staleAfter`, one "not verified since <date>" alert goes
 *   out; the first successful check after it sends one recovery mail carrying
 *   the result.
 */
import type { EmailPolicy } from '../config/schedule.js';
import type { CheckResultSummary, FolderScheduleState } from './state.js';

export type Notice =
  | { kind: 'report'; folderId: string; result: CheckResultSummary }
  /** `retryInMs`: how long after this attempt the next one comes (filled in by the scheduler, which knows the schedule). */
  | { kind: 'stale'; folderId: string; since: string; lastResult: CheckResultSummary; retryInMs?: number }
  | { kind: 'recovered'; folderId: string; since: string; result: CheckResultSummary };

export interface PolicySettings {
  email: EmailPolicy;
  staleAfterMs: number;
}

export function afterCheck(
  settings: PolicySettings,
  folderId: string,
  state: FolderScheduleState,
  result: CheckResultSummary,
  now: number,
): { state: FolderScheduleState; notices: Notice[] } {
  // The attempt is dated on the schedule's clock (the one `dueAt` reads), not by the check's report.
  const next: FolderScheduleState = { ...state, lastAttemptAt: new Date(now).toISOString(), lastResult: result };
  const notices: Notice[] = [];
  const since = state.lastVerified?.at ?? state.firstSeenAt;
  const mail = settings.email !== 'never';

  if (result.status === 'error') {
    const overdue = settings.staleAfterMs > 0 && now - Date.parse(since) >= settings.staleAfterMs;
    if (mail && overdue && state.staleAlertAt === undefined) {
      notices.push({ kind: 'stale', folderId, since, lastResult: result });
      next.staleAlertAt = new Date(now).toISOString();
      next.staleSince = since;
    }
    return { state: next, notices };
  }

  next.lastVerified = result;
  if (state.staleAlertAt !== undefined) {
    delete next.staleAlertAt;
    delete next.staleSince;
    if (mail) {
      // The recovery mail carries the result: no separate report on top of it. It names the "since" of the
      // alert: a check run by hand since then may have verified the backup (and moved lastVerified) already.
      notices.push({ kind: 'recovered', folderId, since: state.staleSince ?? since, result });
      next.lastMailedStatus = result.status;
      return { state: next, notices };
    }
  }
  const report =
    settings.email === 'always' ||
    (settings.email === 'on-difference' &&
      (result.status === 'differences' || (result.fixed ?? 0) > 0 || state.lastMailedStatus === 'differences'));
  if (report) {
    notices.push({ kind: 'report', folderId, result });
    next.lastMailedStatus = result.status;
  }
  return { state: next, notices };
}
