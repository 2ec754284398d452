/**
 * Real folders for sync tests: write a tree from a spec, list it as manifest
 * entries (a small, obviously-correct walk + SHA-256), and diff two trees
 * with the check's diff to feed the planner.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { MARKER_FILE, META_DIR } from '../../src/manifest/layout.js';
import { compareEntries } from '../../src/manifest/order.js';
import { diffManifests, type DiffOptions, type Difference } from '../../src/diff/index.js';

export type TreeSpec = Record<string, string | Buffer | { link: string } | { dir: true }>;

export const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);

/** Writes files (mtime T0 unless given), folders and symlinks, plus the folder marker. */
export function writeTree(root: string, spec: TreeSpec, mtime = T0): void {
  mkdirSync(path.join(root, META_DIR), { recursive: true });
  writeFileSync(path.join(root, MARKER_FILE), JSON.stringify({ id: 'test' }));
  for (const [rel, content] of Object.entries(spec)) {
    const abs = path.join(root, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    if (typeof content === 'object' && 'link' in content) symlinkSync(content.link, abs);
    else if (typeof content === 'object' && 'dir' in content) mkdirSync(abs, { recursive: true });
    else {
      writeFileSync(abs, content);
      utimesSync(abs, new Date(mtime), new Date(mtime));
    }
  }
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every entry under root except `.synker/`, in manifest order. */
export function listTree(root: string): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(rel === '' ? root : path.join(root, rel))) {
      if (rel === '' && name === META_DIR) continue;
      const r = rel === '' ? name : `${rel}/${name}`;
      const abs = path.join(root, r);
      const st = lstatSync(abs);
      const base = { path: r, size: 0, mtime: Math.trunc(st.mtimeMs), mode: st.mode & 0o7777 };
      if (st.isSymbolicLink()) out.push({ ...base, type: 'symlink', target: readlinkSync(abs) });
      else if (st.isDirectory()) {
        out.push({ ...base, type: 'dir' });
        walk(r);
      } else out.push({ ...base, type: 'file', size: st.size, hash: sha256(readFileSync(abs)) });
    }
  };
  walk('');
  return out.sort(compareEntries);
}

/** Path -> content hash of every file (for "contents verified by hashing"). */
export function contentMap(root: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const e of listTree(root)) map[e.path] = e.type === 'file' ? e.hash! : e.type === 'symlink' ? `-> ${e.target}` : 'dir';
  return map;
}

/** The check's own diff of two real folders (source first), as the planner gets it. */
export async function diffTrees(source: string, backup: string, options: DiffOptions = {}): Promise<Difference[]> {
  const result = await diffManifests(iterate(listTree(source)), iterate(listTree(backup)), options);
  return result.differences;
}

async function* iterate(entries: ManifestEntry[]): AsyncIterable<ManifestEntry> {
  yield* entries;
}

/** Every file and folder under `root` but `.synker`, with each file's content (a folder as `name/`: ''), to compare two trees whole. */
export function treeOf(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      if (rel === '' && name === META_DIR) continue;
      const p = rel === '' ? name : `${rel}/${name}`;
      if (statSync(path.join(root, p)).isDirectory()) {
        out[`${p}/`] = '';
        walk(p);
      } else out[p] = readFileSync(path.join(root, p), 'utf8');
    }
  };
  walk('');
  return out;
}
