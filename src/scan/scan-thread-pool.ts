/**
 * The scan threads themselves: starting one and watching what becomes of it
 * (messages, crash, exit), and keeping a thread whose scan ended cleanly for
 * the next scan of this process. scan-thread.ts runs scans in them.
 */
import { Worker } from 'node:worker_threads';

/** A scan thread and what became of it, watched from the moment it starts. */
export class WorkerHandle {
  readonly worker = new Worker(new URL('./scan-worker.js', import.meta.url));
  crash: Error | undefined;
  exited = false;
  readonly exit: Promise<void>;
  private wake: (() => void) | undefined;

  constructor() {
    this.exit = new Promise<void>((resolve) =>
      this.worker.once('exit', () => {
        this.exited = true;
        const idle = idleThreads.indexOf(this);
        if (idle !== -1) idleThreads.splice(idle, 1);
        resolve();
        this.notify();
      }),
    );
    this.worker.on('error', (err) => {
      this.crash = err;
      this.notify();
    });
  }

  /** Resolves at the next message, crash or exit (or stop request). */
  change(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/**
 * Threads whose scan ended cleanly, waiting for the next scan of this
 * process: a long-lived process (the agent checking on request) skips the
 * thread's start-up (its own copy of the scanner's modules, LMDB) and its
 * compiled code stays warm. At most one is kept; an idle thread does not
 * keep the process alive.
 */
const idleThreads: WorkerHandle[] = [];
let maxIdleThreads = 1;

/**
 * How many threads to keep for a next scan (default 1). A process that will
 * scan no more (the CLI checking one folder) keeps none: its thread is ended
 * as its scan ends, and tears its heap down while the check finishes (the
 * verdict, the records) instead of when the process exits.
 */
export function keepIdleScanThreads(count: number): void {
  maxIdleThreads = count;
  for (const thread of idleThreads.splice(count)) void thread.worker.terminate();
}

export function takeThread(): WorkerHandle {
  return idleThreads.pop() ?? new WorkerHandle();
}

export function releaseThread(thread: WorkerHandle): void {
  thread.worker.unref();
  if (thread.exited || thread.crash !== undefined) return;
  if (idleThreads.length < maxIdleThreads) idleThreads.push(thread);
  else void thread.worker.terminate();
}

/** Ends the threads kept for a next scan (a process that wants to count or stop its threads). */
export async function closeIdleScanThreads(): Promise<void> {
  await Promise.all(idleThreads.splice(0).map((thread) => thread.worker.terminate()));
}
