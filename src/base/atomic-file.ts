/**
 * Replace a file so that readers (and a crash or power cut) see either the
 * old content or the new one, never half: write a temporary file next to it,
 * fsync, rename over the target, fsync the folder. Missing parent folders are
 * created (synker's own files), unless `makeDir: false` (a path the user
 * gave, where a typo must not become a new folder).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileAtomic(file: string, content: string | Buffer, mode = 0o600, options: { makeDir?: boolean } = {}): Promise<void> {
  const dir = path.dirname(file);
  if (options.makeDir !== false) await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dir);
}

/** Makes a rename or unlink in `dir` durable (no-op on Windows, where folders cannot be opened). */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
