/**
 * The thread of a threaded scan (scan-thread.ts): runs scanFolder and posts
 * its entries in packed batches, at most MAX_BATCHES_AHEAD ahead of what the
 * other thread has taken, so a slow consumer holds the scan back instead of
 * queueing the whole manifest in memory. After a scan that ended cleanly it
 * waits for the next one; after an error or a stop it ends.
 */
import { parentPort } from 'node:worker_threads';
import { setLogLevel } from '../base/log.js';
import type { ManifestEntry } from '../manifest/entry.js';
import { packEntries } from './entry-batch.js';
import { scanFolder, type FolderScan } from './scan.js';
import { MAX_BATCHES_AHEAD, type FromScanThread, type ThreadError, type ToScanThread } from './scan-thread-protocol.js';

/** Entries per batch: large enough that a message's fixed cost vanishes, small enough to flow early. */
const BATCH_ENTRIES = 512;
/** A partial batch still goes out after this long, so slow hashing does not hold back what is ready. */
const BATCH_MAX_MS = 20;

const port = parentPort!;
/** The scan running now, if any: a thread runs one scan at a time, and another after a clean end. */
let abort: AbortController | undefined;
let ahead = 0;
let wakeSender: (() => void) | undefined;

port.on('message', (message: ToScanThread) => {
  if (message.kind === 'start') {
    if (abort !== undefined) return;
    abort = new AbortController();
    ahead = 0;
    setLogLevel(message.logLevel);
    void run(scanFolder(message.root, { ...message.options, signal: abort.signal }), abort.signal);
    return;
  }
  // Between scans, a `stop` crossed the `end` already posted: the other side waits for that end, not for an exit.
  if (abort === undefined) return;
  if (message.kind === 'taken') ahead--;
  else abort.abort(new Error('the scan was stopped'));
  const wake = wakeSender;
  wakeSender = undefined;
  wake?.();
});

function post(message: FromScanThread): void {
  port.postMessage(message);
}

async function send(scan: FolderScan, entries: ManifestEntry[], signal: AbortSignal): Promise<void> {
  while (ahead >= MAX_BATCHES_AHEAD && !signal.aborted) await new Promise<void>((resolve) => (wakeSender = resolve));
  signal.throwIfAborted();
  ahead++;
  post({ kind: 'batch', batch: packEntries(entries), stats: { ...scan.stats }, cacheLocation: scan.cacheLocation });
}

function threadError(err: unknown): ThreadError {
  const error = err instanceof Error ? err : new Error(String(err));
  const { code, hint } = error as { code?: unknown; hint?: unknown };
  return {
    name: error.name,
    message: error.message,
    stack: error.stack,
    code: typeof code === 'string' ? code : undefined,
    hint: typeof hint === 'string' ? hint : undefined,
  };
}

async function run(scan: FolderScan, signal: AbortSignal): Promise<void> {
  let clean = false;
  try {
    let batch: ManifestEntry[] = [];
    let lastSent = performance.now();
    for await (const entry of scan) {
      batch.push(entry);
      if (batch.length >= BATCH_ENTRIES || performance.now() - lastSent > BATCH_MAX_MS) {
        await send(scan, batch, signal);
        batch = [];
        lastSent = performance.now();
      }
    }
    if (batch.length > 0) await send(scan, batch, signal);
    clean = true;
  } catch (err) {
    // Stopped on request: the other side no longer listens.
    if (!signal.aborted) post({ kind: 'error', error: threadError(err), stats: scan.stats });
  }
  if (clean) {
    // The scan has closed its cache and hash threads: the thread may take the next scan (scan-thread.ts keeps it idle).
    abort = undefined;
    post({ kind: 'end', stats: scan.stats, cacheLocation: scan.cacheLocation });
  } else {
    // Nothing more to say: let the thread end.
    port.unref();
  }
}
