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
    const parent = parentOf(entry.path);
    while (this.stack.length > 1 && this.top().dir !== parent && !isInside(parent, this.top().dir)) this.stack.pop();
    if (this.top().dir !== parent) this.stack.push({ dir: parent, names: new Map() });
    const names = this.top().names;
    const rawName = baseName(entry.raw ?? entry.path);
    const key = foldName(rawName);
    const earlier = names.get(key);
    if (earlier === undefined) names.set(key, entry.raw ?? entry.path);
    return earlier !== undefined && earlier !== (entry.raw ?? entry.path) ? earlier : undefined;
  }

  private top(): { dir: string; names: Map<string, string> } {
    return this.stack[this.stack.length - 1]!;
  }
}
