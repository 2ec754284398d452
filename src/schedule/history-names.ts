/**
 * The names of a folder's files in the history folder (history.ts,
 * last-report.ts): `<name>.jsonl`, `<name>.last-report.json` and
 * `<name>.jsonl.damaged`, where `<name>` is historyName(folder ID); and the
 * one-time rename of the files named by the ID itself, as synker named them
 * before.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { renameRetrying } from '../base/atomic-file.js';
import { errnoCode } from '../base/errors.js';
import { createLogger } from '../base/log.js';
import { FOLDER_ID_PATTERN } from '../config/folder-rules.js';
import { historyDir } from '../dirs/data-files.js';

const log = createLogger('schedule');

/** A folder ID as config/folder-rules.ts allows them: no separator, no leading dot, so never outside the folder. */
export function checkedFolderId(folderId: string): string {
  if (!FOLDER_ID_PATTERN.test(folderId)) throw new TypeError(`not a folder ID: ${JSON.stringify(folderId)}`);
  return folderId;
}

/**
 * The name a folder's files in the history folder start with: `_`, then the
 * ID with each capital letter written as `_` and the small letter, and each
 * `_` as `__` (`Photos` is `__photos`, `photos` is `_photos`, `a_b` is
 * `_a__b`). Folder IDs differing only in case are two folders, and Windows
 * and macOS (by default) take two such file names for one file: these names
 * hold no capital, so they never meet. The leading `_` (no folder ID starts
 * with one) keeps them apart from the names before (the ID itself, renamed
 * by migrateHistoryNames) and from Windows' device names (`con.jsonl` is the
 * console there).
 */
export function historyName(folderId: string): string {
  return `_${checkedFolderId(folderId).replace(/[A-Z_]/g, (c) => (c === '_' ? '__' : `_${c.toLowerCase()}`))}`;
}

/** The folder ID a historyName stands for; undefined for a name that is none. */
export function folderOfHistoryName(name: string): string | undefined {
  if (!name.startsWith('_')) return undefined;
  const id = name.slice(1).replace(/_(_|[a-z])/g, (_m, c: string) => (c === '_' ? '_' : c.toUpperCase()));
  return FOLDER_ID_PATTERN.test(id) && historyName(id) === name ? id : undefined;
}

/** The endings of a folder's files in the history folder, longest first. */
const HISTORY_ENDINGS = ['.jsonl.damaged', '.last-report.json', '.jsonl'];

const migrated = new Map<string, Promise<void>>();

/**
 * Renames the files named by the folder ID itself (before historyName) to
 * their historyName, once per process and data directory; every reader and
 * writer waits for it first. A file whose new name exists already is left
 * as it is (an older synker wrote it since) and said in the log. On a file
 * system that ignores case, the old files of two IDs differing only in case
 * were one file: it goes to the ID whose spelling its name has (the first
 * that wrote it), and holds the other's records too (a record does not say
 * its folder); the other ID starts afresh.
 */
export function migrateHistoryNames(dataDir: string): Promise<void> {
  const dir = historyDir(dataDir);
  let done = migrated.get(path.resolve(dir));
  if (done === undefined) {
    done = renameOldHistoryFiles(dir).catch((err: unknown) => {
      migrated.delete(path.resolve(dir)); // tried again by the next reader or writer
      log.warn(`could not rename the files of ${dir} to their new names: ${errnoCode(err) ?? String(err)}`);
    });
    migrated.set(path.resolve(dir), done);
  }
  return done;
}

async function renameOldHistoryFiles(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return;
    throw err;
  }
  for (const name of names) {
    const ending = HISTORY_ENDINGS.find((e) => name.endsWith(e));
    if (ending === undefined) continue;
    const id = name.slice(0, -ending.length);
    if (!FOLDER_ID_PATTERN.test(id)) continue; // a new name (starts with _), a temporary file (with .), another file
    const to = `${historyName(id)}${ending}`;
    try {
      await stat(path.join(dir, to));
      log.warn(`${path.join(dir, name)} is left as it is: ${to} holds that folder's records already`);
      continue;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    try {
      await renameRetrying(path.join(dir, name), path.join(dir, to));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err; // another process renamed it first
    }
  }
}
