/**
 * Opening a file without following a symlink as its last component, on every
 * platform. POSIX has O_NOFOLLOW: the kernel refuses the open (ELOOP).
 * Windows has none: `fs.constants.O_NOFOLLOW` is undefined there, and an
 * undefined flag silently drops out of a bitwise OR, so the open would follow
 * a symlink or junction. There the name is lstat'ed first (a link is refused)
 * and the handle then opened must be that same file (volume and file ID from
 * fstat), so a swap between the two calls is caught, never trusted. An open
 * that creates the file can still be redirected in that window by someone
 * who may write inside the folder; the handle is then refused, but the empty
 * file it made stays where the link pointed (docs/platforms.md).
 *
 * A refused name fails like POSIX's: an error with code ELOOP.
 */
import { closeSync, constants, existsSync, fstatSync, lstatSync, open, openSync, type BigIntStats, type Mode, type Stats } from 'node:fs';
import { type FileHandle, lchmod, lstat, lutimes, open as openHandle, utimes } from 'node:fs/promises';
import { promisify } from 'node:util';
import { errnoCode } from './errors.js';
import { appliedMode, chmodIfSupported, isNoModeBits } from './mode-bits.js';

/** The kernel's own refusal where the platform has one (0 on Windows). */
const NATIVE: number = constants.O_NOFOLLOW ?? 0;
const openAsync = promisify(open) as (path: string, flags: number, mode?: Mode) => Promise<number>;

export interface NoFollowOptions {
  /** Check by lstat and file identity even where O_NOFOLLOW exists (tests; how Windows always works). */
  emulate?: boolean;
}

function loopError(file: string, why: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`ELOOP: ${why}, open '${file}'`);
  err.code = 'ELOOP';
  err.syscall = 'open';
  err.path = file;
  return err;
}

/** The name as it is before the open: undefined when it does not exist yet (an open that creates it). */
function before(file: string): BigIntStats | undefined {
  try {
    const st = lstatSync(file, { bigint: true });
    if (st.isSymbolicLink()) throw loopError(file, 'the name is a symbolic link');
    return st;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether the opened descriptor is the file the name still holds. */
function sameFile(file: string, fd: number, seen: BigIntStats | undefined): boolean {
  const opened = fstatSync(fd, { bigint: true });
  const now = lstatSync(file, { bigint: true, throwIfNoEntry: false });
  if (now === undefined || now.isSymbolicLink()) return false;
  const same = (a: BigIntStats, b: BigIntStats): boolean => a.dev === b.dev && a.ino === b.ino;
  return same(opened, now) && (seen === undefined || same(seen, now));
}

function emulating(options: NoFollowOptions | undefined): boolean {
  return NATIVE === 0 || options?.emulate === true;
}

export function openNoFollowSync(file: string, flags: number, mode?: Mode, options?: NoFollowOptions): number {
  if (!emulating(options)) return openSync(file, flags | NATIVE, mode);
  const seen = before(file);
  const fd = openSync(file, flags, mode);
  if (!sameFile(file, fd, seen)) {
    closeSync(fd);
    throw loopError(file, 'the name changed to a link while it was opened');
  }
  return fd;
}

/**
 * A raw descriptor, opened off the main thread. Creating a file can wait on
 * the file system's journal while other files are fsynced: on this project's
 * test VM the backup's synchronous creates of the photos tree's 1,000
 * partial files blocked its busiest thread for 0.95 s of an 8.5 s sync
 * (`perf trace -s`: 0.67 ms a create, up to 3 ms).
 */
export async function openNoFollow(file: string, flags: number, mode?: Mode, options?: NoFollowOptions): Promise<number> {
  if (!emulating(options)) return openAsync(file, flags | NATIVE, mode);
  const seen = before(file);
  const fd = await openAsync(file, flags, mode);
  if (!sameFile(file, fd, seen)) {
    closeSync(fd);
    throw loopError(file, 'the name changed to a link while it was opened');
  }
  return fd;
}

/** A FileHandle (fs/promises style). */
export async function openHandleNoFollow(file: string, flags: number, mode?: Mode, options?: NoFollowOptions): Promise<FileHandle> {
  if (!emulating(options)) return openHandle(file, flags | NATIVE, mode);
  const seen = before(file);
  const handle = await openHandle(file, flags, mode);
  if (!sameFile(file, handle.fd, seen)) {
    await handle.close();
    throw loopError(file, 'the name changed to a link while it was opened');
  }
  return handle;
}

/** Linux's O_PATH (not in Node's constants): a descriptor that names a file without opening it for reading. */
const O_PATH = 0o10000000;
const PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');

/**
 * Sets the permission bits (unless `mode` is undefined) and the times of the
 * file or folder at `file` without following a symlink there: chmod and
 * utimes follow one, so a name swapped for a link to a file outside the
 * folder would hand that file the peer's mode. On Linux the name is pinned
 * by an O_PATH | O_NOFOLLOW descriptor, checked with fstat, and changed
 * through `/proc/self/fd/<fd>`; on macOS lchmod and lutimes never follow;
 * on Windows (no modes are applied there) the name is lstat'ed just before
 * (the window docs/platforms.md describes). A symlink gets its own
 * times only. `mode` or `time` undefined: left as they are. With
 * `sparingLinks`, a file with other hard links is left as it is (its mode
 * and times are those of the other names too). Returns what the name held, as fstat or lstat saw it.
 */
export async function setModeAndTimesNoFollow(
  file: string,
  mode: number | undefined,
  time: number | Date | undefined,
  /** Change nothing on a file with other hard links (the caller replaces it instead). */
  options: { sparingLinks?: boolean } = {},
): Promise<Stats> {
  if (PROC_FD) {
    const fd = openSync(file, O_PATH | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (st.isSymbolicLink()) {
        if (time !== undefined) await lutimes(file, time, time);
        return st;
      }
      if (options.sparingLinks === true && st.isFile() && st.nlink > 1) return st;
      const pinned = `/proc/self/fd/${fd}`;
      if (mode !== undefined) await chmodIfSupported(pinned, mode);
      if (time !== undefined) await utimes(pinned, time, time);
      return st;
    } finally {
      closeSync(fd);
    }
  }
  const st = await lstat(file);
  if (options.sparingLinks === true && st.isFile() && st.nlink > 1) return st;
  if (mode !== undefined && !st.isSymbolicLink()) {
    if (process.platform === 'darwin') await lchmodIfSupported(file, mode);
    else await chmodIfSupported(file, mode);
  }
  if (time === undefined) return st;
  // Windows sets a file's times by a handle opened on the name just checked; lutimes is for links.
  if (process.platform === 'win32' && !st.isSymbolicLink()) await utimes(file, time, time);
  else await lutimes(file, time, time);
  return st;
}

async function lchmodIfSupported(file: string, mode: number): Promise<void> {
  try {
    await lchmod(file, appliedMode(mode));
  } catch (err) {
    if (!isNoModeBits(err)) throw err;
  }
}
