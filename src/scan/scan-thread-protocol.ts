/** Messages between a threaded scan (scan-thread.ts) and its thread (scan-worker.ts). */
import type { LogLevel } from '../base/log.js';
import type { EntryBatch } from './entry-batch.js';
import type { ScanStats } from './scan-stats.js';
import type { ScanOptions } from './options.js';

/** The scan a thread is to run: the first message it receives (it may start before its scan is known). */
export interface ScanThreadStart {
  kind: 'start';
  root: string;
  /** scanFolder's options without the signal (aborts travel as a `stop` message). */
  options: Omit<ScanOptions, 'signal'>;
  logLevel: LogLevel;
}

/** To the thread: its scan, then: one batch was taken (flow control), or stop scanning and clean up. */
export type ToScanThread = ScanThreadStart | { kind: 'taken' } | { kind: 'stop' };

/** An error, as far as it can cross a thread boundary. */
export interface ThreadError {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
  hint: string | undefined;
}

export type FromScanThread =
  | { kind: 'batch'; batch: EntryBatch; stats: ScanStats; cacheLocation: string | undefined }
  | { kind: 'end'; stats: ScanStats; cacheLocation: string | undefined }
  | { kind: 'error'; error: ThreadError; stats: ScanStats };

/** Batches the thread may post before the other side has taken them. */
export const MAX_BATCHES_AHEAD = 4;
