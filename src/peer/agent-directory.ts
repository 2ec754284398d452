/**
 * What the agent hands its server, read at each session: the directory of
 * its name, trusted devices and folders, the source of a folder's manifest,
 * and the record of a device it does not trust that tried to connect.
 */
import type { FolderConfig, TrustedDevice } from '../config/types.js';
import type { ManifestEntry } from '../manifest/entry.js';
import type { BackupVerdictMessage, VerifiedRecordAnswer } from '../protocol/index.js';

/** What the server needs from the config, read afresh at each session (config changes apply live). */
export interface AgentDirectory {
  agentName(): string;
  trusted(deviceId: string): TrustedDevice | undefined;
  folders(): FolderConfig[];
}

/** A folder's manifest as the scanner produces it: ignore rules first, then sorted entries. */
export interface FolderManifest {
  /** The lines of the folder's `.synkerignore` ([] when it has none; `readIgnoreRules(root).split(/\r?\n/)`). */
  ignoreRules: string[];
  entries: AsyncIterable<ManifestEntry>;
  /**
   * How far the scan behind `entries` has got (items looked at, bytes of
   * file content read), live and only growing: told to a client that
   * announced `progress` while no entries are ready, so a slow scan (a 50 GB
   * file hashing on a slow disk) is not taken for a stalled one. Absent: the
   * entries are the only progress.
   */
  progress?: () => { items: number; bytes: number };
}

/** How the client asked the folder to be scanned (manifest-request `verify` and `hash`). */
export interface ManifestScanRequest {
  /** Re-hash every file, bypassing the hash cache (and refreshing it with what was read). */
  verify: boolean;
  /** false: read no file, list sizes and times only. */
  hash: boolean;
}

/** Opens a folder's manifest; `signal` aborts when the client cancels or the session ends. */
export type ManifestSource = (folder: FolderConfig, signal: AbortSignal, scan: ManifestScanRequest) => Promise<FolderManifest>;

/**
 * The hashes a backup folder last verified as matching its source, one per
 * path asked (null: none), for a restore's verified-request. Only asked for
 * folders held as a backup.
 */
export type VerifiedRecordsSource = (folder: FolderConfig, paths: readonly string[]) => Array<VerifiedRecordAnswer | null>;

export interface UntrustedAttempt {
  deviceId: string;
  /** The name the device announced in its hello. */
  name: string;
  address: string;
  at: Date;
}

/**
 * Keeps what a backup device told this source about a folder (a
 * `backup-verdict`), once the session checked that the device is trusted
 * and the folder is held here as its source and shared with it. `deviceId`
 * is the session's pinned device ID. Rejects (a SynkerError) when it cannot
 * be kept: the backup is then told so.
 */
export type BackupVerdictSink = (
  folder: FolderConfig,
  deviceId: string,
  verdict: Omit<BackupVerdictMessage, 'kind' | 'req'>,
) => Promise<void>;
