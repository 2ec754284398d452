/**
 * Checking an LMDB file before this process maps it (docs/store.md, "Damage").
 *
 * LMDB trusts its file: a truncated, zeroed, overwritten or bit-flipped one
 * ends the process that reads it with a segmentation fault or an abort, and
 * even a failed open can crash lmdb-js's clean-up. No check made inside the
 * process can be sound short of re-implementing LMDB's reader, so the check
 * reads the whole file in a child process (lmdb-probe-child.ts): every page a
 * later read can reach. A child that crashes or reports an LMDB error means
 * the file is damaged.
 *
 * A child costs a process start and a read of the file, so it runs only when
 * the file changed since its last good check: after a good check the file's
 * device, inode, size, mtime and ctime are written beside it
 * (`<file>-checked`), and an open that finds them unchanged opens at once. A
 * warm check, which writes nothing, checks nothing. ctime cannot be set back
 * by a process, so any write to the file (LMDB's, or anyone's) leads to a new
 * check; damage that changes none of these (the disk itself losing bits in
 * place) is not seen until the next write.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../base/atomic-file.js';
import { createLogger } from '../base/log.js';
import { formatDuration } from '../base/units.js';
import { SynkerError } from '../base/errors.js';
import { StoreDamagedError } from './kv.js';

const log = createLogger('store');

const CHILD = fileURLToPath(new URL('./lmdb-probe-child.js', import.meta.url));
/**
 * A file that takes longer than this to read is reported as damaged, not
 * waited on: 30 s plus 1 s per 4 MiB (a slow USB disk reads faster). A
 * damaged page pointer can make LMDB walk in a loop at full CPU: a fixed
 * 10 minutes held a 462 KB file's check (and its test) that long.
 */
function probeTimeoutMs(size: number): number {
  return 30_000 + Math.ceil(size / (4 * 1024 * 1024)) * 1000;
}
export const CHECKED_SUFFIX = '-checked';

/** The check itself could not run (no child process): no verdict on the file. */
export class StoreCheckError extends SynkerError {}

/** What identifies one version of a file: any write changes at least ctime. */
async function fileKey(file: string): Promise<string | undefined> {
  const st = await stat(file, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (st === undefined) return undefined;
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
}

export interface LmdbCheckOptions {
  /** The LMDB data file (`state.lmdb`, or `data.mdb` of a directory environment). */
  file: string;
  /** The path lmdb-js opens (the file, or its directory). */
  envPath: string;
  maxDbs: number;
  /** The files to move away with it, named in the error's hint (LMDB's lock file). */
  alsoMove?: readonly string[];
}

/**
 * Resolves when the file is absent, empty and never checked (LMDB starts a
 * new environment in it), unchanged since its last good check, or read whole by a child
 * process without a fault; throws StoreDamagedError otherwise.
 */
export async function checkLmdbFile(options: LmdbCheckOptions): Promise<void> {
  const { file } = options;
  const key = await fileKey(file);
  if (key === undefined) return;
  const marker = file + CHECKED_SUFFIX;
  if (key.split(':')[2] === '0') {
    // Empty: LMDB would start a new environment in it. Never checked, it is one whose first open was
    // cut short; checked before, it held records and was cut to nothing (the verified hashes with it).
    if (
      !(await access(marker).then(
        () => true,
        () => false,
      ))
    )
      return;
    throw new StoreDamagedError(file, 'it is empty, though it held records when it was last checked', {
      alsoMove: options.alsoMove ?? [],
    });
  }
  // A file this process may not write is opened by nobody (synker opens LMDB read-write): its
  // open fails with the file system's own error (EACCES, EROFS), which is not damage.
  if (
    !(await access(file, constants.R_OK | constants.W_OK).then(
      () => true,
      () => false,
    ))
  )
    return;
  const known = await readFile(marker, 'utf8').catch(() => undefined);
  if (known?.trim() === key) return;
  const started = performance.now();
  const outcome = await probe(options.envPath, options.maxDbs, probeTimeoutMs((await stat(file)).size));
  if (outcome.verdict === 'unchecked') {
    throw new StoreCheckError('E_STORE_CHECK', `cannot check ${file} before opening it: ${outcome.detail}`, {
      hint: 'synker reads an LMDB file in a child process before using it; see that a process can be started (limits on processes, memory) and try again.',
    });
  }
  if (outcome.verdict === 'sound') {
    log.debug(`checked ${file}: ${outcome.detail} in ${Math.round(performance.now() - started)} ms`);
    // The key of the version read (a write since then leads to a new check).
    if ((await fileKey(file)) === key)
      await writeFileAtomic(marker, `${key}\n`).catch((err: unknown) => log.debug(`cannot write ${marker}`, err));
    return;
  }
  throw new StoreDamagedError(file, outcome.detail, { alsoMove: options.alsoMove ?? [] });
}

/** Forget the last good check (the file was moved aside or replaced). */
export async function forgetLmdbCheck(file: string): Promise<void> {
  await rm(file + CHECKED_SUFFIX, { force: true });
}

function probe(
  envPath: string,
  maxDbs: number,
  timeoutMs: number,
): Promise<{ verdict: 'sound' | 'damaged' | 'unchecked'; detail: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CHILD, envPath, String(maxDbs)],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, windowsHide: true, encoding: 'utf8' },
      (err, stdout, stderr) => {
        // LMDB reports some failures on stderr only (lmdb-js prints "page 142 not found error",
        // "mdb_page_alloc error" and goes on): any such line is a damaged file too.
        const lmdbSaid = stderr.split('\n').find((line) => !line.startsWith('(node:') && /\berror\b/i.test(line));
        if (err === null && lmdbSaid !== undefined) {
          resolve({ verdict: 'damaged', detail: `LMDB says: ${lmdbSaid.slice(0, 200)}` });
          return;
        }
        if (err === null) {
          const counts = JSON.parse(stdout.trim() || '{}') as { tables?: number; records?: number };
          resolve({ verdict: 'sound', detail: `${counts.records ?? 0} records in ${counts.tables ?? 0} tables` });
          return;
        }
        const failure = err as NodeJS.ErrnoException & { killed?: boolean; signal?: NodeJS.Signals | null; code?: number | string };
        const said = stderr.trim().split('\n').at(-1)?.slice(0, 200) ?? '';
        if (typeof failure.code === 'string' && failure.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
          // The child did not start (ENOENT, EAGAIN, ...): no verdict on the file.
          resolve({ verdict: 'unchecked', detail: `${failure.code}: ${failure.message}` });
          return;
        }
        if (failure.killed === true && failure.signal === 'SIGKILL') {
          resolve({ verdict: 'damaged', detail: `reading it did not end within ${formatDuration(timeoutMs)}` });
          return;
        }
        if (failure.signal) {
          resolve({ verdict: 'damaged', detail: `reading it crashes LMDB (${failure.signal})` });
          return;
        }
        resolve({
          verdict: 'damaged',
          detail: said === '' ? `reading it fails (exit code ${String(failure.code)})` : `LMDB says: ${said}`,
        });
      },
    );
  });
}
