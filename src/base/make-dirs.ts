/**
 * Creating a folder and its missing parents, in a bounded number of steps.
 * Node's `mkdir(…, { recursive: true })` loops for ever (100 % CPU, never
 * returning) where a parent exists but refuses new entries with ENOENT
 * rather than EACCES or EROFS, as Linux's /proc and /sys do: it creates the
 * parent again (EEXIST), retries the child (ENOENT), and so on. Here each
 * missing folder is made once, from the nearest existing parent down, and
 * the first refusal is the answer, with the same errors Node gives
 * (`EEXIST` when a file has the name, `ENOTDIR` when a parent is a file).
 */
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function existsAsFile(dir: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EEXIST: file already exists, mkdir '${dir}'`), {
    code: 'EEXIST',
    errno: -17,
    syscall: 'mkdir',
    path: dir,
  });
}

/** The folders to make, the outermost first: every one from `dir` up to the nearest that exists. */
function missingChain(target: string, statOf: (p: string) => Stats | 'missing'): string[] {
  const missing: string[] = [];
  for (let current = target; ; ) {
    const found = statOf(current);
    if (found !== 'missing') {
      if (!found.isDirectory()) throw existsAsFile(current);
      break;
    }
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return missing.reverse();
}

/** `mkdir -p`: makes `dir` and its missing parents (with `mode`); a folder already there is fine. */
export async function makeDirs(dir: string, mode?: number): Promise<void> {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let current = target; ; ) {
    let found: Stats | undefined;
    try {
      found = await stat(current);
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    if (found !== undefined) {
      if (!found.isDirectory()) throw existsAsFile(current);
      break;
    }
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing.reverse()) {
    try {
      await mkdir(folder, mode === undefined ? {} : { mode });
    } catch (err) {
      // Made meanwhile by someone else: fine when it is a folder (a dangling link there stays an EEXIST).
      if (code(err) !== 'EEXIST') throw err;
      const there = await stat(folder).catch(() => undefined);
      if (there === undefined) throw err;
      if (!there.isDirectory()) throw existsAsFile(folder);
    }
  }
}

/** The same, synchronously. */
export function makeDirsSync(dir: string, mode?: number): void {
  const missing = missingChain(path.resolve(dir), (p) => {
    try {
      return statSync(p);
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
      return 'missing';
    }
  });
  for (const folder of missing) {
    try {
      mkdirSync(folder, mode === undefined ? {} : { mode });
    } catch (err) {
      if (code(err) !== 'EEXIST') throw err;
      const there = statSync(folder, { throwIfNoEntry: false });
      if (there === undefined) throw err;
      if (!there.isDirectory()) throw existsAsFile(folder);
    }
  }
}
