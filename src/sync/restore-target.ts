/**
 * What `restore --to DIR` finds already in DIR. Running the same restore
 * again (after an interruption, or to finish it) must not copy again what an
 * earlier run brought, nor keep those identical files as versions of
 * themselves. A file counts as already restored when it has the backup's
 * exact name and content: a file of another size is different without
 * reading it; one of the same size is hashed (SHA-256) and compared with the
 * backup's hash. Everything else is pulled as before.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { createLogger } from '../log.js';
import type { PlanEntry } from './plan.js';
import { resolveUnderRoot, unsafePathReason } from './safe-path.js';

const log = createLogger('restore');

/** `same`: nothing to do; `same-content`: the bytes are the backup's, its time or mode is not. */
export type AlreadyThere = 'same' | 'same-content';

/** The backup's files and symlinks that DIR already holds, by path. */
export async function findAlreadyRestored(dir: string, entries: Iterable<PlanEntry & { path: string }>): Promise<Map<string, AlreadyThere>> {
  const found = new Map<string, AlreadyThere>();
  const names = new Map<string, Promise<Set<string>>>();
  // On a case-insensitive disk `readme.md` answers for `README.md`: only the exact name counts.
  const hasExactName = async (abs: string): Promise<boolean> => {
    const parent = path.dirname(abs);
    let listing = names.get(parent);
    if (listing === undefined) {
      listing = readdir(parent).then((n) => new Set(n), () => new Set<string>());
      names.set(parent, listing);
    }
    return (await listing).has(path.basename(abs));
  };
  for (const entry of entries) {
    if (entry.type !== 'file' && entry.type !== 'symlink') continue;
    const disk = entry.raw ?? entry.path;
    // A hostile path is refused when the plan is applied; it is never looked at here.
    if (unsafePathReason(disk) !== undefined) continue;
    const abs = resolveUnderRoot(dir, disk);
    const st = await lstat(abs).catch(() => undefined);
    if (st === undefined || !(await hasExactName(abs))) continue;
    const state = await compare(abs, st, entry);
    if (state !== undefined) found.set(entry.path, state);
  }
  if (found.size > 0) log.info(`${found.size} ${found.size === 1 ? 'file is' : 'files are'} already in ${dir} with the backup's content: not copied again`);
  return found;
}

async function compare(abs: string, st: Stats, entry: PlanEntry): Promise<AlreadyThere | undefined> {
  if (entry.type === 'symlink') {
    if (!st.isSymbolicLink()) return undefined;
    return (await readlink(abs).catch(() => undefined)) === entry.target ? 'same' : undefined;
  }
  if (!st.isFile() || st.size !== entry.size || entry.hash === undefined) return undefined;
  const hash = await hashFile(abs);
  if (hash !== entry.hash) return undefined;
  const sameTimes = Math.trunc(st.mtimeMs) === entry.mtime;
  const sameMode = (st.mode & 0o7777) === entry.mode;
  return sameTimes && sameMode ? 'same' : 'same-content';
}

/** The file's SHA-256; undefined when it cannot be read (then it is pulled, and replaced as a differing file is). */
async function hashFile(abs: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    log.debug(`${abs}: cannot be read to compare it with the backup's copy (${errnoCode(err) ?? 'error'})`);
    return undefined;
  }
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false, highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch (err) {
    log.debug(`${abs}: reading it to compare with the backup's copy failed (${errnoCode(err) ?? 'error'})`);
    return undefined;
  } finally {
    await handle.close();
  }
}
