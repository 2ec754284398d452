/**
 * The guards that stop a whole sync before anything changes: a mass change
 * on the source (ransomware-like), a source that lists far fewer files than
 * last time, and more deletions than `--max-delete` allows (docs/sync.md).
 */
import { UsageError } from '../base/errors.js';
import { formatCount, plural } from '../base/units.js';
import type { GuardStop, MaxDelete, PlanOptions } from './plan-types.js';

const DEFAULT_DELETE_PERCENT = 10;
const DEFAULT_DELETE_FLOOR = 10;

export function guards(options: PlanOptions, deletions: number, changedOnSource: number, removedOnSource: number): GuardStop[] {
  const stops: GuardStop[] = [];
  if (!options.force) {
    const share = options.massChangeShare ?? 0.25;
    const minFiles = options.massChangeMinFiles ?? 20;
    const changed = changedOnSource + removedOnSource;
    const base = Math.max(options.sourceFiles + removedOnSource, 1);
    if (changed >= minFiles && changed / base >= share) {
      stops.push({
        guard: 'mass-change',
        message: `${formatCount(changed)} of ${plural(base, 'file')} changed or disappeared on the source since the last verified sync (${percent(changed / base)}): this looks like ransomware or a failing disk, so nothing was synced`,
        hint: 'inspect the source before anything else; if the change is intended, run `synker sync --force`',
      });
    }
    const last = options.lastSourceFiles;
    if (last !== undefined && last >= 20 && options.sourceFiles < last / 2) {
      stops.push({
        guard: 'source-shrank',
        message: `the source lists ${plural(options.sourceFiles, 'file')} where it listed ${formatCount(last)} at the last sync: part of it may be unmounted or lost, so nothing was synced`,
        hint: 'check the source folder; if the files were removed on purpose, run `synker sync --force`',
      });
    }
  }
  if (options.delete) {
    const limit = deleteLimit(options.maxDelete, options.backupFiles);
    if (deletions > limit) {
      stops.push({
        guard: 'max-delete',
        message: `this sync would remove ${plural(deletions, 'file')} from the backup, more than the limit of ${formatCount(limit)}${options.maxDelete ? '' : ` (${DEFAULT_DELETE_PERCENT}% of its files, at least ${DEFAULT_DELETE_FLOOR})`}; nothing was synced`,
        hint: `check the source; if the deletions are intended, raise the limit, e.g. --max-delete ${deletions}`,
      });
    }
  }
  return stops;
}

/** The largest number of files `--delete` may remove in one run. */
export function deleteLimit(maxDelete: MaxDelete | undefined, backupFiles: number): number {
  if (maxDelete === undefined) return Math.max(Math.floor((backupFiles * DEFAULT_DELETE_PERCENT) / 100), DEFAULT_DELETE_FLOOR);
  if ('count' in maxDelete) return maxDelete.count;
  return Math.floor((backupFiles * maxDelete.percent) / 100);
}

/** Parses `--max-delete` values: `250` or `5%`. */
/** `--max-delete N` (files) or `N%` (of the backup's files); what is wrong with any other text, said precisely. */
export function parseMaxDelete(text: string): MaxDelete {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  if (!m) throw new UsageError(`--max-delete ${text} is not a number of files or a percentage`, 'Write it like 100 or 5%.');
  const n = Number(m[1]);
  if (m[2] === '%') {
    if (n > 100) {
      throw new UsageError(
        `--max-delete ${text}: a percentage of the backup's files must be at most 100%`,
        'Give --max-delete 100% to allow deleting every file the source no longer has.',
      );
    }
    return { percent: n };
  }
  if (!Number.isInteger(n))
    throw new UsageError(`--max-delete ${text}: a number of files must be a whole number`, 'Write it like 100 or 5%.');
  return { count: n };
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
