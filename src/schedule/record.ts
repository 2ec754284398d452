/**
 * A `synker check` or `synker sync` run by hand is a verification like a
 * scheduled one: each folder it compared with its source is recorded in the
 * schedule's state (state.ts), where `synker status` reads who verified the
 * backup and when. Recording is best effort: the check's own result stands
 * even when the state cannot be written (that is logged, with why).
 */
import { SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { scheduleStateFile } from '../dirs/data-files.js';
import type { CheckReport } from '../report/model.js';
import { summarizeReport } from './check-process.js';
import { ScheduleStateStore, recordVerification } from './state.js';

const log = createLogger('schedule');

/** Records every report that compared the backup with its source; returns how many were recorded. */
export async function recordManualRuns(dataDir: string, reports: readonly CheckReport[], now = Date.now()): Promise<number> {
  const store = new ScheduleStateStore(scheduleStateFile(dataDir));
  let recorded = 0;
  for (const report of reports) {
    try {
      if (await recordVerification(store, report.folderId, summarizeReport(report, 'manual'), now)) recorded++;
    } catch (err) {
      const hint = err instanceof SynkerError && err.hint !== undefined ? ` (${err.hint})` : '';
      log.warn(`could not record the check of "${report.folderId}" for synker status: ${(err as Error).message ?? String(err)}${hint}`);
    }
  }
  return recorded;
}
