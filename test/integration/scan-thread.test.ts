import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { packEntries, unpackEntries } from '../../src/scan/entry-batch.js';
import { closeIdleScanThreads, keepIdleScanThreads, ScanError, ScanThread, scanFolderInThread } from '../../src/scan/index.js';
import { collect } from '../harness/scan.js';
import { tempDir } from '../harness/tmp.js';
import { waitFor } from '../harness/netns.js';

const SCAN_INDEX = fileURLToPath(new URL('../../src/scan/index.js', import.meta.url));

async function collectInThread(root: string, options: Parameters<typeof scanFolderInThread>[1]) {
  const scan = scanFolderInThread(root, options);
  const entries: ManifestEntry[] = [];
  for await (const entry of scan) entries.push(entry);
  return { entries, stats: scan.stats, cacheLocation: scan.cacheLocation };
}

async function assortedTree(root: string): Promise<void> {
  await mkdir(path.join(root, 'a', 'b'), { recursive: true });
  for (let i = 0; i < 1500; i++) await writeFile(path.join(root, 'a', `f${i}`), `file ${i}\n`);
  await writeFile(path.join(root, 'a', 'b', 'deep'), 'deep');
  await writeFile(path.join(root, 'a-b'), 'dash');
  await writeFile(path.join(root, '\u00e9'), 'nfc');
  await writeFile(path.join(root, 'e\u0301'), 'nfd');
  await writeFile(path.join(root, 'aux.txt'), 'windows');
  await writeFile(path.join(root, 'new\nline'), 'newline');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from('bad '), Buffer.from([0xff])]), 'x');
  await symlink('a-b', path.join(root, 'link'));
}

test('a scan in a thread gives the same entries and counts as one in this thread, from the cache too', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  await assortedTree(root);
  const here = await collect(root, { cacheDir });
  const there = await collectInThread(root, { cacheDir });
  assert.deepEqual(there.entries, here.entries);
  assert.ok(
    there.entries.some((e) => e.flags?.includes('nfc-clash')) &&
      there.entries.some((e) => e.type === 'error') &&
      there.entries.some((e) => e.target === 'a-b'),
  );
  assert.equal(there.stats.files, here.stats.files);
  assert.equal(there.stats.cachedFiles, here.stats.files, 'every file from the cache the first scan filled');
  assert.equal(there.stats.hashedFiles, 0);
  assert.ok(there.stats.elapsedMs > 0);
  assert.match(there.cacheLocation ?? '', /hash-cache/);
});

test('packed entries come back field for field', () => {
  const entries: ManifestEntry[] = [
    { path: 'a', type: 'dir', size: 0, mtime: 1, mode: 0o755 },
    { path: 'a/f', type: 'file', size: 2 ** 40, mtime: -5, mode: 0o644, hash: 'ab'.repeat(32) },
    { path: 'a/g', type: 'file', size: 0, mtime: 1_700_000_000_123, mode: 0o600, flags: ['unstable'] },
    { path: 'l', type: 'symlink', size: 0, mtime: 3, mode: 0o777, target: '../x y' },
    {
      path: '\u00e9',
      type: 'file',
      size: 1,
      mtime: 3,
      mode: 0o644,
      raw: 'e\u0301',
      flags: ['nfc-clash', 'windows-name'],
      hash: 'cd'.repeat(32),
    },
    { path: 'bad %FF', type: 'error', size: 0, mtime: 0, mode: 0, errorCode: 'INVALID_NAME', error: 'name is not valid UTF-8' },
  ];
  assert.deepEqual(unpackEntries(packEntries(entries)), entries);
  assert.deepEqual(unpackEntries(packEntries([])), []);
});

test('a scan in a thread reports a missing folder as the same ScanError', async (t) => {
  const root = path.join(await tempDir(t), 'not-there');
  await assert.rejects(collectInThread(root, { cache: false }), (err: unknown) => {
    assert.ok(err instanceof ScanError);
    assert.equal(err.code, 'E_SCAN_ROOT_MISSING');
    assert.match(err.hint ?? '', /mount/);
    return true;
  });
  assert.throws(
    () => scanFolderInThread(root, { jobs: 0 }),
    (err: unknown) => err instanceof ScanError && err.code === 'E_SCAN_OPTIONS',
  );
});

test('breaking out early or aborting stops the thread', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  await assortedTree(root);
  let seen = 0;
  for await (const _ of scanFolderInThread(root, { cacheDir })) if (++seen === 10) break;
  assert.equal(seen, 10);

  const abort = new AbortController();
  const reason = new Error('stopped by the test');
  seen = 0;
  await assert.rejects(
    (async () => {
      for await (const _ of scanFolderInThread(root, { cacheDir, signal: abort.signal })) if (++seen === 700) abort.abort(reason);
    })(),
    (err: unknown) => err === reason,
  );
  // The cache was closed cleanly both times: a full scan still finds every file in it.
  const after = await collectInThread(root, { cacheDir });
  assert.equal(after.stats.cachedFiles + after.stats.hashedFiles, after.stats.files);
});

test('a thread started ahead runs the scan given later; one never given a scan is closed, or left without holding the process', async (t) => {
  const root = await tempDir(t);
  await assortedTree(root);
  const here = await collect(root, { cache: false });
  const thread = new ScanThread();
  // The thread is up (or starting) before its scan is known.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const entries: ManifestEntry[] = [];
  for await (const entry of thread.scan(root, { cache: false })) entries.push(entry);
  assert.deepEqual(entries, here.entries);
  assert.throws(() => thread.scan(root), /already has its scan/);
  await thread.close();

  await new ScanThread().close();

  // A process that starts a thread and never gives it a scan ends on its own. (A script file: a worker
  // inherits the --input-type of an `-e` script, and its start would fail instead of idling.)
  const script = path.join(await tempDir(t), 'never-given.mjs');
  await writeFile(
    script,
    `import { ScanThread } from ${JSON.stringify(pathToFileURL(SCAN_INDEX).href)};
     const thread = new ScanThread();
     await new Promise((resolve) => setTimeout(resolve, 300));
     console.log('started');`,
  );
  const started = Date.now();
  const child = spawnSync(process.execPath, [script], { timeout: 20_000 });
  assert.equal(child.status, 0, child.stderr.toString());
  assert.equal(child.stdout.toString().trim(), 'started');
  assert.ok(Date.now() - started < 20_000);
});

test('a thread whose scan ended cleanly takes the next scan of the process; one whose scan was stopped does not', async (t) => {
  const root = await tempDir(t);
  await assortedTree(root);
  await closeIdleScanThreads();
  let created = 0;
  const onWorker = (): void => void created++;
  process.on('worker', onWorker);
  t.after(() => process.off('worker', onWorker));
  const first = await collectInThread(root, { cache: false, hash: false });
  assert.equal(created, 1);
  const second = await collectInThread(root, { cache: false, hash: false });
  assert.equal(created, 1, "the second scan ran in the first one's thread");
  assert.deepEqual(second.entries, first.entries);
  const ahead = new ScanThread();
  assert.equal(created, 1, 'a thread started ahead is the idle one');
  await ahead.close();
  // A scan stopped while still under way: more entries than its thread may send ahead unasked, so it
  // cannot have ended in the thread before the break (a small tree's scan may have, and is then clean).
  const big = await tempDir(t);
  for (let i = 0; i < 6000; i++) writeFileSync(path.join(big, `g${i}`), '');
  for await (const _ of scanFolderInThread(big, { cache: false, hash: false })) break;
  assert.equal(created, 1);
  const third = await collectInThread(root, { cache: false, hash: false });
  assert.equal(created, 2, "a stopped scan's thread is not reused");
  assert.deepEqual(third.entries, first.entries);
});

test('a process that keeps no idle thread (the CLI checking one folder) ends each thread as its scan ends', async (t) => {
  if (!existsSync('/proc/self/task')) return t.skip('counts threads in /proc/self/task (Linux)');
  const root = await tempDir(t);
  await assortedTree(root);
  const threads = (): number => readdirSync('/proc/self/task').length;
  await closeIdleScanThreads();
  keepIdleScanThreads(0);
  t.after(() => keepIdleScanThreads(1));
  let created = 0;
  const onWorker = (): void => void created++;
  process.on('worker', onWorker);
  t.after(() => process.off('worker', onWorker));
  // Node's own threads are all up and no scan thread is left: the count holds for a tenth of a second.
  let before = threads();
  await waitFor(
    'a steady thread count',
    async () => {
      const now = threads();
      if (now !== before) {
        before = now;
        return undefined;
      }
      return true;
    },
    10_000,
    100,
  );
  const first = await collectInThread(root, { cache: false, hash: false });
  // Ended with its scan, not kept: the process is back to its own threads (with one kept it would not be).
  await waitFor('the scan thread to end', () => (threads() <= before ? true : undefined), 10_000, 5);
  const second = await collectInThread(root, { cache: false, hash: false });
  assert.equal(created, 2, 'the next scan starts a thread of its own');
  assert.deepEqual(second.entries, first.entries);
  await waitFor('the second scan thread to end', () => (threads() <= before ? true : undefined), 10_000, 5);
});

test('a scan stopped before its first entry ends the thread started for it', async (t) => {
  if (!existsSync('/proc/self/task')) return t.skip('counts threads in /proc/self/task (Linux)');
  const root = await tempDir(t);
  // More entries than the thread may send ahead unasked: its scan is still under way when stopped.
  await assortedTree(root);
  for (let i = 0; i < 6000; i++) writeFileSync(path.join(root, `g${i}`), '');
  const threads = (): number => readdirSync('/proc/self/task').length;
  await closeIdleScanThreads();
  // Node's own threads are all up and no scan thread is left: the count holds for a tenth of a second.
  let before = threads();
  await waitFor(
    'a steady thread count',
    async () => {
      const now = threads();
      if (now !== before) {
        before = now;
        return undefined;
      }
      return true;
    },
    10_000,
    100,
  );
  const iterator = new ScanThread().scan(root, { cache: false })[Symbol.asyncIterator]();
  await waitFor('the scan thread to start', () => (threads() > before ? true : undefined), 10_000, 5);
  await iterator.return!();
  await waitFor('the scan thread to end', () => (threads() <= before ? true : undefined), 10_000, 5);
  assert.equal(threads(), before);
});

test('the scan starts with the iteration, before the first entry is asked for', async (t) => {
  // A diff asks for the backup's first entry only once the source's has come: the scan must not wait for that.
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  await writeFile(path.join(root, 'photo.jpg'), 'pixels');
  const scan = new ScanThread().scan(root, { cacheDir });
  const iterator = scan[Symbol.asyncIterator]();
  // The thread opens the hash cache as its scan begins: wait for it without asking for an entry.
  const deadline = Date.now() + 10_000;
  while (readdirSync(cacheDir, { recursive: true }).length === 0) {
    assert.ok(Date.now() < deadline, 'the scan did not start before the first entry was asked for');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const paths: string[] = [];
  for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) paths.push(step.value.path);
  assert.deepEqual(paths, ['photo.jpg']);
  assert.equal(scan.stats.hashedFiles, 1);
});

test('a scan given up before its first step ends, whether or not its thread had finished the scan', async (t) => {
  // A diff whose other side fails at once gives the scan up without taking an entry.
  const root = await tempDir(t);
  await writeFile(path.join(root, 'photo.jpg'), 'pixels');
  await closeIdleScanThreads();
  let created = 0;
  const onWorker = (): void => void created++;
  process.on('worker', onWorker);
  t.after(() => process.off('worker', onWorker));
  const settled = async (promise: Promise<unknown>, what: string): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} never settled`)), 5000)));
    try {
      await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  const finishedScan = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 500));

  // A warm thread: the scan below then ends well within finishedScan().
  await collectInThread(root, { cache: false });
  assert.equal(created, 1);
  // The thread ended its scan cleanly before the iteration was given up: it waits for the next scan.
  const iterator = new ScanThread().scan(root, { cache: false })[Symbol.asyncIterator]();
  await finishedScan();
  await settled(iterator.return!(), 'return() after the scan had ended');
  assert.equal(created, 1);
  const again = await collectInThread(root, { cache: false });
  assert.deepEqual(
    again.entries.map((e) => e.path),
    ['photo.jpg'],
  );
  assert.equal(created, 1, 'the thread that had finished its scan took the next one');

  // The same, aborted through the signal (which sends the thread a stop it no longer needs) before return().
  const abort = new AbortController();
  const aborted = scanFolderInThread(root, { cache: false, signal: abort.signal })[Symbol.asyncIterator]();
  await finishedScan();
  abort.abort(new Error('stopped by the test'));
  await settled(aborted.return!(), 'return() after an abort that came after the end of the scan');

  // A process whose only scan was given up that way ends on its own. (A script file: a worker inherits
  // the --input-type of an `-e` script and could not load its own.)
  const script = path.join(await tempDir(t), 'give-up.mjs');
  await writeFile(
    script,
    `import { scanFolderInThread } from ${JSON.stringify(pathToFileURL(SCAN_INDEX).href)};
     for await (const _ of scanFolderInThread(${JSON.stringify(root)}, { cache: false })) void _;
     const iterator = scanFolderInThread(${JSON.stringify(root)}, { cache: false })[Symbol.asyncIterator]();
     await new Promise((resolve) => setTimeout(resolve, 500));
     await iterator.return();
     console.log('given up');`,
  );
  const child = spawnSync(process.execPath, [script], { timeout: 10_000 });
  assert.equal(child.status, 0, `the process did not end on its own: ${child.signal ?? child.stderr.toString()}`);
  assert.equal(child.stdout.toString(), 'given up\n');
});
