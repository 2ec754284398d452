/** Messages between the scan and its hash threads (src/scan/hash-worker.ts). */

/**
 * A batch of files to hash: absolute paths, and for each the state the walk
 * saw (size, mtimeMs, ctimeMs, ino at index 4i..4i+3). A file still in that
 * state after the read needs no second stat.
 */
export interface HashBatch {
  paths: string[];
  states: Float64Array;
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

/** A thread's answer to a batch, in the batch's order. */
export interface HashBatchResult {
  responses: HashResponse[];
  /** Milliseconds spent in open and read calls: tells the pool whether the disk is the bottleneck. */
  waitMs: number;
}

export interface HashWorkerData {
  cpuTokens: SharedArrayBuffer;
  chunkSize: number;
}
