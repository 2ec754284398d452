/**
 * Atomic file replacement for config-side files (the config, folder markers,
 * password files): the shared writer in src/base/atomic-file.ts (temp file, fsync,
 * rename, fsync of the folder), with the mode as an option and a chmod so
 * the result is exactly that mode whatever the umask (where the file system
 * has modes at all).
 */
import { writeFileAtomic as writeAtomic } from '../base/atomic-file.js';
import { chmodIfSupported } from '../base/mode-bits.js';

export async function writeFileAtomic(file: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  await writeAtomic(file, data, mode);
  // The umask can only narrow the mode at creation; a marker meant to be 0644 stays readable.
  // A disk without permission bits (a FAT backup disk) keeps no mode: the file is written all the same,
  // and the mode it was created with is never wider than asked.
  await chmodIfSupported(file, mode);
}
