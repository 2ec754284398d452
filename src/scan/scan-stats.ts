/**
 * What a scan counts while it runs (files, bytes, hashed, cached, errors,
 * ...): the same counts for a scan in this thread (scan.ts) and one in a
 * thread of its own (scan-thread.ts), which sends them across.
 */
export interface ScanStats {
  files: number;
  dirs: number;
  symlinks: number;
  /** Total size of the files listed. */
  bytes: number;
  /** Files read and hashed by this scan. */
  hashedFiles: number;
  hashedBytes: number;
  /** Files whose hash came from the hash cache (not read). */
  cachedFiles: number;
  /** Files re-hashed (verify) to other content than the cache held for the same size, mtime, ctime and inode: flagged `silent-change`. */
  silentChanges: number;
  /** Error entries (unreadable, vanished, invalid names...). */
  errors: number;
  /** Files that kept changing while hashed (flagged `unstable`, no hash). */
  unstable: number;
  /** Sockets, FIFOs and devices: skipped, never opened. */
  skippedSpecial: number;
  /** Items left out by ignore rules. */
  ignored: number;
  /** Hash threads started. */
  hashThreads: number;
  elapsedMs: number;
}

export function emptyStats(): ScanStats {
  return {
    files: 0,
    dirs: 0,
    symlinks: 0,
    bytes: 0,
    hashedFiles: 0,
    hashedBytes: 0,
    cachedFiles: 0,
    silentChanges: 0,
    errors: 0,
    unstable: 0,
    skippedSpecial: 0,
    ignored: 0,
    hashThreads: 0,
    elapsedMs: 0,
  };
}
