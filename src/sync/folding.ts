/**
 * How a file system compares names. FAT, exFAT, NTFS and APFS (by default)
 * ignore case; APFS and HFS+ treat NFC and NFD spellings as one name. Two
 * source names that are one name there would overwrite each other, so sync
 * probes the backup's file system once and reports such pairs instead.
 */
import { randomBytes } from 'node:crypto';
import { lstat, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { MARKER_FILE, META_DIR } from '../manifest/layout.js';
import type { NameFolding } from '../manifest/storable.js';
import { BackupNotWritableError } from './errors.js';
import { lstatOrUndefined } from './lstat-optional.js';
import { makeDirs } from '../base/make-dirs.js';

/** How the backup's file system compares names (manifest/storable.ts NameFolding). */
export type FoldingInfo = NameFolding;

/**
 * Probes the file system holding `root`. Case: the folder marker is looked up
 * by its other spelling, which needs no write. Normalization: two names are
 * created in `root/.synker/` and looked up by their other spelling; nothing is
 * left behind. A folder that cannot be written to (a read-only disk) raises
 * BackupNotWritableError, unless `readOnly` is set (a dry run): then the
 * platform's usual file system is assumed for normalization (only macOS'
 * APFS and HFS+ fold it).
 */
export async function probeFolding(root: string, options: { readOnly?: boolean } = {}): Promise<FoldingInfo> {
  // Sync never runs without the marker; should it be missing, names are created for case too.
  const byMarker = markerFoundBy(root, MARKER_FILE.toUpperCase()) || (markerFoundBy(root, MARKER_FILE) ? false : undefined);
  const dir = path.join(root, META_DIR);
  const tag = randomBytes(4).toString('hex');
  let foldsCase = byMarker ?? false;
  try {
    await makeDirs(dir);
    if (byMarker === undefined)
      foldsCase = await sameName(path.join(dir, `probe-${tag}.tmp`), path.join(dir, `PROBE-${tag.toUpperCase()}.TMP`));
    return {
      case: foldsCase,
      normalization: await sameName(path.join(dir, `probe-${tag}-\u00e9`), path.join(dir, `probe-${tag}-e\u0301`)),
    };
  } catch (err) {
    const code = errnoCode(err);
    if (code !== 'EROFS' && code !== 'EACCES' && code !== 'EPERM') throw err;
    if (options.readOnly === true) return { case: foldsCase, normalization: process.platform === 'darwin' };
    throw new BackupNotWritableError(root, code, err);
  }
}

function markerFoundBy(root: string, spelling: string): boolean {
  return lstatOrUndefined(path.join(root, spelling)) !== undefined;
}

async function sameName(created: string, other: string): Promise<boolean> {
  try {
    await writeFile(created, '', { flag: 'wx' });
  } catch (err) {
    // A file system that cannot store the name at all (FAT without long names
    // for non-ASCII) cannot hold both spellings either: treat as folding.
    if (errnoCode(err) === 'EPERM' || errnoCode(err) === 'EINVAL' || errnoCode(err) === 'EILSEQ') return true;
    throw err;
  }
  try {
    await lstat(other);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  } finally {
    await rm(created, { force: true });
  }
}
