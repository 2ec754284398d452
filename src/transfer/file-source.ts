/**
 * Where pulled bytes come from: the seam between the sync engine and the
 * transport. The network implementation (a peer session) and the local one
 * (another folder on this machine) both serve only files of the source's
 * current manifest, unchanged since it was made (size, mtime and ctime
 * checked before and after reading); the receiver verifies every byte
 * against the manifest's SHA-256.
 */
export interface FileRequest {
  /** The source manifest's path (NFC key). */
  path: string;
  /** SHA-256 the manifest lists: the source refuses if its file no longer has it. */
  hash: string;
  size: number;
  /** First byte wanted (resuming an interrupted transfer). */
  offset: number;
}

export interface FileSource {
  /**
   * Delivers bytes [offset, size) of the file to `onData`, one chunk at a
   * time; the next chunk is not delivered before the returned promise settles
   * (backpressure), and a chunk's memory may be reused after that: consume
   * it (write it, hash it) before settling. Resolves with the SHA-256 the
   * source computed over the whole file, when it hashed it (a source that
   * did not leaves the check against the manifest to the receiver, which
   * makes it anyway). Throws SourceFileError for a file that cannot be
   * served (only that file fails); any other error ends the run.
   */
  fetch(request: FileRequest, onData: (chunk: Uint8Array) => Promise<void>): Promise<{ hash?: string }>;
}
