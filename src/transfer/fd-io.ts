/**
 * Promise forms of the descriptor calls that may wait on the disk (reads,
 * large writes, fsync), for code that keeps raw descriptors to make its
 * cheap calls synchronously (incoming-file.ts, file-reader.ts).
 */
import { fsync, read, write } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Reads and writes up to this size are made synchronously, like the open,
 * stat, chmod, utimes and close of each file: moving that much through the
 * page cache takes a few microseconds, while handing a call to libuv's thread
 * pool costs tens of microseconds of main-thread time in the wake-up alone
 * (measured: 40-150 µs a call on a 2-core VM, where a sync of 100,000 small
 * files made twelve such calls per file on the backup and seven on the
 * source). Larger reads and writes, which may wait on the disk, and every
 * fsync stay off the main thread.
 */
export const SYNC_IO_MAX_BYTES = 64 * 1024;

const readAsync = promisify(read);
const writeAsync = promisify(write);

export async function fdRead(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return (await readAsync(fd, buffer, offset, length, position)).bytesRead;
}

export async function fdWrite(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return (await writeAsync(fd, buffer, offset, length, position)).bytesWritten;
}

export const fdSync: (fd: number) => Promise<void> = promisify(fsync);
