/**
 * The million-file tree of issue #21: 1,000 folders × 1,000 files of a few
 * bytes (`d000/f000000.txt`, content `file 0\n`), and a copy with 4 changes
 * (one deleted, one added, one edited in place keeping size and mtime, one
 * touched). Both trees are written in one pass by one worker thread per core,
 * each with synchronous calls for its own range of folders (four system calls
 * a file: open, write, futimes, close), so the build is bound by the file
 * system, not by a promise per file: about 8 GiB of disk on ext4 with 4 KiB
 * blocks (two trees × 1,000,000 inodes and blocks).
 *
 *   node dist/bench/million-tree.js [DIR [FOLDERS]]   (default: $SYNKER_BENCH_TREES or bench/.trees; 1000)
 *
 * A `million.json` stamp next to the trees says they are complete; a pair with
 * a matching stamp is reused as it is.
 */
import {
  closeSync,
  existsSync,
  futimesSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { treesDir } from './trees.js';

export const MILLION_FOLDERS = 1000;
export const MILLION_PER_FOLDER = 1000;
export const MILLION_FILES = MILLION_FOLDERS * MILLION_PER_FOLDER;
const FORMAT = 1;
/** 2024-01-01T00:00:00Z plus the file's index, in whole seconds. */
const BASE_MTIME = 1_704_067_200;

export interface MillionTree {
  /** 'million', or 'hundredk' for the 100-folder tree of the same shape (the anchor of the time ratio). */
  name: string;
  root: string;
  /** root's copy with the four changes. */
  mutated: string;
  files: number;
  changes: { deleted: string; added: string; edited: string; touched: string };
}

const folderOf = (d: number): string => `d${String(Math.floor(d)).padStart(3, '0')}`;
const pathOf = (i: number): string => `${folderOf(Math.floor(i / MILLION_PER_FOLDER))}/f${String(i).padStart(6, '0')}.txt`;
const contentOf = (i: number): string => `file ${i}\n`;

/** Spread over the tree so none sits at an edge of a folder (scaled down for a smaller tree). */
export function millionChanges(folders = MILLION_FOLDERS): MillionTree['changes'] {
  const at = (i: number) => Math.floor((i * folders) / MILLION_FOLDERS);
  return {
    deleted: pathOf(at(123_456)),
    added: `${folderOf(at(456_789) / MILLION_PER_FOLDER)}/f${String(at(456_789)).padStart(6, '0')}-new.txt`,
    edited: pathOf(at(654_321)),
    touched: pathOf(at(987_654)),
  };
}
const indexOf = (p: string): number => Number(/f(\d{6})\.txt$/.exec(p)![1]);

interface Job {
  root: string;
  mutated: string;
  from: number;
  to: number;
}

/** Writes folders [from, to) of both trees (the mutated copy as a plain copy: changes come after). */
function writeFolders({ root, mutated, from, to }: Job): void {
  for (let d = from; d < to; d++) {
    for (const base of [root, mutated]) {
      const dir = path.join(base, folderOf(d));
      mkdirSync(dir);
      for (let f = 0; f < MILLION_PER_FOLDER; f++) {
        const i = d * MILLION_PER_FOLDER + f;
        const fd = openSync(path.join(base, pathOf(i)), 'wx');
        writeSync(fd, contentOf(i));
        futimesSync(fd, BASE_MTIME + i, BASE_MTIME + i);
        closeSync(fd);
      }
    }
  }
}

function applyChanges(mutated: string, c: MillionTree['changes']): void {
  unlinkSync(path.join(mutated, c.deleted));
  writeFileSync(path.join(mutated, c.added), 'an added file\n');
  utimesSync(path.join(mutated, c.added), BASE_MTIME + 2_000_000, BASE_MTIME + 2_000_000);
  // Same size, same mtime, other bytes: only a content hash notices.
  const edited = path.join(mutated, c.edited);
  const i = indexOf(c.edited);
  writeFileSync(edited, contentOf(i).replace('file', 'FILE'));
  utimesSync(edited, BASE_MTIME + i, BASE_MTIME + i);
  const t = BASE_MTIME + indexOf(c.touched) + 3600;
  utimesSync(path.join(mutated, c.touched), t, t);
}

/**
 * The pair under dir (default treesDir()), generated on first use and reused afterwards;
 * `folders` below 1,000 makes a smaller tree of the same shape ('hundredk' for 100).
 */
export async function ensureMillionTree(
  dir = treesDir(),
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  folders = MILLION_FOLDERS,
): Promise<MillionTree> {
  const name = folders === MILLION_FOLDERS ? 'million' : folders === 100 ? 'hundredk' : `folders${folders}`;
  const files = folders * MILLION_PER_FOLDER;
  const root = path.join(dir, name);
  const mutated = path.join(dir, `${name}-mutated`);
  const stampFile = path.join(dir, `${name}.json`);
  const changes = millionChanges(folders);
  const tree: MillionTree = { name, root, mutated, files, changes };
  const stamp = JSON.stringify({ format: FORMAT, files, changes });
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(root) && existsSync(mutated)) return tree;

  const started = performance.now();
  log(
    `generating the ${files.toLocaleString('en')}-file tree and its copy in ${dir} (about ${((files * 8.8) / 1e6).toFixed(1)} GB on a 4 KiB-block file system) ...`,
  );
  rmSync(stampFile, { force: true });
  rmSync(root, { recursive: true, force: true });
  rmSync(mutated, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  mkdirSync(mutated, { recursive: true });
  const threads = Math.max(1, Math.min(os.availableParallelism(), 8));
  const per = Math.ceil(folders / threads);
  const workers = [];
  for (let t = 0; t < threads; t++) {
    const job: Job = { root, mutated, from: t * per, to: Math.min(folders, (t + 1) * per) };
    if (job.from >= job.to) continue;
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: job });
    workers.push(
      new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tree writer exited with ${code}`))));
      }),
    );
  }
  await Promise.all(workers);
  applyChanges(mutated, changes);
  // Folder mtimes are fixed too, so two generations are identical.
  for (const base of [root, mutated]) {
    for (let d = 0; d < folders; d++) utimesSync(path.join(base, folderOf(d)), BASE_MTIME, BASE_MTIME);
  }
  writeFileSync(stampFile, stamp);
  log(`generated in ${((performance.now() - started) / 1000).toFixed(1)} s with ${threads} threads`);
  return tree;
}

if (!isMainThread && parentPort !== null) {
  writeFolders(workerData as Job);
} else if (isMainThread && process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] === undefined ? undefined : path.resolve(process.argv[2]);
  const tree = await ensureMillionTree(dir, undefined, process.argv[3] === undefined ? MILLION_FOLDERS : Number(process.argv[3]));
  process.stdout.write(`${JSON.stringify(tree)}\n`);
}
