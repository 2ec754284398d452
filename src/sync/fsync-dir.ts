/**
 * fsync a folder so a rename or new entry in it survives a power cut.
 * Some file systems (and Windows) cannot open or sync a folder: that is not
 * an error worth failing a sync for.
 */
import { closeSync, openSync } from 'node:fs';
import { errnoCode } from '../base/errors.js';
import { fdSync } from '../transfer/fd-io.js';

const UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EACCES', 'EBADF', 'ENOSYS']);

export async function fsyncDir(dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    // Opening a folder is cheap; only the fsync waits on the disk.
    fd = openSync(dir, 'r');
    await fdSync(fd);
  } catch (err) {
    if (!UNSUPPORTED.has(errnoCode(err) ?? '')) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
