/**
 * The agent's own state, kept apart from the user config in the platform
 * data dir (`state.lmdb`): pairing attempts from untrusted devices, and
 * per-folder stores (last checks, verified hashes, outbox) that later
 * features fill. LMDB (lmdb-js) because several processes (the agent and a
 * `synker check` run from cron) read and write it at once: its
 * transactions are atomic, crash-safe and multi-process safe, and a
 * folder's verified-hash set of a million entries is updated without
 * rewriting a whole file, which an atomic JSON file would need.
 */
import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import { SynkerError } from '../base/errors.js';
import { FolderStore } from './folder-store.js';
import { acquireLock, type AcquireOptions, type HeldLock } from './lock.js';

export const STATE_FILE = 'state.lmdb';
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
  private constructor(
    readonly dataDir: string,
    private readonly root: RootDatabase,
    private readonly attempts: Database<StoredAttempt, string>,
    private readonly folderData: Database<unknown, Key>,
  ) {}

  static async open(dataDir: string): Promise<AgentState> {
    const file = path.join(dataDir, STATE_FILE);
    try {
      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      const root = open({ path: file, maxDbs: 8 });
      // The real path scopes folder locks, so two spellings of one data dir share them.
      return new AgentState(
        await realpath(dataDir),
        root,
        root.openDB<StoredAttempt, string>({ name: 'pairing-attempts' }),
        root.openDB({ name: 'folders' }),
      );
    } catch (err) {
      throw new StateError('E_STATE_OPEN', `cannot open the agent state ${file}: ${(err as Error).message}`, {
        cause: err,
        hint: 'Check that the data dir is writable by this user. The state holds no settings: if it is damaged, moving it away loses only history.',
      });
    }
  }

  /** Remember that an untrusted device tried to connect (one entry per device, capped). */
  async recordPairingAttempt(input: PairingAttemptInput): Promise<void> {
    const at = input.at === undefined ? Date.now() : typeof input.at === 'number' ? input.at : input.at.getTime();
    await this.attempts.transaction(() => {
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
      void this.attempts.put(entry.deviceId, entry);
      const all = [...this.attempts.getRange({})].map(({ value }) => value);
      if (all.length > MAX_PAIRING_ATTEMPTS) {
        all.sort((a, b) => a.lastSeen - b.lastSeen);
        for (const old of all.slice(0, all.length - MAX_PAIRING_ATTEMPTS)) void this.attempts.remove(old.deviceId);
      }
    });
  }

  /** Pairing attempts, most recent first. */
  pairingAttempts(): PairingAttempt[] {
    this.root.resetReadTxn();
    return [...this.attempts.getRange({})]
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
    return new FolderStore<V>(this.folderData, folderId, namespace);
  }

  /** Drop everything stored for a folder (after `synker folder remove`). */
  async dropFolder(folderId: string): Promise<void> {
    await this.folderData.transaction(() => {
      const keys: Key[] = [];
      for (const key of this.folderData.getKeys({ start: [folderId] })) {
        if (!Array.isArray(key) || key[0] !== folderId) break;
        keys.push(key);
      }
      for (const key of keys) void this.folderData.remove(key);
    });
  }

  /**
   * Exclusive right to check or sync one folder, across every process using
   * this data dir; released by release() or when the process ends (even by
   * SIGKILL). Throws LockBusyError (naming the holder) when taken.
   */
  acquireFolderLock(folderId: string, options: AcquireOptions = {}): Promise<HeldLock> {
    return acquireLock(`${path.resolve(this.dataDir)}\0folder\0${folderId}`, { description: `folder "${folderId}"`, ...options });
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

function cleanField(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, '?').slice(0, MAX_FIELD_CHARS);
}
