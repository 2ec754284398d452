/**
 * The two ways a received file's bytes reach its partial: through the page
 * cache, or staged in a block-aligned buffer whose whole blocks are written
 * past it (direct-write.ts says why). Owns whether a folder's file system
 * takes direct writes (asked once per process), opening the direct
 * descriptor, and the staging and flushing of the buffer.
 */
import { constants, writeSync } from 'node:fs';
import { errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import {
  DIRECT_BLOCK,
  DIRECT_MIN_FILE_BYTES,
  directOpenFlag,
  directWritesAvailable,
  directWritesSuit,
  isDirectUnsupported,
} from './direct-write.js';
import { fdWrite, SYNC_IO_MAX_BYTES } from '../transfer/fd-io.js';
import { openNoFollow } from '../base/no-follow.js';

const log = createLogger('sync');

/** Per folder, whether its file system takes direct writes: asked once per process, not once per file. */
const directByRoot = new Map<string, boolean>();

function mayWriteDirect(root: string): boolean {
  if (!directWritesAvailable()) return false;
  let suits = directByRoot.get(root);
  if (suits === undefined) {
    suits = directWritesSuit(root);
    if (!suits) log.debug(`${root}: a network or FUSE file system; writing through the page cache`);
    directByRoot.set(root, suits);
  }
  return suits;
}

/**
 * A file written past the page cache: `stage` holds the bytes from file
 * offset `base` on (always a multiple of DIRECT_BLOCK), `fill` of them so far.
 */
export interface DirectTarget {
  fd: number;
  stage: Buffer;
  base: number;
  fill: number;
  /** The file system refused a direct write after the open: the rest goes through the page cache. */
  refused: boolean;
}

/**
 * A second descriptor on `partialPath` for direct writes, when the file is
 * large enough and the folder's file system takes them; undefined otherwise.
 */
export async function openDirect(root: string, partialPath: string, size: number): Promise<number | undefined> {
  let directFd: number | undefined;
  if (size >= DIRECT_MIN_FILE_BYTES && mayWriteDirect(root)) {
    try {
      directFd = await openNoFollow(partialPath, constants.O_WRONLY | directOpenFlag(), 0o600);
    } catch (err) {
      if (!isDirectUnsupported(err)) throw err;
      log.debug(`${root}: the file system does not take direct writes (${errnoCode(err)}); writing through the page cache`);
      directByRoot.set(root, false);
    }
  }
  return directFd;
}

/** Appends `chunk` to the staged bytes, writing each full stage out. `fd` is the page-cache descriptor. */
export async function stageDirect(d: DirectTarget, chunk: Uint8Array, fd: number, root: string): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const n = Math.min(chunk.length - off, d.stage.length - d.fill);
    d.stage.set(chunk.subarray(off, off + n), d.fill);
    d.fill += n;
    off += n;
    if (d.fill === d.stage.length) await writeStaged(d, d.fill, fd, root);
  }
}

/**
 * Writes the first `length` staged bytes at `base` and keeps the rest
 * staged. Direct writes take whole blocks: `length` is a multiple of
 * DIRECT_BLOCK unless the write goes through the page cache anyway.
 */
async function writeStaged(d: DirectTarget, length: number, fd: number, root: string): Promise<void> {
  let off = 0;
  if (!d.refused && length % DIRECT_BLOCK === 0) {
    try {
      while (off < length) off += await fdWrite(d.fd, d.stage, off, length - off, d.base + off);
    } catch (err) {
      if (!isDirectUnsupported(err)) throw err;
      // The file system opened the file for direct I/O but refuses the writes (some FUSE and network mounts).
      log.debug(`${root}: direct writes refused (${errnoCode(err)}); writing through the page cache`);
      directByRoot.set(root, false);
      d.refused = true;
    }
  }
  if (off < length) await writeThroughCache(fd, d.stage, off, length - off, d.base + off);
  d.stage.copy(d.stage, 0, length, d.fill);
  d.fill -= length;
  d.base += length;
}

/** Puts every staged byte on disk: whole blocks directly, the last partial block through the cache. */
export async function flushStaged(d: DirectTarget, fd: number, root: string): Promise<void> {
  const whole = d.fill - (d.fill % DIRECT_BLOCK);
  if (whole > 0) await writeStaged(d, whole, fd, root);
  if (d.fill > 0) await writeStaged(d, d.fill, fd, root);
}

/** Writes through the page cache: small writes on this thread, large ones on libuv's pool (fd-io.ts says why). */
export async function writeThroughCache(fd: number, data: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  let off = 0;
  while (off < length) {
    const n = length - off;
    off +=
      n <= SYNC_IO_MAX_BYTES
        ? writeSync(fd, data, offset + off, n, position + off)
        : await fdWrite(fd, data, offset + off, n, position + off);
  }
}
