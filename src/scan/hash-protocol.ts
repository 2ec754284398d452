/** Messages between the scan and its hash threads (src/scan/hash-worker.ts). */

export interface HashRequest {
  id: number;
  /** Absolute path on disk (bytes are not needed: only valid names are hashed). */
  path: string;
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
  | { id: number; ok: true; hash: string; stat: HashedStat; attempts: number }
  /** The file changed during both reads: no trustworthy hash exists. */
  | { id: number; ok: true; unstable: true; stat: HashedStat; attempts: number }
  | { id: number; ok: false; errorCode: string; message: string };

export interface HashWorkerData {
  cpuTokens: SharedArrayBuffer;
  chunkSize: number;
}
