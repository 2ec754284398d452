/**
 * The pool of hash threads. `ioConcurrency` threads (lanes) read files, at
 * most `jobs` of them hash at any moment (CPU tokens). Threads start lazily,
 * so a scan served entirely from the hash cache starts none.
 *
 * Jobs are dispatched oldest first, which is what the reorder window needs
 * (the oldest job blocks the output). Large files may occupy at most
 * `largeLanes` lanes, so a few big files never starve the small ones behind
 * them.
 */
import { Worker } from 'node:worker_threads';
import { createCpuTokens } from './cpu-tokens.js';
import type { HashRequest, HashResponse, HashWorkerData } from './hash-protocol.js';

/** Files at least this big count as large for lane reservation. */
export const LARGE_FILE_BYTES = 16 * 1024 * 1024;
/** Read size of the hash threads (NOTES: 64 KiB-1 MiB reads; 256 KiB balances cold and warm). */
export const READ_CHUNK_BYTES = 256 * 1024;

interface Job {
  request: HashRequest;
  large: boolean;
  resolve: (response: HashResponse) => void;
  reject: (err: Error) => void;
}

interface Lane {
  worker: Worker;
  job: Job | undefined;
}

export interface HashPoolOptions {
  jobs: number;
  ioConcurrency: number;
}

export class HashPool {
  private readonly lanes: Lane[] = [];
  private readonly queue: Job[] = [];
  private readonly maxLanes: number;
  private readonly largeLanes: number;
  private readonly workerData: HashWorkerData;
  private nextId = 1;
  private busyLarge = 0;
  private failure: Error | undefined;
  private closed = false;

  constructor(options: HashPoolOptions) {
    this.maxLanes = Math.max(options.jobs, options.ioConcurrency);
    this.largeLanes = Math.max(1, Math.min(options.jobs, this.maxLanes - 1));
    this.workerData = { cpuTokens: createCpuTokens(options.jobs), chunkSize: READ_CHUNK_BYTES };
  }

  /** Threads started so far. */
  get threads(): number {
    return this.lanes.length;
  }

  hash(absolutePath: string, size: number): Promise<HashResponse> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('hash pool is closed'));
    return new Promise<HashResponse>((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, path: absolutePath }, large: size >= LARGE_FILE_BYTES, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = new Error('hash pool closed');
    for (const job of this.queue.splice(0)) job.reject(error);
    for (const lane of this.lanes) this.finish(lane)?.reject(error);
    await Promise.all(this.lanes.map((lane) => lane.worker.terminate()));
    this.lanes.length = 0;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const index = this.busyLarge >= this.largeLanes ? this.queue.findIndex((job) => !job.large) : 0;
      if (index < 0) return;
      const lane = this.freeLane();
      if (!lane) return;
      const [job] = this.queue.splice(index, 1);
      this.start(lane, job!);
    }
  }

  private freeLane(): Lane | undefined {
    const idle = this.lanes.find((lane) => lane.job === undefined);
    if (idle) return idle;
    if (this.lanes.length >= this.maxLanes) return undefined;
    return this.spawn();
  }

  private start(lane: Lane, job: Job): void {
    lane.job = job;
    if (job.large) this.busyLarge++;
    lane.worker.postMessage(job.request);
  }

  private finish(lane: Lane): Job | undefined {
    const job = lane.job;
    lane.job = undefined;
    if (job?.large) this.busyLarge--;
    return job;
  }

  private spawn(): Lane {
    const worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: this.workerData });
    const lane: Lane = { worker, job: undefined };
    worker.on('message', (response: HashResponse) => {
      const job = this.finish(lane);
      job?.resolve(response);
      this.dispatch();
    });
    worker.on('error', (err) => {
      // A crashed hash thread is a bug: fail the scan rather than guess.
      this.failure = err;
      this.finish(lane)?.reject(err);
      for (const job of this.queue.splice(0)) job.reject(err);
    });
    this.lanes.push(lane);
    return lane;
  }
}
