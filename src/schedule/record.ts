/**
 * Recording a check or sync that ended, in every place it is kept:
 * - the folder's last report and its history (last-report.ts, history.ts),
 *   for every run: scheduled (scheduler.ts through backup-schedule.ts), done
 *   by the agent for a `synker check` (the CLI records what the agent sends
 *   back, as for a check it ran itself), or run by the CLI alone; failed ones
 *   too. The report goes first, so whoever hears of the history record
 *   (history-feed.ts) reads the report of that run;
 * - a `synker check` or `synker sync` run by hand is also a verification like
 *   a scheduled one: each folder it compared with its source is recorded in
 *   the schedule's state (state.ts), where `synker status` reads who verified
 *   the backup and when (the schedule records its own runs there itself).
 * - every run of a backup folder (scheduled or by hand, failed ones too) is
 *   also this folder's `lastRun` in the schedule's state, with since when the
 *   backup has (not) been complete (noteRun): the one record folderVerdict
 *   reads, so a failed run by hand says `failed` as a scheduled one does.
 *   (On a source, backup-verdicts.ts keeps the same per backup machine.)
 * Recording is best effort: the check's own result stands even when a file
 * cannot be written (that is logged, with why).
 */
import { SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { scheduleStateFile } from '../dirs/data-files.js';
import type { CheckReport } from '../report/model.js';
import { summarizeReport } from './check-process.js';
import { appendHistory, historyRecordOf, type HistoryDevice } from './history.js';
import { lastReportOf, lastReportOfSummary, writeLastReport } from './last-report.js';
import { ScheduleStateStore, laterVerified, noteRun, recordVerification, type CheckResultSummary, type VerifiedBy } from './state.js';

const log = createLogger('schedule');

export interface RunToRecord {
  folderId: string;
  summary: CheckResultSummary;
  /** The run's report; absent when it ended without one (its process died or could not start). */
  report?: CheckReport;
  /** Who ran it, when the summary does not say (a failure without a report). */
  by?: VerifiedBy;
  /** On a source: the backup machine that told this one (the report, when any, is that machine's). */
  device?: HistoryDevice;
}

/**
 * Writes the run's last report and its `lastRun` in the schedule state (two
 * files apart, at once), and then, last, adds it to the folder's history:
 * the history line is what the page's live update hears of (history-feed.ts),
 * so by then this run's report and verdict must be on disk. `before`: another
 * write of the same run (the verification by hand, a source's record of its
 * backup) the history line also waits for. Throws the first write's error
 * (after trying all); callers log it and go on.
 */
export async function recordRun(
  dataDir: string,
  run: RunToRecord,
  now = Date.now(),
  { before }: { before?: Promise<unknown> } = {},
): Promise<void> {
  const by = run.summary.by ?? run.by ?? 'scheduled-check';
  const report = run.report;
  const durationMs = report === undefined ? undefined : Date.parse(report.finishedAt) - Date.parse(report.startedAt);
  const written = await Promise.allSettled([
    writeLastReport(
      dataDir,
      report === undefined ? lastReportOfSummary(run.folderId, run.summary, by) : lastReportOf(report, run.summary, by),
    ),
    run.device !== undefined
      ? Promise.resolve()
      : new ScheduleStateStore(scheduleStateFile(dataDir)).update((state) => {
          const folder = state.folders[run.folderId] ?? { firstSeenAt: new Date(now).toISOString() };
          const summary: CheckResultSummary = { ...run.summary, by };
          folder.lastRun = laterVerified(folder.lastRun, summary) ?? summary;
          noteRun(folder, summary);
          state.folders[run.folderId] = folder;
        }),
    // Its own failure is its caller's to report; here it only has to have ended.
    before ?? Promise.resolve(),
  ]);
  let failure: unknown = written.slice(0, 2).find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
  try {
    await appendHistory(
      dataDir,
      run.folderId,
      historyRecordOf(run.summary, {
        by,
        ...(durationMs !== undefined ? { durationMs } : {}),
        ...(run.device !== undefined ? { device: run.device } : {}),
      }),
      now,
    );
  } catch (err) {
    failure ??= err;
  }
  if (failure !== undefined) throw failure;
}

/** recordRun, logging instead of throwing: a run's result stands whether or not it could be recorded. */
export async function recordRunLogged(
  dataDir: string,
  run: RunToRecord,
  now = Date.now(),
  options: { before?: Promise<unknown> } = {},
): Promise<boolean> {
  try {
    await recordRun(dataDir, run, now, options);
    return true;
  } catch (err) {
    log.warn(
      `could not record the ${run.summary.by?.endsWith('sync') ? 'sync' : 'check'} of "${run.folderId}" in its history: ${describe(err)}`,
    );
    return false;
  }
}

function describe(err: unknown): string {
  const hint = err instanceof SynkerError && err.hint !== undefined ? ` (${err.hint})` : '';
  return `${(err as Error).message ?? String(err)}${hint}`;
}

/**
 * Records every report of a run by hand: its history and last report, and,
 * when it compared the backup with its source, the verification. Returns how
 * many verifications were recorded.
 */
export async function recordManualRuns(
  dataDir: string,
  reports: readonly CheckReport[],
  run: 'check' | 'sync',
  now = Date.now(),
): Promise<number> {
  const store = new ScheduleStateStore(scheduleStateFile(dataDir));
  let recorded = 0;
  for (const report of reports) {
    const summary = summarizeReport(report, `manual-${run}`);
    // Two files apart (schedule.json; the history folder), each written durably: at once, the history line
    // last (recordRun's `before`): the page hears of the run from it and must read the verification.
    const verification = recordVerification(store, report.folderId, summary, now).then(
      (done) => {
        if (done) recorded++;
      },
      (err: unknown) => log.warn(`could not record the check of "${report.folderId}" for synker status: ${describe(err)}`),
    );
    await Promise.all([
      verification,
      recordRunLogged(dataDir, { folderId: report.folderId, summary, report }, now, { before: verification }),
    ]);
  }
  return recorded;
}
