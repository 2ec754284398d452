/**
 * Permission bits across file systems and platforms, one rule:
 * - FAT, exFAT and some network mounts have no permission bits: chmod fails
 *   there (ENOSYS through FUSE, EPERM on CIFS, ENOTSUP or EOPNOTSUPP
 *   elsewhere), and that is not an error: such a disk cannot keep a mode.
 * - Windows has no POSIX modes at all: Node makes them up (0666 for files
 *   and folders, 0444 read-only). A Windows side says so (`modes: false` in
 *   its manifest), modes are then neither compared nor applied, either way,
 *   and a Windows backup keeps the permissions (ACLs) its folder gives.
 * - Only the permission bits (rwx for owner, group and others) are ever
 *   applied: setuid, setgid and sticky bits received from a peer are not,
 *   in either direction, or a compromised peer could plant a setuid program.
 */
import { constants, createReadStream, createWriteStream, fchmodSync } from 'node:fs';
import { chmod, copyFile, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { errnoCode } from './errors.js';

const NO_MODE_BITS = new Set(['ENOSYS', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP']);

/** True for the errors chmod gives on a file system without permission bits. */
export function isNoModeBits(err: unknown): boolean {
  return NO_MODE_BITS.has(errnoCode(err) ?? '');
}

/** Whether this platform's files have real POSIX permission bits (everything but Windows). */
export function platformKeepsModes(platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'win32';
}

/**
 * The mode synker gives a file or folder whose peer's manifest says `mode`:
 * its rwx bits only, never setuid, setgid or sticky; and a sticky folder
 * writable by all (`1777`, like /tmp) loses that write bit rather than
 * become a folder where anyone may delete anyone's files.
 */
export function appliedMode(mode: number): number {
  const rwx = mode & 0o777;
  return mode & 0o1000 ? rwx & ~0o002 : rwx;
}

let umaskedFileMode: number | undefined;

/**
 * The mode any program's new file gets here, 0666 less the umask: what a
 * received file lands with when its source gave no mode (a Windows source),
 * rather than the owner-only mode of synker's partial files.
 */
export function newFileMode(): number {
  umaskedFileMode ??= 0o666 & ~process.umask();
  return umaskedFileMode;
}

/**
 * Whether the file system holding `file` keeps permission bits: a chmod to
 * the mode the file already has changes nothing where modes are kept, and
 * fails where there are none (FAT through FUSE, some network mounts), whose
 * made-up modes would otherwise differ, and be "fixed", on every run.
 */
export async function keepsModes(file: string): Promise<boolean> {
  try {
    await chmod(file, (await stat(file)).mode & 0o7777);
    return true;
  } catch (err) {
    if (isNoModeBits(err)) return false;
    // A read-only disk (or a file not ours) cannot be asked: its modes count, as they always did.
    if (errnoCode(err) === 'EROFS' || errnoCode(err) === 'EACCES') return true;
    throw err;
  }
}

export async function chmodIfSupported(file: string, mode: number): Promise<void> {
  try {
    await chmod(file, appliedMode(mode));
  } catch (err) {
    if (!isNoModeBits(err)) throw err;
  }
}

/** chmodIfSupported for an open descriptor (synchronous: a metadata call on a file being written). */
export function fchmodIfSupported(fd: number, mode: number): void {
  try {
    fchmodSync(fd, appliedMode(mode));
  } catch (err) {
    if (!isNoModeBits(err)) throw err;
  }
}

/**
 * copyFile (a reflink where the file system can), falling back to a plain
 * copy where modes cannot be set: Node's copyFile gives the copy the
 * original's mode and fails when it cannot (FAT through FUSE).
 */
export async function copyFileAnyDisk(from: string, to: string): Promise<void> {
  try {
    // EXCL: a name planted at `to` (a symlink above all) is never written through.
    await copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  } catch (err) {
    if (!isNoModeBits(err)) throw err;
    await rm(to, { force: true });
    await pipeline(createReadStream(from), createWriteStream(to, { flags: 'wx' }));
  }
}
