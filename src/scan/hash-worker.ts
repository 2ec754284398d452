/**
 * A hash thread: opens one file at a time, reads it with synchronous reads
 * (which keep libuv's small shared thread pool free for the walk) and hashes
 * it with node:crypto SHA-256. It holds a CPU token only while hashing, so
 * more threads than cores can wait on a cold disk at once.
 *
 * The file is stat'ed through the open descriptor after the read and
 * compared with the walk's lstat; if it changed, it is read once more
 * between two fstats, then reported unstable (syncthing
 * does the same: no hash is recorded that matches no real state).
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, readSync, type Stats } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CpuTokens } from './cpu-tokens.js';
import { packResponses, unpackPaths, type HashBatch, type HashResponse, type HashWorkerData, type HashedStat } from './hash-protocol.js';
import { openNoFollowSync } from '../base/no-follow.js';

const data = workerData as HashWorkerData;
const tokens = new CpuTokens(data.cpuTokens);
const buffer = Buffer.allocUnsafe(data.chunkSize);
const bytesRead = new BigInt64Array(data.bytesRead);
const port = parentPort!;

// O_NOFOLLOW: a name that became a symlink since the walk is not followed.
// O_NONBLOCK: a name that became a FIFO since the walk does not hang the open.
// (Windows has neither flag: base/no-follow.ts checks the name instead, and a FIFO cannot be made there.)
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

// Small files come in batches: one message per file would cost more than hashing it.
port.on('message', (batch: HashBatch) => {
  const responses: HashResponse[] = [];
  waitMs = 0;
  const paths = unpackPaths(batch);
  for (let i = 0; i < paths.length; i++) responses.push(hashFile(paths[i]!, batch.states, i * 4));
  port.postMessage(packResponses(responses, waitMs));
});

/** Time spent in open and read calls for the current batch (disk wait, mostly). */
let waitMs = 0;

function hashFile(file: string, states: Float64Array, at: number): HashResponse {
  let fd: number;
  try {
    const start = performance.now();
    fd = openNoFollowSync(file, OPEN_FLAGS);
    waitMs += performance.now() - start;
  } catch (err) {
    return failure(err);
  }
  try {
    // First attempt: the walk's lstat is the state before the read.
    const expectedSize = states[at]!;
    const hash = readAndHash(fd, expectedSize);
    let after = fstatSync(fd);
    if (!after.isFile()) return { ok: false, errorCode: 'ECHANGED', message: 'replaced by something that is not a file during the scan' };
    if (
      hash !== undefined &&
      after.size === expectedSize &&
      after.mtimeMs === states[at + 1] &&
      after.ctimeMs === states[at + 2] &&
      after.ino === states[at + 3]
    ) {
      return { ok: true, hash, stat: toHashedStat(after), attempts: 1 };
    }
    // It changed since the walk, or while read: read once more between two stats.
    const before = after;
    const again = readAndHash(fd, before.size);
    after = fstatSync(fd);
    if (again !== undefined && sameState(before, after)) return { ok: true, hash: again, stat: toHashedStat(after), attempts: 2 };
    return { ok: true, unstable: true, stat: toHashedStat(after), attempts: 2 };
  } catch (err) {
    return failure(err);
  } finally {
    closeSync(fd);
  }
}

/** Hash exactly `size` bytes; undefined when the file ended early (it shrank). */
function readAndHash(fd: number, size: number): string | undefined {
  const hash = createHash('sha256');
  let position = 0;
  while (position < size) {
    const want = Math.min(buffer.length, size - position);
    const start = performance.now();
    const got = readSync(fd, buffer, 0, want, position);
    waitMs += performance.now() - start;
    if (got === 0) return undefined;
    Atomics.add(bytesRead, 0, BigInt(got));
    tokens.acquire();
    try {
      hash.update(buffer.subarray(0, got));
    } finally {
      tokens.release();
    }
    position += got;
  }
  return hash.digest('hex');
}

function sameState(a: Stats, b: Stats): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

function toHashedStat(s: Stats): HashedStat {
  return { size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, ino: s.ino, mode: s.mode };
}

function failure(err: unknown): HashResponse {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'EIO';
  const message = err instanceof Error ? err.message : String(err);
  return { ok: false, errorCode: code, message };
}
