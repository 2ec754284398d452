/**
 * The two benchmark trees, made once and kept under the temp dir between
 * runs: *photos* = 1,000 files of 2 MiB (10 folders), *small* = 100,000
 * files of 1-16 KiB (100 folders), random content (no two files alike).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type TreeName = 'photos' | 'small';

export interface BenchTree {
  root: string;
  files: number;
  bytes: number;
}

const SPECS: Record<TreeName, { dirs: number; perDir: number; size: (i: number) => number }> = {
  photos: { dirs: 10, perDir: 100, size: () => 2 * 1024 * 1024 },
  // Sizes spread over 1-16 KiB by a fixed sequence, so every run builds the same tree shape.
  small: { dirs: 100, perDir: 1000, size: (i) => 1024 + ((i * 7919) % (15 * 1024 + 1)) },
};

export async function benchTree(name: TreeName): Promise<BenchTree> {
  const base = path.join(os.tmpdir(), 'synker-bench-trees', name);
  const done = path.join(base, '.complete.json');
  if (existsSync(done)) return JSON.parse(readFileSync(done, 'utf8')) as BenchTree;
  const spec = SPECS[name];
  const root = path.join(base, 'tree');
  rmSync(base, { recursive: true, force: true });
  let bytes = 0;
  let i = 0;
  process.stderr.write(`building the ${name} benchmark tree in ${root}...\n`);
  for (let d = 0; d < spec.dirs; d++) {
    const dir = path.join(root, `d${String(d).padStart(3, '0')}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < spec.perDir; f++, i++) {
      const size = spec.size(i);
      writeFileSync(path.join(dir, `f${String(f).padStart(4, '0')}.bin`), randomBytes(size));
      bytes += size;
    }
  }
  const tree: BenchTree = { root, files: i, bytes };
  writeFileSync(done, JSON.stringify(tree));
  return tree;
}
