/**
 * scanFolderInThread: the same scan as scanFolder, run in a thread of its
 * own. The walk's lstat calls, the hash-cache reads and the reorder window
 * then cost the calling thread nothing but unpacking batches, so a check
 * can decode and diff the source's manifest while its own folder is
 * scanned on another core.
 *
 * The iteration is the same as FolderScan's: entries in manifest order,
 * `stats` live while it runs and final at the end, errors thrown as the
 * scan threw them (ScanError keeps its code and hint), the signal or an
 * early break stopping the scan and releasing its threads and cache.
 * The threads themselves, and the one kept idle, are scan-thread-pool.ts's.
 */
import path from 'node:path';
import { currentLogLevel } from '../base/log.js';
import type { ManifestEntry } from '../manifest/entry.js';
import type { ReadyEntries } from '../manifest/ready-entries.js';
import { unpackEntries } from './entry-batch.js';
import { ScanError, type ScanErrorCode } from './errors.js';
import { resolveScanOptions, type ScanOptions } from './options.js';
import { emptyStats, type ScanStats } from './scan-stats.js';
import type { FromScanThread, ThreadError, ToScanThread } from './scan-thread-protocol.js';
import { releaseThread, takeThread, type WorkerHandle } from './scan-thread-pool.js';

export class ThreadedFolderScan implements AsyncIterable<ManifestEntry> {
  readonly root: string;
  readonly stats: ScanStats = emptyStats();
  cacheLocation: string | undefined;
  /**
   * When the thread said its scan ended: this side's own scan time, not when a reader got to the last
   * entry (a diff reads both sides' ends at once). Undefined until then, and after an error.
   */
  finishedAt: Date | undefined;
  private readonly options: ScanOptions;
  private started = false;
  /** The unpacked batch being handed out, and how far. */
  private ready: ManifestEntry[] = [];
  private readyIndex = 0;

  /** `thread`: one started ahead (ScanThread); otherwise one starts at the first iteration. */
  constructor(
    root: string,
    options: ScanOptions = {},
    private thread?: WorkerHandle,
  ) {
    this.root = path.resolve(root);
    // Bad options throw here, as scanFolder's do, not later from the thread.
    resolveScanOptions(this.root, options);
    this.options = options;
  }

  /**
   * Starting the iteration starts the scan in its thread, before the first
   * next(): a diff asks for the backup's first entry only once the source's
   * has come, and the scan should not wait for that (with the page cache
   * dropped, the two scans ran one after the other). The thread works at
   * most MAX_BATCHES_AHEAD batches ahead of what is taken.
   */
  [Symbol.asyncIterator](): AsyncIterator<ManifestEntry> {
    if (this.started) throw new Error('a scan can be iterated only once; call scanFolderInThread again');
    this.started = true;
    const session = this.begin();
    const run = this.run(session);
    let stepped = false;
    const iterator: AsyncIterator<ManifestEntry> & ReadyEntries = {
      next: () => {
        stepped = true;
        return run.next();
      },
      return: async (value?: unknown) => {
        // A generator that never stepped skips its finally: end the thread's scan here.
        if (!stepped) await session.end();
        return run.return(value as undefined);
      },
      // Entries of the batch at hand, without a promise each; the next batch, the end and errors come through next().
      takeReady: () =>
        this.readyIndex < this.ready.length && this.options.signal?.aborted !== true ? this.ready[this.readyIndex++] : undefined,
    };
    return iterator;
  }

  /** Hands the thread its scan and starts collecting what it sends. */
  private begin(): ScanSession {
    const { signal, ...options } = this.options;
    const thread = this.thread ?? takeThread();
    this.thread = undefined;
    const { worker } = thread;
    const inbox: FromScanThread[] = [];
    let finished = false;
    let cleanEnd = false;
    let ended: Promise<void> | undefined;
    const onMessage = (message: FromScanThread): void => {
      if (message.kind === 'end') this.finishedAt ??= new Date();
      inbox.push(message);
      thread.notify();
    };
    const send = (message: ToScanThread): void => worker.postMessage(message);
    const onAbort = (): void => {
      send({ kind: 'stop' });
      thread.notify();
    };
    /** Reads past the batches nobody will take, up to the thread's end or error message. */
    const takeLastWord = (): void => {
      for (let message = inbox.shift(); message !== undefined && !finished; message = inbox.shift()) {
        if (message.kind === 'batch') continue;
        finished = true;
        cleanEnd = message.kind === 'end';
      }
    };
    const session: ScanSession = {
      thread,
      inbox,
      send,
      markFinished: (clean) => {
        finished = true;
        cleanEnd = clean;
      },
      end: () =>
        (ended ??= (async () => {
          signal?.removeEventListener('abort', onAbort);
          // A scan given up unread (a diff whose other side failed first) may have ended in the
          // thread already: its last word is here or on its way, and a thread between scans
          // ignores `stop`. So wait for that word or for the thread's exit, never for the exit alone.
          takeLastWord();
          if (!finished && !thread.exited) {
            send({ kind: 'stop' });
            while (!finished && !thread.exited) {
              await thread.change();
              takeLastWord();
            }
          }
          worker.off('message', onMessage);
          if (cleanEnd) {
            // The thread waits for another scan: keep it for the next one in this process.
            releaseThread(thread);
          } else if (finished) {
            // Only the thread's own teardown is left: nobody needs to wait for it.
            worker.unref();
          }
        })()),
    };
    if (signal?.aborted) {
      session.end = () => (ended ??= thread.worker.terminate().then(() => undefined));
      return session;
    }
    worker.ref();
    worker.on('message', onMessage);
    signal?.addEventListener('abort', onAbort, { once: true });
    send({ kind: 'start', root: this.root, options, logLevel: currentLogLevel() });
    return session;
  }

  private async *run(session: ScanSession): AsyncGenerator<ManifestEntry, void, undefined> {
    const { signal } = this.options;
    const { thread, inbox, send } = session;
    try {
      signal?.throwIfAborted();
      for (;;) {
        const message = inbox.shift();
        if (message === undefined) {
          signal?.throwIfAborted();
          if (thread.crash !== undefined) throw thread.crash;
          if (thread.exited) throw new Error(`the scan thread of ${this.root} ended before the scan did`);
          await thread.change();
          continue;
        }
        Object.assign(this.stats, message.stats);
        if (message.kind !== 'batch') session.markFinished(message.kind === 'end');
        if (message.kind === 'error') throw errorFrom(message.error, this.root);
        this.cacheLocation = message.cacheLocation;
        if (message.kind === 'end') return;
        send({ kind: 'taken' });
        this.ready = unpackEntries(message.batch);
        this.readyIndex = 0;
        // takeReady() may move readyIndex on while this waits at the yield.
        while (this.readyIndex < this.ready.length) {
          yield this.ready[this.readyIndex++]!;
          signal?.throwIfAborted();
        }
      }
    } finally {
      this.ready = [];
      this.readyIndex = 0;
      await session.end();
    }
  }
}

/** One scan's link to its thread, from begin() to the end of the iteration. */
interface ScanSession {
  thread: WorkerHandle;
  inbox: FromScanThread[];
  send: (message: ToScanThread) => void;
  /** The thread said its last word: its scan ended (cleanly: it can take another) and released the cache and hash threads. */
  markFinished: (clean: boolean) => void;
  /** Stops the thread's scan if it still runs, once; later calls get the same promise. */
  end: () => Promise<void>;
}

/**
 * A scan thread started before its scan is known, so that its start-up
 * overlaps with what the caller must do first: a check connects to the
 * source, whose ignore rules the scan needs. An idle thread does not keep
 * the process alive.
 */
export class ScanThread {
  private thread: WorkerHandle | undefined = takeThread();

  constructor() {
    this.thread!.worker.unref();
  }

  /** The scan this thread is to run (at most one). */
  scan(root: string, options?: ScanOptions): ThreadedFolderScan {
    const thread = this.thread;
    if (thread === undefined) throw new Error('this scan thread already has its scan');
    this.thread = undefined;
    try {
      return new ThreadedFolderScan(root, options, thread);
    } catch (err) {
      void thread.worker.terminate();
      throw err;
    }
  }

  /** Gives the thread back if no scan took it (a scan hands its own thread on). */
  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (thread !== undefined) releaseThread(thread);
  }
}

/** Scan `root` in a thread of its own. The scan starts when the result's iteration starts. */
export function scanFolderInThread(root: string, options?: ScanOptions): ThreadedFolderScan {
  return new ThreadedFolderScan(root, options);
}

const BUG_CLASSES: Record<string, ErrorConstructor> = { TypeError, RangeError, ReferenceError, SyntaxError };

/** The scan's error on this side: a ScanError with its code and hint, a bug as the same class of error. */
function errorFrom(error: ThreadError, root: string): Error {
  if (error.code?.startsWith('E_SCAN_')) {
    return new ScanError(error.code as ScanErrorCode, root, error.message, error.hint === undefined ? {} : { hint: error.hint });
  }
  const err = new (BUG_CLASSES[error.name] ?? Error)(error.message);
  if (error.stack !== undefined) err.stack = error.stack;
  if (error.code !== undefined) (err as Error & { code: string }).code = error.code;
  return err;
}
