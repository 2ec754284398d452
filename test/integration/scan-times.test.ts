/**
 * The report's scan times are each side's own: when the source's manifest
 * ended and when the backup's own scan ended, not the moment the diff read
 * both ends (a merge-join reads them at once, which made the two "scanned"
 * times identical to the millisecond).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { startCheckPair } from '../harness/check-pair.js';
import { tempDir } from '../harness/tmp.js';

test('source and backup report their own scan times: a backup that hashes for longer ends later', async (t) => {
  // The same last file on both sides: the diff reads both manifests' ends together, after it.
  const big = 'synker'.repeat(21 * 2 ** 20); // 126 MiB: at 2 GB/s (SHA extensions) still over 60 ms of hashing
  const pair = await startCheckPair(t, { 'a.txt': 'alpha', 'zz-big.bin': big });
  // Warms the source's hash cache (and this side's default one); the second check finds it changed and
  // checks the LMDB file once (a child process, state/lmdb-check.ts), so the measured one starts at once.
  assert.equal((await pair.check()).complete, true);
  assert.equal((await pair.check()).complete, true);
  // Now the backup hashes the big file again (an empty cache) while the source answers from its cache.
  const report = await pair.check({ cacheDir: path.join(await tempDir(t), 'cold-cache') });
  assert.equal(report.complete, true);
  const source = Date.parse(report.source.scan!.finishedAt);
  const backup = Date.parse(report.backup.scan!.finishedAt);
  assert.ok(
    backup - source >= 40,
    `the source's manifest ended at ${report.source.scan!.finishedAt}, before the backup's scan (${report.backup.scan!.finishedAt}) that hashed 126 MiB`,
  );
  for (const side of [report.source, report.backup]) {
    assert.ok(Date.parse(side.scan!.startedAt) <= Date.parse(side.scan!.finishedAt));
    assert.ok(
      Date.parse(report.startedAt) <= Date.parse(side.scan!.startedAt) &&
        Date.parse(side.scan!.finishedAt) <= Date.parse(report.finishedAt),
    );
  }
});
