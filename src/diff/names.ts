/**
 * Names that collide on case-insensitive or normalising file systems
 * (macOS, Windows): `Foo` and `foo`, or `é` as one code point and as `e` +
 * combining accent.
 */
import type { ManifestEntry } from '../manifest/entry.js';
import { foldName } from '../manifest/storable.js';

export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** True when `path` lies strictly inside folder `dir` ('' is the root). */
export function isInside(path: string, dir: string): boolean {
  return dir === '' ? path !== '' : path.length > dir.length && path.startsWith(dir) && path.charCodeAt(dir.length) === 0x2f;
}

/**
 * Finds, on one side's sorted stream, pairs of entries in the same folder
 * whose names fold alike. Memory: the children seen so far of each folder on
 * the current path (entries arrive depth-first in manifest order).
 */
export class WithinSideClashFinder {
  private readonly stack: Array<{ dir: string; names: Map<string, string> }> = [{ dir: '', names: new Map() }];

  /** Returns the earlier name this entry clashes with, if any. */
  add(entry: ManifestEntry): string | undefined {
    // Runs for every entry of both sides: the parent is sliced out only when the folder changes.
    const p = entry.path;
    const slash = p.lastIndexOf('/');
    let top = this.top();
    if (!inFolder(p, slash, top.dir)) {
      const parent = slash < 0 ? '' : p.slice(0, slash);
      while (this.stack.length > 1 && top.dir !== parent && !isInside(parent, top.dir)) {
        this.stack.pop();
        top = this.top();
      }
      if (top.dir !== parent) {
        top = { dir: parent, names: new Map() };
        this.stack.push(top);
      }
    }
    const names = top.names;
    const raw = entry.raw ?? p;
    const rawName = baseName(raw);
    const key = foldName(rawName);
    const earlier = names.get(key);
    if (earlier === undefined) names.set(key, raw);
    return earlier !== undefined && earlier !== raw ? earlier : undefined;
  }

  private top(): { dir: string; names: Map<string, string> } {
    return this.stack[this.stack.length - 1]!;
  }
}

/** Whether `path`, whose last `/` is at `slash`, lies directly in folder `dir` ('' is the root). */
function inFolder(path: string, slash: number, dir: string): boolean {
  return dir === '' ? slash < 0 : slash === dir.length && path.startsWith(dir);
}
