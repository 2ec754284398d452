/**
 * One restore of one source folder from a backup, once connected: ask the
 * backup agent for its manifest, compare with the local folder (or, with
 * `--to DIR`, with what DIR already holds), plan, and pull over the
 * same session with the same verification as a sync.
 */
import { platformKeepsModes } from '../base/mode-bits.js';
import type { FolderConfig } from '../config/types.js';
import { diffManifests, type Difference, type VerifiedRecord } from '../diff/index.js';
import { attachVerdicts } from '../diff/verdict.js';
import type { ManifestEntry } from '../manifest/entry.js';
import type { ManifestStream, PeerSession } from '../peer/index.js';
import { FEATURE_VERIFIED_RECORDS } from '../protocol/index.js';
import { createLogger } from '../base/log.js';
import { ownDirKeysOf } from '../dirs/own-dirs.js';
import { scanFolder } from '../scan/index.js';
import { applyPlan } from './apply.js';
import type { ApplyResult, HashRecorder, SyncProgress } from './apply-types.js';
import { SyncError } from './errors.js';
import { PeerFileSource } from './peer-source.js';
import type { SyncPlan } from './plan-types.js';
import { isAtOrUnder, normalizePaths, planRestore, planRestoreInto } from './restore-plan.js';
import { findAlreadyRestored } from './restore-target.js';
import { nameRulesOf } from '../manifest/storable.js';

const log = createLogger('restore');

export interface RestoreOptions {
  /** Files or folders to bring back; none: everything missing or damaged on the source. */
  paths?: string[];
  /** Write under this folder instead of into the source folder. */
  toDir?: string;
  dryRun?: boolean;
  /** Overwrite source files newer than the backup's copy. */
  force?: boolean;
  /** Re-hash every local file: finds damage the hash cache would hide (bit rot keeps a file's size and times). */
  verify?: boolean;
  /** Hash cache dir for the local scan (default: the scanner's). */
  cacheDir?: string;
  hashCache?: HashRecorder;
  onProgress?: (progress: SyncProgress) => void;
}

/**
 * Which side changed, seen from the source, by the one rule (diff/verdict.ts)
 * against the hashes the backup last verified as matching the source: a
 * source file still holding that hash is not the one that changed, so the
 * backup's differing copy is judged damaged (`backup`) and never restored
 * over it unnamed; a source file whose bytes differ while its size and mtime
 * are as verified is `source-suspicious` (damaged here) and restored. The
 * backup's own copy is never taken for the verified state: it may be the one
 * that rotted. A backup that keeps no records (an older synker) leaves every
 * verdict `unknown`: nothing differing is restored without being named.
 */
async function judgeAgainstVerified(differences: Difference[], session: PeerSession, folderId: string, toleranceMs: number): Promise<void> {
  // Also what the source lacks: a backup copy that changed since it was verified is no good copy to bring back.
  const disputed = differences.filter(
    (d) => d.category === 'content' || d.category === 'type' || (d.category === 'extra' && d.backup?.type === 'file'),
  );
  if (disputed.length === 0) return;
  const records = new Map<string, VerifiedRecord>();
  if (session.remote.features.includes(FEATURE_VERIFIED_RECORDS)) {
    const paths = disputed.map((d) => d.path);
    const answers = await session.requestVerified(folderId, paths);
    answers.forEach((r, i) => {
      if (r !== null) records.set(paths[i]!, r);
    });
  } else {
    log.warn(
      `${session.remote.name} (${session.remote.software}) does not say which hashes it last verified: files that differ are restored only when named`,
    );
  }
  await attachVerdicts(disputed, (p) => records.get(p), toleranceMs);
}

export interface RestoreOutcome {
  plan: SyncPlan;
  result?: ApplyResult;
  dryRun: boolean;
  /** Requested paths the backup has nothing at or under: nothing could be restored for them. */
  notOnBackup: string[];
  exitCode: 0 | 1 | 2;
}

/** Passes the backup's entries through, noting which requested paths it has something at or under. */
async function* noting(
  entries: AsyncIterable<ManifestEntry>,
  requested: readonly string[],
  seen: Set<string>,
): AsyncGenerator<ManifestEntry> {
  for await (const e of entries) {
    for (const p of requested) if (!seen.has(p) && isAtOrUnder(e.path, p)) seen.add(p);
    yield e;
  }
}

/**
 * `manifest` is the backup's manifest of the folder, requested in `session`
 * with `files: true` (requested here when not given).
 */
export async function restoreFromSession(
  folder: FolderConfig,
  session: PeerSession,
  options: RestoreOptions = {},
  manifest: ManifestStream = session.requestManifest(folder.id, { files: true }),
): Promise<RestoreOutcome> {
  const info = await manifest.info;
  // Modes are restored only from a backup that has them onto a machine that keeps them.
  const modes = info.modes && platformKeepsModes();
  if (info.role !== 'backup') {
    // Drain nothing more: the session closes with the caller.
    throw new SyncError('E_RESTORE_NOT_A_BACKUP', `${session.remote.name} holds folder "${folder.id}" as a ${info.role}, not as a backup`, {
      hint: 'Restore from the device that keeps the backup copy (--peer NAME).',
    });
  }
  let plan: SyncPlan;
  // This machine's own synker folders inside where it restores to are never written (dirs/own-dirs.ts).
  const ownCache = options.cacheDir === undefined ? [] : [options.cacheDir];
  const requested = normalizePaths(options.paths);
  const seen = new Set<string>();
  const backupEntries = requested.length === 0 ? manifest : noting(manifest, requested, seen);
  if (options.toDir !== undefined) {
    // Kept only when asked for: the whole manifest need not be held to restore a few paths.
    const wanted: ManifestEntry[] = [];
    for await (const e of backupEntries) {
      if (requested.length === 0 || requested.some((p) => isAtOrUnder(e.path, p))) wanted.push(e);
    }
    plan = planRestoreInto(
      wanted,
      { paths: requested, nameRules: nameRulesOf(), own: ownDirKeysOf(options.toDir, ownCache) },
      await findAlreadyRestored(options.toDir, wanted, modes),
    );
  } else {
    // The source's own ignore rules apply to its own scan.
    const local = scanFolder(folder.path, {
      verify: options.verify ?? false,
      ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    });
    const diff = await diffManifests(local, backupEntries, { compareMode: modes });
    await judgeAgainstVerified(diff.differences, session, folder.id, diff.mtimeToleranceMs);
    plan = planRestore(diff.differences, {
      paths: requested,
      force: options.force ?? false,
      nameRules: nameRulesOf(),
      own: ownDirKeysOf(folder.path, ownCache),
    });
  }
  const notOnBackup = requested.filter((p) => !seen.has(p));
  const dryRun = options.dryRun ?? false;
  // synker's own folders are never restored (not a failure), unless a path named is one of them or in one.
  const namedOwn = requested.some((p) => (plan.leftAlone ?? []).some((own) => isAtOrUnder(p, own)));
  const skippedExit = plan.skipped.length > 0 || notOnBackup.length > 0 || namedOwn ? 1 : 0;
  if (dryRun) return { plan, dryRun, notOnBackup, exitCode: skippedExit };
  const result = await applyPlan(plan, {
    root: options.toDir ?? folder.path,
    source: new PeerFileSource(session, folder.id),
    modes,
    requireMarker: options.toDir === undefined,
    ...(options.hashCache && options.toDir === undefined ? { hashCache: options.hashCache } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const exitCode = result.aborted ? 2 : result.failed.length > 0 ? 1 : skippedExit;
  return { plan, result, dryRun, notOnBackup, exitCode };
}
