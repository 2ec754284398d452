/**
 * Receiving one file safely. Bytes go to a partial file under
 * `.synker/partial/`, named by the expected SHA-256, inside the folder root
 * (so on the same file system as the target, and never scanned). The hash is
 * computed while writing; more bytes than announced are refused; when the
 * last byte is in, the hash must equal the manifest's before the file is
 * fsynced, given its mode and mtime, and renamed into place (see land.ts).
 *
 * An interrupted transfer leaves the partial behind: the next attempt for the
 * same content re-reads and hashes that prefix and asks the source only for
 * the rest. The final hash check covers the whole file, so a damaged prefix
 * can never land; it is discarded and the file fetched again from byte 0.
 *
 * A large file's data goes to the disk directly, past the page cache, through
 * a block-aligned staging buffer (direct-write.ts says why).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, futimesSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { isNoModeBits } from '../base/mode-bits.js';
import { META_DIR } from '../manifest/layout.js';
import { BackupDiskError, IntegrityError, PartialFileError } from './errors.js';
import { fsTime } from './fs-time.js';
import { acquireStage, DIRECT_BLOCK, DIRECT_MIN_FILE_BYTES, directOpenFlag, directWritesAvailable, directWritesSuit, isDirectUnsupported, releaseStage } from './direct-write.js';
import { fdOpen, fdRead, fdSync, fdWrite, SYNC_IO_MAX_BYTES } from '../transfer/fd-io.js';

export const PARTIAL_DIR = `${META_DIR}/partial`;
const HASH_RE = /^[0-9a-f]{64}$/;
const log = createLogger('sync');
const READ_CHUNK = 1 << 20;

/** What the manifest promises about the file being received. */
export interface ExpectedContent {
  hash: string;
  size: number;
  /** Modification time in ms since the epoch, restored on the landed file. */
  mtime: number;
  /** Permission bits, restored where the file system supports them. */
  mode: number;
}

/**
 * fsync blocks a libuv thread until the disk has the data. Several at once
 * keep the disk's queue full (and on a journaling file system share one
 * commit): measured 3x faster per small file than one at a time on this
 * project's test machine. Unbounded fsyncs
 * would occupy every thread of the pool and stall all other file I/O of the
 * process. The launcher sizes the pool (bin/io-threads.js); fsyncs may take
 * all but 8 of its threads, and at least 2.
 */
class Slots {
  private free: number;
  private readonly waiters: Array<() => void> = [];
  constructor(count: number) {
    this.free = count;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiters.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    }
  }
}
const IO_THREADS = Number(process.env['UV_THREADPOOL_SIZE']) || 4;
const fsyncSlots = new Slots(Math.max(2, Math.min(16, IO_THREADS - 8)));
/** Files being received and not yet closed, for keepReceivedBytesSync(). */
const openFiles = new Set<IncomingFile>();
/** Partial folders known to exist (created once per process, not once per file). */
const partialDirs = new Set<string>();
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
interface DirectTarget {
  fd: number;
  stage: Buffer;
  base: number;
  fill: number;
  /** The file system refused a direct write after the open: the rest goes through the page cache. */
  refused: boolean;
}

function partialDirOf(root: string): string {
  return path.join(root, ...PARTIAL_DIR.split('/'));
}

export function partialPathFor(root: string, hash: string): string {
  if (!HASH_RE.test(hash)) throw new TypeError(`not a SHA-256 hex digest: ${hash}`);
  return path.join(partialDirOf(root), `${hash}.part`);
}

export class IncomingFile {
  private received: number;
  private closed = false;

  private constructor(
    readonly relPath: string,
    readonly expected: ExpectedContent,
    readonly partialPath: string,
    /** The partial's descriptor; closed exactly once, by close(). */
    private readonly fd: number,
    private readonly hash: Hash,
    /** Bytes already present from an earlier attempt: ask the source to start here. */
    readonly resumeOffset: number,
    private readonly root: string,
    private readonly direct: DirectTarget | undefined,
  ) {
    this.received = resumeOffset;
  }

  /**
   * Opens (or resumes) the partial file for `expected`. `relPath` is only used
   * in messages. Only one IncomingFile per hash may be open at a time in a
   * folder: callers receive each distinct content once.
   */
  static async open(root: string, relPath: string, expected: ExpectedContent): Promise<IncomingFile> {
    const partialPath = partialPathFor(root, expected.hash);
    const dir = path.dirname(partialPath);
    if (!partialDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      partialDirs.add(dir);
    }
    const flags = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;
    // Like its writes, a large file's create leaves the thread (fdOpen says why); a small file's stays cheap.
    const create = (): number | Promise<number> => (expected.size <= SYNC_IO_MAX_BYTES ? openSync(partialPath, flags, 0o600) : fdOpen(partialPath, flags, 0o600));
    let fd: number;
    try {
      fd = await create();
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      // The partial folder was removed since it was made: make it again.
      mkdirSync(dir, { recursive: true });
      fd = await create();
    }
    let directFd: number | undefined;
    try {
      if (expected.size >= DIRECT_MIN_FILE_BYTES && mayWriteDirect(root)) {
        try {
          directFd = await fdOpen(partialPath, constants.O_WRONLY | constants.O_NOFOLLOW | directOpenFlag(), 0o600);
        } catch (err) {
          if (!isDirectUnsupported(err)) throw err;
          log.debug(`${root}: the file system does not take direct writes (${errnoCode(err)}); writing through the page cache`);
          directByRoot.set(root, false);
        }
      }
      let hash = createHash('sha256');
      let size = fstatSync(fd).size;
      if (size > expected.size) {
        // Never produced by us; a stale or foreign file. Start over.
        ftruncateSync(fd, 0);
        size = 0;
      }
      // Re-hash the prefix so the running digest covers the bytes on disk.
      let pos = 0;
      if (size > 0) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size));
        try {
          while (pos < size) {
            const bytesRead = await fdRead(fd, buf, 0, Math.min(buf.length, size - pos), pos);
            if (bytesRead === 0) break;
            hash.update(buf.subarray(0, bytesRead));
            pos += bytesRead;
          }
        } catch (err) {
          // A part the file system cannot give back (EPERM from a FUSE FAT driver) would fail every run: start over.
          if (errnoCode(err) === undefined || BackupDiskError.of(relPath, err) !== undefined) throw err;
          log.info(`${relPath}: the part kept from an interrupted transfer cannot be read (${errnoCode(err)}); fetching the file from its first byte`);
          ftruncateSync(fd, 0);
          hash = createHash('sha256');
          pos = 0;
        }
      }
      let direct: DirectTarget | undefined;
      const stage = directFd === undefined ? undefined : acquireStage();
      if (directFd !== undefined && stage === undefined) {
        log.debug(`${partialPath}: no staging memory for direct writes; writing through the page cache`);
        closeSync(directFd);
        directFd = undefined;
      }
      if (directFd !== undefined && stage !== undefined) {
        // Direct writes start on a block boundary: the prefix's last partial block is staged again.
        const base = pos - (pos % DIRECT_BLOCK);
        direct = { fd: directFd, stage, base, fill: 0, refused: false };
        while (direct.fill < pos - base) {
          const bytesRead = await fdRead(fd, direct.stage, direct.fill, pos - base - direct.fill, base + direct.fill);
          if (bytesRead === 0) throw new Error(`${partialPath} shrank while it was being resumed`);
          direct.fill += bytesRead;
        }
      }
      const file = new IncomingFile(relPath, expected, partialPath, fd, hash, pos, root, direct);
      openFiles.add(file);
      return file;
    } catch (err) {
      if (directFd !== undefined) closeSync(directFd);
      closeSync(fd);
      throw err;
    }
  }

  get bytesReceived(): number {
    return this.received;
  }

  /** Appends the next bytes; refuses anything past the announced size. */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('write after close');
    if (this.received + chunk.length > this.expected.size) {
      await this.discard();
      throw new IntegrityError(this.relPath, `the source sent more than the ${this.expected.size} bytes it announced`);
    }
    try {
      if (this.direct === undefined) await writeThroughCache(this.fd, chunk, 0, chunk.length, this.received);
      else await this.stage(this.direct, chunk);
    } catch (err) {
      // A disk that is full or failing fails every file alike: keep the part for a later resume.
      if (this.resumeOffset === 0 || errnoCode(err) === undefined || BackupDiskError.of(this.relPath, err) !== undefined) throw err;
      // Seen on a FUSE FAT driver: a file kept from an earlier run refuses to grow (EPERM), for ever.
      await this.discard();
      throw new PartialFileError(this.relPath, `the part kept from an interrupted transfer could not be extended (${errnoCode(err)})`, err);
    }
    this.hash.update(chunk);
    this.received += chunk.length;
  }

  private async stage(d: DirectTarget, chunk: Uint8Array): Promise<void> {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(chunk.length - off, d.stage.length - d.fill);
      d.stage.set(chunk.subarray(off, off + n), d.fill);
      d.fill += n;
      off += n;
      if (d.fill === d.stage.length) await this.writeStaged(d, d.fill);
    }
  }

  /**
   * Writes the first `length` staged bytes at `base` and keeps the rest
   * staged. Direct writes take whole blocks: `length` is a multiple of
   * DIRECT_BLOCK unless the write goes through the page cache anyway.
   */
  private async writeStaged(d: DirectTarget, length: number): Promise<void> {
    let off = 0;
    if (!d.refused && length % DIRECT_BLOCK === 0) {
      try {
        while (off < length) off += await fdWrite(d.fd, d.stage, off, length - off, d.base + off);
      } catch (err) {
        if (!isDirectUnsupported(err)) throw err;
        // The file system opened the file for direct I/O but refuses the writes (some FUSE and network mounts).
        log.debug(`${this.root}: direct writes refused (${errnoCode(err)}); writing through the page cache`);
        directByRoot.set(this.root, false);
        d.refused = true;
      }
    }
    if (off < length) await writeThroughCache(this.fd, d.stage, off, length - off, d.base + off);
    d.stage.copy(d.stage, 0, length, d.fill);
    d.fill -= length;
    d.base += length;
  }

  /** Puts every staged byte on disk: whole blocks directly, the last partial block through the cache. */
  private async flushStaged(d: DirectTarget): Promise<void> {
    const whole = d.fill - (d.fill % DIRECT_BLOCK);
    if (whole > 0) await this.writeStaged(d, whole);
    if (d.fill > 0) await this.writeStaged(d, d.fill);
  }

  /**
   * All bytes are in: checks size and hash (and the source's own re-verified
   * hash, when given), then fsyncs and restores mode and mtime. On success the
   * partial is complete and ready for landFile(); on failure it is deleted.
   */
  async complete(sourceHash?: string): Promise<void> {
    if (this.closed) throw new Error('complete after close');
    if (this.received !== this.expected.size) {
      // A short file is a dropped connection, not corruption: keep the prefix to resume.
      await this.close();
      throw new IntegrityError(this.relPath, `the transfer ended after ${this.received} of ${this.expected.size} bytes`);
    }
    const actual = this.hash.digest('hex');
    if (actual !== this.expected.hash) {
      await this.discard();
      throw new IntegrityError(this.relPath, `received content has SHA-256 ${actual.slice(0, 12)}…, the manifest says ${this.expected.hash.slice(0, 12)}…`);
    }
    if (sourceHash !== undefined && sourceHash !== this.expected.hash) {
      await this.discard();
      throw new IntegrityError(this.relPath, 'the source re-hashed the file after sending it and got a different SHA-256 (changed during the transfer)');
    }
    // The data is written before the times: a write would move the mtime again.
    if (this.direct !== undefined) await this.flushStaged(this.direct);
    setModeIfSupported(this.fd, this.expected.mode);
    futimesSync(this.fd, fsTime(this.expected.mtime), fsTime(this.expected.mtime));
    await fsyncSlots.run(() => fdSync(this.fd));
    if (this.resumeOffset > 0 && !(await this.readsBackIntact())) {
      await this.discard();
      throw new PartialFileError(this.relPath, 'after resuming an interrupted transfer, the file read back from the backup disk differs from the bytes received');
    }
    await this.close();
  }

  /**
   * Whether the partial, read back through a new descriptor, hashes to the
   * expected content. Only after a resume: the bytes appended to a file kept
   * from an earlier run are where file systems have been seen to lose data
   * (a FUSE FAT driver returned a short file while stat gave the full size),
   * and the running hash only covers the bytes as received.
   */
  private async readsBackIntact(): Promise<boolean> {
    const fd = await fdOpen(this.partialPath, constants.O_RDONLY | constants.O_NOFOLLOW, 0);
    try {
      const hash = createHash('sha256');
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      let pos = 0;
      for (;;) {
        let bytesRead: number;
        try {
          bytesRead = await fdRead(fd, buf, 0, buf.length, pos);
        } catch (err) {
          // The same driver refuses to read the bytes it lost (EPERM); a failing disk (EIO) stops the run.
          if (errnoCode(err) === undefined || BackupDiskError.of(this.relPath, err) !== undefined) throw err;
          log.debug(`${this.partialPath}: reading it back failed at byte ${pos}: ${(err as Error).message}`);
          return false;
        }
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
      return pos === this.expected.size && hash.digest('hex') === this.expected.hash;
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Writes the bytes staged for a direct write through the page cache, at
   * once, for a process about to exit on a signal (keepReceivedBytesSync).
   */
  keepStagedSync(): void {
    const d = this.direct;
    if (this.closed || d === undefined || d.fill === 0) return;
    let off = 0;
    while (off < d.fill) off += writeSync(this.fd, d.stage, off, d.fill - off, d.base + off);
  }

  /** Stops receiving but keeps the verified-so-far prefix for a later resume. */
  async close(): Promise<void> {
    if (this.closed) return;
    const d = this.direct;
    if (d !== undefined && d.fill > 0) {
      try {
        await writeThroughCache(this.fd, d.stage, 0, d.fill, d.base);
      } catch (err) {
        // Only the resume point moves back: whatever prefix is on disk is re-hashed on the next attempt.
        log.debug(`${this.partialPath}: the last ${d.fill} received bytes were not kept for a resume: ${(err as Error).message}`);
      }
    }
    this.closeDescriptors();
  }

  /** Stops receiving and deletes the partial: its content cannot be trusted. */
  async discard(): Promise<void> {
    this.closeDescriptors();
    rmSync(this.partialPath, { force: true });
  }

  private closeDescriptors(): void {
    if (this.closed) return;
    this.closed = true;
    openFiles.delete(this);
    if (this.direct !== undefined) {
      closeSync(this.direct.fd);
      releaseStage(this.direct.stage);
      this.direct.fill = 0;
    }
    closeSync(this.fd);
  }
}

/**
 * For a process about to exit on a signal: puts the bytes staged for direct
 * writes in every file being received on disk, so each partial holds every
 * byte received and the next run resumes after the last one. A file that
 * cannot take them only resumes from an earlier byte.
 */
export function keepReceivedBytesSync(): void {
  for (const file of openFiles) {
    try {
      file.keepStagedSync();
    } catch (err) {
      log.debug(`${file.partialPath}: the last received bytes were not kept for a resume: ${(err as Error).message}`);
    }
  }
}

/** Writes through the page cache: small writes on this thread, large ones on libuv's pool (fd-io.ts says why). */
async function writeThroughCache(fd: number, data: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  let off = 0;
  while (off < length) {
    const n = length - off;
    off += n <= SYNC_IO_MAX_BYTES ? writeSync(fd, data, offset + off, n, position + off) : await fdWrite(fd, data, offset + off, n, position + off);
  }
}

/** FAT, exFAT and some network mounts have no permission bits (mode-bits.ts): not an error there. */
function setModeIfSupported(fd: number, mode: number): void {
  try {
    fchmodSync(fd, mode & 0o7777);
  } catch (err) {
    if (!isNoModeBits(err)) throw err;
  }
}

/**
 * Removes the partial files no pull of this run can resume: a partial is kept
 * for the content it was receiving, and once the source file has changed
 * that content will never be asked for again. Without this, an interrupted
 * transfer of an edited file would hold its space on the backup disk forever.
 */
export async function prunePartials(root: string, wantedHashes: ReadonlySet<string>): Promise<string[]> {
  const dir = partialDirOf(root);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const hash = name.endsWith('.part') ? name.slice(0, -'.part'.length) : '';
    if (!HASH_RE.test(hash) || wantedHashes.has(hash)) continue;
    await rm(path.join(dir, name), { force: true });
    removed.push(hash);
  }
  return removed;
}

/**
 * Removes the partial folder when nothing is left in it, and `.synker/` too
 * when `alsoMetaDir` and it is empty (a restore into a new folder leaves no
 * trace of synker's own files there). Tidying only: a folder that cannot be
 * removed (some FUSE file systems refuse rmdir) stays, and is reused.
 */
export async function removeEmptyPartialDir(root: string, alsoMetaDir: boolean): Promise<void> {
  const dir = partialDirOf(root);
  for (const d of alsoMetaDir ? [dir, path.dirname(dir)] : [dir]) {
    try {
      if ((await readdir(d)).length > 0) return;
      await rmdir(d);
      partialDirs.delete(d);
    } catch (err) {
      log.debug(`${d} left in place: ${(err as Error).message}`);
      return;
    }
  }
}
