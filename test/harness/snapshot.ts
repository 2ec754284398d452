/**
 * Every entry of a tree with everything a write could change: type, mode, size, mtime and ctime
 * (nanoseconds), content hash or link target. Two snapshots differ exactly when something was
 * created, removed, written, chmod-ed, touched or re-linked (atime, which reads change, is left out).
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export type TreeSnapshot = Record<string, string>;

/** `root` and all under it, keyed by relative path ('.' for the root); `exclude(rel)` leaves an entry and what is under it out. */
export function snapshotTree(root: string, exclude: (rel: string) => boolean = () => false): TreeSnapshot {
  const out: TreeSnapshot = {};
  const visit = (rel: string): void => {
    const full = rel === '.' ? root : path.join(root, rel);
    const st = lstatSync(full, { bigint: true });
    let what: string;
    if (st.isSymbolicLink()) what = `link -> ${readlinkSync(full)}`;
    else if (st.isFile()) what = `file sha256=${createHash('sha256').update(readFileSync(full)).digest('hex')}`;
    else if (st.isDirectory()) what = 'dir';
    else what = 'other';
    out[rel] =
      `${what} mode=${st.mode.toString(8)} size=${st.isDirectory() ? '-' : st.size} mtime=${st.mtimeNs} ctime=${st.ctimeNs} ino=${st.ino}`;
    if (!st.isDirectory()) return;
    for (const name of readdirSync(full).sort()) {
      const child = rel === '.' ? name : `${rel}/${name}`;
      if (!exclude(child)) visit(child);
    }
  };
  visit('.');
  return out;
}

/** Lines naming each entry that was added, removed or changed between two snapshots. */
export function snapshotChanges(before: TreeSnapshot, after: TreeSnapshot): string[] {
  const lines: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (before[key] === after[key]) continue;
    lines.push(`${key}: ${before[key] ?? '(absent)'} => ${after[key] ?? '(absent)'}`);
  }
  return lines.sort();
}
