/**
 * The minimal Node baseline of the scan benchmark (NOTES' "Node SHA-256 in 2
 * workers"): walk the tree with synchronous calls, hash every file with
 * node:crypto in N worker threads (1 MiB reads), print the file count. No
 * order, no cache, no metadata: the floor a Node scanner can reach.
 *
 *   node dist/bench/baseline-hash.js ROOT [WORKERS]
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const BATCH = 64;

if (isMainThread) {
  const root = process.argv[2]!;
  const workers = Number(process.argv[3] ?? 2);
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = path.join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) files.push(p);
    }
  };
  walk(root);
  let next = 0;
  let done = 0;
  for (let w = 0; w < workers; w++) {
    const worker = new Worker(new URL(import.meta.url));
    const feed = (): void => {
      if (next >= files.length) {
        void worker.terminate();
        return;
      }
      worker.postMessage(files.slice(next, next + BATCH));
      next += BATCH;
    };
    worker.on('message', (n: number) => {
      done += n;
      feed();
    });
    feed();
  }
  process.on('exit', () => process.stdout.write(`${done}\n`));
} else {
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  parentPort!.on('message', (batch: string[]) => {
    for (const file of batch) {
      const hash = createHash('sha256');
      const fd = openSync(file, 'r');
      for (let n = readSync(fd, buffer, 0, buffer.length, null); n > 0; n = readSync(fd, buffer, 0, buffer.length, null))
        hash.update(buffer.subarray(0, n));
      closeSync(fd);
      hash.digest('hex');
    }
    parentPort!.postMessage(batch.length);
  });
}
