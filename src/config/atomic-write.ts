/**
 * Atomic file replacement for config-side files (the config, folder markers,
 * password files): the shared writer in src/atomic-file.ts (temp file, fsync,
 * rename, fsync of the folder), with the mode as an option and a chmod so
 * the result is exactly that mode whatever the umask.
 */
import { chmod } from 'node:fs/promises';
import { writeFileAtomic as writeAtomic } from '../atomic-file.js';

export async function writeFileAtomic(file: string, data: string | Buffer, options: { mode?: number } = {}): Promise<void> {
  const mode = options.mode ?? 0o600;
  await writeAtomic(file, data, mode);
  // The umask can only narrow the mode at creation; a marker meant to be 0644 stays readable.
  await chmod(file, mode);
}
