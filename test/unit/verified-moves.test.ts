/**
 * The verified hashes follow a move (check/verified-store.ts recordMoved):
 * a file's record, and every record under a folder, long paths stored under
 * their hash included, on both store backends.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readVerified, VerifiedHashes } from '../../src/check/verified-store.js';
import { AgentState } from '../../src/state/agent-state.js';
import { BACKENDS, unavailable } from '../harness/stores.js';
import { tempDir } from '../harness/tmp.js';

const rec = (hash: string, path: string) => ({ path, type: 'file' as const, mode: 0o644, hash: hash.repeat(64), size: 3, mtime: 1000 });

for (const backend of BACKENDS) {
  test(`${backend}: a move keeps its record, for a file and for everything under a folder (long paths too)`, {
    skip: unavailable(backend),
  }, async (t) => {
    const state = await AgentState.open(await tempDir(t), { backend });
    t.after(() => state.close());
    const long = `d/${`${'x'.repeat(200)}/`.repeat(9)}deep.txt`; // over 1,500 bytes: under its hash
    const v = await VerifiedHashes.open(state, 'f', '/nonexistent');
    for (const r of [
      rec('a', 'd/a.txt'),
      rec('b', 'd/sub/b.txt'),
      rec('c', long),
      rec('d', 'd-other/x.txt'),
      rec('e', 'dd/y.txt'),
      rec('f', 'loose.txt'),
    ])
      v.recordLanded(r);
    await v.flush();
    v.recordMoved('d', 'e');
    v.recordMoved('loose.txt', 'e/loose.txt');
    v.recordMoved('same', 'same');
    await v.flush();
    const newLong = `e${long.slice(1)}`;
    const paths = [
      'e/a.txt',
      'e/sub/b.txt',
      newLong,
      'd-other/x.txt',
      'dd/y.txt',
      'e/loose.txt',
      'd/a.txt',
      'd/sub/b.txt',
      long,
      'loose.txt',
    ];
    assert.deepEqual(
      readVerified(state, 'f', paths).map((r) => r?.hash[0] ?? null),
      ['a', 'b', 'c', 'd', 'e', 'f', null, null, null, null],
      'moved under the new names, gone from the old; neighbours with the same prefix untouched',
    );
  });
}

for (const backend of BACKENDS) {
  test(`${backend}: a rename inside a folder renamed just before finds the records where the folder's move put them`, {
    skip: unavailable(backend),
  }, async (t) => {
    const state = await AgentState.open(await tempDir(t), { backend });
    t.after(() => state.close());
    const v = await VerifiedHashes.open(state, 'f', '/nonexistent');
    for (const r of [rec('a', 'A/C/x.txt'), rec('b', 'A/Report.txt'), rec('c', 'A/top.txt')]) v.recordLanded(r);
    await v.flush();
    // As a sync renames Docs -> Papers, then Papers/C -> Papers/D and Papers/Report.txt -> Papers/Notes.txt.
    await v.recordMoved('A', 'B');
    await v.recordMoved('B/C', 'B/D');
    void v.recordMoved('B/Report.txt', 'B/Notes.txt');
    await v.flush();
    assert.deepEqual(
      readVerified(state, 'f', ['B/D/x.txt', 'B/Notes.txt', 'B/top.txt', 'B/C/x.txt', 'B/Report.txt', 'A/C/x.txt', 'A/Report.txt']).map(
        (r) => r?.hash[0] ?? null,
      ),
      ['a', 'b', 'c', null, null, null, null],
      'each record where its file is, none left under a name passed through',
    );
  });
}
