/**
 * The store backends a test can run on (docs/store.md): lmdb where lmdb-js
 * loads, sqlite where node:sqlite does (Node.js >= 22.13). Tests of the
 * KvStore interface run on each available one, skipping the other.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { KvBackend, KvStore } from '../../src/state/kv.js';
import { LmdbStore, lmdbLoads } from '../../src/state/kv-lmdb.js';
import { SqliteStore } from '../../src/state/kv-sqlite.js';
import { loadSqlite } from '../../src/state/sqlite-module.js';

export const BACKENDS: readonly KvBackend[] = ['lmdb', 'sqlite'];

/** Why `backend` cannot run in this process, or undefined when it can. */
export function unavailable(backend: KvBackend): string | undefined {
  if (backend === 'sqlite')
    return loadSqlite() === undefined ? `node:sqlite needs Node.js >= 22.13 (this is ${process.version})` : undefined;
  return lmdbLoads() ? undefined : 'lmdb-js does not load here';
}

/**
 * A fresh store with these tables in a temporary folder, closed when the test ends and then
 * removed (in that order: Windows refuses to delete an open file).
 */
export async function tempStore(t: TestContext, backend: KvBackend, tables: readonly string[]): Promise<KvStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synker-test-'));
  let store: KvStore | undefined;
  t.after(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });
  store =
    backend === 'sqlite'
      ? SqliteStore.open({ file: path.join(dir, 'test.sqlite'), tables, durability: 'normal' })
      : LmdbStore.openUnchecked({ path: path.join(dir, 'test.lmdb'), maxDbs: tables.length + 1 });
  return store;
}
