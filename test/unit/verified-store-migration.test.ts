/**
 * The verified set's records moved from the namespaces `verified.a` /
 * `verified.b` (two generations and a pointer, earlier versions) to `v`
 * (check/verified-store.ts): the namespace is in every record's key. An
 * earlier version's records are read before the first check migrates them,
 * moved in one transaction by it, and never lost.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { readVerified, RECORDS, VerifiedHashes } from '../../src/check/verified-store.js';
import { AgentState } from '../../src/state/agent-state.js';
import { BACKENDS, unavailable } from '../harness/stores.js';
import { tempDir } from '../harness/tmp.js';

const hash = (i: number) => i.toString(16).padStart(64, '0');
const LONG = `${'deep/'.repeat(400)}file.txt`;

for (const backend of BACKENDS) {
  for (const generation of ['a', 'b'] as const) {
    test(`${backend}: records of the earlier layout (generation ${generation}) are read, then moved to "${RECORDS}" by the next check`, {
      skip: unavailable(backend),
    }, async (t) => {
      const state = await AgentState.open(await tempDir(t), { backend });
      t.after(() => state.close());
      const meta = state.store<unknown>('f', 'verified');
      const old = state.store<unknown>('f', `verified.${generation}`);
      const stale = state.store<unknown>('f', `verified.${generation === 'a' ? 'b' : 'a'}`);
      if (generation === 'b') await meta.put('current', 'b');
      await meta.put('count', 3);
      // As earlier versions wrote them: a map, the hash in hex, in bytes; a long path under its hash.
      await old.put('one.txt', { hash: hash(1), size: 1, mtime: 1000 });
      await old.put('two.txt', [hash(2), 2, 2000]);
      const longKey = `\u0001sha256:${createHash('sha256').update(LONG).digest('hex')}`;
      await old.put(longKey, [Buffer.from(hash(3), 'hex'), 3, 3000, LONG]);
      await stale.put('left-over.txt', [hash(9), 9, 9000]);

      // Before any check: the agent answers from the earlier layout.
      assert.deepEqual(readVerified(state, 'f', ['one.txt', 'two.txt', 'none.txt']), [
        { hash: hash(1), size: 1, mtime: 1000 },
        { hash: hash(2), size: 2, mtime: 2000 },
        undefined,
      ]);

      const verified = await VerifiedHashes.open(state, 'f', '/nonexistent');
      assert.deepEqual([[...old.entries()], [...stale.entries()]], [[], []], 'both generations emptied');
      assert.equal(meta.get('current'), undefined, 'the pointer is gone');
      assert.equal(state.store('f', RECORDS).count(), 3, 'every record moved, the other generation not');
      assert.deepEqual(verified.lookup('one.txt'), { hash: hash(1), size: 1, mtime: 1000 });
      assert.deepEqual(verified.lookup('two.txt'), { hash: hash(2), size: 2, mtime: 2000 });
      assert.deepEqual(verified.lookup(LONG), { hash: hash(3), size: 3, mtime: 3000 });
      assert.equal(verified.lookup('left-over.txt'), undefined);
      // A match of an unchanged file writes nothing new (the count carried over: nothing to prune).
      await verified.record({ path: 'two.txt', type: 'file', mode: 0o644, hash: hash(2), size: 2, mtime: 2000 });
      await verified.commit([]);
      assert.deepEqual(readVerified(state, 'f', ['one.txt', 'two.txt', LONG]), [
        { hash: hash(1), size: 1, mtime: 1000 },
        { hash: hash(2), size: 2, mtime: 2000 },
        { hash: hash(3), size: 3, mtime: 3000 },
      ]);
      assert.equal(meta.get('count'), 3);

      // An older version run after the upgrade wrote the earlier layout again (the pointer gone, so in
      // `verified.a`): its records are the newer ones.
      const older = state.store<unknown>('f', 'verified.a');
      await older.put('two.txt', [hash(22), 22, 22_000]);
      const again = await VerifiedHashes.open(state, 'f', '/nonexistent');
      assert.ok(older.isEmpty());
      assert.deepEqual(again.lookup('two.txt'), { hash: hash(22), size: 22, mtime: 22_000 });
      assert.deepEqual(again.lookup('one.txt'), { hash: hash(1), size: 1, mtime: 1000 }, 'records it did not write stay');
      await again.commit([]);
      assert.equal(meta.get('count'), 3, 'counted afresh after a merge');
    });
  }
}

test('takeAll moves a namespace in batches, each entry once, under the key keyOf gives', async (t) => {
  const state = await AgentState.open(await tempDir(t), { backend: 'lmdb' });
  t.after(() => state.close());
  const from = state.store<number>('f', 'old');
  const to = state.store<number>('f', 'new');
  for (let i = 0; i < 7; i++) await from.put(`k${i}`, i);
  await to.put('k3', 33);
  assert.equal(await to.takeAll(from, undefined, undefined, 2), 7);
  assert.ok(from.isEmpty());
  assert.deepEqual(
    [...to.entries()],
    [0, 1, 2, 3, 4, 5, 6].map((i) => [`k${i}`, i]),
  );

  // Removed from where it was by its key as read, written where keyOf says.
  await from.put('moved', 1);
  assert.equal(await to.takeAll(from, () => 'elsewhere'), 1);
  assert.ok(from.isEmpty());
  assert.equal(to.get('elsewhere'), 1);

  // A key that does not read back as written, and no writtenOf to say how it was: stopped, not read again for ever.
  await from.put(`\u0001${'x'.repeat(70)}`, 2);
  await assert.rejects(to.takeAll(from), /does not read back as written/);
  assert.equal(from.countUpTo(2), 1, 'still where it was');
});
