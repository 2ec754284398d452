/**
 * Writing received file data straight to the disk (O_DIRECT), past the page
 * cache. A sync fsyncs every file anyway, so the cache only costs: each byte
 * is copied into a page-cache page first, and those pages push the user's
 * own working set out of memory. On this project's test VM the copy into
 * fresh page-cache pages was the backup's largest cost (`perf`:
 * copy_folio_from_iter_atomic, 29% of its samples); writing 2 GB in 1,000
 * files with fsync took 5.6-5.9 s and 8.6-10 CPU-s buffered against
 * 3.0-3.5 s and 3.0-4.2 CPU-s direct.
 *
 * Direct I/O wants the buffer's address, the file offset and the length to
 * be multiples of the disk's block size. JavaScript cannot ask for an
 * aligned Buffer, but a WebAssembly memory starts on a page boundary, so the
 * staging buffers are views into one. Only whole blocks go out directly; a
 * file's last partial block is written through the page cache.
 *
 * Network and FUSE file systems keep the page cache (see CACHED_FILE_SYSTEMS).
 * Where a file system refuses O_DIRECT (ramfs, tmpfs before Linux 6.6) the
 * caller falls back to ordinary writes, once per folder.
 * `SYNKER_DIRECT_IO=0` turns it off altogether.
 */
import { constants, statfsSync } from 'node:fs';
import { errnoCode } from '../base/errors.js';

/** Alignment asked of buffers, offsets and lengths: 4 KiB covers 512-byte and 4Kn disks. */
export const DIRECT_BLOCK = 4096;
/** Bytes staged per file before they go to the disk: one write per MiB keeps thread-pool trips few. */
export const DIRECT_STAGE_BYTES = 1 << 20;
/** Files smaller than this are written through the page cache (their fsync dominates anyway). */
export const DIRECT_MIN_FILE_BYTES = 1 << 20;

const WASM_PAGE = 64 * 1024;
const STAGES_PER_MEMORY = 8;
/** Staging buffers kept for reuse; more are made while many large files arrive at once. */
const POOL_KEEP = 16;

const O_DIRECT: number | undefined = (constants as Record<string, number | undefined>).O_DIRECT;
// The project's TypeScript setup has no DOM library, where WebAssembly's types live.
const wasm = (globalThis as { WebAssembly?: { Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer } } })
  .WebAssembly;

/** Whether this process may try direct writes at all (platform and the user's switch). */
export function directWritesAvailable(): boolean {
  return O_DIRECT !== undefined && process.env.SYNKER_DIRECT_IO !== '0' && wasm !== undefined;
}

/**
 * File systems (statfs(2) f_type) whose direct I/O would make every 1 MiB
 * write wait for a network round trip (NFS, SMB, Ceph…) or a user-space
 * daemon (FUSE: sshfs, ntfs-3g, virtiofs…), where buffered writes are
 * batched. A backup folder on one of them is written through the page cache.
 */
const CACHED_FILE_SYSTEMS = new Set([
  0x6969, // NFS
  0x517b, // SMB
  0xff534d42, // CIFS
  0xfe534d42, // SMB2
  0x65735546, // FUSE
  0x01021997, // 9P
  0x00c36400, // Ceph
  0x5346414f, // AFS
  0x73757245, // Coda
]);

/** Whether direct writes suit the file system `root` is on (asked once per folder by the caller). */
export function directWritesSuit(root: string): boolean {
  return !CACHED_FILE_SYSTEMS.has(statfsSync(root).type);
}

/** The open flag for a direct descriptor; only call when directWritesAvailable(). */
export function directOpenFlag(): number {
  if (O_DIRECT === undefined) throw new Error('O_DIRECT is not available on this platform');
  return O_DIRECT;
}

/** Errors by which a file system says it does not do direct I/O (or not with these alignments). */
export function isDirectUnsupported(err: unknown): boolean {
  const code = errnoCode(err);
  return code === 'EINVAL' || code === 'EOPNOTSUPP' || code === 'ENOTSUP';
}

const free: Buffer[] = [];

/**
 * A block-aligned staging buffer of DIRECT_STAGE_BYTES (give it back with
 * releaseStage()), or undefined when none can be made: a WebAssembly memory
 * reserves far more address space than it uses, which a `ulimit -v` can refuse.
 */
export function acquireStage(): Buffer | undefined {
  const kept = free.pop();
  if (kept !== undefined) return kept;
  if (wasm === undefined) return undefined;
  let memory: { readonly buffer: ArrayBuffer };
  try {
    memory = new wasm.Memory({ initial: (DIRECT_STAGE_BYTES * STAGES_PER_MEMORY) / WASM_PAGE });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return undefined;
  }
  for (let i = 1; i < STAGES_PER_MEMORY; i++) free.push(Buffer.from(memory.buffer, i * DIRECT_STAGE_BYTES, DIRECT_STAGE_BYTES));
  return Buffer.from(memory.buffer, 0, DIRECT_STAGE_BYTES);
}

export function releaseStage(stage: Buffer): void {
  if (free.length < POOL_KEEP) free.push(stage);
}
