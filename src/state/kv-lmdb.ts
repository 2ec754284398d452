/**
 * The `lmdb` backend of KvStore: lmdb-js, as synker used it before there was
 * a choice (Node 20 has no node:sqlite). One LMDB environment, a named
 * database per table, ordered-binary keys and msgpack values (lmdb-js's
 * defaults). Its transactions are atomic, crash-safe and shared by processes.
 *
 * lmdb-js is a native addon: it is loaded here, once, and a failure to load
 * is kept, not thrown, so a process on the sqlite backend runs without it.
 */
import type { Database, Key, RootDatabase } from 'lmdb';
import { StoreBackendError, type KvEntry, type KvKey, type KvRangeOptions, type KvStore, type KvTable } from './kv.js';

type LmdbModule = typeof import('lmdb');

let lmdb: LmdbModule | undefined;
let loadError: unknown;
try {
  lmdb = await import('lmdb');
} catch (err) {
  loadError = err;
}

/** Whether the lmdb-js addon loaded in this process. */
export function lmdbLoads(): boolean {
  return lmdb !== undefined;
}

export class LmdbStore implements KvStore {
  readonly backend = 'lmdb' as const;

  private constructor(
    readonly location: string,
    private readonly root: RootDatabase,
  ) {}

  /** Open (creating if needed) the environment at `path` (a file when the name has an extension, else a directory). */
  static open(options: { path: string; maxDbs: number }): LmdbStore {
    if (lmdb === undefined) {
      throw new StoreBackendError(
        'E_STORE_BACKEND',
        `the LMDB module (lmdb-js) does not load here: ${(loadError as Error | undefined)?.message ?? 'unknown error'}`,
        {
          cause: loadError,
          hint: 'Use Node.js 22.13 or later, where synker keeps its stores in node:sqlite instead.',
        },
      );
    }
    return new LmdbStore(options.path, lmdb.open({ path: options.path, maxDbs: options.maxDbs }));
  }

  table<V>(name: string): KvTable<V> {
    return new LmdbTable<V>(this.root.openDB<V, Key>(name, {}));
  }

  transaction<T>(fn: () => T): Promise<T> {
    // A child transaction, so a callback that throws leaves nothing behind (lmdb-js does not
    // abort a plain batched transaction); it still commits with the others of its batch.
    return this.root.childTransaction(fn);
  }

  transactionSync<T>(fn: () => T): T {
    return this.root.transactionSync(fn);
  }

  renewReads(): void {
    this.root.resetReadTxn();
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

class LmdbTable<V> implements KvTable<V> {
  constructor(private readonly db: Database<V, Key>) {}

  get(key: KvKey): V | undefined {
    return this.db.get(key);
  }

  async put(key: KvKey, value: V): Promise<void> {
    await this.db.put(key, value);
  }

  remove(key: KvKey): Promise<boolean> {
    return this.db.remove(key);
  }

  putSync(key: KvKey, value: V): void {
    this.db.putSync(key, value);
  }

  removeSync(key: KvKey): boolean {
    return this.db.removeSync(key);
  }

  *range(options: KvRangeOptions = {}): Generator<KvEntry<V>> {
    // snapshot: false lets LMDB renew the read transaction while a long read goes on.
    const range =
      options.start === undefined ? { snapshot: options.follow !== true } : { start: options.start, snapshot: options.follow !== true };
    for (const { key, value } of this.db.getRange(range)) yield { key: key as KvKey, value };
  }

  *keys(options: { start?: KvKey } = {}): Generator<KvKey> {
    for (const key of this.db.getKeys(options.start === undefined ? {} : { start: options.start })) yield key as KvKey;
  }

  count(): number {
    const stats = this.db.getStats() as { entryCount?: number };
    return stats.entryCount ?? this.db.getCount();
  }

  clearSync(): void {
    this.db.clearSync();
  }
}
