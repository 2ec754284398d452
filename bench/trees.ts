/**
 * Deterministic benchmark trees, shared by every suite (scan, check, sync):
 *
 * - `photos`: 1,000 files of 2 MiB (2 GiB) in 10 folders of 100 (`2024-01/IMG_0001.jpg`).
 * - `small`: 100,000 files of 1-16 KiB (~850 MB) in 100 x 10 folders of 100 (`d00/s0/f000000.txt`).
 *
 * Content is AES-128-CTR keystream (fast, incompressible, the same on every
 * machine); sizes come from a seeded PRNG; every mtime is a whole second, so
 * copies and restores are exact. Each tree has a mutated copy
 * (`<name>-mutated`) made by `cp -a` plus MUTATIONS: 10 deleted, 10 added,
 * 10 edited in place keeping size and mtime, 10 only touched, 5 renamed.
 *
 * Trees live under bench/.trees (gitignored), or SYNKER_BENCH_TREES=DIR to
 * share one copy between checkouts. A `<name>.json` stamp next to a tree says
 * it is complete; a tree with a matching stamp is reused as it is.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type TreeName = 'photos' | 'small';

/** Bumped whenever generation changes, so stale trees are rebuilt. */
const TREE_FORMAT = 1;
/** 2024-01-01T00:00:00Z: every generated file gets this plus its index, in whole seconds. */
const BASE_MTIME = 1_704_067_200;

export interface Mutations {
  deleted: string[];
  added: string[];
  /** Content changed, size and mtime restored: only a content hash notices. */
  edited: string[];
  /** mtime changed, content the same. */
  touched: string[];
  /** [old path, new path], same folder, content and mtime kept. */
  renamed: Array<[string, string]>;
}

export interface BenchTree {
  name: TreeName;
  root: string;
  /** The mutated copy of root. */
  mutated: string;
  files: number;
  bytes: number;
  mutations: Mutations;
}

interface Spec {
  files: number;
  pathOf: (i: number) => string;
  sizeOf: (i: number) => number;
}

const SPECS: Record<TreeName, Spec> = {
  photos: {
    files: 1000,
    pathOf: (i) => `2024-${String(Math.floor(i / 100) + 1).padStart(2, '0')}/IMG_${String(i + 1).padStart(4, '0')}.jpg`,
    sizeOf: () => 2 * 1024 * 1024,
  },
  small: {
    files: 100_000,
    pathOf: (i) => `d${String(Math.floor(i / 1000)).padStart(2, '0')}/s${Math.floor(i / 100) % 10}/f${String(i).padStart(6, '0')}.txt`,
    sizeOf: (i) => 1024 + (mix(i) % (15 * 1024 + 1)),
  },
};

/** Where trees live. */
export function treesDir(): string {
  const fromEnv = process.env.SYNKER_BENCH_TREES;
  if (fromEnv) return path.resolve(fromEnv);
  // dist/bench/trees.js -> <repo>/bench/.trees
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bench/.trees');
}

/** The tree and its mutated copy, generated on first use and reused afterwards. */
export function ensureTree(name: TreeName, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): BenchTree {
  const spec = SPECS[name];
  const dir = treesDir();
  const root = path.join(dir, name);
  const mutated = path.join(dir, `${name}-mutated`);
  const stampFile = path.join(dir, `${name}.json`);
  const mutations = mutationsOf(name);
  const bytes = Array.from({ length: spec.files }, (_, i) => spec.sizeOf(i)).reduce((a, b) => a + b, 0);
  const tree: BenchTree = { name, root, mutated, files: spec.files, bytes, mutations };
  const stamp = JSON.stringify({ format: TREE_FORMAT, name, files: spec.files, bytes });
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(root) && existsSync(mutated)) return tree;

  log(`generating the ${name} tree (${spec.files} files, ${(bytes / 1e6).toFixed(0)} MB) in ${root} ...`);
  rmSync(stampFile, { force: true });
  rmSync(root, { recursive: true, force: true });
  rmSync(mutated, { recursive: true, force: true });
  const buffer = Buffer.alloc(Math.max(...[0, 1, 2].map((i) => spec.sizeOf(i)), 16 * 1024));
  for (let i = 0; i < spec.files; i++) writeGenerated(root, spec.pathOf(i), spec.sizeOf(i), `${name}:${i}`, BASE_MTIME + i, buffer);
  stampDirectories(root);
  log(`copying it to ${mutated} and mutating the copy ...`);
  execFileSync('cp', ['-a', root, mutated]);
  applyMutations(name, mutated, mutations, buffer);
  writeFileSync(stampFile, stamp);
  return tree;
}

/** Which files the mutated copy changes; deterministic, spread over the tree. */
export function mutationsOf(name: TreeName): Mutations {
  const spec = SPECS[name];
  const step = Math.floor(spec.files / 45);
  const pick = (k: number) => spec.pathOf(k * step + 7);
  const withSuffix = (p: string, suffix: string) => p.replace(/(\.[a-z]+)$/, `${suffix}$1`);
  return {
    deleted: Array.from({ length: 10 }, (_, k) => pick(k)),
    added: Array.from({ length: 10 }, (_, k) => withSuffix(pick(10 + k), '-new')),
    edited: Array.from({ length: 10 }, (_, k) => pick(20 + k)),
    touched: Array.from({ length: 10 }, (_, k) => pick(30 + k)),
    renamed: Array.from({ length: 5 }, (_, k): [string, string] => [pick(40 + k), withSuffix(pick(40 + k), '-renamed')]),
  };
}

function applyMutations(name: TreeName, root: string, m: Mutations, buffer: Buffer): void {
  for (const p of m.deleted) unlinkSync(path.join(root, p));
  m.added.forEach((p, k) => {
    writeGenerated(root, p, SPECS[name].sizeOf(k), `${name}:added:${k}`, BASE_MTIME + 10_000_000 + k, buffer);
  });
  for (const p of m.edited) {
    // Overwrite the first 16 bytes in place, then put the mtime back exactly.
    const file = path.join(root, p);
    const mtime = mtimeOf(name, p);
    const fd = openSync(file, 'r+');
    writeSync(fd, createHash('sha256').update(`edited:${p}`).digest().subarray(0, 16), 0, 16, 0);
    closeSync(fd);
    utimesSync(file, mtime, mtime);
  }
  for (const p of m.touched) {
    const mtime = mtimeOf(name, p) + 3600;
    utimesSync(path.join(root, p), mtime, mtime);
  }
  for (const [from, to] of m.renamed) renameSync(path.join(root, from), path.join(root, to));
}

function mtimeOf(name: TreeName, p: string): number {
  const spec = SPECS[name];
  for (let i = 0; i < spec.files; i++) if (spec.pathOf(i) === p) return BASE_MTIME + i;
  throw new Error(`not a generated path: ${p}`);
}

function writeGenerated(root: string, rel: string, size: number, seed: string, mtime: number, buffer: Buffer): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
  const fd = openSync(file, 'w');
  let left = size;
  while (left > 0) {
    const n = Math.min(left, buffer.length);
    const chunk = cipher.update(buffer.subarray(0, n).fill(0));
    writeSync(fd, chunk);
    left -= n;
  }
  closeSync(fd);
  utimesSync(file, mtime, mtime);
}

/** Folder mtimes are fixed too, so a tree generated twice is identical. */
function stampDirectories(root: string): void {
  execFileSync('find', [root, '-type', 'd', '-exec', 'touch', '-m', '-d', `@${BASE_MTIME}`, '{}', '+']);
}

/** A 32-bit integer hash (for sizes): deterministic, well spread. */
function mix(i: number): number {
  let x = (i + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}
