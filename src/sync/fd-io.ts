/**
 * Promise forms of the descriptor calls that may wait on the disk (reads,
 * large writes, fsync), for code that keeps raw descriptors to make its
 * cheap metadata calls synchronously (see incoming-file.ts).
 */
import { fsync, read, write } from 'node:fs';
import { promisify } from 'node:util';

const readAsync = promisify(read);
const writeAsync = promisify(write);

export async function fdRead(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return (await readAsync(fd, buffer, offset, length, position)).bytesRead;
}

export async function fdWrite(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  return (await writeAsync(fd, buffer, offset, length, position)).bytesWritten;
}

export const fdSync: (fd: number) => Promise<void> = promisify(fsync);
