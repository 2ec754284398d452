/**
 * `synker sync` for one backup folder, and what the agent's schedule calls
 * for a folder whose config says `sync: true`: a check (src/check/run.ts),
 * then, while its session with the source and the folder lock are still
 * held, the plan applied (run.ts). Never throws a SynkerError: a check that
 * could not be done, or a sync a guard stopped, comes back as an error with
 * exit code 2, so a scheduled run can report it.
 */
import { checkFolder, type CheckEnvironment, type CheckOptions } from '../check/run.js';
import { VerifiedHashes } from '../check/verified-store.js';
import { synkerDirs } from '../dirs/dirs.js';
import type { FolderConfig } from '../config/types.js';
import { parseAge } from '../config/validate.js';
import { rethrowIfBug, SynkerError } from '../base/errors.js';
import { realPath } from '../base/real-path.js';
import type { CheckReport } from '../report/model.js';
import { HashCache } from '../scan/hash-cache.js';
import { SyncGuardError } from './errors.js';
import { syncCheckedFolder, type SyncOptions, type SyncOutcome } from './run.js';
import { buildSyncReport } from './sync-report.js';
import type { VersionRetention } from './versions.js';

export interface SyncFolderOptions extends SyncOptions, Omit<CheckOptions, 'whileConnected' | 'sizeOnly' | 'fetchFiles' | 'lockPurpose'> {}

export interface SyncFolderResult {
  folderId: string;
  /**
   * The check that preceded the sync (with its own error when it could not
   * be done), and in its `sync` section what the sync did.
   */
  report: CheckReport;
  /** The plan and what was done; absent when the check failed or a guard stopped the run. */
  outcome?: SyncOutcome;
  /** Why nothing (or not everything) could be done. */
  error?: { code: string; message: string; hint: string | null };
  exitCode: 0 | 1 | 2;
}

/** The folder's `versions` setting as a retention policy. */
function retentionOf(folder: FolderConfig): VersionRetention | undefined {
  if (folder.versions === undefined) return undefined;
  const maxAgeMs = folder.versions.maxAge === undefined ? undefined : parseAge(folder.versions.maxAge);
  return {
    ...(maxAgeMs === undefined ? {} : { maxAgeMs }),
    ...(folder.versions.keep === undefined ? {} : { keepPerPath: folder.versions.keep }),
  };
}

export async function syncFolder(env: CheckEnvironment, folder: FolderConfig, options: SyncFolderOptions = {}): Promise<SyncFolderResult> {
  let outcome: SyncOutcome | undefined;
  let failure: SynkerError | undefined;
  const report = await checkFolder(env, folder, {
    ...options,
    sizeOnly: false, // a sync verifies every byte it copies against the source's hashes
    fetchFiles: !(options.dryRun ?? false),
    lockPurpose: 'sync', // a second sync or check is told it waits on a sync, not a check
    whileConnected: async ({ session, diff, report }) => {
      let cache: HashCache | undefined;
      try {
        cache = await HashCache.open(options.cacheDir ?? synkerDirs().cache, await realPath(folder.path));
        const retention = retentionOf(folder) ?? options.retention;
        const verified = options.dryRun === true ? undefined : await VerifiedHashes.open(env.state, folder.id, folder.path);
        outcome = await syncCheckedFolder({ folder, session, diff }, env.state, {
          ...options,
          hashCache: cache,
          ...(verified ? { verified } : {}),
          ...(retention ? { retention } : {}),
        });
        if (!outcome.dryRun && outcome.plan.stops.length > 0) failure = SyncGuardError.of(outcome.plan.stops);
      } catch (err) {
        rethrowIfBug(err);
        if (!(err instanceof SynkerError)) throw err;
        failure = err;
      } finally {
        await cache?.close();
      }
      // The report says what the sync did before the check tells the source about it (options.verdictFor).
      report.sync = buildSyncReport(
        report.differences,
        outcome,
        failure && !(failure instanceof SyncGuardError) ? errorInfo(failure) : undefined,
      );
    },
  });
  const result: SyncFolderResult = { folderId: folder.id, report, exitCode: 2 };
  if (outcome !== undefined) result.outcome = outcome;
  if (report.error !== null) result.error = report.error;
  else if (failure !== undefined) result.error = errorInfo(failure);
  if (result.error === undefined && outcome !== undefined) {
    result.exitCode = outcome.exitCode;
    if (outcome.result?.aborted)
      result.error = {
        code: outcome.result.aborted.code,
        message: outcome.result.aborted.message,
        hint: outcome.result.aborted.hint ?? null,
      };
  }
  // The check ran: the report says what the sync then did (or why it could not).
  if (report.error === null && report.sync === null)
    report.sync = buildSyncReport(report.differences, outcome, failure && !(failure instanceof SyncGuardError) ? result.error : undefined);
  // The exit code says what the report says: a run that leaves the backup incomplete (an extra it kept in
  // a folder that must be an exact mirror) does not exit 0 (report/model.ts verdictOf).
  if (result.exitCode === 0 && report.sync !== null && !report.sync.dryRun && !report.sync.complete) result.exitCode = 1;
  return result;
}

function errorInfo(err: SynkerError): { code: string; message: string; hint: string | null } {
  return { code: err.code, message: err.message, hint: err.hint ?? null };
}
