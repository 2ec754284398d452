/**
 * The persistent hash cache: one store per folder, kept outside the folder
 * (default: synkerDirs().cache/hash-cache/<name>-<id>/, holding
 * `cache.sqlite` on the sqlite backend or LMDB's `data.mdb`; docs/store.md). It maps
 * a file's on-disk path (relative to the root) to the hash of its content
 * and the state it had when hashed: size, mtime, inode and ctime. A file
 * whose lstat still shows that state is not read again. ctime catches edits
 * that restore size and mtime (and also changes on chmod/chown, which then
 * cost one re-read).
 *
 * Commits are atomic and crash-safe (a killed scan leaves every committed
 * transaction), and several processes may use one cache at once. The schema
 * version is stored with the data: another version is rebuilt from scratch,
 * never misread. A damaged SQLite file is moved aside (`cache.sqlite.damaged`)
 * and the cache rebuilt, with a warning: it only costs re-reading the files.
 */
import { createHash } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../base/log.js';
import { StoreDamagedError, storeBackend, type KvBackend, type KvStore, type KvTable } from '../state/kv.js';
import { LmdbStore } from '../state/kv-lmdb.js';
import { SqliteStore } from '../state/kv-sqlite.js';
import { OrderedLookup, type KeyedRecord } from '../state/ordered-lookup.js';
import { makeDirsSync } from '../base/make-dirs.js';

const log = createLogger('hash-cache');

/** Bump when the stored value layout changes; older caches are rebuilt. */
export const HASH_CACHE_SCHEMA = 1;

/** [size, mtimeMs, ctimeMs, ino, sha256 hex, path (only for hashed long keys)] */
type CachedValue = [number, number, number, number, string] | [number, number, number, number, string, string];

export interface FileState {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

/** Changes per transaction: one commit (and fsync) per batch, not per file. */
const WRITE_BATCH = 512;

// LMDB keys are limited to 1978 bytes; longer paths are stored under their hash (on both backends, alike).
const MAX_KEY_BYTES = 1900;

/** The cache's file on the sqlite backend, in its directory. */
export const HASH_CACHE_SQLITE_FILE = 'cache.sqlite';

/** Where the cache of the folder at `realRoot` (an absolute, resolved path) lives under `cacheDir`. */
export function hashCachePath(cacheDir: string, realRoot: string): string {
  const id = createHash('sha256').update(realRoot).digest('hex').slice(0, 16);
  const name = (path.basename(realRoot) || 'root').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return path.join(cacheDir, 'hash-cache', `${name}-${id}`);
}

export class HashCache {
  readonly location: string;
  private readonly env: KvStore;
  private readonly files: KvTable<CachedValue>;
  private readonly meta: KvTable<unknown>;
  /** Set when the file turned out damaged mid-way: the cache answers nothing, and is moved aside at close. */
  private damaged = false;
  private pending: Array<[string, CachedValue | undefined]> = [];
  private readonly commits = new Set<Promise<void>>();
  private firstCommitLogged = false;
  private lastCommit = performance.now();
  /** A scan asks in (nearly) key order: one cursor pass instead of a search per file. */
  private reads: OrderedLookup<CachedValue> | undefined;

  private constructor(location: string, env: KvStore) {
    this.location = location;
    this.env = env;
    this.files = env.table<CachedValue>('files');
    this.meta = env.table<unknown>('meta');
  }

  /** Which backend holds the cache. */
  get backend(): KvBackend {
    return this.env.backend;
  }

  /** Open (creating if needed) the cache of the folder at `realRoot`. */
  static open(cacheDir: string, realRoot: string, options: { backend?: KvBackend } = {}): HashCache {
    const location = hashCachePath(cacheDir, realRoot);
    // Owner only, like the data dir: the cache names every file of the folder and its hash.
    makeDirsSync(location, 0o700);
    if ((options.backend ?? storeBackend()) === 'lmdb') {
      const cache = new HashCache(location, LmdbStore.open({ path: location, maxDbs: 4 }));
      cache.checkSchema(realRoot);
      return cache;
    }
    try {
      return HashCache.openSqlite(location, realRoot);
    } catch (err) {
      if (!(err instanceof StoreDamagedError)) throw err;
      log.warn(
        `the hash cache ${err.file} is damaged (${(err.cause as Error | undefined)?.message ?? err.message}): moved aside, rebuilding it; files are read again once`,
      );
      moveAside(path.join(location, HASH_CACHE_SQLITE_FILE));
      return HashCache.openSqlite(location, realRoot);
    }
  }

  private static openSqlite(location: string, realRoot: string): HashCache {
    const store = SqliteStore.open({ file: path.join(location, HASH_CACHE_SQLITE_FILE), tables: ['files', 'meta'], durability: 'normal' });
    try {
      const cache = new HashCache(location, store);
      cache.checkSchema(realRoot);
      return cache;
    } catch (err) {
      void store.close();
      throw err;
    }
  }

  /** A damaged file found mid-way: answer nothing more, drop queued writes, move the file aside at close. */
  private markDamaged(err: unknown): void {
    if (this.damaged) return;
    this.damaged = true;
    this.pending = [];
    this.reads?.close();
    log.warn(`the hash cache ${this.env.location} is damaged: this scan reads every file; the cache is rebuilt next time`, err);
  }

  private checkSchema(realRoot: string): void {
    const found = this.meta.get('schema');
    if (found === HASH_CACHE_SCHEMA) return;
    if (found !== undefined) log.info(`hash cache schema ${String(found)} is not ${HASH_CACHE_SCHEMA}: rebuilding ${this.location}`);
    this.env.transactionSync(() => {
      this.files.clearSync();
      this.meta.putSync('schema', HASH_CACHE_SCHEMA);
      this.meta.putSync('root', realRoot);
    });
  }

  /** The cached hash when `state` is exactly the state it was computed for. */
  lookup(relPath: string, state: FileState): string | undefined {
    if (this.damaged) return undefined;
    this.reads ??= new OrderedLookup(
      // follow: a long scan must not pin an old snapshot (LMDB renews its read transaction).
      this.files.range({ follow: true })[Symbol.iterator]() as Iterator<KeyedRecord<CachedValue>>,
      (key) => this.files.get(key),
    );
    let value: CachedValue | undefined;
    try {
      value = this.reads.get(keyOf(relPath));
    } catch (err) {
      if (!(err instanceof StoreDamagedError)) throw err;
      this.markDamaged(err);
      return undefined;
    }
    if (value === undefined) return undefined;
    if (value.length === 6 && value[5] !== relPath) return undefined;
    const [size, mtimeMs, ctimeMs, ino, hash] = value;
    if (size !== state.size || mtimeMs !== state.mtimeMs || ctimeMs !== state.ctimeMs || ino !== state.ino) return undefined;
    return hash;
  }

  /** Remember a hash; written with the next batch (one LMDB transaction per WRITE_BATCH changes). */
  store(relPath: string, state: FileState, hash: string): void {
    const key = keyOf(relPath);
    const value: CachedValue =
      key === relPath
        ? [state.size, state.mtimeMs, state.ctimeMs, state.ino, hash]
        : [state.size, state.mtimeMs, state.ctimeMs, state.ino, hash, relPath];
    this.queueWrite(key, value);
  }

  /** Forget one path (used when a file turned out unreadable or unstable). */
  forget(relPath: string): void {
    this.queueWrite(keyOf(relPath), undefined);
  }

  private queueWrite(key: string, value: CachedValue | undefined): void {
    if (this.damaged) return;
    this.pending.push([key, value]);
    // Large files arrive slowly: commit at least every second so a crash loses little work.
    if (this.pending.length >= WRITE_BATCH || performance.now() - this.lastCommit > 1000) this.commit();
  }

  /** Write the queued changes in one transaction, committed off the main thread. */
  private commit(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.lastCommit = performance.now();
    const done = this.env
      .transaction(() => {
        for (const [key, value] of batch) {
          if (value === undefined) this.files.removeSync(key);
          else this.files.putSync(key, value);
        }
      })
      .then(
        () => {
          if (!this.firstCommitLogged) {
            this.firstCommitLogged = true;
            log.debug(`first commit to ${this.location}`);
          }
        },
        (err: unknown) =>
          err instanceof StoreDamagedError ? this.markDamaged(err) : log.warn(`could not write to the hash cache ${this.location}`, err),
      )
      .finally(() => this.commits.delete(done));
    this.commits.add(done);
  }

  /** Number of paths the cache holds. */
  count(): number {
    if (this.damaged) return 0;
    try {
      return this.files.count();
    } catch (err) {
      if (!(err instanceof StoreDamagedError)) throw err;
      this.markDamaged(err);
      return 0;
    }
  }

  /**
   * Drop the entries of paths that are no longer files. Costs one lstat per
   * cached path, so the scan calls it only when the cache has clearly
   * outgrown the folder.
   */
  prune(isFile: (relPath: string) => boolean): number {
    let removed = 0;
    if (this.damaged) return 0;
    try {
      for (const { key, value } of this.files.range()) {
        const relPath = value.length === 6 ? value[5] : (key as string);
        if (!isFile(relPath)) {
          this.forget(relPath);
          removed++;
        }
      }
    } catch (err) {
      if (!(err instanceof StoreDamagedError)) throw err;
      this.markDamaged(err);
      return 0;
    }
    if (removed > 0) log.debug(`pruned ${removed} entries of deleted files from ${this.location}`);
    return removed;
  }

  /** Commit what is queued, wait for every commit, then close the environment. */
  async close(): Promise<void> {
    this.reads?.close();
    this.commit();
    await Promise.all(this.commits);
    await this.env.close();
    if (this.damaged && this.env.backend === 'sqlite') {
      try {
        moveAside(this.env.location);
      } catch (err) {
        log.warn(`could not move the damaged hash cache ${this.env.location} aside`, err);
      }
    }
  }
}

/** Move a damaged SQLite file aside (replacing an older one moved aside), with its WAL and shared-memory files. */
function moveAside(file: string): void {
  renameSync(file, `${file}.damaged`);
  for (const suffix of ['-wal', '-shm']) rmSync(file + suffix, { force: true });
}

function keyOf(relPath: string): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most paths need no byte count.
  if (relPath.length * 3 <= MAX_KEY_BYTES || Buffer.byteLength(relPath) <= MAX_KEY_BYTES) return relPath;
  return `\u0001${createHash('sha256').update(relPath).digest('hex')}`;
}
