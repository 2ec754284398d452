/**
 * The `lmdb` backend of KvStore: lmdb-js, as synker used it before there was
 * a choice (Node 20 has no node:sqlite). One LMDB environment, a named
 * database per table, ordered-binary keys and msgpack values (lmdb-js's
 * defaults). Its transactions are atomic, crash-safe and shared by processes.
 *
 * lmdb-js is a native addon: it is loaded here, once, and a failure to load
 * is kept, not thrown, so a process on the sqlite backend runs without it.
 */
import path from 'node:path';
import type { Database, Key, RootDatabase } from 'lmdb';
import { toBufferKey } from 'ordered-binary';
import { StoreBackendError, StoreDamagedError, type KvEntry, type KvKey, type KvRangeOptions, type KvStore, type KvTable } from './kv.js';
import { checkLmdbFile } from './lmdb-check.js';

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

/** The data file and the lock file of the environment at `envPath` (lmdb-js's naming). */
export function lmdbFiles(envPath: string): { file: string; lockFile: string } {
  return path.extname(envPath) === ''
    ? { file: path.join(envPath, 'data.mdb'), lockFile: path.join(envPath, 'lock.mdb') }
    : { file: envPath, lockFile: `${envPath}-lock` };
}

function requireLmdb(): LmdbModule {
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
  return lmdb;
}

export class LmdbStore implements KvStore {
  readonly backend = 'lmdb' as const;

  private constructor(
    readonly location: string,
    private readonly root: RootDatabase,
    private readonly maxDbs: number,
  ) {}

  /**
   * Open (creating if needed) the environment at `path` (a file when the name
   * has an extension, else a directory holding `data.mdb`), after checking
   * its file in a child process unless it is unchanged since its last good
   * check (lmdb-check.ts). Throws StoreDamagedError for a damaged file.
   */
  static async open(options: { path: string; maxDbs: number }): Promise<LmdbStore> {
    requireLmdb();
    const { file, lockFile } = lmdbFiles(options.path);
    await checkLmdbFile({ file, envPath: options.path, maxDbs: options.maxDbs, alsoMove: [lockFile] });
    return LmdbStore.openUnchecked(options);
  }

  /** open() without the check: only for a file known sound (a new one, a test's). */
  static openUnchecked(options: { path: string; maxDbs: number }): LmdbStore {
    const module = requireLmdb();
    return new LmdbStore(options.path, module.open({ path: options.path, maxDbs: options.maxDbs }), options.maxDbs);
  }

  /** Check the file again if it changed since its last good check (lmdb-check.ts). */
  async recheck(): Promise<void> {
    const { file, lockFile } = lmdbFiles(this.location);
    await checkLmdbFile({ file, envPath: this.location, maxDbs: this.maxDbs, alsoMove: [lockFile] });
  }

  table<V>(name: string): KvTable<V> {
    return new LmdbTable<V>(this.root.openDB<V, Key>(name, {}), lmdbFiles(this.location).file);
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

/**
 * A read that fails on a file that passed the check met a record whose value
 * does not decode (damage inside a value, which LMDB does not see): that is
 * damage too, never an answer. A closed environment is a bug, not damage.
 */
function guard<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StoreDamagedError || /closed/i.test((err as Error).message ?? '')) throw err;
    throw new StoreDamagedError(file, `a record does not read back: ${String((err as Error).message ?? err).slice(0, 120)}`, {
      cause: err,
      alsoMove: [lmdbFiles(file).lockFile],
    });
  }
}

class LmdbTable<V> implements KvTable<V> {
  constructor(
    private readonly db: Database<V, Key>,
    private readonly file: string,
  ) {}

  get(key: KvKey): V | undefined {
    return guard(this.file, () => this.db.get(key));
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
    const it = guard(this.file, () => this.db.getRange(range)[Symbol.iterator]());
    try {
      for (;;) {
        const step = guard(this.file, () => it.next());
        if (step.done === true) return;
        yield { key: step.value.key as KvKey, value: step.value.value };
      }
    } finally {
      it.return?.();
    }
  }

  /**
   * On LMDB, each key's bytes are those it encodes to again: lmdb-js 3.5.6 does not hand out the
   * bytes reliably (a binary-keyed range from a start key skipped records here). LMDB holds a key
   * that does not read back as written only as a version wrote it, from a string: such a key is
   * removed by that string (FolderStore.rekeyUnreadable).
   */
  *rawRange(options: KvRangeOptions = {}): Generator<KvEntry<V> & { raw: Uint8Array }> {
    for (const entry of this.range(options)) yield { ...entry, raw: toBufferKey(entry.key) };
  }

  *keys(options: { start?: KvKey } = {}): Generator<KvKey> {
    const it = guard(this.file, () => this.db.getKeys(options.start === undefined ? {} : { start: options.start })[Symbol.iterator]());
    try {
      for (;;) {
        const step = guard(this.file, () => it.next());
        if (step.done === true) return;
        yield step.value as KvKey;
      }
    } finally {
      it.return?.();
    }
  }

  count(): number {
    return guard(this.file, () => {
      const stats = this.db.getStats() as { entryCount?: number };
      return stats.entryCount ?? this.db.getCount();
    });
  }

  clearSync(): void {
    this.db.clearSync();
  }
}
