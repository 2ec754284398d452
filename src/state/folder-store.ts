/**
 * A generic keyed store for one folder and one purpose (namespace), e.g.
 * `store(folderId, 'verified')` for the hashes last verified as matching or
 * `store(folderId, 'outbox')`. Entries live in the agent state's `folders` table
 * under the key [folderId, namespace, key], so one folder's data is a
 * contiguous range that can be listed or dropped at once. Values are
 * anything msgpack can hold (objects, arrays, strings, numbers, Dates,
 * Buffers). Writes are transactional and visible to other processes.
 */
import type { KvKey, KvStore, KvTable } from './kv.js';
import { OrderedLookup, type KeyedRecord } from './ordered-lookup.js';

/** Keys: strings (no NUL character) or numbers, or lists of them. */
export type StoreKey = string | number | Array<string | number>;

export class FolderStore<V = unknown> {
  constructor(
    private readonly store: KvStore,
    private readonly db: KvTable<unknown>,
    readonly folderId: string,
    readonly namespace: string,
  ) {}

  private full(key: StoreKey): KvKey {
    const parts = Array.isArray(key) ? key : [key];
    for (const part of parts) {
      if (typeof part === 'string' && part.includes('\0')) throw new TypeError('store keys cannot contain a NUL character');
    }
    return [this.folderId, this.namespace, ...parts];
  }

  get(key: StoreKey): V | undefined {
    this.store.renewReads();
    return this.db.get(this.full(key)) as V | undefined;
  }

  /**
   * Like get(), without first renewing the read snapshot: for many reads in a
   * row by a holder of the folder's lock (no other process writes then).
   */
  peek(key: StoreKey): V | undefined {
    return this.db.get(this.full(key)) as V | undefined;
  }

  /**
   * Like many peek()s of string keys asked in (nearly) key order, made as one
   * cursor pass over the namespace (see OrderedLookup). Close it when done.
   */
  orderedReads(): OrderedLookup<V> {
    return new OrderedLookup(this.stringKeyed(), (key) => this.peek(key));
  }

  private *stringKeyed(): Generator<KeyedRecord<V>> {
    // follow: a long check must not pin an old snapshot (LMDB renews its read transaction).
    for (const { key, value } of this.db.range({ start: [this.folderId, this.namespace], follow: true })) {
      const parts = key as unknown[];
      if (!Array.isArray(parts) || parts[0] !== this.folderId || parts[1] !== this.namespace) return;
      if (parts.length === 3 && typeof parts[2] === 'string') yield { key: parts[2], value: value as V };
    }
  }

  /**
   * The string-keyed entries whose key starts with `prefix`, in key order,
   * read lazily (keys are ordered by their bytes, so they are one run).
   */
  *withPrefix(prefix: string): Generator<[string, V]> {
    this.store.renewReads();
    for (const { key, value } of this.db.range({ start: [this.folderId, this.namespace, prefix] })) {
      const parts = key as unknown[];
      if (!Array.isArray(parts) || parts[0] !== this.folderId || parts[1] !== this.namespace) return;
      if (parts.length !== 3 || typeof parts[2] !== 'string') continue;
      if (!parts[2].startsWith(prefix)) return;
      yield [parts[2], value as V];
    }
  }

  /** Moves values to other keys in one transaction: each `from` is removed, `to` gets `value`. */
  async moveAll(moves: Iterable<{ from: StoreKey; to: StoreKey; value: V }>): Promise<void> {
    await this.store.transaction(() => {
      for (const m of moves) {
        this.db.removeSync(this.full(m.from));
        this.db.putSync(this.full(m.to), m.value);
      }
    });
  }

  async put(key: StoreKey, value: V): Promise<void> {
    await this.db.put(this.full(key), value);
  }

  async remove(key: StoreKey): Promise<boolean> {
    return this.db.remove(this.full(key));
  }

  /**
   * Every entry in key order, read lazily (fine for millions of entries): one
   * snapshot on LMDB; on SQLite, pages that each see the latest commit.
   */
  *entries(): Generator<[StoreKey, V]> {
    this.store.renewReads();
    for (const { key, value } of this.db.range({ start: [this.folderId, this.namespace] })) {
      const parts = key as unknown[];
      if (!Array.isArray(parts) || parts[0] !== this.folderId || parts[1] !== this.namespace) break;
      if (parts.length < 3) continue;
      const rest = parts.slice(2) as Array<string | number>;
      yield [rest.length === 1 ? rest[0]! : rest, value as V];
    }
  }

  count(): number {
    let n = 0;
    for (const _ of this.entries()) n++;
    return n;
  }

  /** The number of entries, counting no further than `limit` (a cheap "more than N?"). */
  countUpTo(limit: number): number {
    let n = 0;
    for (const _ of this.entries()) if (++n >= limit) break;
    return n;
  }

  isEmpty(): boolean {
    return this.countUpTo(1) === 0;
  }

  /** Remove these keys in one transaction. */
  async removeAll(keys: Iterable<StoreKey>): Promise<void> {
    await this.store.transaction(() => {
      for (const key of keys) this.db.removeSync(this.full(key));
    });
  }

  /** Replace the whole namespace in one transaction: readers see the old set or the new one, never a mix. */
  async replaceAll(entries: Iterable<[StoreKey, V]>): Promise<void> {
    await this.store.transaction(() => {
      this.clearInTransaction();
      for (const [key, value] of entries) this.db.putSync(this.full(key), value);
    });
  }

  /**
   * Moves every entry of `from` (another namespace, e.g. an older layout's) into this store, in
   * transactions of `batch` entries: each entry is in one place or the other at every moment, never
   * in neither, and a move of a million entries holds one batch's pages in memory, not the whole
   * store's (one transaction of a million records: ~1 GB RSS and the file twice its size). Entries
   * already here under the same key are replaced. Returns how many moved.
   *
   * `keyOf` gives an entry's key as it was written, where the key read back is not that: a string
   * key that begins with a control character (`\u0001...`) reads back (ordered-binary) as a list
   * that does not encode to the same bytes, so it is written and removed under the key keyOf gives.
   */
  async takeAll(from: FolderStore<V>, keyOf: (key: StoreKey, value: V) => StoreKey = (key) => key, batch = 10_000): Promise<number> {
    let moved = 0;
    let lastFirst: string | undefined;
    for (;;) {
      from.store.renewReads();
      const taken: Array<{ key: StoreKey; value: V }> = [];
      let first: string | undefined;
      for (const { key, value } of from.db.range({ start: [from.folderId, from.namespace] })) {
        const parts = key as unknown[];
        if (!Array.isArray(parts) || parts[0] !== from.folderId || parts[1] !== from.namespace) break;
        if (parts.length < 3) continue;
        const rest = parts.slice(2) as Array<string | number>;
        first ??= JSON.stringify(rest);
        taken.push({ key: keyOf(rest.length === 1 ? rest[0]! : rest, value as V), value: value as V });
        if (taken.length >= batch) break;
      }
      if (taken.length === 0) return moved;
      // An entry whose key keyOf does not give as written is never removed: it would be read for ever.
      if (first === lastFirst) throw new Error(`cannot move "${from.namespace}" entry ${first}: its key does not read back as written`);
      lastFirst = first;
      await this.store.transaction(() => {
        for (const { key, value } of taken) {
          this.db.putSync(this.full(key), value);
          from.db.removeSync(from.full(key));
        }
      });
      moved += taken.length;
    }
  }

  async clear(): Promise<void> {
    await this.store.transaction(() => this.clearInTransaction());
  }

  private clearInTransaction(): void {
    const keys: KvKey[] = [];
    for (const key of this.db.keys({ start: [this.folderId, this.namespace] })) {
      const parts = key as unknown[];
      if (!Array.isArray(parts) || parts[0] !== this.folderId || parts[1] !== this.namespace) break;
      keys.push(key);
    }
    for (const key of keys) this.db.removeSync(key);
  }
}
