/**
 * The sync section of the report (src/report/model.ts SyncReport): what a
 * sync fixed, what it refused and why, and which of the check's differences
 * it left as they were. Built from facts the run already has (the plan, what
 * was carried out), so reporting costs no second scan.
 */
import { totalsByCategory, type Difference } from '../diff/index.js';
import type { ReportError, SyncReport } from '../report/model.js';
import { comparePaths } from '../manifest/order.js';
import { wholeFolders } from '../report/whole-folders.js';
import type { SyncOutcome } from './run.js';

export function buildSyncReport(differences: readonly Difference[], outcome: SyncOutcome | undefined, error?: ReportError): SyncReport {
  const result = outcome?.result;
  const done = outcome?.donePaths ?? new Set<string>();
  const keptExtras = (outcome?.plan.skipped ?? []).filter((s) => s.reason === 'extra-kept').length;
  // A difference is resolved when the action made for its path was carried out. A file left over in a
  // folder the sync renamed is under the new name, where the pull of the source's file replaced it.
  const renamed = new Map<string, string>();
  for (const d of differences) if (d.category === 'moved' && d.newPath !== undefined && done.has(d.path)) renamed.set(d.newPath, d.path);
  const newName = (d: Difference): string | undefined => {
    if (d.category !== 'extra' || renamed.size === 0) return undefined;
    for (let slash = d.path.lastIndexOf('/'); slash > 0; slash = d.path.lastIndexOf('/', slash - 1)) {
      const to = renamed.get(d.path.slice(0, slash));
      if (to !== undefined) return `${to}${d.path.slice(slash)}`;
    }
    return undefined;
  };
  // Or it is the backup's copy of a file whose change was refused: that refusal is the one difference left.
  const refused = new Set((outcome?.plan.skipped ?? []).filter((s) => s.reason !== 'extra-kept').map((s) => s.path));
  const gone = (d: Difference): boolean => {
    const to = newName(d);
    return to !== undefined && (done.has(to) || refused.has(to));
  };
  // What stays of a folder the sync renamed is under the new name now, as the next check lists it.
  let renamedAny = false;
  const remaining = differences
    .filter((d) => !done.has(d.path) && !gone(d))
    .map((d) => {
      const to = newName(d);
      if (to === undefined) return d;
      renamedAny = true;
      return { ...d, path: to };
    });
  // Back in manifest order (the next check's) when a path changed.
  if (renamedAny) remaining.sort((a, b) => comparePaths(a.path, b.path));
  const failing = remaining.filter((d) => d.failing);
  const stops = outcome?.plan.stops ?? [];
  const aborted =
    result?.aborted !== undefined
      ? {
          code: result.aborted.code,
          message: result.aborted.message,
          hint: result.aborted.hint ?? 'what was done stays done; sync again to finish (interrupted files resume)',
        }
      : (error ?? null);
  return {
    dryRun: outcome?.dryRun ?? false,
    fixed: {
      pulledFiles: result?.pulled ?? 0,
      pulledBytes: result?.pulledBytes ?? 0,
      bytesReceived: result?.bytesReceived ?? 0,
      moved: result?.moved ?? 0,
      renames: result?.renames ?? 0,
      created: result?.created ?? 0,
      metadataFixed: result?.metadataFixed ?? 0,
      deleted: result?.deleted ?? 0,
      emptiedFolders: result?.emptiedFolders ?? 0,
      versions: result?.versions ?? [],
    },
    stops: stops.map((s) => ({ guard: s.guard, message: s.message, hint: s.hint })),
    refused: (outcome?.plan.skipped ?? [])
      .filter((s) => s.reason !== 'extra-kept')
      .map((s) => ({ path: s.path, reason: s.reason, detail: s.detail })),
    keptExtras,
    backupTotals: outcome?.backupTotals ?? null,
    // The report shows each path next to its message: the message need not start with it again.
    failed: (result?.failed ?? []).map(({ path, code, message }) => ({
      path,
      code,
      message: message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message,
    })),
    aborted: stops.length > 0 ? null : aborted,
    remaining: {
      failing: failing.length,
      failingBytes: failing.reduce((n, d) => n + d.bytes, 0),
      byCategory: totalsByCategory(remaining),
      wholeFolders: wholeFolders(remaining),
      differences: remaining,
    },
    // Extras never fail (report/model.ts verdictOf): kept without --delete, the backup is still complete.
    complete: result !== undefined && aborted === null && failing.length === 0,
  };
}
