/**
 * The verified set stores each hash as its 32 bytes (check/verified-store.ts):
 * a third of the record, on disk and in the memory map. Records of earlier
 * versions (the hash as hex) are read as before and rewritten in bytes at
 * their next match; a record already in bytes is not rewritten.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readVerified, RECORDS, VerifiedHashes } from '../../src/check/verified-store.js';
import { AgentState } from '../../src/state/agent-state.js';
import { BACKENDS, unavailable } from '../harness/stores.js';
import { tempDir } from '../harness/tmp.js';

const HASH = 'ab'.repeat(32);
const entry = { path: 'doc.txt', type: 'file' as const, mode: 0o644, hash: HASH, size: 3, mtime: 1000 };

for (const backend of BACKENDS) {
  test(`${backend}: verified hashes are stored as bytes; an earlier version's hex record is read and rewritten once`, {
    skip: unavailable(backend),
  }, async (t) => {
    const state = await AgentState.open(await tempDir(t), { backend });
    t.after(() => state.close());
    const raw = state.store<unknown[]>('f', RECORDS);

    const first = await VerifiedHashes.open(state, 'f', '/nonexistent');
    await first.record(entry);
    await first.commit([]);
    const stored = raw.get('doc.txt')![0];
    assert.ok(stored instanceof Uint8Array && Buffer.from(stored).equals(Buffer.from(HASH, 'hex')), 'the hash is stored as 32 bytes');
    assert.deepEqual(readVerified(state, 'f', ['doc.txt']), [{ hash: HASH, size: 3, mtime: 1000 }]);

    const unchanged = await VerifiedHashes.open(state, 'f', '/nonexistent');
    await unchanged.record(entry);
    await unchanged.commit([]);
    assert.equal(unchanged.stats.written, 0, 'a matching record in bytes is not rewritten');

    await raw.put('doc.txt', [HASH, 3, 1000]);
    assert.deepEqual(readVerified(state, 'f', ['doc.txt']), [{ hash: HASH, size: 3, mtime: 1000 }], 'the hex record reads alike');
    const upgrade = await VerifiedHashes.open(state, 'f', '/nonexistent');
    await upgrade.record(entry);
    await upgrade.commit([]);
    assert.equal(upgrade.stats.written, 1);
    assert.ok(raw.get('doc.txt')![0] instanceof Uint8Array, 'rewritten in bytes');
  });
}
