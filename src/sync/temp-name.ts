/**
 * Names for files being put in place next to their final name. `.<name>.<tag>`
 * where that fits in one path component (255 bytes on the file systems synker
 * writes to); for a name too long for that, `.synker-<tag>-<16 hex digits of
 * the name's SHA-256>`, still one per name.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';

/** The longest path component, in bytes, ext4, btrfs, XFS, APFS and NTFS all accept. */
export const NAME_MAX_BYTES = 255;

export function fitsInName(name: string): boolean {
  return Buffer.byteLength(name) <= NAME_MAX_BYTES;
}

export function siblingTempPath(target: string, tag: string): string {
  const name = path.basename(target);
  const plain = `.${name}.${tag}`;
  const temp = fitsInName(plain) ? plain : `.synker-${tag}-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
  return path.join(path.dirname(target), temp);
}
