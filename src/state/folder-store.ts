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
   * `keyOf` gives an entry's key here. An entry is removed from `from` by its key's bytes as read
   * (kv.ts rawRange) and, for a key that does not read back as written (a string key beginning
   * with U+0001: rekeyUnreadable), by the key `writtenOf` gives, as it was written. An entry that
   * neither removes is not read for ever: the move stops with an error.
   */
  async takeAll(
    from: FolderStore<V>,
    keyOf: (key: StoreKey, value: V) => StoreKey = (key) => key,
    writtenOf: (key: StoreKey, value: V) => StoreKey | undefined = () => undefined,
    batch = 10_000,
  ): Promise<number> {
    let moved = 0;
    let lastFirst: string | undefined;
    for (;;) {
      from.store.renewReads();
      const taken: Array<{ key: StoreKey; raw: Uint8Array; written: StoreKey | undefined; value: V }> = [];
      let first: string | undefined;
      for (const { key, raw, value } of from.db.rawRange({ start: [from.folderId, from.namespace] })) {
        const rest = from.rest(key);
        if (rest === null) break;
        if (rest === undefined) continue;
        first ??= Buffer.from(raw).toString('hex');
        taken.push({ key: keyOf(rest, value as V), raw, written: writtenOf(rest, value as V), value: value as V });
        if (taken.length >= batch) break;
      }
      if (taken.length === 0) return moved;
      if (first === lastFirst) throw new Error(`cannot move a "${from.namespace}" entry: its key does not read back as written`);
      lastFirst = first;
      await this.store.transaction(() => {
        for (const { key, raw, written, value } of taken) {
          this.db.putSync(this.full(key), value);
          from.db.removeSync(raw);
          if (written !== undefined) from.db.removeSync(from.full(written));
        }
      });
      moved += taken.length;
    }
  }

  /**
   * Entries an older version wrote under a string key that does not read back as a string (one
   * beginning with U+0001, U+0002 or U+0003 and 64 characters or longer: ordered-binary writes it
   * as bytes 0x1B 0x01..0x03 and reads a list back; or such a list as the move of state.lmdb to
   * SQLite wrote it again, 0x1B 0x00): `move` gives, from its value, the key it belongs under now
   * and the string it was written under. Each is moved in one transaction (removed by that string
   * and by its bytes as read: kv.ts rawRange), or left where it is when `move` gives nothing.
   * They sort before every key that reads back as a string, so only they are read, and the first
   * entry after them: nothing to do costs one short read. Returns how many moved.
   */
  async rekeyUnreadable(move: (value: V) => { to: string; written: string } | undefined): Promise<number> {
    this.store.renewReads();
    const moves: Array<{ raw: Uint8Array; to: string; written: string; value: V }> = [];
    for (const { key, raw, value } of this.db.rawRange({ start: [this.folderId, this.namespace] })) {
      const rest = this.rest(key);
      if (rest === null) break;
      if (rest === undefined) continue;
      if (typeof rest === 'string') break;
      const m = move(value as V);
      if (m !== undefined) moves.push({ raw, ...m, value: value as V });
    }
    if (moves.length === 0) return 0;
    await this.store.transaction(() => {
      for (const m of moves) {
        this.db.removeSync(m.raw);
        this.db.removeSync(this.full(m.written));
        this.db.putSync(this.full(m.to), m.value);
      }
    });
    return moves.length;
  }

  /** An entry's key within this store; null: past the namespace; undefined: the namespace's own key. */
  private rest(key: KvKey): StoreKey | null | undefined {
    const parts = key as unknown[];
    if (!Array.isArray(parts) || parts[0] !== this.folderId || parts[1] !== this.namespace) return null;
    if (parts.length < 3) return undefined;
    const rest = parts.slice(2) as Array<string | number>;
    return rest.length === 1 ? rest[0]! : rest;
  }

  async clear(): Promise<void> {
    await this.store.transaction(() => this.clearInTransaction());
  }

  /** Removes every entry by its key's bytes as stored: a key that does not read back as written too. */
  private clearInTransaction(): void {
    const keys: Uint8Array[] = [];
    for (const { key, raw } of this.db.rawRange({ start: [this.folderId, this.namespace] })) {
      if (this.rest(key) === null) break;
      keys.push(raw);
    }
    for (const key of keys) this.db.removeSync(key);
  }
}
