/**
 * The demo's folder (./demo by default). A run clears it first, but only a
 * folder a previous demo made (it carries a marker file) or an empty one:
 * pointing --dir at a folder of your own changes nothing and says so.
 */
import { lstat, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../base/errors.js';
import { DemoError } from './errors.js';
import { makeDirs } from '../base/make-dirs.js';

export const DEMO_MARKER = '.synker-demo';

export async function prepareDemoDir(dir: string): Promise<void> {
  let entries: string[];
  try {
    const info = await lstat(dir);
    if (!info.isDirectory()) {
      throw new DemoError('E_DEMO_DIR', `${dir} exists and is not a folder; nothing was changed`, {
        hint: 'Choose another place with --dir.',
      });
    }
    entries = await readdir(dir);
  } catch (err) {
    if (err instanceof DemoError) throw err;
    if (errnoCode(err) !== 'ENOENT') throw cannotUse(dir, err);
    entries = [];
  }
  if (entries.length > 0 && !entries.includes(DEMO_MARKER)) {
    throw new DemoError('E_DEMO_DIR', `${dir} is not empty and was not made by synker demo; nothing was changed`, {
      hint: 'Choose another place with --dir, or remove that folder yourself.',
    });
  }
  try {
    for (const entry of entries) await rm(path.join(dir, entry), { recursive: true, force: true });
    await makeDirs(dir);
    await writeFile(path.join(dir, DEMO_MARKER), 'Made by `synker demo`: the next run clears this folder.\n');
  } catch (err) {
    throw cannotUse(dir, err);
  }
}

function cannotUse(dir: string, err: unknown): DemoError {
  return new DemoError('E_DEMO_DIR', `cannot prepare the demo folder ${dir}: ${errnoCode(err) ?? (err as Error).message}`, {
    cause: err,
    hint: 'Choose a folder you can write to with --dir, e.g. --dir /tmp/synker-demo.',
  });
}
