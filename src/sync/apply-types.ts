/**
 * What applying a sync plan is given and what it returns: the options, the
 * progress reported while it runs, the hash-cache hook, and the result with
 * its failed items (apply.ts does the work).
 */
import type { FileSource } from '../transfer/file-source.js';
import type { SyncAction } from './plan-types.js';
import type { VersionKeeper } from './versions.js';

export interface SyncProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Bytes that came over the wire (less than bytesDone when resumed or copied locally). */
  bytesReceived: number;
  startedAt: number;
  currentPath?: string;
}

export interface ApplyOptions {
  /** The backup folder root. */
  root: string;
  source: FileSource;
  /** Files in flight at once, from request to landing (default 48; at most ~8 MiB of them still receiving): small files do not wait on each other's round trips or fsyncs. */
  concurrency?: number;
  /** Extra attempts for a file that fails verification or changed on the source (default 2). */
  retries?: number;
  keeper?: VersionKeeper;
  /**
   * The backup's hash cache (the scanner's HashCache): files this run wrote
   * or renamed are recorded with their verified hash, so the next scan does
   * not read them again.
   */
  hashCache?: HashRecorder;
  /**
   * Apply the source's permission bits (default true). False where the check
   * did not compare them (DiffResult.modesCompared): a side without POSIX
   * modes (Windows) gives none to apply, and a Windows backup keeps its own.
   */
  modes?: boolean;
  /** Refuse a root without the folder marker (default true; false for `restore --to DIR`). */
  requireMarker?: boolean;
  onProgress?: (progress: SyncProgress) => void;
  /**
   * Called once an action has been carried out (not for failed ones): what the run fixed, for its report.
   * The next action waits for a promise it returns.
   */
  onActionDone?: (action: SyncAction) => void | Promise<void>;
}

/** What the applier needs of the scanner's hash cache. */
export interface HashRecorder {
  store(relPath: string, state: { size: number; mtimeMs: number; ctimeMs: number; ino: number }, hash: string): void;
}

export interface FailedItem {
  path: string;
  code: string;
  message: string;
  /** What to do about it, when synker knows. */
  hint?: string;
}

export interface ApplyResult {
  pulled: number;
  pulledBytes: number;
  bytesReceived: number;
  /** Files renamed (a folder's rename counts its files). */
  moved: number;
  /** Rename actions done: one per renamed file or folder (the plan's `moves`). */
  renames: number;
  created: number;
  metadataFixed: number;
  deleted: number;
  /** Folders this run's renames emptied, removed (the plan's `emptied` folder deletes that found them empty). */
  emptiedFolders: number;
  /** Versions kept of what was replaced or removed (paths relative to the root). */
  versions: string[];
  failed: FailedItem[];
  /** Set when the run stopped early (transport failure); what was done so far stays done. */
  aborted?: FailedItem;
}
