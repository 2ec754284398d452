/**
 * Cross-process locks that the operating system releases when the holder
 * dies, even by SIGKILL or a power cut, so a crashed check never leaves a
 * folder locked. Node has no flock(), so the lock is a listening local
 * socket: only one process can bind a given name.
 * - Linux: an abstract-namespace Unix socket (no file; the kernel frees the
 *   name with the process). Abstract names are per network namespace, so
 *   two processes in different namespaces do not exclude each other.
 * - Windows: a named pipe (freed with the process).
 * - Other platforms (macOS): a socket file under the temp dir; a file left
 *   by a dead holder refuses connections and is taken over.
 * The name is a hash of the lock key (which callers scope by data dir), and
 * the holder answers a connection with who holds it, for the error message.
 * Within one process the lock is a queue in memory, before the operating
 * system is asked: a second taker in the process waits its turn without
 * polling, and exclusion there does not rest on the OS refusing a second
 * listener, which Wine's named pipes do not (docs/platforms.md, "Locks").
 */
import { createHash } from 'node:crypto';
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SynkerError, errnoCode } from '../base/errors.js';
import { makeDirsSync } from '../base/make-dirs.js';

export interface LockHolder {
  pid: number;
  purpose: string;
  /** ISO time the lock was taken. */
  since: string;
}

export interface HeldLock {
  readonly key: string;
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** Shown to whoever finds the lock taken, e.g. "check" or "sync". */
  purpose?: string;
  /** How long to wait for a busy lock (ms); 0 (default) fails at once. */
  waitMs?: number;
  /** What the error calls the locked thing, e.g. `folder "photos"`. */
  description?: string;
}

export class LockBusyError extends SynkerError {
  constructor(
    readonly description: string,
    readonly holder: LockHolder | undefined,
  ) {
    super(
      'E_LOCKED',
      holder
        ? `${description} is busy: ${holder.purpose} by process ${holder.pid} since ${holder.since}`
        : `${description} is busy (another synker process holds its lock)`,
      { hint: 'Wait for the other operation to finish; the lock is released as soon as that process ends, even if it crashes.' },
    );
  }
}

const RETRY_MS = 100;

/**
 * The longest Unix socket path every platform binds: macOS's sun_path holds
 * 104 bytes with the NUL (Linux 108). A macOS TMPDIR such as
 * /var/folders/xx/<28 chars>/T/ leaves little room, so a path that does not
 * fit moves to /tmp (short on every Mac), never a truncated name.
 */
export const MAX_SOCKET_PATH_BYTES = 103;

/** The socket name for a lock key on this platform. */
export function lockAddress(
  key: string,
  platform: NodeJS.Platform = process.platform,
  tmpdir: string = os.tmpdir(),
  uid: number = typeof process.getuid === 'function' ? process.getuid() : 0,
): string {
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 32);
  if (platform === 'linux') return `\0synker-lock-${digest}`;
  if (platform === 'win32') return `\\\\.\\pipe\\synker-lock-${digest}`;
  const name = path.posix.join(`synker-locks-${uid}`, `${digest}.sock`);
  const address = path.posix.join(tmpdir, name);
  return Buffer.byteLength(address) <= MAX_SOCKET_PATH_BYTES ? address : path.posix.join('/tmp', name);
}

/** The folder of a lock socket file, made private to this user (not on Linux and Windows, which need none). */
export function prepareLockDir(address: string): void {
  if (address.startsWith('\0') || address.startsWith('\\\\')) return;
  const dir = path.dirname(address);
  // A shared /tmp: a folder of that name made by another user would let them take or fake our locks.
  if (!makePrivateDir(dir)) {
    throw new SynkerError('E_LOCK_DIR', `${dir} is not a private folder of this user, so synker cannot keep its locks there`, {
      hint: `Remove ${dir} (another user or program made it), or set TMPDIR to a folder of your own.`,
    });
  }
}

/**
 * Creates `dir` (mode 0700) if needed; false when it is not a private folder
 * of this user (a symlink, another owner, writable by others): in a shared
 * temp dir such a folder lets another user take, fake or read what is in it.
 */
export function makePrivateDir(dir: string): boolean {
  makeDirsSync(dir, 0o700);
  const st = lstatSync(dir);
  if (process.platform === 'win32') return st.isDirectory();
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
}

/** The locks this process holds, by key, and who waits for each here. */
const held = new Map<string, { holder: LockHolder; waiters: Array<() => void> }>();

/** Waits until no one in this process holds `key` (or the deadline passes: LockBusyError), then marks it ours. */
async function takeTurn(key: string, holder: LockHolder, deadline: number, description: string): Promise<void> {
  for (;;) {
    const current = held.get(key);
    if (current === undefined) {
      held.set(key, { holder, waiters: [] });
      return;
    }
    const wait = deadline - Date.now();
    if (wait <= 0) throw new LockBusyError(description, current.holder);
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        const at = current.waiters.indexOf(wake);
        if (at >= 0) current.waiters.splice(at, 1);
        resolve();
      };
      const timer = setTimeout(wake, wait);
      current.waiters.push(wake);
    });
  }
}

function leaveTurn(key: string): void {
  const current = held.get(key);
  held.delete(key);
  // Every waiter looks again; the first to run takes the turn, the others wait on its entry.
  for (const wake of [...(current?.waiters ?? [])]) wake();
}

export async function acquireLock(key: string, options: AcquireOptions = {}): Promise<HeldLock> {
  const description = options.description ?? `lock ${JSON.stringify(key)}`;
  const holder: LockHolder = { pid: process.pid, purpose: options.purpose ?? 'in use', since: new Date().toISOString() };
  const deadline = Date.now() + (options.waitMs ?? 0);
  await takeTurn(key, holder, deadline, description);
  try {
    return await acquireFromSystem(key, holder, deadline, description);
  } catch (err) {
    leaveTurn(key);
    throw err;
  }
}

async function acquireFromSystem(key: string, holder: LockHolder, deadline: number, description: string): Promise<HeldLock> {
  const address = lockAddress(key);
  prepareLockDir(address);
  let immediateRetries = 0;
  for (;;) {
    const server = await tryListen(address, holder);
    if (server) return heldLock(key, server);
    const current = await askHolder(address);
    if (current === 'gone' && immediateRetries++ < 20) {
      // The holder ended between our two calls, or (socket files only) died and left its file: retry at once.
      if (isSocketFile(address)) {
        try {
          unlinkSync(address);
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw err;
        }
      }
      continue;
    }
    if (Date.now() >= deadline) throw new LockBusyError(description, current === 'gone' ? undefined : current);
    await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_MS, Math.max(1, deadline - Date.now()))));
  }
}

function tryListen(address: string, holder: LockHolder): Promise<net.Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(JSON.stringify(holder));
    });
    server.once('error', (err) => {
      if (errnoCode(err) === 'EADDRINUSE') resolve(undefined);
      else reject(err);
    });
    server.listen(address, () => {
      // A held lock must not keep a finished process alive; exiting releases it.
      server.unref();
      resolve(server);
    });
  });
}

function isSocketFile(address: string): boolean {
  return !address.startsWith('\0') && !address.startsWith('\\\\');
}

/** Who holds the lock; 'gone' when nobody listens (any more); undefined when the holder does not say. */
function askHolder(address: string): Promise<LockHolder | 'gone' | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(address);
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, 1000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (text.length < 4096) text += chunk;
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(text) as LockHolder;
        resolve(typeof parsed.pid === 'number' ? parsed : undefined);
      } catch {
        resolve(undefined);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      const code = errnoCode(err);
      resolve(code === 'ECONNREFUSED' || code === 'ENOENT' ? 'gone' : undefined);
    });
  });
}

function heldLock(key: string, server: net.Server): HeldLock {
  let released: Promise<void> | undefined;
  return {
    key,
    release(): Promise<void> {
      // close() also removes a socket file; releasing twice is harmless. The next taker here goes after it.
      released ??= new Promise<void>((resolve) => server.close(() => resolve())).then(() => leaveTurn(key));
      return released;
    },
  };
}
