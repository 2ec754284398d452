/**
 * The source side of a transfer: reads one file of the current manifest. It
 * serves only a regular file under the folder root, reached without following
 * any symlink, whose size and mtime still match the manifest, and fails the
 * file if its size, mtime or ctime change while it is read. By default it
 * does not hash what it sends: the receiver checks every byte against the
 * manifest's SHA-256 before using the file (hashing here too cost a second
 * SHA-256 of every byte, on the machine whose CPU the transfer shares), and a
 * resumed transfer reads only the missing part. With `hash`, for a peer that
 * wants the source's own hash, the whole file is read and hashed, including
 * a prefix that is not sent.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, readSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import type { ManifestEntry } from '../manifest/entry.js';
import { SourceFileError } from '../transfer/errors.js';
import { fdRead, SYNC_IO_MAX_BYTES } from './fd-io.js';
import { resolveUnderRoot } from './safe-path.js';
import { openNoFollowSync } from '../base/no-follow.js';
import { realPathSync } from '../base/real-path.js';

export const DEFAULT_CHUNK_BYTES = 256 * 1024;

export interface ReadOptions {
  offset: number;
  chunkBytes?: number;
  /** Hash the whole file while reading it (default false). */
  hash?: boolean;
  /**
   * Awaited per chunk: the reader does not read ahead of the consumer. The
   * chunk's memory is reused once the returned promise settles: copy it to
   * keep it. With `headroom`, each chunk has memory of its own to keep.
   */
  onData: (chunk: Uint8Array) => Promise<void> | void;
  /**
   * Read each chunk into a buffer of its own, after this many free bytes that
   * belong to the consumer: a sender writes its frame's head there and sends
   * the file's bytes where they were read (encodeFileDataInHeadroom).
   */
  headroom?: number;
}

/**
 * Streams `entry` (a manifest entry of the folder at `root`) from `offset`.
 * Throws SourceFileError when the file is not there, not a regular file, not
 * under the root, or changed since the manifest (before or while reading).
 */
export async function readManifestFile(
  root: string,
  entry: ManifestEntry,
  options: ReadOptions,
): Promise<{ hash?: string; bytesSent: number }> {
  const rel = entry.raw ?? entry.path;
  if (entry.type !== 'file' || entry.hash === undefined)
    throw new SourceFileError(entry.path, 'refused', 'not a hashed regular file in the manifest');
  if (!Number.isSafeInteger(options.offset) || options.offset < 0 || options.offset > entry.size) {
    throw new SourceFileError(entry.path, 'refused', `offset ${options.offset} is outside the file (${entry.size} bytes)`);
  }
  const abs = resolveUnderRoot(root, rel);
  // Path checks, open, fstat, close and the read of a small file are
  // synchronous (SYNC_IO_MAX_BYTES says why); larger reads leave the thread.
  const realRoot = realPathSync(root);
  let realParent: string;
  try {
    realParent = realPathSync(path.dirname(abs));
  } catch (err) {
    throw new SourceFileError(entry.path, 'not-found', `its folder is gone (${errnoCode(err) ?? 'error'})`);
  }
  if (realParent !== realRoot && !realParent.startsWith(realRoot + path.sep)) {
    throw new SourceFileError(entry.path, 'refused', 'a folder on its path is a symlink leading outside the folder root');
  }
  let fd: number;
  try {
    fd = openNoFollowSync(path.join(realParent, path.basename(abs)), constants.O_RDONLY);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') throw new SourceFileError(entry.path, 'not-found', 'no longer exists on the source');
    if (code === 'ELOOP') throw new SourceFileError(entry.path, 'refused', 'is a symlink now, not a file');
    throw new SourceFileError(entry.path, 'unreadable', `cannot be opened (${code ?? 'error'})`);
  }
  try {
    const before = fstatSync(fd);
    if (!before.isFile()) throw new SourceFileError(entry.path, 'refused', 'is not a regular file');
    if (before.size !== entry.size || Math.trunc(before.mtimeMs) !== entry.mtime) {
      throw new SourceFileError(entry.path, 'changed', 'changed on the source since its manifest was made');
    }
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const hash = options.hash === true ? createHash('sha256') : undefined;
    // Without a hash to compute, the prefix a resuming receiver has is not read at all.
    let pos = hash === undefined ? options.offset : 0;
    const at = options.headroom ?? 0;
    // Without headroom, one buffer per file, reused: a chunk is only valid until onData settles (FileSource's contract).
    const reused = options.headroom === undefined ? Buffer.allocUnsafe(Math.max(1, Math.min(chunkBytes, entry.size - pos))) : undefined;
    while (pos < entry.size) {
      const length = Math.min(chunkBytes, entry.size - pos);
      // Never from Buffer's shared pool: the bytes before the chunk must be the consumer's alone.
      const buf = reused ?? Buffer.allocUnsafeSlow(at + length);
      const bytesRead = entry.size <= SYNC_IO_MAX_BYTES ? readSync(fd, buf, at, length, pos) : await fdRead(fd, buf, at, length, pos);
      if (bytesRead === 0) throw new SourceFileError(entry.path, 'changed', 'became shorter while it was read');
      const chunk = buf.subarray(at, at + bytesRead);
      hash?.update(chunk);
      const end = pos + bytesRead;
      if (end > options.offset) await options.onData(pos >= options.offset ? chunk : chunk.subarray(options.offset - pos));
      pos = end;
    }
    const after = fstatSync(fd);
    if (after.size !== entry.size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs) {
      throw new SourceFileError(entry.path, 'changed', 'changed on the source while it was sent');
    }
    return { ...(hash === undefined ? {} : { hash: hash.digest('hex') }), bytesSent: entry.size - options.offset };
  } finally {
    closeSync(fd);
  }
}
