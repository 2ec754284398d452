/**
 * Which differences a mail body lists and how it names them: suspicious
 * source changes first, then the rows shared round-robin among categories.
 */
import { CATEGORIES, type Category, type Difference } from '../diff/index.js';
import type { ListedDifference } from '../report/whole-folders.js';
import { printablePath } from '../base/printable.js';

export function pathOf(d: ListedDifference): string {
  // Read as a rename, old name first: where the backup has it → what the source calls it now.
  if (d.newPath !== undefined) return `${printablePath(d.newPath)} → ${printablePath(d.path)}`;
  if (d.otherPath !== undefined) return `${printablePath(d.path)} ≠ ${printablePath(d.otherPath)}`;
  // A whole folder (report/whole-folders.ts) stands for what is inside it, as the terminal writes it.
  return d.wholeFolder !== undefined ? `${printablePath(d.path)}/` : printablePath(d.path);
}

export function isSuspicious(d: Difference): boolean {
  return d.changedOn === 'source-suspicious';
}

/**
 * Shares `limit` rows among categories: suspicious source changes first, each
 * at the top of its category, then round-robin, so a flood in one category
 * does not hide the others. `items`: the differences as the lists show them
 * (report/whole-folders.ts listedDifferences: a whole folder is one row).
 */
export function allocateRows(items: readonly ListedDifference[], limit: number): Map<Category, ListedDifference[]> {
  const groups = new Map<Category, ListedDifference[]>();
  for (const category of CATEGORIES) groups.set(category, []);
  for (const d of items) if (isSuspicious(d)) groups.get(d.category)!.push(d);
  for (const d of items) if (!isSuspicious(d)) groups.get(d.category)!.push(d);
  const shown = new Map<Category, ListedDifference[]>();
  const taken = new Map<Category, number>(CATEGORIES.map((c) => [c, 0]));
  let left = limit;
  for (const category of CATEGORIES) {
    const n = Math.min(left, groups.get(category)!.filter(isSuspicious).length);
    taken.set(category, n);
    left -= n;
  }
  let progress = true;
  while (left > 0 && progress) {
    progress = false;
    for (const category of CATEGORIES) {
      const n = taken.get(category)!;
      if (left > 0 && n < groups.get(category)!.length) {
        taken.set(category, n + 1);
        left--;
        progress = true;
      }
    }
  }
  for (const category of CATEGORIES) {
    const all = groups.get(category)!;
    if (all.length > 0) shown.set(category, all.slice(0, taken.get(category)!));
  }
  return shown;
}
