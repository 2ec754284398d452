/**
 * Longer than 300 lines: the scan loop, its hash-cache and hash-pool hand-offs and the root checks read best together.
 *
 * scanFolder: the manifest of a folder as an async stream of entries in
 * manifest order (compareEntries), never collected whole.
 *
 * The walk (walk.ts) yields items in order; files are looked up in the hash
 * cache or sent to the hash pool, and each item takes a slot in a bounded
 * reorder window (default 1024 entries, options.reorderWindow). Entries
 * leave from the head of the window as soon as they are complete, so output
 * stays sorted while up to a window's worth of files hash concurrently; when
 * the window is full the walk waits for the head.
 */
import { lstatSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { errnoCode } from '../base/errors.js';
import { fileInTheWay, throughAFile } from '../base/file-in-the-way.js';
import { createLogger } from '../base/log.js';
import { realPathSync } from '../base/real-path.js';
import { ownDirKeysOf } from '../dirs/own-dirs.js';
import type { EntryFlag, ManifestEntry } from '../manifest/entry.js';
import { ScanError } from './errors.js';
import { HashCache, type FileState } from './hash-cache.js';
import { HashPool } from './hash-pool.js';
import type { HashResponse } from './hash-protocol.js';
import { buildIgnoreMatcher, readIgnoreRules } from './ignore-rules.js';
import { resolveScanOptions, type ResolvedScanOptions, type ScanOptions } from './options.js';
import { ReorderWindow } from './reorder-window.js';
import { emptyStats, type ScanStats } from './scan-stats.js';
import { describeErrno, TreeWalker, type WalkItem } from './walk.js';

const log = createLogger('scan');

/** Let worker messages in at least this often while the synchronous walk runs. */
const ITEMS_PER_TURN = 256;

/**
 * One scan of one folder. Iterate it once (for await); `stats` is live while
 * it runs and final once iteration ends. Breaking out of the loop or aborting
 * the signal stops the scan and releases its threads and cache.
 */
export class FolderScan implements AsyncIterable<ManifestEntry> {
  readonly root: string;
  private readonly rootPrefix: string; // root and a separator: plus an item's raw (clean, `/`-separated) path, its absolute path
  readonly stats: ScanStats = emptyStats();
  /** Where the hash cache lives (known once the scan started; undefined without a cache). */
  cacheLocation: string | undefined;
  private readonly options: ResolvedScanOptions;
  private started = false;
  private walked = 0;
  private pool: HashPool | undefined;

  constructor(root: string, options: ScanOptions = {}) {
    this.root = path.resolve(root);
    this.rootPrefix = this.root.endsWith(path.sep) ? this.root : this.root + path.sep;
    this.options = resolveScanOptions(this.root, options);
  }

  /**
   * How far the scan has got, live: items the walk has looked at and bytes
   * of file content the hash threads have read (read by read, so a large
   * file being hashed advances it too). Both only grow; a scan stuck on a
   * disk shows as neither growing.
   */
  get progress(): { items: number; bytes: number } {
    return { items: this.walked, bytes: this.pool?.bytesRead ?? 0 };
  }

  [Symbol.asyncIterator](): AsyncIterator<ManifestEntry> {
    if (this.started) throw new Error('a FolderScan can be iterated only once; call scanFolder again');
    this.started = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<ManifestEntry, void, undefined> {
    const startedAt = performance.now();
    const { options, stats, root } = this;
    const signal = options.signal;
    signal?.throwIfAborted();
    const realRoot = checkRoot(root);
    const folderRules = options.useIgnoreFile ? await readIgnoreRules(root) : '';
    // synker's own folders of this machine inside the root (a whole home shared) are never scanned: dirs/own-dirs.ts.
    const own = ownDirKeysOf(root, options.cacheDir === undefined ? [] : [options.cacheDir]);
    const walker = new TreeWalker(root, buildIgnoreMatcher(folderRules, options.extraIgnore), own);
    let cache: HashCache | undefined;
    if (options.cacheDir !== undefined) {
      try {
        cache = await HashCache.open(options.cacheDir, realRoot);
      } catch (err) {
        // Every command that scans (check, sync, restore, scan) comes here: the hint names no command's flags.
        const file = errnoCode(err) === 'ENOTDIR' ? fileInTheWay((err as NodeJS.ErrnoException).path ?? options.cacheDir) : undefined;
        const why = file !== undefined ? `${file} is a file, not a folder` : (err as Error).message;
        throw new ScanError('E_SCAN_CACHE', root, `cannot open the hash cache under ${options.cacheDir}: ${why}`, {
          cause: err,
          hint: `Make ${file ?? options.cacheDir} a folder this user can write: it only holds the hash cache, which synker rebuilds when it is gone (every file is read again once).`,
        });
      }
      this.cacheLocation = cache.location;
    }
    const pool = options.hash ? new HashPool({ jobs: options.jobs, ioConcurrency: options.ioConcurrency }) : undefined;
    this.pool = pool;
    const window = new ReorderWindow<ManifestEntry>();
    try {
      let items: Generator<WalkItem>;
      let sinceTurn = 0;
      try {
        items = walker.walk();
      } catch (err) {
        throw rootError(root, err);
      }
      for (;;) {
        let next: IteratorResult<WalkItem>;
        try {
          next = items.next();
        } catch (err) {
          throw rootError(root, err);
        }
        if (next.done) break;
        this.walked++;
        this.add(window, next.value, cache, pool);
        while (window.headReady() || window.size >= options.reorderWindow) {
          yield this.count(window.headReady() ? window.shiftReady() : await window.shift());
          signal?.throwIfAborted();
        }
        if (++sinceTurn >= ITEMS_PER_TURN) {
          sinceTurn = 0;
          await nextTurn();
          signal?.throwIfAborted();
        }
      }
      while (window.size > 0) {
        yield this.count(await window.shift());
        signal?.throwIfAborted();
      }
      if (cache) this.pruneIfOutgrown(cache);
    } finally {
      stats.skippedSpecial = walker.counters.skippedSpecial;
      stats.ignored = walker.counters.ignored;
      stats.hashThreads = pool?.threads ?? 0;
      await pool?.close();
      await cache?.close();
      stats.elapsedMs = performance.now() - startedAt;
      log.debug('scan finished', stats);
    }
  }

  /**
   * Entries of deleted files are harmless (never served unless size, mtime,
   * ctime and inode all match) but take space: after a complete scan, prune
   * when the cache holds clearly more paths than the folder has files.
   */
  private pruneIfOutgrown(cache: HashCache): void {
    const live = this.stats.hashedFiles + this.stats.cachedFiles;
    if (cache.count() <= live * 1.25 + 1000) return;
    cache.prune((relPath) => lstatSync(path.join(this.root, relPath), { throwIfNoEntry: false })?.isFile() ?? false);
  }

  private count(entry: ManifestEntry): ManifestEntry {
    const { stats } = this;
    if (entry.type === 'file') {
      stats.files++;
      stats.bytes += entry.size;
      if (entry.flags?.includes('unstable')) stats.unstable++;
    } else if (entry.type === 'dir') stats.dirs++;
    else if (entry.type === 'symlink') stats.symlinks++;
    else stats.errors++;
    return entry;
  }

  /** Put one walk item's entry in the window: complete now, or once its file is hashed. */
  private add(window: ReorderWindow<ManifestEntry>, item: WalkItem, cache: HashCache | undefined, pool: HashPool | undefined): void {
    const entry = entryOf(item);
    if (item.kind !== 'file' || pool === undefined) {
      window.push(entry);
      return;
    }
    const cached = cache?.lookup(item.raw, item.stat); // Verify re-reads every file, but keeps what the cache vouched for.
    if (cached !== undefined && !this.options.verify) {
      this.stats.cachedFiles++;
      entry.hash = cached;
      window.push(entry);
      return;
    }
    const state = { size: item.stat.size, mtimeMs: item.stat.mtimeMs, ctimeMs: item.stat.ctimeMs, ino: item.stat.ino };
    const slot = window.reserve();
    pool.hash(this.rootPrefix + item.raw, state, (response) => {
      if (response instanceof Error) window.fail(slot, response);
      else window.complete(slot, this.hashed(item, entry, response, cache, cached === undefined ? undefined : { hash: cached, state }));
    });
  }

  private hashed(
    item: WalkItem,
    entry: ManifestEntry,
    response: HashResponse,
    cache: HashCache | undefined,
    vouched: { hash: string; state: FileState } | undefined,
  ): ManifestEntry {
    if (!response.ok) {
      cache?.forget(item.raw);
      return {
        ...errorFields(entry),
        errorCode: response.errorCode,
        error: `could not read the file: ${describeErrno(response.errorCode, new Error(response.message))}`,
      };
    }
    // The entry describes the state that was hashed (it may be newer than the walk's lstat).
    entry.size = response.stat.size;
    entry.mtime = Math.floor(response.stat.mtimeMs);
    entry.mode = response.stat.mode & 0o7777;
    this.stats.hashedFiles++;
    this.stats.hashedBytes += response.stat.size;
    if ('unstable' in response) {
      cache?.forget(item.raw);
      entry.flags = [...(entry.flags ?? []), 'unstable'];
      return entry;
    }
    entry.hash = response.hash;
    if (vouched !== undefined && vouched.hash !== response.hash && sameState(vouched.state, response.stat)) {
      // Nothing the file system records changed, yet the bytes did: only the disk (or someone
      // writing around the file system) can do that. The cache is refreshed with what was read.
      this.stats.silentChanges++;
      entry.flags = [...(entry.flags ?? []), 'silent-change'];
      log.warn(`${path.join(this.root, item.raw)}: content changed without any change of size, mtime or ctime (bit rot or tampering?)`);
    }
    cache?.store(item.raw, response.stat, response.hash);
    return entry;
  }
}

/** Start scanning `root`. Nothing happens until the result is iterated. */
export function scanFolder(root: string, options?: ScanOptions): FolderScan {
  return new FolderScan(root, options);
}

function sameState(a: FileState, b: FileState): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

function checkRoot(root: string): string {
  let stat: Stats;
  try {
    stat = statSync(root);
  } catch (err) {
    throw rootError(root, err);
  }
  if (!stat.isDirectory()) {
    throw new ScanError('E_SCAN_ROOT_NOT_DIR', root, `${root} is not a folder`, { hint: 'give the path of the folder to scan' });
  }
  return realPathSync(root);
}

function rootError(root: string, err: unknown): ScanError {
  const code = errnoCode(err);
  const inTheWay = code === 'ENOTDIR' ? throughAFile(root) : undefined;
  if (inTheWay !== undefined) {
    return new ScanError('E_SCAN_ROOT_MISSING', root, `folder ${root} does not exist: ${inTheWay}`, {
      cause: err,
      hint: 'check the path: one of its parents is a file',
    });
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new ScanError('E_SCAN_ROOT_MISSING', root, `folder ${root} does not exist`, {
      cause: err,
      hint: 'check the path; if it is on a removable or network disk, mount it first',
    });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new ScanError('E_SCAN_ROOT_UNREADABLE', root, `cannot list folder ${root}: permission denied`, {
      cause: err,
      hint: 'run synker as a user that can read the folder',
    });
  }
  if (code !== undefined) {
    return new ScanError('E_SCAN_ROOT_UNREADABLE', root, `cannot list folder ${root}: ${describeErrno(code, err)}`, { cause: err });
  }
  return err as ScanError;
}

function entryOf(item: WalkItem): ManifestEntry {
  const entry: ManifestEntry = {
    path: item.key,
    type: item.kind,
    size: item.kind === 'file' ? item.stat.size : 0,
    mtime: item.stat ? Math.floor(item.stat.mtimeMs) : 0,
    mode: item.stat ? item.stat.mode & 0o7777 : 0,
  };
  if (item.kind === 'symlink') entry.target = item.target;
  if (item.raw !== item.key) entry.raw = item.raw;
  if (item.flags.length > 0) entry.flags = item.flags as EntryFlag[];
  if (item.kind === 'error') {
    entry.errorCode = item.errorCode;
    entry.error = item.error;
  }
  return entry;
}

function errorFields(entry: ManifestEntry): ManifestEntry {
  const { path: p, mtime, mode, raw, flags } = entry;
  const out: ManifestEntry = { path: p, type: 'error', size: 0, mtime, mode };
  if (raw !== undefined) out.raw = raw;
  if (flags !== undefined) out.flags = flags;
  return out;
}
