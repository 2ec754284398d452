import { lstatSync, type Stats } from 'node:fs';
import { errnoCode } from '../base/errors.js';

/**
 * lstat that answers undefined for a path that does not exist, including one
 * below a name that is now a file (ENOTDIR: a folder the run already replaced
 * or moved away); every other error is thrown. Synchronous: a sync of many
 * small files calls it for each one, and an lstat is cheaper than the
 * thread-pool hand-off of its async form.
 */
export function lstatOrUndefined(abs: string): Stats | undefined {
  try {
    return lstatSync(abs, { throwIfNoEntry: false });
  } catch (err) {
    if (errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}
