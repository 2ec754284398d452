/**
 * The key-value store synker's stores are written against (docs/store.md):
 * exactly what the agent state, the per-folder stores, the ordered lookups
 * and the hash cache use, no more. Two backends implement it:
 *
 * - `sqlite`: Node's built-in `node:sqlite` (Node >= 22.13), one table per
 *   named table, keys as BLOBs (kv-sqlite.ts);
 * - `lmdb`: lmdb-js, as synker always used (kv-lmdb.ts), for Node 20.
 *
 * Keys are encoded by ordered-binary on both (the encoding lmdb-js uses), and
 * both compare the bytes the same way (memcmp, shorter first), so a range
 * read returns the same keys in the same order on either backend. Values are
 * msgpack (msgpackr).
 */
import { SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { loadSqlite } from './sqlite-module.js';

const log = createLogger('store');

/**
 * Keys: strings (no NUL character) or numbers, or lists of them: the shapes synker stores. A
 * Uint8Array is a key's bytes as stored (from rawRange), used as they are: so a key that does not
 * read back as it was written (below) can still be removed.
 */
export type KvKey = string | number | Uint8Array | Array<string | number>;

export interface KvEntry<V> {
  key: KvKey;
  value: V;
}

export interface KvRangeOptions {
  /** The first key read (absent: from the first key of the table). */
  start?: KvKey;
  /**
   * false (default): one consistent snapshot for the whole read.
   * true: the read may move on to newer data as it goes (a long scan must not
   * pin old data); each record is still one committed value.
   */
  follow?: boolean;
}

/** One table (an LMDB named database, an SQLite table) of a store. */
export interface KvTable<V> {
  /** The committed value of a key (as of the read snapshot: see KvStore.renewReads). */
  get(key: KvKey): V | undefined;
  /**
   * Write, committed with others in one transaction shortly after; resolves
   * once committed. Inside transaction(), it is part of that transaction.
   */
  put(key: KvKey, value: V): Promise<void>;
  /** Like put(); resolves to whether the key was there (lmdb-js: true for an absent key too). */
  remove(key: KvKey): Promise<boolean>;
  /** Write at once: only inside transaction() or transactionSync(). */
  putSync(key: KvKey, value: V): void;
  /** Remove at once: only inside transaction() or transactionSync(). */
  removeSync(key: KvKey): boolean;
  /** Records in key order from `start`, read lazily. */
  range(options?: KvRangeOptions): Iterable<KvEntry<V>>;
  /**
   * range(), each record with its key's bytes (`raw`). ordered-binary does not give back every
   * key as written (a string of 64 characters or more holding a character U+0001 to U+0004 reads
   * back as a list, or as another string); SQLite gives the bytes as stored, so removeSync(raw)
   * removes such a record there. LMDB: the key encoded again (kv-lmdb.ts says why).
   */
  rawRange(options?: KvRangeOptions): Iterable<KvEntry<V> & { raw: Uint8Array }>;
  /** Keys in key order from `start`, read lazily. */
  keys(options?: { start?: KvKey }): Iterable<KvKey>;
  /** The number of records. */
  count(): number;
  /** Remove every record: only inside transaction() or transactionSync(). */
  clearSync(): void;
}

export type KvBackend = 'lmdb' | 'sqlite';

export interface KvStore {
  readonly backend: KvBackend;
  /** The file (SQLite) or the LMDB path. */
  readonly location: string;
  table<V>(name: string): KvTable<V>;
  /** Run `fn` in one write transaction (after the writes already queued); all or nothing. */
  transaction<T>(fn: () => T): Promise<T>;
  /** Same, on this thread now (LMDB: blocks on another process's write). */
  transactionSync<T>(fn: () => T): T;
  /** Let the next reads see what other processes committed since (LMDB read snapshots). */
  renewReads(): void;
  /** Wait for queued writes, then close. */
  close(): Promise<void>;
}

/** A store file that cannot be read as one (damaged, truncated, not a database). */
export class StoreDamagedError extends SynkerError {
  constructor(
    readonly file: string,
    /** What is wrong with it, without the file's name. */
    readonly detail: string,
    options: { cause?: unknown; alsoMove?: readonly string[] } = {},
  ) {
    const also = options.alsoMove ?? [`${file}-wal`, `${file}-shm`];
    super('E_STATE_DAMAGED', `${file} is damaged: ${detail}`, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      hint: `Move the file away${also.length > 0 ? ` (and ${also.join(', ')})` : ''}; synker starts a new one. The agent state holds no settings: only pairing attempts and the hashes last verified (the next check re-learns them).`,
    });
  }
}

export class StoreBackendError extends SynkerError {}

/** How durable a commit is: `full` survives power loss, `normal` a crash of the process (docs/store.md). */
export type Durability = 'full' | 'normal';

let chosen: KvBackend | undefined;

/**
 * The backend where nothing is asked for (docs/store.md has the figures):
 * - Windows: sqlite where node:sqlite loads (Node >= 22.13). It is what the
 *   Windows CI lane can test (LMDB cannot run under Wine), and LMDB on
 *   Windows sizes its file to the whole map.
 * - elsewhere: lmdb, 3x faster than node:sqlite at the warm check's point
 *   reads (0.10 s against 0.29 s for 100,000 hash-cache look-ups on Node 24,
 *   `npm run bench -- store`), and 1.3x at a cold check's writes.
 */
export function defaultBackend(platform: NodeJS.Platform, sqliteLoads: boolean): KvBackend {
  return platform === 'win32' && sqliteLoads ? 'sqlite' : 'lmdb';
}

/** The backend of this process, chosen once: SYNKER_STORE=lmdb|sqlite when set, else defaultBackend. */
export function storeBackend(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): KvBackend {
  if (chosen !== undefined) return chosen;
  const wanted = env.SYNKER_STORE;
  if (wanted !== undefined && wanted !== '' && wanted !== 'lmdb' && wanted !== 'sqlite') {
    throw new StoreBackendError('E_STORE_BACKEND', `SYNKER_STORE=${wanted} is not a store backend`, {
      hint: 'Use SYNKER_STORE=sqlite or SYNKER_STORE=lmdb, or unset it.',
    });
  }
  if (wanted === 'sqlite' && loadSqlite() === undefined) {
    throw new StoreBackendError('E_STORE_BACKEND', `SYNKER_STORE=sqlite, but this Node.js (${process.version}) has no node:sqlite`, {
      hint: 'node:sqlite needs Node.js 22.13 or later; unset SYNKER_STORE to use LMDB.',
    });
  }
  chosen = wanted === 'lmdb' || wanted === 'sqlite' ? wanted : defaultBackend(platform, loadSqlite() !== undefined);
  log.debug(`store backend: ${chosen}${wanted ? ' (SYNKER_STORE)' : ''}, Node.js ${process.version}`);
  return chosen;
}
