/**
 * A path "through a file" (`notes.txt/config.json`) fails with ENOTDIR,
 * which Node words as "not a directory" about the whole path: the user is
 * left to guess which part. This finds the part: the nearest parent that
 * exists and is not a folder, so a message can say "X is a file, not a
 * folder" about X itself.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

/** The nearest parent of `p` that exists and is not a folder (links followed, as opening `p` would), or undefined. */
export function fileInTheWay(p: string): string | undefined {
  const target = path.resolve(p);
  const parents: string[] = [];
  for (let current = path.dirname(target); ; current = path.dirname(current)) {
    parents.push(current);
    if (path.dirname(current) === current) break;
  }
  // From the root down: the first one that is there but is no folder is the one in the way.
  for (const parent of parents.reverse()) {
    let isFolder: boolean;
    try {
      isFolder = statSync(parent).isDirectory();
    } catch {
      return undefined;
    }
    if (!isFolder) return parent;
  }
  return undefined;
}

/** "…: /a/notes.txt is a file, not a folder" when a parent is in the way; otherwise undefined. */
export function throughAFile(p: string): string | undefined {
  const file = fileInTheWay(p);
  return file === undefined ? undefined : `${file} is a file, not a folder`;
}
