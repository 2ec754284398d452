/**
 * What a source learns from its backups: after each check or sync, the
 * backup tells the source's agent the verdict over the pinned session it ran
 * in (protocol `backup-verdict`), and the source keeps the latest one per
 * folder and per backup device in the schedule's state (state.ts,
 * `folders[id].backups[deviceId]`), under the same lock as every other
 * record there. `synker status` on the source reads it (status.ts).
 */
import type { BackupVerdictMessage, VerdictBy } from '../protocol/index.js';
import { verdictOf, type CheckReport } from '../report/model.js';
import { summarizeReport } from './check-process.js';
import { scheduleStateFile } from '../dirs/data-files.js';
import { formatDeviceId } from '../identity/device-id.js';
import { recordRunLogged } from './record.js';
import { ScheduleStateStore, laterVerified, noteRun, type CheckResultSummary } from './state.js';

/** A backup-verdict as sent: the message without its request number. */
export type ToldVerdict = Omit<BackupVerdictMessage, 'kind' | 'req'>;

/** What a backup tells its source about a finished check or sync (`by`: who ran what, as summarizeReport takes it). */
export function verdictToTell(report: CheckReport, by: VerdictBy): ToldVerdict {
  const summary = summarizeReport(report, by);
  const at = Date.parse(summary.at);
  const told: ToldVerdict = {
    folder: report.folderId,
    at: Number.isFinite(at) && at >= 0 ? at : Date.now(),
    status: summary.status,
    // One line, within the protocol's cap: the source shows it in a table.
    summary: oneLine(summary.summary),
    by: summary.by as VerdictBy,
  };
  if (summary.status !== 'error') {
    const verdict = verdictOf(report);
    told.differences = summary.status === 'complete' ? 0 : (summary.differences ?? verdict.failing);
    told.bytesMissing = summary.status === 'complete' ? 0 : (summary.bytesMissing ?? verdict.failingBytes);
    if (summary.fixed !== undefined) told.fixed = summary.fixed;
  } else if (summary.error !== undefined && /^[A-Z0-9_]{1,64}$/.test(summary.error.code)) {
    told.errorCode = summary.error.code;
  }
  return told;
}

const SUMMARY_CHARS = 300;

function oneLine(text: string): string {
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim() || '-';
  return flat.length > SUMMARY_CHARS ? `${flat.slice(0, SUMMARY_CHARS - 1)}…` : flat;
}

/** A told verdict as the source keeps it; its time is never later than when the source heard it (a fast clock there). */
export function toldSummary(verdict: ToldVerdict, now: number): CheckResultSummary {
  const result: CheckResultSummary = {
    status: verdict.status,
    at: new Date(Math.min(verdict.at, now)).toISOString(),
    summary: verdict.summary,
    by: verdict.by,
  };
  if (verdict.differences !== undefined) result.differences = verdict.differences;
  if (verdict.bytesMissing !== undefined) result.bytesMissing = verdict.bytesMissing;
  if (verdict.fixed !== undefined) result.fixed = verdict.fixed;
  if (verdict.errorCode !== undefined) result.error = { code: verdict.errorCode, message: verdict.summary };
  return result;
}

/**
 * Keeps what backup `deviceId` told this source about `folderId`: the latest
 * attempt and, when it compared the two, the latest verification (a later
 * one wins: verdicts may arrive out of order).
 */
export async function recordBackupVerdict(
  store: ScheduleStateStore,
  folderId: string,
  deviceId: string,
  verdict: ToldVerdict,
  now: number,
): Promise<CheckResultSummary> {
  const result = toldSummary(verdict, now);
  await store.update((state) => {
    const folder = state.folders[folderId] ?? { firstSeenAt: new Date(now).toISOString() };
    const backups = folder.backups ?? {};
    const backup = backups[deviceId] ?? { firstToldAt: new Date(now).toISOString() };
    backup.lastAttempt = laterVerified(backup.lastAttempt, result) ?? result;
    if (result.status !== 'error') backup.lastVerified = laterVerified(backup.lastVerified, result) ?? result;
    noteRun(backup, result);
    backups[deviceId] = backup;
    folder.backups = backups;
    state.folders[folderId] = folder;
  });
  return result;
}

/**
 * What the source agent does with a verdict its server accepted: keeps it in
 * the schedule state (durably, atomically, under the state's lock) and, at
 * the same time, makes it the folder's last report; once both are on disk it appends it to
 * the folder's check history with the backup machine as `device`
 * (record.ts, history.ts; a history that cannot be written is logged, the
 * verdict stays kept). Returns the record as kept, once all are on disk.
 */
export async function keepBackupVerdict(
  dataDir: string,
  folderId: string,
  device: { deviceId: string; name: string },
  verdict: ToldVerdict,
  now = Date.now(),
): Promise<CheckResultSummary> {
  const summary = toldSummary(verdict, now);
  // Kept in the schedule state, and, at the same time (other files, each written durably, so the backup's
  // wait for the ack is one disk wait, not three in turn), the folder's last report (its counts: the
  // backup's report stays there) and its history line; those two are logged when they cannot be written.
  // The history line last (recordRun's `before`): the page hears of the verdict from it and reads this state.
  const keeping = recordBackupVerdict(new ScheduleStateStore(scheduleStateFile(dataDir)), folderId, device.deviceId, verdict, now);
  const [kept] = await Promise.all([
    keeping,
    recordRunLogged(dataDir, { folderId, summary, device: { id: formatDeviceId(device.deviceId), name: device.name } }, now, {
      before: keeping,
    }),
  ]);
  return kept;
}
