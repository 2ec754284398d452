/**
 * fsync a folder so a rename or new entry in it survives a power cut.
 * Some file systems (and Windows) cannot open or sync a folder: that is not
 * an error worth failing a sync for.
 */
import { open } from 'node:fs/promises';
import { errnoCode } from '../errors.js';

const UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EACCES', 'EBADF', 'ENOSYS']);

export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!UNSUPPORTED.has(errnoCode(err) ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}
