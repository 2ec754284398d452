/**
 * Longer than 300 lines: one file's receive, from the partial's open and resume to the verified
 * complete, keeps its descriptors and their order of use in one place.
 *
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
 * Where partials live, resuming one and pruning them: partial-files.ts.
 *
 * A large file's data goes to the disk directly, past the page cache, through
 * a block-aligned staging buffer (direct-write.ts says why; the staging is in
 * direct-target.ts).
 */
import type { Hash } from 'node:crypto';
import { closeSync, constants, futimesSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { fchmodIfSupported, newFileMode } from '../base/mode-bits.js';
import { BackupDiskError, IntegrityError, PartialFileError } from './errors.js';
import { fsTime } from './fs-time.js';
import { acquireStage, DIRECT_BLOCK, releaseStage } from './direct-write.js';
import { flushStaged, openDirect, stageDirect, writeThroughCache, type DirectTarget } from './direct-target.js';
import { makePartialDir, openPartial, partialPathFor, partialRelFor, readsBackIntact, resumePrefix } from './partial-files.js';
import { withTree, type FolderTree } from '../transfer/folder-tree.js';
import { fdRead, fdSync } from '../transfer/fd-io.js';
import { openHandleNoFollow } from '../base/no-follow.js';

const log = createLogger('sync');

/** What the manifest promises about the file being received. */
export interface ExpectedContent {
  hash: string;
  size: number;
  /** Modification time in ms since the epoch, restored on the landed file. */
  mtime: number;
  /** Permission bits, restored where the file system supports them; absent: what any new file gets here (0666 less the umask). */
  mode?: number | undefined;
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
const IO_THREADS = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const fsyncSlots = new Slots(Math.max(2, Math.min(16, IO_THREADS - 8)));
/** Files being received and not yet closed, for keepReceivedBytesSync(). */
const openFiles = new Set<IncomingFile>();

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
    /** The run's folder tree, through which a discarded partial is removed (undefined: a tree of its own). */
    private readonly tree: FolderTree | undefined,
  ) {
    this.received = resumeOffset;
  }

  /**
   * Opens (or resumes) the partial file for `expected`. `relPath` is only used
   * in messages. Only one IncomingFile per hash may be open at a time in a
   * folder: callers receive each distinct content once.
   */
  static async open(root: string, relPath: string, expected: ExpectedContent, tree?: FolderTree): Promise<IncomingFile> {
    const partialPath = partialPathFor(root, expected.hash);
    // A link at `.synker` or `.synker/partial` gets its own clear error (E_META_LINK), once per process.
    makePartialDir(path.dirname(partialPath));
    const partialRel = partialRelFor(expected.hash);
    // Both descriptors are opened through the folder tree: a `.synker/partial` swapped for a link is never followed.
    const { fd, directFd } = await withTree(root, tree, (t) =>
      t.parentOf(
        partialRel,
        true,
        async (dir, name) => {
          const fd = await openPartial(dir.entry(name), partialPath, expected.size);
          try {
            return { fd, directFd: await openDirect(root, dir.entry(name), expected.size) };
          } catch (err) {
            closeSync(fd);
            throw err;
          }
        },
        relPath,
      ),
    );
    return IncomingFile.start(root, relPath, expected, partialPath, fd, directFd, tree);
  }

  private static async start(
    root: string,
    relPath: string,
    expected: ExpectedContent,
    partialPath: string,
    fd: number,
    directFdOpened: number | undefined,
    tree: FolderTree | undefined,
  ): Promise<IncomingFile> {
    let directFd = directFdOpened;
    try {
      const { hash, pos } = await resumePrefix(fd, relPath, expected.size);
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
      const file = new IncomingFile(relPath, expected, partialPath, fd, hash, pos, root, direct, tree);
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

  /** Appends the bytes of a file already on this disk (a local copy of the same content), from the resume offset on. */
  async writeFrom(file: string): Promise<void> {
    // Non-blocking: a FIFO put in the copy's place would block the open for ever; it is refused instead.
    const handle = await openHandleNoFollow(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      if (!(await handle.stat()).isFile())
        throw new IntegrityError(this.relPath, `the copy of the same content at ${file} is no longer a regular file`);
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let pos = this.resumeOffset; ; ) {
        const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        await this.write(buf.subarray(0, bytesRead));
        pos += bytesRead;
      }
    } finally {
      await handle.close();
    }
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
      else await stageDirect(this.direct, chunk, this.fd, this.root);
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
      throw new IntegrityError(
        this.relPath,
        `received content has SHA-256 ${actual.slice(0, 12)}…, the manifest says ${this.expected.hash.slice(0, 12)}…`,
      );
    }
    if (sourceHash !== undefined && sourceHash !== this.expected.hash) {
      await this.discard();
      throw new IntegrityError(
        this.relPath,
        'the source re-hashed the file after sending it and got a different SHA-256 (changed during the transfer)',
      );
    }
    // The data is written before the times: a write would move the mtime again.
    if (this.direct !== undefined) await flushStaged(this.direct, this.fd, this.root);
    fchmodIfSupported(this.fd, this.expected.mode ?? newFileMode());
    futimesSync(this.fd, fsTime(this.expected.mtime), fsTime(this.expected.mtime));
    await fsyncSlots.run(() => fdSync(this.fd));
    if (this.resumeOffset > 0 && !(await readsBackIntact(this.partialPath, this.relPath, this.expected))) {
      await this.discard();
      throw new PartialFileError(
        this.relPath,
        'after resuming an interrupted transfer, the file read back from the backup disk differs from the bytes received',
      );
    }
    await this.close();
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
    await withTree(this.root, this.tree, (t) =>
      t.parentOf(partialRelFor(this.expected.hash), false, (dir, name) => rmSync(dir.entry(name), { force: true })),
    ).catch((err: unknown) => {
      // The partial folder is gone: so is the partial.
      if (errnoCode(err) !== 'ENOENT') throw err;
    });
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
export function keepReceivedBytesSync(): number {
  const receiving = openFiles.size;
  for (const file of openFiles) {
    try {
      file.keepStagedSync();
    } catch (err) {
      log.debug(`${file.partialPath}: the last received bytes were not kept for a resume: ${(err as Error).message}`);
    }
  }
  return receiving;
}
