import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { HashPool, LARGE_FILE_BYTES, readsLookDiskBound } from '../../src/scan/hash-pool.js';
import { packResponses, unpackResponses, type HashResponse } from '../../src/scan/hash-protocol.js';
import { sha256sumAll } from '../harness/scan.js';
import { tempDir } from '../harness/tmp.js';

test('large files wait for a lane of their own; a small file behind them is not starved', async (t) => {
  const root = await tempDir(t);
  const large = ['L1', 'L2', 'L3'].map((n) => path.join(root, n));
  for (const [i, file] of large.entries()) await writeFile(file, Buffer.alloc(LARGE_FILE_BYTES, i + 1));
  const small = path.join(root, 'small');
  await writeFile(small, 'small');
  // One hashing at a time, two lanes: the large files may only use one lane.
  const pool = new HashPool({ jobs: 1, ioConcurrency: 2 });
  t.after(() => pool.close());
  const finished: string[] = [];
  const track = (name: string, file: string, size: number) =>
    new Promise<HashResponse>((resolve, reject) =>
      pool.hash(file, { size, mtimeMs: 0, ctimeMs: 0, ino: 0 }, (r) => {
        finished.push(name);
        if (r instanceof Error) reject(r);
        else resolve(r);
      }),
    );
  const results = await Promise.all([
    track('L1', large[0]!, LARGE_FILE_BYTES),
    track('L2', large[1]!, LARGE_FILE_BYTES),
    track('L3', large[2]!, LARGE_FILE_BYTES),
    track('small', small, 5),
  ]);
  // L3 cannot start before L2 has finished, nor L2 before L1: the small file
  // had the second lane and finished before the last large file.
  assert.ok(finished.indexOf('small') < finished.indexOf('L3'), finished.join(' '));
  assert.deepEqual(
    finished.filter((n) => n !== 'small'),
    ['L1', 'L2', 'L3'],
  );
  const digests = await sha256sumAll([...large, small]);
  assert.deepEqual(
    results.map((r) => (r.ok && 'hash' in r ? r.hash : r)),
    digests,
  );
  assert.equal(pool.threads, 2);
});

test('slow reads of small files and of photos call for more lanes; slow reads of videos and fast reads do not', () => {
  const MiB = 1024 * 1024;
  // 32 small files whose opens and reads took 1 ms each: a cold disk.
  assert.equal(readsLookDiskBound(Array(32).fill(8 * 1024), 32), true);
  // A 2 MiB photo read in 10 ms (210 MB/s): a cold disk, and its lane did not hash meanwhile.
  assert.equal(readsLookDiskBound([2 * MiB], 10), true);
  // The same photo from the page cache in 0.4 ms.
  assert.equal(readsLookDiskBound([2 * MiB], 0.4), false);
  // Small files from the page cache.
  assert.equal(readsLookDiskBound(Array(32).fill(8 * 1024), 2), false);
  // A video read slowly still adds no reader: long reads in parallel seek on a spinning disk.
  assert.equal(readsLookDiskBound([LARGE_FILE_BYTES], 200), false);
  assert.equal(readsLookDiskBound([8 * 1024, 64 * MiB], 500), false);
  assert.equal(readsLookDiskBound([], 5), false);
});

test('a batch of answers crosses to the scan as packed and comes out as it went in: hashed, unstable and failed, in order', () => {
  const stat = (n: number) => ({
    size: n,
    mtimeMs: 1_700_000_000_000.25 + n,
    ctimeMs: 1_700_000_000_001.5 + n,
    ino: 2 ** 40 + n,
    mode: 0o100644,
  });
  const answers: HashResponse[] = [
    { ok: true, hash: 'a'.repeat(64), stat: stat(1), attempts: 1 },
    { ok: false, errorCode: 'EACCES', message: "EACCES: permission denied, open '/x/é'" },
    { ok: true, unstable: true, stat: stat(2), attempts: 2 },
    { ok: true, hash: '0123456789abcdef'.repeat(4), stat: stat(3), attempts: 2 },
    { ok: false, errorCode: 'ECHANGED', message: 'replaced by something that is not a file during the scan' },
  ];
  const packed = packResponses(answers, 12.5);
  assert.equal(packed.waitMs, 12.5);
  assert.deepEqual(unpackResponses(structuredClone(packed)), answers);
  assert.deepEqual(unpackResponses(packResponses([], 0)), []);
  assert.throws(() => packResponses([{ ok: true, hash: 'abc', stat: stat(4), attempts: 1 }], 0), /64 hex digits/);
});
