/**
 * What the sync planner reads off one of the check's differences: where the
 * backup holds what it lists, and the words for an entry left unreadable.
 */
import type { PlanDifference } from './plan-types.js';

/** Where the backup holds what difference `d` lists of it, if it holds anything. */
export function backupPathOf(d: PlanDifference): string | undefined {
  if (d.backup === undefined) return undefined;
  if (d.category === 'moved') return d.newPath;
  if (d.category === 'name-clash' && (d.clash === 'case' || d.clash === 'normalization')) return d.otherPath;
  return d.path;
}

/** Why an unreadable entry was left alone, and the fix that fits its error. */
export function unreadableDetail(d: PlanDifference): string {
  const side = d.side ?? 'source';
  const code = (side === 'backup' ? d.backup : d.source)?.errorCode ?? (side === 'both' ? d.source?.errorCode : undefined);
  if (code === 'INVALID_NAME') {
    return `its name on the ${side} cannot be sent between machines (not valid UTF-8, or a backslash); rename it there (convmv can fix old non-UTF-8 names), then sync again`;
  }
  if (code === 'EACCES' || code === 'EPERM') return `unreadable on the ${side} (permission denied); fix its permissions and sync again`;
  return `unreadable on the ${side}${code === undefined ? '' : ` (${code})`}; see the check report for why, fix it there and sync again`;
}
