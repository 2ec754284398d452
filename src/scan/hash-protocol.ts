/** Messages between the scan and its hash threads (src/scan/hash-worker.ts). */

/**
 * A batch of files to hash: absolute paths, and for each the state the walk
 * saw (size, mtimeMs, ctimeMs, ino at index 4i..4i+3). A file still in that
 * state after the read needs no second stat. The paths travel as one string,
 * separated by NUL (no path holds one): a message copies one string faster
 * than an array of them, and a cold scan sends one message per batch.
 */
export interface HashBatch {
  paths: string;
  states: Float64Array;
}

const PATH_SEPARATOR = '\0';

/** The batch of these files, each with the state the walk saw. */
export function packBatch(
  jobs: ReadonlyArray<{ path: string; state: { size: number; mtimeMs: number; ctimeMs: number; ino: number } }>,
): HashBatch {
  const states = new Float64Array(jobs.length * 4);
  for (let i = 0; i < jobs.length; i++) {
    const { state } = jobs[i]!;
    states[i * 4] = state.size;
    states[i * 4 + 1] = state.mtimeMs;
    states[i * 4 + 2] = state.ctimeMs;
    states[i * 4 + 3] = state.ino;
  }
  return { paths: jobs.map((job) => job.path).join(PATH_SEPARATOR), states };
}

export function unpackPaths(batch: HashBatch): string[] {
  return batch.paths.split(PATH_SEPARATOR);
}

/** File state as seen through the open descriptor after the read. */
export interface HashedStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
}

export type HashResponse =
  | { ok: true; hash: string; stat: HashedStat; attempts: number }
  /** The file changed during both reads: no trustworthy hash exists. */
  | { ok: true; unstable: true; stat: HashedStat; attempts: number }
  | { ok: false; errorCode: string; message: string };

/**
 * A thread's answer to a batch, in the batch's order, packed as entry
 * batches are (entry-batch.ts): cloned as one object per file, 100,000
 * answers cost the two threads 0.35-0.56 CPU-s; packed, 0.19-0.21 CPU-s.
 */
export interface HashBatchResult {
  /** Per file, RESULT_NUMBERS numbers: outcome, size, mtimeMs, ctimeMs, ino, mode, attempts. */
  numbers: Float64Array;
  /** The hashes of the files with outcome "hashed", 64 hex digits each, in order. */
  hashes: string;
  /** [index, errorCode, message] of the files that could not be read. */
  failures: Array<[number, string, string]>;
  /** Milliseconds spent in open and read calls: tells the pool whether the disk is the bottleneck. */
  waitMs: number;
}

const RESULT_NUMBERS = 7;
const HASH_CHARS = 64;
const HASHED = 0;
const UNSTABLE = 1;
const FAILED = 2;

export function packResponses(responses: readonly HashResponse[], waitMs: number): HashBatchResult {
  const numbers = new Float64Array(responses.length * RESULT_NUMBERS);
  const failures: Array<[number, string, string]> = [];
  let hashes = '';
  responses.forEach((response, i) => {
    const at = i * RESULT_NUMBERS;
    if (!response.ok) {
      numbers[at] = FAILED;
      failures.push([i, response.errorCode, response.message]);
      return;
    }
    if ('hash' in response) {
      if (response.hash.length !== HASH_CHARS) throw new TypeError(`hash is not ${HASH_CHARS} hex digits`);
      numbers[at] = HASHED;
      hashes += response.hash;
    } else {
      numbers[at] = UNSTABLE;
    }
    const { stat } = response;
    numbers[at + 1] = stat.size;
    numbers[at + 2] = stat.mtimeMs;
    numbers[at + 3] = stat.ctimeMs;
    numbers[at + 4] = stat.ino;
    numbers[at + 5] = stat.mode;
    numbers[at + 6] = response.attempts;
  });
  return { numbers, hashes, failures, waitMs };
}

export function unpackResponses(result: HashBatchResult): HashResponse[] {
  const { numbers, hashes } = result;
  const responses = new Array<HashResponse>(numbers.length / RESULT_NUMBERS);
  let hashAt = 0;
  for (let i = 0; i < responses.length; i++) {
    const at = i * RESULT_NUMBERS;
    const outcome = numbers[at];
    if (outcome === FAILED) continue;
    const stat: HashedStat = {
      size: numbers[at + 1]!,
      mtimeMs: numbers[at + 2]!,
      ctimeMs: numbers[at + 3]!,
      ino: numbers[at + 4]!,
      mode: numbers[at + 5]!,
    };
    const attempts = numbers[at + 6]!;
    if (outcome === HASHED) {
      responses[i] = { ok: true, hash: hashes.slice(hashAt, hashAt + HASH_CHARS), stat, attempts };
      hashAt += HASH_CHARS;
    } else {
      responses[i] = { ok: true, unstable: true, stat, attempts };
    }
  }
  for (const [index, errorCode, message] of result.failures) responses[index] = { ok: false, errorCode, message };
  return responses;
}

export interface HashWorkerData {
  cpuTokens: SharedArrayBuffer;
  chunkSize: number;
  /**
   * One BigInt64 the threads add every read's byte count to: progress within
   * a file, which a scan hashing one 50 GB video otherwise shows nowhere
   * until the file is done (a stuck read shows as no progress).
   */
  bytesRead: SharedArrayBuffer;
}
