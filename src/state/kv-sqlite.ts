/**
 * The `sqlite` backend of KvStore: one node:sqlite connection, one
 * `WITHOUT ROWID` table per named table with a BLOB key (ordered-binary, as
 * lmdb-js encodes keys, so both backends order keys alike) and a BLOB value
 * (msgpack).
 *
 * - WAL journal: readers never block the writer nor each other, across
 *   processes (the agent and a `synker check` share the file).
 * - busy_timeout: a writer waits for another process's write (transactions
 *   are short) instead of failing at once. Every write transaction is BEGIN
 *   IMMEDIATE, so it takes the write lock first and the wait applies.
 * - synchronous: FULL for the agent state (a commit survives power loss, as
 *   LMDB's did), NORMAL for caches (a commit survives a killed process; power
 *   loss may undo the last commits, never damage the file).
 * - put()/remove() outside a transaction are queued and committed together
 *   on the next turn of the event loop, as lmdb-js batches them.
 * - Range reads go in pages of PAGE records (each page one statement), so no
 *   read transaction stays open while the caller works through them: a long
 *   scan neither holds back the WAL checkpoint nor sees a torn record.
 *
 * Longer than 300 lines: the store and its tables share the write queue and
 * the transaction depth; in two files they would import each other.
 */
import { Packr } from 'msgpackr';
import { fromBufferKey, toBufferKey } from 'ordered-binary';
import { isSqliteDamage, loadSqlite, type SqliteDatabase, type SqliteStatement } from './sqlite-module.js';
import {
  StoreBackendError,
  StoreDamagedError,
  type Durability,
  type KvEntry,
  type KvKey,
  type KvRangeOptions,
  type KvStore,
  type KvTable,
} from './kv.js';

/** How long a write waits for another process's write transaction to end. */
export const BUSY_TIMEOUT_MS = 10_000;
const PAGE = 256;

const packr = new Packr({ useRecords: false });

export interface SqliteOpenOptions {
  file: string;
  tables: readonly string[];
  durability: Durability;
  /**
   * Run inside the transaction that creates the file's tables, only when it
   * does (the first open of a new file); another process opening the file at
   * the same time waits for it. For moving records in from an older store.
   */
  onCreate?: (store: SqliteStore) => void;
}

/** A write queued for the next batch; `done` gets remove()'s answer. */
interface Pending {
  table: SqliteTable<unknown>;
  key: KvKey;
  value?: unknown;
  remove: boolean;
  done: (existed: boolean) => void;
  fail: (err: unknown) => void;
}

function encodeKey(key: KvKey): Buffer {
  return toBufferKey(key);
}

function decodeKey(bytes: Uint8Array): KvKey {
  return fromBufferKey(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as KvKey;
}

/** A value that does not decode is damage inside a record (SQLite checks pages, not values). */
function decodeValue<V>(bytes: unknown, file: string): V {
  try {
    return packr.unpack(bytes as Uint8Array) as V;
  } catch (err) {
    throw new StoreDamagedError(file, `a record does not read back: ${String((err as Error).message ?? err).slice(0, 120)}`, {
      cause: err,
    });
  }
}

export class SqliteStore implements KvStore {
  readonly backend = 'sqlite' as const;
  private readonly tables = new Map<string, SqliteTable<unknown>>();
  private pending: Pending[] = [];
  private flushScheduled = false;
  private depth = 0;
  private readonly begin: SqliteStatement;
  private readonly commitStmt: SqliteStatement;
  private readonly rollback: SqliteStatement;

  private constructor(
    readonly location: string,
    readonly db: SqliteDatabase,
  ) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commitStmt = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  /** Open (creating if needed). Throws StoreDamagedError when the file is no sound database. */
  static open(options: SqliteOpenOptions): SqliteStore {
    const sqlite = loadSqlite();
    if (sqlite === undefined) throw new StoreBackendError('E_STORE_BACKEND', `this Node.js (${process.version}) has no node:sqlite`);
    const db = new sqlite.DatabaseSync(options.file);
    try {
      // The busy timeout first: switching to WAL takes a lock too.
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      const store = new SqliteStore(options.file, db);
      store.transactionSync(() => {
        const version = db.prepare('PRAGMA user_version').get()?.user_version;
        for (const name of options.tables)
          db.exec(`CREATE TABLE IF NOT EXISTS ${tableName(name)} (k BLOB PRIMARY KEY NOT NULL, v BLOB NOT NULL) WITHOUT ROWID`);
        if (version === 0) {
          options.onCreate?.(store);
          db.exec('PRAGMA user_version = 1');
        }
      });
      return store;
    } catch (err) {
      try {
        db.close();
      } catch {
        // already failing
      }
      if (err instanceof StoreDamagedError) throw err;
      if (isSqliteDamage(err)) throw new StoreDamagedError(options.file, (err as Error).message, { cause: err });
      throw err;
    }
  }

  table<V>(name: string): KvTable<V> {
    let table = this.tables.get(name);
    if (table === undefined) {
      table = new SqliteTable<unknown>(this, name);
      this.tables.set(name, table);
    }
    return table as KvTable<V>;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** Map SQLite's "damaged" errors to StoreDamagedError. */
  guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (isSqliteDamage(err)) throw new StoreDamagedError(this.location, (err as Error).message, { cause: err });
      throw err;
    }
  }

  transactionSync<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.flush();
    return this.guard(() => {
      this.begin.run();
      this.depth++;
      try {
        const result = fn();
        this.commitStmt.run();
        return result;
      } catch (err) {
        try {
          this.rollback.run();
        } catch {
          // the transaction is gone already (SQLite rolled it back itself)
        }
        throw err;
      } finally {
        this.depth--;
      }
    });
  }

  transaction<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(this.transactionSync(fn));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Queue a write for the next batch, or do it now inside a transaction. */
  enqueue(entry: Pending): void {
    if (this.depth > 0) {
      try {
        entry.done(apply(entry));
      } catch (err) {
        entry.fail(err);
      }
      return;
    }
    this.pending.push(entry);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Commit the queued writes in one transaction. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    let results: boolean[];
    try {
      results = this.transactionSync(() => batch.map(apply));
    } catch (err) {
      for (const entry of batch) entry.fail(err);
      return;
    }
    for (const [i, entry] of batch.entries()) entry.done(results[i]!);
  }

  renewReads(): void {
    // Every statement outside a transaction reads the latest commit.
  }

  async close(): Promise<void> {
    this.flush();
    if (this.db.isOpen === false) return;
    this.db.close();
  }
}

function apply(entry: Pending): boolean {
  if (entry.remove) return entry.table.removeSync(entry.key);
  entry.table.putSync(entry.key, entry.value);
  return true;
}

function tableName(name: string): string {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new TypeError(`not a table name: ${name}`);
  return `"t_${name.replace(/-/g, '_')}"`;
}

class SqliteTable<V> implements KvTable<V> {
  private readonly getStmt: SqliteStatement;
  private readonly putStmt: SqliteStatement;
  private readonly removeStmt: SqliteStatement;
  private readonly firstPage: SqliteStatement;
  private readonly pageFrom: SqliteStatement;
  private readonly pageAfter: SqliteStatement;
  private readonly firstKeys: SqliteStatement;
  private readonly keysFrom: SqliteStatement;
  private readonly keysAfter: SqliteStatement;
  private readonly countStmt: SqliteStatement;
  private readonly clearStmt: SqliteStatement;

  constructor(
    private readonly store: SqliteStore,
    name: string,
  ) {
    const t = tableName(name);
    const db = store.db;
    this.getStmt = db.prepare(`SELECT v FROM ${t} WHERE k = ?`);
    this.putStmt = db.prepare(`INSERT INTO ${t} (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`);
    this.removeStmt = db.prepare(`DELETE FROM ${t} WHERE k = ?`);
    this.firstPage = db.prepare(`SELECT k, v FROM ${t} ORDER BY k LIMIT ${PAGE}`);
    this.pageFrom = db.prepare(`SELECT k, v FROM ${t} WHERE k >= ? ORDER BY k LIMIT ${PAGE}`);
    this.pageAfter = db.prepare(`SELECT k, v FROM ${t} WHERE k > ? ORDER BY k LIMIT ${PAGE}`);
    this.firstKeys = db.prepare(`SELECT k FROM ${t} ORDER BY k LIMIT ${PAGE}`);
    this.keysFrom = db.prepare(`SELECT k FROM ${t} WHERE k >= ? ORDER BY k LIMIT ${PAGE}`);
    this.keysAfter = db.prepare(`SELECT k FROM ${t} WHERE k > ? ORDER BY k LIMIT ${PAGE}`);
    this.countStmt = db.prepare(`SELECT count(*) AS n FROM ${t}`);
    this.clearStmt = db.prepare(`DELETE FROM ${t}`);
  }

  get(key: KvKey): V | undefined {
    const row = this.store.guard(() => this.getStmt.get(encodeKey(key)));
    return row === undefined ? undefined : decodeValue<V>(row.v, this.store.location);
  }

  put(key: KvKey, value: V): Promise<void> {
    return new Promise<void>((done, fail) =>
      this.store.enqueue({ table: this as SqliteTable<unknown>, key, value, remove: false, done: () => done(), fail }),
    );
  }

  remove(key: KvKey): Promise<boolean> {
    return new Promise<boolean>((done, fail) => this.store.enqueue({ table: this as SqliteTable<unknown>, key, remove: true, done, fail }));
  }

  putSync(key: KvKey, value: V): void {
    this.requireTransaction();
    this.store.guard(() => this.putStmt.run(encodeKey(key), packr.pack(value)));
  }

  removeSync(key: KvKey): boolean {
    this.requireTransaction();
    return Number(this.store.guard(() => this.removeStmt.run(encodeKey(key))).changes) > 0;
  }

  clearSync(): void {
    this.requireTransaction();
    this.store.guard(() => this.clearStmt.run());
  }

  private requireTransaction(): void {
    if (!this.store.inTransaction) throw new Error('putSync/removeSync/clearSync outside a transaction');
  }

  *range(options: KvRangeOptions = {}): Generator<KvEntry<V>> {
    for (const row of this.pages(this.firstPage, this.pageFrom, this.pageAfter, options.start)) {
      yield { key: decodeKey(row.k as Uint8Array), value: decodeValue<V>(row.v, this.store.location) };
    }
  }

  *rawRange(options: KvRangeOptions = {}): Generator<KvEntry<V> & { raw: Uint8Array }> {
    for (const row of this.pages(this.firstPage, this.pageFrom, this.pageAfter, options.start)) {
      const raw = row.k as Uint8Array;
      yield { key: decodeKey(raw), raw, value: decodeValue<V>(row.v, this.store.location) };
    }
  }

  *keys(options: { start?: KvKey } = {}): Generator<KvKey> {
    for (const row of this.pages(this.firstKeys, this.keysFrom, this.keysAfter, options.start)) yield decodeKey(row.k as Uint8Array);
  }

  /** Rows in key order, a page (one short statement) at a time. */
  private *pages(
    first: SqliteStatement,
    from: SqliteStatement,
    after: SqliteStatement,
    start: KvKey | undefined,
  ): Generator<Record<string, unknown>> {
    let page = this.store.guard(() => (start === undefined ? first.all() : from.all(encodeKey(start))));
    while (page.length > 0) {
      yield* page;
      if (page.length < PAGE) return;
      const last = page[page.length - 1]!.k as Uint8Array;
      page = this.store.guard(() => after.all(last));
    }
  }

  count(): number {
    return Number(this.store.guard(() => this.countStmt.get())?.n ?? 0);
  }
}
