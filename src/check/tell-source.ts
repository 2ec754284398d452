/**
 * What a backup tells its source about a check (protocol `backup-verdict`,
 * docs/protocol.md): the verdict of a check that reached the source, over
 * the session it ran in; and a check that failed on the backup's side before
 * the source was reached (the backup folder is not there), over a session
 * opened only for that. Best effort both: the check's result, exit code and
 * error stand whatever happens here, and a failure to tell is logged.
 */
import { SynkerError, rethrowIfBug } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { formatDuration } from '../base/units.js';
import { FolderMarkerError } from '../config/folder-marker.js';
import { PeerError, type BackupVerdict, type PeerSession } from '../peer/index.js';
import type { CheckReport } from '../report/model.js';
import { label } from './no-source.js';
import { reachSource, type ReachInput } from './find-source.js';

const log = createLogger('check');

/** Who decides what the source is told (a person's check, the schedule's); undefined: tell nothing. */
export type VerdictFor = ((report: CheckReport) => BackupVerdict | undefined) | undefined;

/**
 * Tells the source what the check found, over the session it ran in. A
 * refusal (the source's error frame) is news, logged as a warning; a session
 * that broke (the check then failed on it, and says so), or an older source
 * that keeps no verdicts, is not.
 */
export async function tellSource(session: PeerSession, report: CheckReport, verdictFor: VerdictFor): Promise<void> {
  const verdict = verdictFor?.(report);
  if (verdict === undefined) return;
  try {
    if (await session.tellVerdict(verdict)) log.debug(`"${report.folderId}": told ${session.remote.name} the verdict (${verdict.status})`);
    else log.debug(`"${report.folderId}": ${session.remote.name} (${session.remote.software}) keeps no verdicts of its backups`);
  } catch (err) {
    rethrowIfBug(err);
    const code = err instanceof SynkerError ? `${err.code} ` : '';
    (err instanceof PeerError && err.remote ? log.warn : log.debug).call(
      log,
      `could not tell ${session.remote.name} what the check of "${report.folderId}" found: ${code}${(err as Error).message}`,
    );
  }
}

/**
 * Whether a check that failed before the source was reached failed on
 * something the source should hear of: the backup folder itself could not
 * be vouched for (config/folder-marker.ts: the root absent or not a folder,
 * an unmounted disk, the marker gone, damaged, unreadable or another
 * folder's, synker's own folder a link). That is a verdict about the backup
 * as much as a check that found files missing. The other early failures are
 * not: the folder lock taken by another check or sync on this machine (that
 * run tells its own verdict), a folder that is the source here, flags that
 * contradict each other, no source found (there is no one to tell).
 */
export function failsTheBackup(error: SynkerError): boolean {
  return error instanceof FolderMarkerError;
}

/**
 * Tells the source of `failed`'s folder that this check failed before it
 * was reached (failsTheBackup says which failures): the source is looked for
 * the way the check looks for it (reachSource: the same devices, addresses
 * and pinning), and told in a session opened only for that (no manifest
 * asked for, nothing scanned on either side). The device that keeps it is
 * the source: one that holds the folder as a backup refuses it, and the
 * next is tried. Everything (the search, the connection, the source's ack)
 * ends within `reach.timeoutMs`. Never throws a SynkerError: a source that
 * cannot be reached is logged at debug and the check's failure stands as it is.
 */
export async function tellSourceUnreached(reach: ReachInput, failed: CheckReport, verdictFor: VerdictFor): Promise<void> {
  const verdict = verdictFor?.(failed);
  if (verdict === undefined) return;
  const folderId = failed.folderId;
  // One deadline for all of it: a check the source cannot hear of ends no later than its timeout says.
  const deadline = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    deadline.abort();
  }, reach.timeoutMs);
  const outer = reach.signal;
  const follow = (): void => deadline.abort(outer?.reason);
  if (outer?.aborted === true) follow();
  else outer?.addEventListener('abort', follow, { once: true });
  // Devices that answered without the backup-verdict feature (an older synker): told nothing.
  const older: string[] = [];
  try {
    const told = await reachSource({ ...reach, signal: deadline.signal }, async (session, device) => {
      // The ack is waited for no longer than the deadline: closing the session ends the wait.
      const close = (): void => void session.close().catch(() => undefined);
      deadline.signal.addEventListener('abort', close, { once: true });
      try {
        if (!(await session.tellVerdict(verdict))) {
          older.push(`${label(device)} (${session.remote.software})`);
          return 'elsewhere';
        }
        return { value: label(device) };
      } catch (err) {
        // A backup of the same folder is not its source: on to the next device.
        if (!(err instanceof PeerError && err.remote && err.code === 'E_VERDICT_NOT_SOURCE')) throw err;
        log.debug(`${label(device)} holds "${folderId}" as a backup, not as the source`);
        return 'elsewhere';
      } finally {
        deadline.signal.removeEventListener('abort', close);
        await session.close().catch(() => undefined);
      }
    });
    log.debug(`"${folderId}": told ${told} that the check failed before reaching it (${verdict.errorCode ?? verdict.status})`);
  } catch (err) {
    rethrowIfBug(err);
    const why = timedOut
      ? `not done within ${formatDuration(reach.timeoutMs)} (the check's timeout)`
      : older.length > 0
        ? `${older.join(', ')} keeps no verdicts of its backups`
        : err instanceof SynkerError
          ? `${err.code} ${err.message}`
          : String(err);
    log.debug(`"${folderId}": the source was not told that the check failed: ${why}`);
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', follow);
  }
}
