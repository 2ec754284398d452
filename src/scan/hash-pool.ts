/**
 * The pool of hash threads. Up to `ioConcurrency` threads (lanes) read files,
 * at most `jobs` of them hash at any moment (CPU tokens). Threads start
 * lazily: none for a scan served entirely from the hash cache, `jobs` while
 * reads are fast (page cache), and more, up to `ioConcurrency`, only when
 * the threads report that they mostly wait on the disk (cold files
 * need many reads in flight; a warm tree would only pay for idle threads).
 *
 * Jobs are dispatched oldest first, which is what the reorder window needs
 * (the oldest job blocks the output). Large files may occupy at most
 * `largeLanes` lanes, so a few big files never starve the small ones behind
 * them.
 */
import { Worker } from 'node:worker_threads';
import { createCpuTokens } from './cpu-tokens.js';
import { idleShare, readCpuTimes, type CpuTimes } from './cpu-idle.js';
import { packBatch, unpackResponses, type HashBatchResult, type HashResponse, type HashWorkerData } from './hash-protocol.js';
import type { FileState } from './hash-cache.js';

/** Files at least this big count as large for lane reservation. */
export const LARGE_FILE_BYTES = 16 * 1024 * 1024;
/** Consecutive files under this size travel to a thread together (one message), */
export const SMALL_FILE_BYTES = 256 * 1024;
/** up to this many at a time. */
export const MAX_BATCH = 32;
/** A batch whose open+read calls averaged more than this per file, and ran below IO_BOUND_MB_PER_S, */
const IO_BOUND_MS_PER_FILE = 0.25;
/** means the disk is the bottleneck: another lane helps, */
const IO_BOUND_MB_PER_S = 400;
/** if at least this share of the CPUs' time went unused meanwhile (cpu-idle.ts). */
const IO_BOUND_MIN_IDLE = 0.2;
/** Readings of the CPU counters this far apart at least, so that a share means something, */
const CPU_WINDOW_MIN_MS = 100;
/** and at most, so that it says what the CPUs did just now. */
const CPU_WINDOW_MAX_MS = 1000;
/** Read size of the hash threads (NOTES: 64 KiB reads beat 1 MiB on a cold disk; warm, the difference is noise). */
export const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Whether a batch's open and read calls (`waitMs` in all, for files of
 * `sizes` bytes) were slow enough to call the disk the bottleneck. Files up
 * to a few MiB (photos, documents) gain from more reads in flight: a lane's
 * reads and hashing never overlap. Large files (videos) never count: more
 * readers of long files on a spinning disk mostly add seeks.
 */
export function readsLookDiskBound(sizes: readonly number[], waitMs: number): boolean {
  if (sizes.length === 0 || sizes.some((size) => size >= LARGE_FILE_BYTES)) return false;
  const bytes = sizes.reduce((sum, size) => sum + size, 0);
  return waitMs > IO_BOUND_MS_PER_FILE * sizes.length && bytes / 1000 / waitMs < IO_BOUND_MB_PER_S;
}

/** Called once per file, with the response or with the error that stopped the pool. */
export type HashCallback = (response: HashResponse | Error) => void;

interface Job {
  path: string;
  state: FileState;
  large: boolean;
  done: HashCallback;
}

interface Lane {
  worker: Worker;
  /** The jobs sent to this lane and not answered yet (empty: idle). */
  jobs: Job[];
}

export interface HashPoolOptions {
  jobs: number;
  ioConcurrency: number;
}

export class HashPool {
  private readonly lanes: Lane[] = [];
  private readonly queue = new Deque<Job>();
  private readonly maxLanes: number;
  /** Lanes started without evidence of a slow disk: one per CPU token. */
  private readonly cpuLanes: number;
  private diskBound = false;
  private readonly largeLanes: number;
  private readonly workerData: HashWorkerData;
  private busyLarge = 0;
  private failure: Error | undefined;
  private closed = false;
  private dispatchScheduled = false;
  private cpuReading: { at: number; times: CpuTimes | undefined } | undefined;

  constructor(options: HashPoolOptions) {
    this.maxLanes = Math.max(options.jobs, options.ioConcurrency);
    this.cpuLanes = options.jobs;
    this.largeLanes = Math.max(1, Math.min(options.jobs, this.maxLanes - 1));
    this.workerData = { cpuTokens: createCpuTokens(options.jobs), chunkSize: READ_CHUNK_BYTES, bytesRead: new SharedArrayBuffer(8) };
  }

  /** Threads started so far. */
  get threads(): number {
    return this.lanes.length;
  }

  /** Bytes the threads have read so far, counted read by read (a file half hashed counts half). */
  get bytesRead(): number {
    return Number(Atomics.load(new BigInt64Array(this.workerData.bytesRead), 0));
  }

  /** Hash one file; `state` is what the walk's lstat saw. */
  hash(absolutePath: string, state: FileState, done: HashCallback): void {
    if (this.failure || this.closed) {
      const error = this.failure ?? new Error('hash pool is closed');
      queueMicrotask(() => done(error));
      return;
    }
    this.queue.push({ path: absolutePath, state, large: state.size >= LARGE_FILE_BYTES, done });
    this.scheduleDispatch();
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('hash pool closed');
    for (const job of this.queue.drain()) job.done(error);
    for (const lane of this.lanes) for (const job of this.finish(lane)) job.done(error);
    await Promise.all(this.lanes.map((lane) => lane.worker.terminate()));
    this.lanes.length = 0;
  }

  /**
   * Dispatch once per event-loop turn rather than per file: jobs pile up
   * while the walk runs, and go out in batches (a message costs more than
   * hashing a small file).
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const lane = this.freeLane();
      if (!lane) return;
      const batch = this.takeBatch();
      if (batch.length === 0) return;
      this.start(lane, batch);
    }
  }

  /**
   * The oldest job, plus the small jobs right behind a small one. When large
   * files already hold their share of lanes, the oldest small job instead.
   */
  private takeBatch(): Job[] {
    const first = this.busyLarge >= this.largeLanes ? this.queue.removeFirstWhere((job) => !job.large) : this.queue.shift();
    if (first === undefined) return [];
    const batch = [first];
    if (first.large || first.state.size >= SMALL_FILE_BYTES) return batch;
    // Spread what is queued over the lanes, in batches of up to MAX_BATCH.
    const share = Math.ceil((this.queue.length + 1) / this.maxLanes);
    while (batch.length < Math.min(MAX_BATCH, share)) {
      const next = this.queue.peek();
      if (next === undefined || next.state.size >= SMALL_FILE_BYTES) break;
      batch.push(this.queue.shift()!);
    }
    return batch;
  }

  private freeLane(): Lane | undefined {
    const idle = this.lanes.find((lane) => lane.jobs.length === 0);
    if (idle) return idle;
    // Beyond one lane per CPU token only for a slow disk, or so that small
    // files get a lane while every lane is busy with a large file.
    const needed = this.diskBound || this.busyLarge >= this.lanes.length;
    if (this.lanes.length >= this.cpuLanes && !needed) return undefined;
    if (this.lanes.length >= this.maxLanes) return undefined;
    this.diskBound = false; // one more lane per disk-bound report
    return this.spawn();
  }

  /**
   * Whether the CPUs left time unused recently: only then are slow reads the
   * disk's doing. The window between two readings of the counters is 100 ms
   * to 1 s; a slow batch with no recent reading only starts a window. Where
   * the counters cannot be read (no /proc/stat), read times alone decide.
   */
  private cpusWait(): boolean {
    const now = performance.now();
    const last = this.cpuReading;
    if (last !== undefined && last.times === undefined) return true;
    if (last !== undefined && now - last.at < CPU_WINDOW_MIN_MS) return false;
    const times = readCpuTimes();
    this.cpuReading = { at: now, times };
    if (times === undefined) return true;
    if (last === undefined || now - last.at > CPU_WINDOW_MAX_MS) return false;
    const share = idleShare(last.times, times);
    return share !== undefined && share >= IO_BOUND_MIN_IDLE;
  }

  private start(lane: Lane, batch: Job[]): void {
    lane.jobs = batch;
    for (const job of batch) if (job.large) this.busyLarge++;
    lane.worker.postMessage(packBatch(batch));
  }

  private finish(lane: Lane): Job[] {
    const jobs = lane.jobs;
    lane.jobs = [];
    for (const job of jobs) if (job.large) this.busyLarge--;
    return jobs;
  }

  private spawn(): Lane {
    // A hash thread holds one read buffer and a batch of results: small heaps
    // keep eight of them well inside the scan's memory budget.
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url), {
      workerData: this.workerData,
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 },
    });
    const lane: Lane = { worker, jobs: [] };
    worker.on('message', (result: HashBatchResult) => {
      const { waitMs } = result;
      const responses = unpackResponses(result);
      const jobs = this.finish(lane);
      if (
        readsLookDiskBound(
          jobs.map((job) => job.state.size),
          waitMs,
        ) &&
        this.cpusWait()
      )
        this.diskBound = true;
      jobs.forEach((job, i) => {
        job.done(responses[i]!);
      });
      this.dispatch();
    });
    worker.on('error', (err) => {
      // A crashed hash thread is a bug: fail the scan rather than guess.
      this.failure = err;
      for (const job of this.finish(lane)) job.done(err);
      for (const job of this.queue.drain()) job.done(err);
    });
    this.lanes.push(lane);
    return lane;
  }
}

/** A FIFO with O(1) shift (Array#shift/splice copy the whole queue). */
class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Remove and return the oldest item matching `test` (rare path: large files hold their lanes). */
  removeFirstWhere(test: (item: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i]!;
      if (test(item)) {
        if (i === this.head) return this.shift();
        this.items.splice(i, 1);
        return item;
      }
    }
    return undefined;
  }

  drain(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }
}
