/**
 * The source's rule for serving a file request, shared by the network server
 * and the local source: the path must be in the source's current manifest,
 * be a hashed regular file there, and still carry the hash the requester
 * expects. Anything else is refused without reading the disk.
 */
import type { ManifestEntry } from '../manifest/entry.js';
import { SourceFileError } from '../transfer/errors.js';
import type { FileRequest } from './file-source.js';
import { readManifestFile, type ReadOptions } from './file-reader.js';
import { unsafePathReason } from './safe-path.js';

/** Finds a path (NFC key) in the folder's current manifest. */
export type ManifestLookup = (path: string) => ManifestEntry | undefined | Promise<ManifestEntry | undefined>;

export async function serveFileRequest(
  root: string,
  lookup: ManifestLookup,
  request: FileRequest,
  onData: (chunk: Uint8Array) => Promise<void> | void,
  options: Pick<ReadOptions, 'chunkBytes' | 'hash' | 'headroom'> = {},
): Promise<{ hash?: string; bytesSent: number }> {
  const reason = unsafePathReason(request.path);
  if (reason !== undefined) throw new SourceFileError(String(request.path).slice(0, 200), 'refused', `unsafe path (${reason})`);
  const entry = await lookup(request.path);
  if (entry === undefined || entry.type !== 'file')
    throw new SourceFileError(request.path, 'not-found', "is not a file in the source's manifest");
  if (entry.hash === undefined) throw new SourceFileError(request.path, 'refused', "has no hash in the source's manifest");
  if (entry.hash !== request.hash || entry.size !== request.size)
    throw new SourceFileError(request.path, 'changed', 'changed on the source since the manifest the request is based on');
  return readManifestFile(root, entry, { ...options, offset: request.offset, onData });
}
