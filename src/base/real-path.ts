/**
 * The real path of a file or folder, links resolved: the operating system's
 * answer (realpath(3); GetFinalPathNameByHandleW on Windows), or, where that
 * call fails without a reason (libuv's UNKNOWN), Node's own resolution, link
 * by link. Wine's GetFinalPathNameByHandleW fails so for every path over 260
 * characters, even with the \\?\ prefix (docs/platforms.md); Windows itself
 * answers. Every real path in src/ comes from here (a unit test keeps it so):
 * a folder root over 260 characters failed `folder add`, `sync` and
 * `restore` under Wine with "internal error … UNKNOWN: realpath" while its
 * check worked.
 */
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { errnoCode } from './errors.js';

export function realPathSync(p: string): string {
  try {
    return realpathSync.native(p);
  } catch (err) {
    if (errnoCode(err) !== 'UNKNOWN') throw err;
    return realpathSync(p);
  }
}

/** realPathSync without blocking the event loop. */
export async function realPath(p: string): Promise<string> {
  try {
    return await realpath(p);
  } catch (err) {
    if (errnoCode(err) !== 'UNKNOWN') throw err;
    return realpathSync(p);
  }
}
