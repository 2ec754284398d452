import { lstat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { errnoCode } from '../errors.js';

/** lstat that answers undefined for a path that does not exist; every other error is thrown. */
export async function lstatOrUndefined(abs: string): Promise<Stats | undefined> {
  try {
    return await lstat(abs);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}
