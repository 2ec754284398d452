import { lstatSync, type Stats } from 'node:fs';

/**
 * lstat that answers undefined for a path that does not exist; every other
 * error is thrown. Synchronous: a sync of many small files calls it for each
 * one, and an lstat is cheaper than the thread-pool hand-off of its async form.
 */
export function lstatOrUndefined(abs: string): Stats | undefined {
  return lstatSync(abs, { throwIfNoEntry: false });
}
