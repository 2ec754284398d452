/**
 * FAT, exFAT and some network mounts have no permission bits: chmod fails
 * there (ENOSYS through FUSE, EPERM on CIFS, ENOTSUP or EOPNOTSUPP
 * elsewhere), and that is not an error: such a disk cannot keep a mode.
 */
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { errnoCode } from './errors.js';

const NO_MODE_BITS = new Set(['ENOSYS', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP']);

/** True for the errors chmod gives on a file system without permission bits. */
export function isNoModeBits(err: unknown): boolean {
  return NO_MODE_BITS.has(errnoCode(err) ?? '');
}

export async function chmodIfSupported(file: string, mode: number): Promise<void> {
  try {
    await chmod(file, mode & 0o7777);
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
    await copyFile(from, to, constants.COPYFILE_FICLONE);
  } catch (err) {
    if (!isNoModeBits(err)) throw err;
    await rm(to, { force: true });
    await pipeline(createReadStream(from), createWriteStream(to, { flags: 'wx' }));
  }
}
