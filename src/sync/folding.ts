/**
 * How a file system compares names. FAT, exFAT, NTFS and APFS (by default)
 * ignore case; APFS and HFS+ treat NFC and NFD spellings as one name. Two
 * source names that are one name there would overwrite each other, so sync
 * probes the backup's file system once and reports such pairs instead.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../errors.js';
import { META_DIR } from '../manifest/layout.js';

export interface FoldingInfo {
  /** `Foo` and `foo` are one name. */
  case: boolean;
  /** `é` (NFC) and `e\u0301` (NFD) are one name. */
  normalization: boolean;
}

/** The name as the file system compares it. */
export function foldKey(name: string, folding: FoldingInfo): string {
  let key = folding.normalization ? name.normalize('NFC') : name;
  if (folding.case) key = key.toLowerCase();
  return key;
}

/**
 * Probes the file system holding `root` by creating two names in
 * `root/.synker/` and asking for their other spelling. Leaves nothing behind.
 */
export async function probeFolding(root: string): Promise<FoldingInfo> {
  const dir = path.join(root, META_DIR);
  await mkdir(dir, { recursive: true });
  const tag = randomBytes(4).toString('hex');
  return {
    case: await sameName(path.join(dir, `probe-${tag}.tmp`), path.join(dir, `PROBE-${tag.toUpperCase()}.TMP`)),
    normalization: await sameName(path.join(dir, `probe-${tag}-\u00e9`), path.join(dir, `probe-${tag}-e\u0301`)),
  };
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
