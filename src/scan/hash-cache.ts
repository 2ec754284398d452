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
 * never misread. A damaged file (SQLite's `cache.sqlite`, LMDB's `data.mdb`,
 * which is read whole in a child process first: state/lmdb-check.ts) is moved
 * aside (`<file>.damaged`) and the cache rebuilt, with a warning: it only
 * costs re-reading the files. Each entry carries a checksum, so a damaged
 * entry is a miss, never a wrong hash.
 *
 * Longer than 300 lines: opening with damage handling on two backends, the
 * batched writes and the entry checksum belong to one class.
 */
import { createHash } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../base/log.js';
import { StoreDamagedError, storeBackend, type KvBackend, type KvStore, type KvTable } from '../state/kv.js';
import { LmdbStore, lmdbFiles } from '../state/kv-lmdb.js';
import { forgetLmdbCheck } from '../state/lmdb-check.js';
import { SqliteStore } from '../state/kv-sqlite.js';
import { OrderedLookup, type KeyedRecord } from '../state/ordered-lookup.js';
import { plural } from '../base/units.js';
import { makeDirsSync } from '../base/make-dirs.js';

const log = createLogger('hash-cache');

/** Bump when the stored value layout changes; older caches are rebuilt. */
export const HASH_CACHE_SCHEMA = 2;

/**
 * [size, mtimeMs, ctimeMs, ino, sha256, check, path (only for hashed long keys)]. `check`
 * is a checksum of the path and the other fields, the hash as hex (entryCheck): neither store
 * checksums what it holds, and a bit flipped in a stored hash must read as a miss, not as
 * another hash. The hash is written as its 32 bytes (34 in msgpack, not 66 as hex: about 30 B
 * less per file on disk, and as much less of the map in memory); records of earlier versions
 * hold the hex string, are read as they are and rewritten in bytes when they next match.
 */
type StoredHash = string | Uint8Array;
type CachedValue = [number, number, number, number, StoredHash, number] | [number, number, number, number, StoredHash, number, string];

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

  /**
   * Open (creating if needed) the cache of the folder at `realRoot`. A
   * damaged cache (either backend) is moved aside and a new one started,
   * with a warning: it costs one re-read of the files.
   */
  static async open(cacheDir: string, realRoot: string, options: { backend?: KvBackend } = {}): Promise<HashCache> {
    const location = hashCachePath(cacheDir, realRoot);
    // Owner only, like the data dir: the cache names every file of the folder and its hash.
    makeDirsSync(location, 0o700);
    const backend = options.backend ?? storeBackend();
    try {
      return await HashCache.openOn(backend, location, realRoot);
    } catch (err) {
      if (!(err instanceof StoreDamagedError)) throw err;
      log.warn(`the hash cache ${err.file} is damaged (${err.detail}): moved aside, rebuilding it; files are read again once`);
      await moveAside(backend, location);
      return HashCache.openOn(backend, location, realRoot);
    }
  }

  private static async openOn(backend: KvBackend, location: string, realRoot: string): Promise<HashCache> {
    if (backend === 'sqlite') return HashCache.openSqlite(location, realRoot);
    const store = await LmdbStore.open({ path: location, maxDbs: 4 });
    try {
      const cache = new HashCache(location, store);
      cache.checkSchema(realRoot);
      return cache;
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
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
    if (!wellFormed(value)) {
      // Decoded, but not what this cache writes: a damaged record is a miss, never a hash.
      this.markDamaged(new Error(`the record of ${JSON.stringify(relPath).slice(0, 80)} is not a cache entry`));
      return undefined;
    }
    if (value.length === 7 && value[6] !== relPath) return undefined;
    const [size, mtimeMs, ctimeMs, ino, stored, check] = value;
    if (size !== state.size || mtimeMs !== state.mtimeMs || ctimeMs !== state.ctimeMs || ino !== state.ino) return undefined;
    const hash = typeof stored === 'string' ? stored : hexOf(stored);
    if (check !== entryCheck(relPath, size, mtimeMs, ctimeMs, ino, hash)) {
      this.markDamaged(new Error(`the record of ${JSON.stringify(relPath).slice(0, 80)} fails its checksum`));
      return undefined;
    }
    // An earlier version's record (hex): rewritten in bytes, once.
    if (typeof stored === 'string') this.store(relPath, state, hash);
    return hash;
  }

  /** Remember a hash; written with the next batch (one LMDB transaction per WRITE_BATCH changes). */
  store(relPath: string, state: FileState, hash: string): void {
    const key = keyOf(relPath);
    const check = entryCheck(relPath, state.size, state.mtimeMs, state.ctimeMs, state.ino, hash);
    const bytes = SHA256_HEX.test(hash) ? Buffer.from(hash, 'hex') : hash;
    const value: CachedValue =
      key === relPath
        ? [state.size, state.mtimeMs, state.ctimeMs, state.ino, bytes, check]
        : [state.size, state.mtimeMs, state.ctimeMs, state.ino, bytes, check, relPath];
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
    // In key order: hashes finish out of order across the pool, and LMDB splits a page in the
    // middle for a key that lands before the last one, leaving a cold cache's pages about 70%
    // full; sorted, they fill up (stable: a path's later change stays later).
    const batch = this.pending.sort(byKey);
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
        const relPath = wellFormed(value) && value.length === 7 ? value[6] : (key as string);
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
    if (removed > 0) log.debug(`pruned ${plural(removed, 'entry', 'entries')} of deleted files from ${this.location}`);
    return removed;
  }

  /** Commit what is queued, wait for every commit, then close the environment. */
  async close(): Promise<void> {
    this.reads?.close();
    this.commit();
    await Promise.all(this.commits);
    await this.env.close();
    if (this.damaged) {
      try {
        await moveAside(this.env.backend, this.location);
      } catch (err) {
        log.warn(`could not move the damaged hash cache ${this.env.location} aside`, err);
      }
    }
  }
}

/**
 * Move a damaged cache aside as `<file>.damaged` (replacing an older one),
 * and remove its companions: SQLite's WAL and shared-memory files, LMDB's
 * lock file and the record of its last good check.
 */
async function moveAside(backend: KvBackend, location: string): Promise<void> {
  if (backend === 'sqlite') {
    const file = path.join(location, HASH_CACHE_SQLITE_FILE);
    renameSync(file, `${file}.damaged`);
    for (const suffix of ['-wal', '-shm']) rmSync(file + suffix, { force: true });
    return;
  }
  const { file, lockFile } = lmdbFiles(location);
  renameSync(file, `${file}.damaged`);
  rmSync(lockFile, { force: true });
  await forgetLmdbCheck(file);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

const byKey = (a: [string, unknown], b: [string, unknown]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function wellFormed(value: unknown): value is CachedValue {
  return (
    Array.isArray(value) &&
    (value.length === 6 || (value.length === 7 && typeof value[6] === 'string')) &&
    typeof value[5] === 'number' &&
    typeof value[0] === 'number' &&
    typeof value[1] === 'number' &&
    typeof value[2] === 'number' &&
    typeof value[3] === 'number' &&
    (typeof value[4] === 'string' ? SHA256_HEX.test(value[4]) : value[4] instanceof Uint8Array && value[4].length === 32)
  );
}

/** A stored 32-byte hash as the hex the rest of synker uses. */
function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const f64 = new Float64Array(1);
const words = new Uint32Array(f64.buffer);

/**
 * FNV-1a (32 bits) over the path, the numbers' bits and the hash: each step is a bijection of
 * the running value, so any one changed character or number always changes the result, and
 * more changes go unseen with a chance of 1 in 2^32. Costs well under a microsecond.
 */
function entryCheck(relPath: string, size: number, mtimeMs: number, ctimeMs: number, ino: number, hash: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < relPath.length; i++) h = Math.imul(h ^ relPath.charCodeAt(i), 0x01000193);
  for (const n of [size, mtimeMs, ctimeMs, ino]) {
    f64[0] = n;
    h = Math.imul(h ^ words[0]!, 0x01000193);
    h = Math.imul(h ^ words[1]!, 0x01000193);
  }
  for (let i = 0; i < hash.length; i++) h = Math.imul(h ^ hash.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function keyOf(relPath: string): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most paths need no byte count.
  if (relPath.length * 3 <= MAX_KEY_BYTES || Buffer.byteLength(relPath) <= MAX_KEY_BYTES) return relPath;
  return `\u0001${createHash('sha256').update(relPath).digest('hex')}`;
}
