import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { makeDirs, makeDirsSync } from '../../src/base/make-dirs.js';

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synker-make-dirs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

for (const [name, make] of [
  ['makeDirs', makeDirs],
  ['makeDirsSync', async (dir: string, mode?: number) => makeDirsSync(dir, mode)],
] as const) {
  test(`${name}: makes the missing parents with the mode, accepts a folder already there, refuses a file in the way as Node does`, async (t) => {
    const root = await scratch(t);
    const deep = path.join(root, 'a', 'b', 'c');
    await make(deep, 0o700);
    for (const dir of [path.join(root, 'a'), path.join(root, 'a', 'b'), deep]) {
      const st = await stat(dir);
      assert.ok(st.isDirectory());
      assert.equal(st.mode & 0o077, 0, `${dir} is private`);
    }
    await make(deep, 0o700);
    await make(root);
    await writeFile(path.join(root, 'file'), 'x');
    await assert.rejects(make(path.join(root, 'file')), { code: 'EEXIST' });
    await assert.rejects(make(path.join(root, 'file', 'below')), { code: 'ENOTDIR' });
    // A link to nowhere has the name: EEXIST (the name is taken; Node says ENOENT here).
    await symlink(path.join(root, 'nowhere'), path.join(root, 'dangling'));
    await assert.rejects(make(path.join(root, 'dangling')), { code: 'EEXIST' });
  });

  test(`${name}: a parent that refuses new folders with ENOENT (/proc) is an error at once, not a loop`, {
    skip: process.platform !== 'linux' && '/proc refusing new folders is a Linux feature',
  }, async () => {
    await assert.rejects(make(`/proc/synker-test-${process.pid}/config`, 0o700), (err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ENOENT');
      assert.equal(err.path, `/proc/synker-test-${process.pid}`);
      return true;
    });
  });
}

test("no file of src/ calls Node's recursive mkdir, which loops for ever under /proc: they call base/make-dirs.ts", async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const src = new URL('../../../src/', import.meta.url);
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && e.name !== 'make-dirs.ts') {
        // mkdir or mkdirSync given `recursive: true` (rm's `recursive` is another thing).
        if (/\bmkdir(?:Sync)?\([^;]*recursive:\s*true/.test(readFileSync(p, 'utf8'))) offenders.push(p);
      }
    }
  };
  walk(path.resolve(new URL(src).pathname));
  assert.deepEqual(offenders, []);
});
