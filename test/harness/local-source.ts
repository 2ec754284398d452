/**
 * A source folder on this machine: the same serving rules as a network
 * source, without the network, to exercise the sync engine in tests
 * (synker itself always syncs from a peer).
 */
import type { FileRequest, FileSource } from '../../src/transfer/file-source.js';
import { serveFileRequest, type ManifestLookup } from '../../src/transfer/serve-file.js';

export class LocalFolderSource implements FileSource {
  /** Bytes handed to the receiver, for measuring resumes. */
  bytesSent = 0;

  constructor(
    private readonly root: string,
    private readonly lookup: ManifestLookup,
  ) {}

  async fetch(request: FileRequest, onData: (chunk: Uint8Array) => Promise<void>): Promise<{ hash?: string }> {
    await serveFileRequest(this.root, this.lookup, request, async (chunk) => {
      this.bytesSent += chunk.length;
      await onData(chunk);
    });
    return {};
  }
}
