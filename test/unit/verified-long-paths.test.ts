/**
 * A path too long for a plain key (over 1,500 bytes) has its verified record under a hashed key
 * (check/verified-store.ts). That key must read back from both stores as it was written, or the
 * record is out of reach of every scan: never pruned, never moved with its folder, never cleared.
 * Earlier versions' key (`\u0001sha256:...`) read back as a list: the first open moves such
 * records, from a store file written as those versions wrote it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readVerified, RECORDS, VerifiedHashes } from '../../src/check/verified-store.js';
import { AgentState } from '../../src/state/agent-state.js';
import type { KvKey } from '../../src/state/kv.js';
import { BACKENDS, unavailable } from '../harness/stores.js';
import { tempDir } from '../harness/tmp.js';

/** 2,000 bytes in folders of 200-byte names (a name may hold 255). */
const LONG = `d/${`${'n'.repeat(199)}/`.repeat(9)}${'f'.repeat(194)}.txt`;
const hex = (c: string) => c.repeat(64);
const match = (p: string, h: string) => ({ path: p, type: 'file' as const, mode: 0o644, hash: hex(h), size: 3, mtime: 1000 });
const SHORT = ['d/a.txt', 'd/sub/b.txt', 'other.txt'];

/** Every key of the folder's records as read back, so a test sees what the scans see. */
function keysOf(state: AgentState, folderId = 'f'): unknown[] {
  return [...state.store(folderId, RECORDS).entries()].map(([key]) => key);
}

/** The key earlier versions wrote a long path's record under. */
const legacyKey = (p: string) => `\u0001sha256:${createHash('sha256').update(p).digest('hex')}`;

test('the long path is over 1,500 bytes', () => {
  assert.equal(Buffer.byteLength(LONG), 2000);
});

for (const backend of BACKENDS) {
  test(`${backend}: a long path's record reads back under a string key, and is pruned once the file is gone from both sides`, {
    skip: unavailable(backend),
  }, async (t) => {
    const state = await AgentState.open(await tempDir(t), { backend });
    t.after(() => state.close());
    const root = await tempDir(t);
    for (const p of process.platform === 'win32' ? SHORT : [...SHORT, LONG]) {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), 'abc');
    }
    const first = await VerifiedHashes.open(state, 'f', root, { pruneSlack: 0 });
    for (const [i, p] of [...SHORT, LONG].entries()) await first.record(match(p, String(i)));
    await first.commit([]);
    assert.ok(
      keysOf(state).every((k) => typeof k === 'string'),
      'every key reads back as a string',
    );
    assert.deepEqual([...first.paths()].sort(), [...SHORT, LONG].sort());

    // Deleted on the source and on the backup: the next check proves only the short ones.
    rmSync(path.join(root, LONG), { force: true });
    const second = await VerifiedHashes.open(state, 'f', root, { pruneSlack: 0 });
    for (const [i, p] of SHORT.entries()) await second.record(match(p, String(i)));
    await second.commit([]);
    assert.equal(second.stats.pruned, 1);
    assert.deepEqual(
      readVerified(state, 'f', [LONG, ...SHORT]).map((r) => r?.hash[0] ?? null),
      [null, '0', '1', '2'],
      'the long path is pruned, the others stay',
    );
    assert.equal(state.store('f', RECORDS).count(), 3);
    assert.equal(state.store('f', 'verified').get('count'), 3);
  });

  test(`${backend}: a moved folder carries its long path's record; clear() and dropping the folder remove it`, {
    skip: unavailable(backend),
  }, async (t) => {
    const state = await AgentState.open(await tempDir(t), { backend });
    t.after(() => state.close());
    const v = await VerifiedHashes.open(state, 'f', '/nonexistent');
    for (const [i, p] of [...SHORT, LONG].entries()) v.recordLanded(match(p, String(i)));
    await v.flush();
    v.recordMoved('d', 'e');
    await v.flush();
    const moved = `e${LONG.slice(1)}`;
    assert.deepEqual(
      readVerified(state, 'f', [moved, 'e/a.txt', 'e/sub/b.txt', 'other.txt', LONG, 'd/a.txt']).map((r) => r?.hash[0] ?? null),
      ['3', '0', '1', '2', null, null],
    );
    assert.deepEqual([...v.paths()].sort(), [moved, 'e/a.txt', 'e/sub/b.txt', 'other.txt'].sort());

    await state.store('f', RECORDS).clear();
    assert.deepEqual(keysOf(state), [], 'clear() leaves nothing');

    const g = await VerifiedHashes.open(state, 'g', '/nonexistent');
    g.recordLanded(match(LONG, '7'));
    await g.flush();
    await state.dropFolder('g');
    assert.deepEqual(keysOf(state, 'g'), [], 'dropping the folder leaves nothing');
  });

  test(`${backend}: records an earlier version wrote under \\u0001sha256: keys are moved by the next open, nothing lost`, {
    skip: unavailable(backend),
  }, async (t) => {
    const dir = await tempDir(t);
    const other = `x/${'y'.repeat(1600)}.bin`;
    // The store file as an earlier version left it (its key form, written through the store).
    const old = await AgentState.open(dir, { backend });
    const records = old.store<unknown>('f', RECORDS);
    await records.put(legacyKey(LONG), [Buffer.from(hex('a'), 'hex'), 3, 1000, LONG]);
    await records.put(legacyKey(other), { hash: hex('b'), size: 4, mtime: 2000, path: other }); // the map form of older ones
    await records.put('d/a.txt', [Buffer.from(hex('c'), 'hex'), 5, 3000]);
    await old.store('f', 'verified').put('count', 3);
    assert.equal(
      keysOf(old).filter((k) => typeof k !== 'string').length,
      2,
      'the earlier key form does not read back as a string (what this test is about)',
    );
    await old.close();

    const state = await AgentState.open(dir, { backend });
    t.after(() => state.close());
    // Before any check (the agent answering a restore): read where they are.
    const expected = [
      { hash: hex('a'), size: 3, mtime: 1000 },
      { hash: hex('b'), size: 4, mtime: 2000 },
      { hash: hex('c'), size: 5, mtime: 3000 },
    ];
    assert.deepEqual(readVerified(state, 'f', [LONG, other, 'd/a.txt']), expected);

    const v = await VerifiedHashes.open(state, 'f', '/nonexistent');
    assert.ok(
      keysOf(state).every((k) => typeof k === 'string'),
      'every key reads back as a string',
    );
    assert.equal(state.store('f', RECORDS).count(), 3, 'moved, not copied');
    assert.equal(state.store('f', RECORDS).get(legacyKey(LONG)), undefined);
    assert.deepEqual(
      [LONG, other, 'd/a.txt'].map((p) => {
        const r = v.lookup(p);
        return r && { hash: r.hash, size: r.size, mtime: r.mtime };
      }),
      expected,
    );
    assert.deepEqual(readVerified(state, 'f', [LONG, other, 'd/a.txt']), expected);
    assert.deepEqual([...v.paths()].sort(), ['d/a.txt', LONG, other].sort());
    // Nothing left to move: the next open reads one entry and writes nothing.
    await VerifiedHashes.open(state, 'f', '/nonexistent');
    assert.equal(state.store('f', RECORDS).count(), 3);
  });
}

test("lmdb then sqlite: long paths' records of an earlier version survive the move of state.lmdb to state.sqlite, then are moved", {
  skip: unavailable('lmdb') ?? unavailable('sqlite'),
}, async (t) => {
  const dir = await tempDir(t);
  const old = await AgentState.open(dir, { backend: 'lmdb' });
  await old.store('f', RECORDS).put(legacyKey(LONG), [Buffer.from(hex('a'), 'hex'), 3, 1000, LONG]);
  await old.store('f', RECORDS).put('d/a.txt', [Buffer.from(hex('c'), 'hex'), 5, 3000]);
  await old.close();
  // The move copies keys as they read back: the earlier key form becomes yet another list.
  const state = await AgentState.open(dir, { backend: 'sqlite' });
  t.after(() => state.close());
  const before = keysOf(state).filter((k): k is KvKey => typeof k !== 'string');
  assert.equal(before.length, 1);
  await VerifiedHashes.open(state, 'f', '/nonexistent');
  assert.deepEqual(keysOf(state).sort(), ['d/a.txt', `/sha256:${legacyKey(LONG).slice(8)}`].sort());
  assert.deepEqual(readVerified(state, 'f', [LONG]), [{ hash: hex('a'), size: 3, mtime: 1000 }]);
});
