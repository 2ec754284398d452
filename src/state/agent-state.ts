/**
 * Longer than 300 lines: the state's open (two backends, the check of an LMDB
 * file, the one-time migration) belongs with the state it opens.
 *
 * The agent's own state, kept apart from the user config in the platform
 * data dir: pairing attempts from untrusted devices, and per-folder stores
 * (last checks, verified hashes, outbox) that later features fill. A
 * transactional store (docs/store.md: `state.sqlite` where Node.js has
 * node:sqlite, else `state.lmdb`) because several processes (the agent and a
 * `synker check` run from cron) read and write it at once: its transactions
 * are atomic, crash-safe and multi-process safe, and a folder's
 * verified-hash set of a million entries is updated without rewriting a
 * whole file, which an atomic JSON file would need.
 */
import { existsSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { SynkerError } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { FolderStore } from './folder-store.js';
import { StoreDamagedError, storeBackend, type KvBackend, type KvStore, type KvTable } from './kv.js';
import { LmdbStore, lmdbLoads } from './kv-lmdb.js';
import { checkLmdbFile, forgetLmdbCheck } from './lmdb-check.js';
import { SqliteStore } from './kv-sqlite.js';
import { acquireLock, type AcquireOptions, type HeldLock } from './lock.js';
import { makeDirs } from '../base/make-dirs.js';
import { realPath } from '../base/real-path.js';

const log = createLogger('state');

/** The agent state on the lmdb backend (and its lock file, `state.lmdb-lock`). */
export const STATE_FILE = 'state.lmdb';
/** The agent state on the sqlite backend (with `state.sqlite-wal` and `state.sqlite-shm` while in use). */
export const SQLITE_STATE_FILE = 'state.sqlite';
/** What state.lmdb is renamed to once its records are in state.sqlite. */
export const MIGRATED_SUFFIX = '.migrated';
const TABLES = ['pairing-attempts', 'folders'] as const;
const MAX_DBS = 8;
/** At most this many devices' pairing attempts are kept; the least recently seen go first. */
export const MAX_PAIRING_ATTEMPTS = 100;
/** Peer-supplied strings are cut to this length before they are stored. */
const MAX_FIELD_CHARS = 128;

export interface PairingAttemptInput {
  deviceId: string;
  /** The name the device announced (peer-controlled: shown, never trusted). */
  name?: string;
  /** Remote address, e.g. `192.168.1.20:51234`. */
  address?: string;
  at?: Date | number;
}

export interface PairingAttempt {
  deviceId: string;
  name?: string;
  address?: string;
  firstSeen: Date;
  lastSeen: Date;
  /** How many attempts were recorded for this device. */
  count: number;
}

interface StoredAttempt {
  deviceId: string;
  name?: string;
  address?: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
}

export class StateError extends SynkerError {}

export class AgentState {
  private readonly attempts: KvTable<StoredAttempt>;
  private readonly folderData: KvTable<unknown>;

  private constructor(
    readonly dataDir: string,
    private readonly root: KvStore,
  ) {
    this.attempts = root.table<StoredAttempt>('pairing-attempts');
    this.folderData = root.table<unknown>('folders');
  }

  /** Which backend holds this state (docs/store.md). */
  get backend(): KvBackend {
    return this.root.backend;
  }

  /** The store's file. */
  get location(): string {
    return this.root.location;
  }

  /**
   * Open (creating if needed) the state in `dataDir`, on the process's store
   * backend (storeBackend()) unless `options.backend` says which. The first
   * open on sqlite moves the records of an existing state.lmdb across.
   */
  static async open(dataDir: string, options: { backend?: KvBackend } = {}): Promise<AgentState> {
    const backend = options.backend ?? storeBackend();
    const file = path.join(dataDir, backend === 'sqlite' ? SQLITE_STATE_FILE : STATE_FILE);
    // Back on LMDB after SQLite took the records: a new, empty state.lmdb would forget every verified hash.
    if (backend === 'lmdb' && !existsSync(file) && existsSync(path.join(dataDir, SQLITE_STATE_FILE))) {
      throw new StateError('E_STATE_ELSEWHERE', `the agent state of ${dataDir} is in ${SQLITE_STATE_FILE}, and this synker uses LMDB`, {
        hint: 'Set SYNKER_STORE=sqlite (the store the records were moved to), or move state.sqlite away to start without its history.',
      });
    }
    try {
      await makeDirs(dataDir, 0o700);
      const root = backend === 'sqlite' ? await openSqliteState(dataDir) : await LmdbStore.open({ path: file, maxDbs: MAX_DBS });
      // The real path scopes folder locks, so two spellings of one data dir share them.
      return new AgentState(await realPath(dataDir), root);
    } catch (err) {
      if (err instanceof StoreDamagedError || err instanceof StateError) throw err;
      throw new StateError('E_STATE_OPEN', `cannot open the agent state ${file}: ${(err as Error).message}`, {
        cause: err,
        hint: 'Check that the data dir is writable by this user. The state holds no settings: if it is damaged, moving it away loses only history.',
      });
    }
  }

  /** Remember that an untrusted device tried to connect (one entry per device, capped). */
  async recordPairingAttempt(input: PairingAttemptInput): Promise<void> {
    const at = input.at === undefined ? Date.now() : typeof input.at === 'number' ? input.at : input.at.getTime();
    await this.root.transaction(() => {
      const previous = this.attempts.get(input.deviceId);
      const entry: StoredAttempt = {
        deviceId: input.deviceId.slice(0, MAX_FIELD_CHARS),
        firstSeen: previous ? Math.min(previous.firstSeen, at) : at,
        lastSeen: previous ? Math.max(previous.lastSeen, at) : at,
        count: (previous?.count ?? 0) + 1,
      };
      const name = input.name ?? previous?.name;
      const address = input.address ?? previous?.address;
      if (name !== undefined) entry.name = cleanField(name);
      if (address !== undefined) entry.address = cleanField(address);
      this.attempts.putSync(entry.deviceId, entry);
      const all = [...this.attempts.range()].map(({ value }) => value);
      if (all.length > MAX_PAIRING_ATTEMPTS) {
        all.sort((a, b) => a.lastSeen - b.lastSeen);
        for (const old of all.slice(0, all.length - MAX_PAIRING_ATTEMPTS)) this.attempts.removeSync(old.deviceId);
      }
    });
  }

  /** Pairing attempts, most recent first. */
  pairingAttempts(): PairingAttempt[] {
    this.root.renewReads();
    return [...this.attempts.range()]
      .map(({ value }) => ({ ...value, firstSeen: new Date(value.firstSeen), lastSeen: new Date(value.lastSeen) }))
      .sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime());
  }

  /** Forget a device's attempts (done when it becomes trusted). */
  async forgetPairingAttempt(deviceId: string): Promise<boolean> {
    return this.attempts.remove(deviceId);
  }

  /** The keyed store of one folder for one purpose, e.g. store('photos', 'verified'). */
  store<V = unknown>(folderId: string, namespace: string): FolderStore<V> {
    if (folderId.includes('\0') || namespace.includes('\0')) throw new TypeError('folder IDs and namespaces cannot contain NUL');
    return new FolderStore<V>(this.root, this.folderData, folderId, namespace);
  }

  /** Drop everything stored for a folder (after `synker folder remove`). */
  async dropFolder(folderId: string): Promise<void> {
    await this.root.transaction(() => {
      // By the keys' bytes as stored: a key that does not read back as written goes too (kv.ts).
      const keys: Uint8Array[] = [];
      for (const { key, raw } of this.folderData.rawRange({ start: [folderId] })) {
        if (!Array.isArray(key) || key[0] !== folderId) break;
        keys.push(raw);
      }
      for (const key of keys) this.folderData.removeSync(key);
    });
  }

  /**
   * Exclusive right to check or sync one folder, across every process using
   * this data dir; released by release() or when the process ends (even by
   * SIGKILL). Throws LockBusyError (naming the holder) when taken.
   */
  async acquireFolderLock(folderId: string, options: AcquireOptions = {}): Promise<HeldLock> {
    const lock = await acquireLock(`${path.resolve(this.dataDir)}\0folder\0${folderId}`, {
      description: `folder "${folderId}"`,
      ...options,
    });
    try {
      await this.recheck();
    } catch (err) {
      await lock.release();
      throw err;
    }
    return lock;
  }

  /**
   * Before a job reads the folder's records: check state.lmdb again when it
   * changed since this process last found it sound (a long-running agent's
   * file may be damaged under it). Costs a stat when unchanged; SQLite checks
   * what it reads by itself.
   */
  async recheck(): Promise<void> {
    if (this.root instanceof LmdbStore) await this.root.recheck();
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

function migrateError(lmdbFile: string, err: unknown): StateError {
  if (err instanceof StoreDamagedError) {
    return new StateError('E_STATE_MIGRATE', `could not carry the agent state over to ${SQLITE_STATE_FILE}: ${err.message}`, {
      cause: err,
      hint: `Move ${lmdbFile} (and ${lmdbFile}-lock) away to start without its history (the next checks learn the verified hashes again).`,
    });
  }
  if (err instanceof SynkerError) return err as StateError;
  return new StateError(
    'E_STATE_MIGRATE',
    `could not carry the agent state in ${lmdbFile} over to ${SQLITE_STATE_FILE}: ${(err as Error).message}`,
    {
      cause: err,
      hint: `Set SYNKER_STORE=lmdb to keep using ${lmdbFile}, or move it away to start without its history.`,
    },
  );
}

function cleanField(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, MAX_FIELD_CHARS);
}

/**
 * Open state.sqlite. The open that creates it moves every record of an
 * existing state.lmdb into it, in the transaction that creates its tables (a
 * second process opening it meanwhile waits, then finds the records there),
 * and renames state.lmdb to state.lmdb.migrated. The verified hashes are the
 * tamper guard's memory: when they cannot be carried over, the open fails
 * rather than start without them.
 */
async function openSqliteState(dataDir: string): Promise<SqliteStore> {
  const lmdbFile = path.join(dataDir, STATE_FILE);
  const sqliteFile = path.join(dataDir, SQLITE_STATE_FILE);
  let old: LmdbStore | undefined;
  let copied: number | undefined;
  let migrating = false;
  // The records to move are read in this process: check state.lmdb first (a damaged one would crash it).
  let lmdbChecked = false;
  if (existsSync(lmdbFile) && lmdbLoads() && (statSync(sqliteFile, { throwIfNoEntry: false })?.size ?? 0) === 0) {
    // LMDB writes its meta pages as it creates a file: an empty state.lmdb lost its records.
    if (statSync(lmdbFile).size === 0) throw migrateError(lmdbFile, new StoreDamagedError(lmdbFile, 'it is empty (0 bytes)'));
    try {
      await checkLmdbFile({ file: lmdbFile, envPath: lmdbFile, maxDbs: MAX_DBS, alsoMove: [`${lmdbFile}-lock`] });
      lmdbChecked = true;
    } catch (err) {
      throw migrateError(lmdbFile, err);
    }
  }
  try {
    const store = SqliteStore.open({
      file: path.join(dataDir, SQLITE_STATE_FILE),
      tables: TABLES,
      durability: 'full',
      onCreate: (created) => {
        if (!existsSync(lmdbFile)) return;
        migrating = true;
        if (!lmdbLoads()) {
          throw new StateError(
            'E_STATE_MIGRATE',
            `${lmdbFile} holds synker's state from before, and the LMDB module does not load to carry it over`,
            {
              hint: `Run this version once on Node.js where lmdb-js loads, or move ${lmdbFile} away to start without its history (the verified hashes are re-learnt by the next checks).`,
            },
          );
        }
        if (!lmdbChecked) {
          // Created by another process since the check above: not read unchecked.
          throw new StateError('E_STATE_MIGRATE', `${lmdbFile} appeared while ${SQLITE_STATE_FILE} was being created`, {
            hint: 'Run the command again.',
          });
        }
        old = LmdbStore.openUnchecked({ path: lmdbFile, maxDbs: MAX_DBS });
        copied = 0;
        for (const name of TABLES) {
          const from = old.table<unknown>(name);
          const to = created.table<unknown>(name);
          for (const { key, value } of from.range()) {
            to.putSync(key, value);
            copied++;
          }
        }
      },
    });
    if (copied !== undefined) {
      await old?.close();
      old = undefined;
      const renamed = await rename(lmdbFile, lmdbFile + MIGRATED_SUFFIX).then(
        () => Promise.all([rm(`${lmdbFile}-lock`, { force: true }), forgetLmdbCheck(lmdbFile)]).then(() => true),
        (err: unknown) => {
          log.warn(`could not rename ${lmdbFile} (its records are in ${store.location} now; it is no longer read)`, err);
          return false;
        },
      );
      log.info(
        `moved ${copied} records of the agent state from ${lmdbFile} to ${store.location}${renamed ? `; the old file is ${lmdbFile}${MIGRATED_SUFFIX}` : ''}`,
      );
    }
    return store;
  } catch (err) {
    if (err instanceof StateError) throw err;
    // Damage met while reading state.lmdb's records (a value that does not decode) is the migration's failure.
    if (err instanceof StoreDamagedError && err.file !== lmdbFile) throw err;
    if (migrating) throw migrateError(lmdbFile, err);
    throw err;
  } finally {
    await old?.close();
  }
}
