/**
 * One check of one backup folder, end to end: refuse an absent root, take
 * the folder's lock, find the source, stream its manifest while scanning the
 * local copy through the hash cache under the source's ignore rules, diff,
 * remember what was verified, and build the report. Used by `synker check`,
 * the agent's schedule and the e-mail reports alike.
 *
 * A check that cannot be done still returns a report (exit code 2, with the
 * error and what to do), so a scheduled check can say why it failed.
 */
import path from 'node:path';
import { keepsModes, platformKeepsModes } from '../base/mode-bits.js';
import { verifyFolderRoot } from '../config/folder-marker.js';
import type { Identity } from '../identity/identity.js';
import type { FolderConfig, SynkerConfig } from '../config/types.js';
import { diffManifests, type DiffResult } from '../diff/index.js';
import { DiscoveryLocator } from '../discovery/locator.js';
import type { BackupVerdict, PeerSession } from '../peer/index.js';
import { SynkerError, rethrowIfBug } from '../base/errors.js';
import { FEATURE_SCAN_OPTIONS } from '../protocol/index.js';
import { createLogger } from '../base/log.js';
import { buildFailedReport, buildReport, type CheckReport, type PeerFacts } from '../report/model.js';
import { ScanThread } from '../scan/index.js';
import type { AgentState } from '../state/agent-state.js';
import { CheckError } from './errors.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from './folders.js';
import { findSource, type ReachInput, type SourceLocator } from './find-source.js';
import { failsTheBackup, tellSource, tellSourceUnreached } from './tell-source.js';
import { TimedStream } from './timed.js';
import { VerifiedHashes } from './verified-store.js';
import { hiddenVerifiedFiles, mergeDifferences } from './hidden-by-ignore.js';
import { nameRulesOf } from '../manifest/storable.js';
import { MARKER_FILE } from '../manifest/layout.js';
import { ownDirKeysOf } from '../dirs/own-dirs.js';
import { markMetaDirAliases, markOwnDirs, markUnstorable } from './unstorable.js';
import { formatBytes, formatCount, formatDuration, plural } from '../base/units.js';

const log = createLogger('check');

export interface CheckEnvironment {
  config: SynkerConfig;
  identity: Identity;
  state: AgentState;
  locator: SourceLocator;
}

export interface CheckOptions {
  /** `--peer`: a trusted device (name, ID) or host:port. */
  peer?: string | undefined;
  /** Re-hash every file on both sides, ignoring the hash caches (bit rot); the source must speak `scan-options`. */
  verify?: boolean;
  /** No hashing on either side: compare sizes (weaker, documented); the verified hashes are left as they are. */
  sizeOnly?: boolean;
  /** Reaching the source (default 10 s); also the bound on telling it of a check that failed before. */
  timeoutMs?: number;
  mtimeToleranceMs?: number | 'auto';
  /** Hashing threads (default: the scanner's). */
  jobs?: number | undefined;
  /** Hash cache directory (default: the scanner's). */
  cacheDir?: string | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Runs after a successful diff, while the source's session and the folder
   * lock are still held (`synker sync` applies its plan here). It must not
   * throw a SynkerError it wants reported as a failed check.
   */
  whileConnected?: ((connected: ConnectedCheck) => Promise<void>) | undefined;
  /** `whileConnected` will fetch files of the source's manifest (sync): the source then indexes what it sends. */
  fetchFiles?: boolean | undefined;
  /**
   * What to tell the source about this check (or sync) once it is done,
   * over the session it ran in (the source agent keeps it for its own
   * `synker status`); undefined: tell nothing. Passed down by who knows who
   * ran it (the schedule, a person). Called with the final report, also
   * for a check that failed once the source was reached, and for one that
   * failed on the backup folder before (it is absent: the source is then
   * told in a session of its own, within `timeoutMs`; tell-source.ts).
   */
  verdictFor?: ((report: CheckReport) => BackupVerdict | undefined) | undefined;
  /**
   * Keeps the run on this machine (the caller's history, last report,
   * verification): called once for every report checkFolder returns, failed
   * ones too, before it returns. When the source was reached it runs while
   * the source is told the verdict: each waits on its own machine's disk, and
   * the check's end waits for the slower, not for both in turn. Must not
   * throw a SynkerError (a record that cannot be written is logged: the
   * check's result stands).
   */
  record?: ((report: CheckReport) => Promise<unknown>) | undefined;
  /** What the folder lock tells whoever finds it taken (default "check"; `synker sync` says "sync"). */
  lockPurpose?: 'check' | 'sync' | undefined;
}

/** What a finished check hands to `whileConnected`. */
export interface ConnectedCheck {
  folder: FolderConfig;
  /** The session with the source; the folder's manifest was sent in it. */
  session: PeerSession;
  diff: DiffResult;
  report: CheckReport;
}

/** Where to look for the sources: static peers, then (unless off) this machine's agents and mDNS on these interfaces (none: all). */
export interface SourceSearch {
  mdns: boolean;
  interfaces: readonly string[];
  /** Who named the interfaces, after "the" in messages (default `--interface`). */
  interfacesFlag?: string;
}

/**
 * Checks `folders` one after the other, looking for their sources through one
 * locator (static peers first; mDNS starts only if none of them is the
 * source): what `synker check` runs, in the CLI or in the agent for it.
 */
export async function checkFolders(
  env: Omit<CheckEnvironment, 'locator'>,
  folders: readonly FolderConfig[],
  options: CheckOptions,
  search: SourceSearch,
): Promise<CheckReport[]> {
  const locator = new DiscoveryLocator({ staticPeers: env.config.peers, ...search });
  try {
    const reports: CheckReport[] = [];
    for (const folder of folders) reports.push(await checkFolder({ ...env, locator }, folder, options));
    return reports;
  } finally {
    await locator.close();
  }
}

/** Checks one backup folder against its source. Never throws a SynkerError: failures are reports with exit code 2. */
export async function checkFolder(env: CheckEnvironment, folder: FolderConfig, options: CheckOptions = {}): Promise<CheckReport> {
  const startedAt = new Date();
  const source: PeerFacts = { name: null, deviceId: null, location: null, scan: null };
  const backup: PeerFacts = { name: env.config.name, deviceId: env.identity.deviceId, location: folder.path, scan: null };
  try {
    return await runLocked(env, folder, options, startedAt, source, backup);
  } catch (err) {
    rethrowIfBug(err);
    if (!(err instanceof SynkerError)) throw err;
    log.debug(`check of "${folder.id}" failed: ${err.code} ${err.message}`);
    const failed = buildFailedReport({ folderId: folder.id, startedAt, finishedAt: new Date(), source, backup, error: err });
    // Failed before the source was reached, on the backup folder itself (an unmounted disk): the source hears
    // of the attempt too, in a session of its own, while it is recorded here (tell-source.ts says which failures).
    const tell =
      source.deviceId === null && failsTheBackup(err)
        ? tellSourceUnreached(reachOf(env, folder, options), failed, options.verdictFor)
        : undefined;
    await Promise.all([tell, options.record?.(failed)]);
    return failed;
  }
}

/** How this check reaches the source (findSource's input without the manifest's part). */
function reachOf(env: CheckEnvironment, folder: FolderConfig, options: CheckOptions): ReachInput {
  return {
    config: env.config,
    folder,
    identity: env.identity,
    locator: env.locator,
    peer: options.peer,
    timeoutMs: options.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS,
    signal: options.signal,
  };
}

async function runLocked(
  env: CheckEnvironment,
  folder: FolderConfig,
  options: CheckOptions,
  startedAt: Date,
  source: PeerFacts,
  backup: PeerFacts,
): Promise<CheckReport> {
  if (folder.role !== 'backup') {
    throw new CheckError('E_CHECK_ROLE', `folder "${folder.id}" is the source on this machine: a check runs on the backup side`, {
      hint: `Run synker check ${folder.id} on the machine that holds the backup copy.`,
    });
  }
  const verify = options.verify ?? false;
  const sizeOnly = options.sizeOnly ?? false;
  if (verify && sizeOnly)
    throw new CheckError('E_CHECK_OPTIONS', 'verify (re-hash every file) and size-only (hash nothing) contradict each other', {
      hint: 'Use one of them.',
    });
  // An unmounted disk must never read as "every file is missing".
  await verifyFolderRoot(folder.path, folder.id);
  const lock = await env.state.acquireFolderLock(folder.id, { purpose: options.lockPurpose ?? 'check' });
  // The local scan's thread starts now, while the source is reached (the scan needs its ignore rules).
  const scanThread = new ScanThread();
  try {
    const found = await findSource({
      ...reachOf(env, folder, options),
      requestFiles: options.fetchFiles === true,
      scan: { ...(verify ? { verify: true } : {}), ...(sizeOnly ? { hash: false } : {}) },
      signal: options.signal,
    });
    source.name = found.device.name ?? found.session.remote.name;
    source.deviceId = found.device.deviceId;
    source.location = found.address;
    if ((verify || sizeOnly) && !found.session.remote.features.includes(FEATURE_SCAN_OPTIONS)) {
      if (verify) {
        await found.session.close().catch(() => undefined);
        // Half a verify would vouch for the source's cache: refuse rather than report it as re-read.
        throw new CheckError(
          'E_CHECK_VERIFY_UNSUPPORTED',
          `${source.name} runs ${found.session.remote.software}, which cannot re-hash its files on request (--verify)`,
          {
            hint: `Update synker on ${source.name}, or check without --verify.`,
          },
        );
      }
      log.debug(`${source.name} (${found.session.remote.software}) hashes anyway: --size-only saves only this side's reads`);
    }
    // A size-only check proves no content: it must neither use nor replace what earlier checks verified.
    const verified = sizeOnly ? undefined : await VerifiedHashes.open(env.state, folder.id, folder.path);
    try {
      const remote = new TimedStream(found.manifest, () => ({ startedAt: found.manifest.requestedAt, finishedAt: found.manifest.endedAt }));
      // The source's ignore rules govern both sides; the backup's own .synkerignore does not.
      // The local scan runs in a thread of its own: this one decodes and diffs the source's manifest meanwhile.
      const scan = scanThread.scan(folder.path, {
        hash: !sizeOnly,
        verify,
        extraIgnore: found.info.ignoreRules.join('\n'),
        useIgnoreFile: false,
        ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
        ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      const local = new TimedStream(scan, () => ({ finishedAt: scan.finishedAt }));
      const diff = await diffManifests(remote, local, {
        mtimeToleranceMs: options.mtimeToleranceMs ?? 'auto',
        // Only where both sides keep modes: not from Windows, not onto Windows or a FAT disk (base/mode-bits.ts).
        compareMode: found.info.modes && platformKeepsModes() && (await keepsModes(path.join(folder.path, MARKER_FILE))),
        ...(verified === undefined ? {} : { verified: verified.lookup, onMatch: verified.record }),
        // An exact mirror fails on what is only on the backup (docs/check.md, "What complete means").
        ...(folder.mirror === true ? { extrasFail: true } : {}),
      });
      await found.manifest.totals;
      markUnstorable(diff.differences, nameRulesOf());
      markMetaDirAliases(diff.differences, folder.path);
      markOwnDirs(diff.differences, ownDirKeysOf(folder.path, options.cacheDir === undefined ? [] : [options.cacheDir]));
      // Files verified before that the source's ignore rules now hide: never "complete" by leaving them out.
      // A size-only check reads the records for this (only), and neither uses nor replaces them otherwise.
      if (found.info.ignoreRules.length > 0) {
        const records = verified ?? (await VerifiedHashes.open(env.state, folder.id, folder.path));
        mergeDifferences(diff.differences, hiddenVerifiedFiles(records.paths(), found.info.ignoreRules, folder.path));
      }
      const st = scan.stats;
      log.debug(
        `"${folder.id}": local scan of ${plural(st.files, 'file')} in ${formatDuration(st.elapsedMs)}, ${formatCount(st.hashedFiles)} hashed (${formatBytes(st.hashedBytes)}), ` +
          `${formatCount(st.cachedFiles)} from the hash cache, ${formatCount(st.silentChanges)} changed silently; ${formatCount(diff.matchedFiles)} proven equal, ${plural(diff.differences.length, 'difference')}`,
      );
      // The disk could have gone away during the scan: then what was read proves nothing.
      await verifyFolderRoot(folder.path, folder.id);
      await verified?.commit(diff.differences);
      if (verified !== undefined)
        log.debug(`"${folder.id}": verified records written ${verified.stats.written}, pruned ${verified.stats.pruned}`);
      source.scan = remote.times;
      backup.scan = local.times;
      const report = buildReport({
        folderId: folder.id,
        startedAt,
        finishedAt: new Date(),
        source,
        backup,
        verify,
        sizeOnly,
        diff,
      });
      if (options.whileConnected !== undefined) await options.whileConnected({ folder, session: found.session, diff, report });
      await Promise.all([tellSource(found.session, report, options.verdictFor), options.record?.(report)]);
      return report;
    } catch (err) {
      await verified?.abandon().catch(() => undefined);
      rethrowIfBug(err);
      if (!(err instanceof SynkerError) || options.verdictFor === undefined) throw err;
      // The source was reached but the check could not be done: the source hears of the attempt too.
      log.debug(`check of "${folder.id}" failed: ${err.code} ${err.message}`);
      const failed = buildFailedReport({ folderId: folder.id, startedAt, finishedAt: new Date(), source, backup, error: err });
      await Promise.all([tellSource(found.session, failed, options.verdictFor), options.record?.(failed)]);
      return failed;
    } finally {
      await found.session.close().catch(() => undefined);
    }
  } finally {
    await scanThread.close();
    await lock.release();
  }
}
