/**
 * A FileSource over a peer session: files of `folderId` from the agent the
 * session is connected to. The folder's manifest must have been requested in
 * the same session (the agent serves only what that manifest listed).
 */
import type { PeerSession } from '../peer/index.js';
import type { FileRequest, FileSource } from '../transfer/file-source.js';

export class PeerFileSource implements FileSource {
  constructor(
    private readonly session: Pick<PeerSession, 'requestFile'>,
    private readonly folderId: string,
  ) {}

  fetch(request: FileRequest, onData: (chunk: Uint8Array) => Promise<void>): Promise<{ hash?: string }> {
    return this.session.requestFile({ folder: this.folderId, ...request, onData });
  }
}
