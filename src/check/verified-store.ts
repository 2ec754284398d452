/**
 * The hashes the backup last verified as matching the source, per folder:
 * what "which side changed" is judged against (docs/diff.md).
 *
 * One record per path: hash, size and mtime of the last match. A check
 * writes a record only when a match differs from it (a new file, or both
 * sides changed alike since), so checking an unchanged folder writes
 * nothing; a million-file folder is not rewritten at every check. Each
 * record is true on its own (that content was seen equal on both sides), so
 * an interrupted check leaves a valid set behind. Paths in dispute keep their
 * old record, so the verdict stays known until the difference is resolved.
 *
 * Records of files gone from both sides would linger: after a complete check
 * that proved clearly fewer files than there are records, those whose path
 * is no longer in the backup folder (and not in dispute) are dropped.
 *
 * Records live in the namespace `v` (in every record's key: a one-letter name
 * saves ~9 MB per million files, on disk and in the map). Older versions used
 * `verified.a`/`verified.b` and a pointer: the first open moves them (migrate).
 */
import { lstatSync } from 'node:fs';
import path from 'node:path';
import type { Difference, EntryFactsWithPath, VerifiedRecord } from '../diff/index.js';
import type { AgentState } from '../state/agent-state.js';
import type { FolderStore } from '../state/folder-store.js';
import type { OrderedLookup } from '../state/ordered-lookup.js';
import { hashedKey, keyOf, LEGACY_PREFIX, HASHED_KEY_PREFIX, pathOf, type StoredRecord, storedPath } from './verified-keys.js';

const GENERATIONS = ['a', 'b'] as const;
type Generation = (typeof GENERATIONS)[number];
const POINTER_KEY = 'current';
export const RECORDS = 'v'; // the records' namespace: one letter, it is in every record's key
/** The namespace of the set's count, and of earlier versions' generation pointer. */
const META = 'verified';
/** Writes in flight before the diff waits for them (LMDB batches them into transactions). */
const WRITE_BATCH = 5000;
/** Records beyond the files proven equal (plus disputed paths) before stale ones are pruned. */
const PRUNE_SLACK = 1000;

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** How a hash is written: its bytes when it is a SHA-256 in hex (it always is), else as it is. */
function storedHash(hash: string): string | Uint8Array {
  return SHA256_HEX.test(hash) ? Buffer.from(hash, 'hex') : hash;
}

function hexOf(hash: string | Uint8Array): string {
  return typeof hash === 'string' ? hash : Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex');
}

/** Whether a stored record is in the current form (an array holding the hash's bytes). */
function bytesForm(stored: StoredRecord): boolean {
  return Array.isArray(stored) && typeof stored[0] !== 'string';
}

function recordOf(stored: StoredRecord | undefined, key: string, path: string): VerifiedRecord | undefined {
  if (stored === undefined) return undefined;
  if (Array.isArray(stored))
    return key === path || stored[3] === path ? { hash: hexOf(stored[0]), size: stored[1], mtime: stored[2] } : undefined;
  return key === path || stored.path === path ? stored : undefined;
}

const COUNT_KEY = 'count';

/**
 * The last verified records of these paths, read only (nothing is written:
 * the agent answers a restore's verified-request with it while a check may
 * hold the folder). Undefined where a path has none.
 */
export function readVerified(state: AgentState, folderId: string, paths: readonly string[]): Array<VerifiedRecord | undefined> {
  const records = state.store<StoredRecord>(folderId, RECORDS);
  // Not migrated yet (no check since the upgrade): the earlier layout's records, as they are.
  const earlier = state.store<StoredRecord>(folderId, `verified.${pointerOf(state, folderId)}`);
  const unmigrated = !earlier.isEmpty();
  return paths.map((p) => {
    const key = keyOf(p);
    // A long path's record not moved yet from its earlier key (migrate) is read there.
    const stored = records.get(key) ?? (key === p ? undefined : records.get(hashedKey(p, LEGACY_PREFIX)));
    const r = recordOf(stored ?? (unmigrated ? earlier.get(key) : undefined), key, p);
    return r === undefined ? undefined : { hash: r.hash, size: r.size, mtime: r.mtime };
  });
}

/** The generation earlier versions used last (`verified.a` unless the pointer says `b`). */
function pointerOf(state: AgentState, folderId: string): Generation {
  return state.store<Generation>(folderId, META).get(POINTER_KEY) === 'b' ? 'b' : 'a';
}

/**
 * Moves an earlier version's records (the current generation `verified.a` or `verified.b`) into
 * RECORDS, in one transaction, and empties the other generation (left over by an interrupted check
 * of an older version). Nothing to do once done: both generations are empty.
 */
async function migrate(state: AgentState, folderId: string, records: FolderStore<StoredRecord>): Promise<void> {
  await migrateLayout(state, folderId, records);
  // Long paths' records under LEGACY_PREFIX (they read back as lists, not strings): under the
  // key their path gives now (a record there always holds its path).
  await records.rekeyUnreadable((stored) => {
    const p = storedPath(stored);
    return p === undefined ? undefined : { to: keyOf(p), written: hashedKey(p, LEGACY_PREFIX) };
  });
}

async function migrateLayout(state: AgentState, folderId: string, records: FolderStore<StoredRecord>): Promise<void> {
  const current = pointerOf(state, folderId);
  const earlier = state.store<StoredRecord>(folderId, `verified.${current}`);
  const other = state.store<StoredRecord>(folderId, `verified.${current === 'a' ? 'b' : 'a'}`);
  if (!other.isEmpty()) await other.clear();
  if (earlier.isEmpty()) return;
  // Records here too: an older version ran since the upgrade. Its records are newer (they replace
  // these); the others stay (each is true on its own), and the count is counted afresh.
  const merged = !records.isEmpty();
  // A long path's key (LEGACY_PREFIX...) does not read back as written: recomputed from its path.
  await records.takeAll(
    earlier,
    (key, stored) => (typeof key === 'string' ? key : keyOf(pathOf(stored, String(key)))),
    (key, stored) => (typeof key === 'string' ? undefined : hashedKey(pathOf(stored, String(key)), LEGACY_PREFIX)),
  );
  const meta = state.store<unknown>(folderId, META);
  await meta.remove(POINTER_KEY);
  if (merged) await meta.remove(COUNT_KEY);
}

export class VerifiedHashes {
  private readonly records: FolderStore<StoredRecord>;
  private readonly meta: FolderStore<unknown>;
  /** Records in the set (kept in the meta store, so deciding whether to prune costs no scan). */
  private count: number;
  private writes: Promise<void>[] = [];
  private failure: unknown;
  private matched = 0;
  /** Matches arrive in manifest order: their records are read in one cursor pass. */
  private reads: OrderedLookup<StoredRecord> | undefined;
  /** What this check changed: records written (new or different matches) and stale records pruned. */
  readonly stats = { written: 0, pruned: 0 };

  private constructor(
    state: AgentState,
    folderId: string,
    private readonly root: string,
    private readonly pruneSlack: number,
  ) {
    this.records = state.store<StoredRecord>(folderId, RECORDS);
    this.meta = state.store<unknown>(folderId, META);
    const count = this.meta.get(COUNT_KEY);
    this.count = typeof count === 'number' ? count : this.records.count();
  }

  /** Opens the folder's verified set (`root`: the backup folder, for pruning). */
  static async open(state: AgentState, folderId: string, root: string, options: { pruneSlack?: number } = {}): Promise<VerifiedHashes> {
    await migrate(state, folderId, state.store<StoredRecord>(folderId, RECORDS));
    return new VerifiedHashes(state, folderId, root, options.pruneSlack ?? PRUNE_SLACK);
  }

  /** The last verified record of a path (for the diff's `verified` option). */
  readonly lookup = (path: string): VerifiedRecord | undefined => {
    const key = keyOf(path);
    return recordOf(this.records.peek(key), key, path);
  };

  /** Records a file proven equal on both sides (for the diff's `onMatch` option). */
  readonly record = (source: EntryFactsWithPath): Promise<void> | undefined => {
    if (source.hash === undefined) return undefined;
    this.matched++;
    const key = keyOf(source.path);
    this.reads ??= this.records.orderedReads();
    // A long path's key is elsewhere in key order: a point read, so the cursor does not jump there.
    const stored = key === source.path ? this.reads.get(key) : this.records.peek(key);
    const old = recordOf(stored, key, source.path);
    if (old !== undefined && old.hash === source.hash && old.size === source.size && old.mtime === source.mtime && bytesForm(stored!))
      return undefined;
    this.put(key, source as EntryFactsWithPath & { hash: string }, stored === undefined);
    if (this.writes.length < WRITE_BATCH) return undefined;
    // Make the diff wait for this batch, so writes never pile up faster than LMDB commits them.
    const batch = Promise.all(this.writes).then(() => undefined);
    this.writes = [];
    return batch;
  };

  /**
   * A file a sync landed (or renamed, or whose times it set): its bytes were
   * verified against the source's hash, so both sides now hold that content,
   * as a check's match proves. Without this record, a file the sync brought
   * and the source then silently damaged would read as "unknown" at the next
   * run, not as suspicious, and be copied over the good copy. Any order.
   */
  recordLanded(source: EntryFactsWithPath): void {
    if (source.hash === undefined) return;
    const key = keyOf(source.path);
    this.put(key, source as EntryFactsWithPath & { hash: string }, this.records.peek(key) === undefined);
  }

  /**
   * A file or folder the sync renamed on the backup (the source moved it):
   * its record, and the records of everything under a folder, move with it,
   * so a file moved is guarded as it was before (a move keeps its record).
   * Without this, the files of a renamed folder had no record under their new
   * paths, and a later silent change on the source read as "unknown" and was
   * copied over the good copy. Queued after the writes before it; settles once they are stored.
   */
  recordMoved(from: string, to: string): Promise<void> {
    if (from === to) return Promise.resolve();
    const moves: Array<{ from: string; to: string; value: StoredRecord }> = [];
    const carry = (key: string, stored: StoredRecord): void => {
      const oldPath = pathOf(stored, key);
      const newPath = oldPath === from ? to : `${to}${oldPath.slice(from.length)}`;
      const newKey = keyOf(newPath);
      const [hash, size, mtime] = Array.isArray(stored) ? stored : [stored.hash, stored.size, stored.mtime];
      const bytes = typeof hash === 'string' ? storedHash(hash) : hash;
      moves.push({ from: key, to: newKey, value: newKey === newPath ? [bytes, size, mtime] : [bytes, size, mtime, newPath] });
    };
    const fromKey = keyOf(from);
    const own = this.records.get(fromKey);
    if (recordOf(own, fromKey, from) !== undefined) carry(fromKey, own!);
    for (const [key, stored] of this.records.withPrefix(`${from}/`)) carry(key, stored);
    // Paths too long for a plain key are stored under their hash: look at each (there are few).
    for (const [key, stored] of this.records.withPrefix(HASHED_KEY_PREFIX)) {
      const p = pathOf(stored, key);
      if (p === from || p.startsWith(`${from}/`)) carry(key, stored);
    }
    if (moves.length === 0) return Promise.resolve();
    for (const m of moves) if (this.records.peek(m.to) !== undefined) this.count--;
    this.stats.written += moves.length;
    const written = this.records.moveAll(moves).catch((err: unknown) => {
      this.failure ??= err;
    });
    this.writes.push(written);
    return written;
  }

  /** Queues the record of `source` under `key`; a write error is thrown by commit() or flush(). */
  private put(key: string, source: EntryFactsWithPath & { hash: string }, isNew: boolean): void {
    if (isNew) this.count++;
    const hash = storedHash(source.hash);
    const record: StoredRecord = key === source.path ? [hash, source.size, source.mtime] : [hash, source.size, source.mtime, source.path];
    this.stats.written++;
    this.writes.push(
      this.records.put(key, record).catch((err: unknown) => {
        this.failure ??= err;
      }),
    );
  }

  /** The sync is over: wait for what recordLanded() wrote. */
  async flush(): Promise<void> {
    await Promise.all(this.writes);
    this.writes = [];
    if (this.failure !== undefined) throw this.failure;
    if (this.stats.written > 0) await this.meta.put(COUNT_KEY, this.count);
  }

  /**
   * The check ran to the end: wait for the writes, and drop the records of
   * files gone from both sides once they clearly outnumber the live ones.
   */
  async commit(differences: readonly Difference[]): Promise<void> {
    this.reads?.close();
    await Promise.all(this.writes);
    this.writes = [];
    if (this.failure !== undefined) throw this.failure;
    const live = this.matched + differences.length;
    if (this.count > live + this.pruneSlack) {
      const disputed = new Set(differences.map((d) => d.path));
      const stale: string[] = [];
      for (const [key, stored] of this.records.entries()) {
        // A key that does not read back as a string is not removed by it (FolderStore.rekeyUnreadable).
        if (typeof key !== 'string') continue;
        const relPath = pathOf(stored, key);
        if (disputed.has(relPath)) continue;
        if (lstatSync(path.join(this.root, relPath), { throwIfNoEntry: false }) === undefined) stale.push(key);
      }
      await this.records.removeAll(stale);
      this.stats.pruned = stale.length;
      this.count = this.records.count();
    }
    if (this.stats.written > 0 || this.stats.pruned > 0 || this.meta.get(COUNT_KEY) !== this.count)
      await this.meta.put(COUNT_KEY, this.count);
  }

  /** Every path with a record, in key order (check/hidden-by-ignore.ts). */
  *paths(): Generator<string> {
    for (const [key, stored] of this.records.entries())
      if (typeof key === 'string' || storedPath(stored) !== undefined) yield pathOf(stored, String(key));
  }

  /** The check failed: what was recorded is true all the same; just let the writes finish. */
  async abandon(): Promise<void> {
    this.reads?.close();
    await Promise.allSettled(this.writes);
    this.writes = [];
    await this.meta.put(COUNT_KEY, this.count).catch(() => undefined);
  }
}
