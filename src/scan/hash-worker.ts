/**
 * A hash thread: opens one file at a time, reads it with synchronous reads
 * (which keep libuv's small shared thread pool free for the walk) and hashes
 * it with node:crypto SHA-256. It holds a CPU token only while hashing, so
 * more threads than cores can wait on a cold disk at once.
 *
 * The file is stat'ed through the open descriptor before and after the read;
 * if it changed, it is read once more, then reported unstable (syncthing
 * does the same: no hash is recorded that matches no real state).
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { CpuTokens } from './cpu-tokens.js';
import type { HashRequest, HashResponse, HashWorkerData, HashedStat } from './hash-protocol.js';

const data = workerData as HashWorkerData;
const tokens = new CpuTokens(data.cpuTokens);
const buffer = Buffer.allocUnsafe(data.chunkSize);
const port = parentPort!;

// O_NOFOLLOW: a name that became a symlink since the walk is not followed.
// O_NONBLOCK: a name that became a FIFO since the walk does not hang the open.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

port.on('message', (req: HashRequest) => {
  port.postMessage(hashFile(req));
});

function hashFile(req: HashRequest): HashResponse {
  let fd: number;
  try {
    fd = openSync(req.path, OPEN_FLAGS);
  } catch (err) {
    return failure(req.id, err);
  }
  try {
    const first = fstatSync(fd);
    if (!first.isFile()) {
      return { id: req.id, ok: false, errorCode: 'ECHANGED', message: 'replaced by something that is not a file during the scan' };
    }
    let before = first;
    for (let attempt = 1; attempt <= 2; attempt++) {
      const hash = readAndHash(fd, before.size);
      const after = fstatSync(fd);
      if (hash !== undefined && sameState(before, after)) {
        return { id: req.id, ok: true, hash, stat: toHashedStat(after), attempts: attempt };
      }
      if (attempt === 2) return { id: req.id, ok: true, unstable: true, stat: toHashedStat(after), attempts: attempt };
      before = after;
    }
    throw new Error('unreachable');
  } catch (err) {
    return failure(req.id, err);
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
    const got = readSync(fd, buffer, 0, want, position);
    if (got === 0) return undefined;
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

function failure(id: number, err: unknown): HashResponse {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'EIO';
  const message = err instanceof Error ? err.message : String(err);
  return { id, ok: false, errorCode: code, message };
}
