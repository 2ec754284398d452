/**
 * Words for a sync plan (what `--dry-run` prints, and what a run did) and
 * its JSON form. Renderers only read the plan and the result.
 */
import type { ApplyResult } from './apply-types.js';
import type { SyncAction, SyncPlan } from './plan-types.js';
import { formatBytes, formatCount, plural } from '../base/units.js';
import { printablePath, printableTarget, printableText } from '../base/printable.js';
import { renamesPhrase } from '../report/words.js';

export const SYNC_RESULT_SCHEMA = 'synker/sync-result';
export const SYNC_RESULT_VERSION = 1;

/** A file or link that takes the place of a folder the renames empty (kept if anything else is in it). */
const IN_PLACE = '; in place of the folder the renames empty, kept if anything else is in it';

/** A file or link that replaces a folder with --delete: the folder goes to versions whole. */
const WHOLE_FOLDER = 'the folder there, with what is in it, to versions';

export function describeAction(a: SyncAction): string {
  switch (a.op) {
    case 'pull':
      return `copy      ${printablePath(a.at.path)} (${formatBytes(a.entry.size)}, ${a.reason === 'missing' ? 'missing' : a.reason === 'content' ? 'content differs' : 'type changed'}${a.emptied ? IN_PLACE : a.replaces?.type === 'dir' ? `; ${WHOLE_FOLDER}` : ''})`;
    case 'move':
      // By the name the check found (its folder's rename, listed before, moves it first).
      return `rename    ${printablePath((a.foundAt ?? a.from).path)} -> ${printablePath(a.to.path)}${a.fileCount > 1 ? ` (${plural(a.fileCount, 'file')})` : ''}`;
    case 'mkdir':
      return `mkdir     ${printablePath(a.at.path)}/`;
    case 'symlink':
      return `symlink   ${printablePath(a.at.path)} -> ${printableTarget(a.entry.target)}${a.emptied ? ` (${IN_PLACE.slice(2)})` : a.replaces?.type === 'dir' ? ` (${WHOLE_FOLDER})` : ''}`;
    case 'metadata':
      return `set time  ${printablePath(a.at.path)}`;
    case 'set-aside':
      return `set aside ${printablePath(a.at.path)} (to versions)`;
    case 'delete':
      if (a.emptied) return `remove    ${printablePath(a.at.path)}/ (emptied by the renames; kept if anything else is in it)`;
      return `delete    ${printablePath(a.at.path)}${a.entry.type === 'dir' ? '/' : ''} (to versions)`;
  }
}

export function summarizePlan(plan: SyncPlan): string {
  const t = plan.totals;
  const parts = [`${plural(t.pullFiles, 'file')} to copy (${formatBytes(t.pullBytes)})`];
  if (t.moves) parts.push(renamesPhrase(t.moves, t.movedFiles ?? t.moves, 'plan'));
  if (t.mkdirs) parts.push(`${plural(t.mkdirs, 'folder')} to create`);
  if (t.symlinks) parts.push(`${plural(t.symlinks, 'symlink')}`);
  if (t.metadata) parts.push(`${plural(t.metadata, 'time/permission fix', 'time/permission fixes')}`);
  if (t.deletes) parts.push(`${plural(t.deletes, 'file')} to delete (${formatBytes(t.deleteBytes)}, kept in versions)`);
  if (plan.skipped.length) parts.push(`${formatCount(plan.skipped.length)} skipped`);
  return parts.join(', ');
}

/**
 * One line per folder of this machine's own synker folders that the backup holds an old copy of
 * (a restore's `leftAlone`): not a failure, restore never writes there by design.
 */
export function leftAloneLines(plan: SyncPlan): string[] {
  const files = new Set(plan.leftAloneFiles ?? []);
  return (plan.leftAlone ?? []).map(
    (p) =>
      `left alone: ${printablePath(p)}${files.has(p) ? '' : '/'} - the backup holds an old copy of synker's own folder on this machine, which restore never writes over (restore it with --to DIR elsewhere if you need that copy)`,
  );
}

/** The plan as lines of text; long lists are cut at `limit` lines unless `all`. */
export function renderPlan(plan: SyncPlan, options: { all?: boolean; limit?: number } = {}): string {
  const limit = options.all ? Number.POSITIVE_INFINITY : (options.limit ?? 50);
  const out: string[] = [summarizePlan(plan)];
  const list = (title: string, lines: string[]): void => {
    if (lines.length === 0) return;
    out.push('', `${title}:`);
    for (const line of lines.slice(0, limit)) out.push(`  ${line}`);
    if (lines.length > limit) out.push(`  … and ${formatCount(lines.length - limit)} more (--all lists them)`);
  };
  list(
    'would stop',
    plan.stops.map((s) => `${s.message}\n    hint: ${s.hint}`),
  );
  list('actions', plan.actions.map(describeAction));
  list(
    'skipped',
    plan.skipped.map((s) => `${s.reason.padEnd(17)} ${printablePath(s.path)}: ${printableText(s.detail)}`),
  );
  const alone = leftAloneLines(plan);
  if (alone.length > 0) out.push('', ...alone);
  return out.join('\n');
}

export function renderResult(result: ApplyResult): string {
  const lines = [
    `copied ${plural(result.pulled, 'file')} (${formatBytes(result.pulledBytes)}; ${formatBytes(result.bytesReceived)} over the network)` +
      `, ${renamesPhrase(result.renames, result.moved, 'done')}, created ${formatCount(result.created)}, fixed times/permissions of ${formatCount(result.metadataFixed)}, deleted ${formatCount(result.deleted)}`,
  ];
  if (result.versions.length) lines.push(`${plural(result.versions.length, 'replaced or deleted item')} kept in .synker/versions/`);
  for (const f of result.failed) lines.push(`failed: ${printablePath(f.path)}: ${printableText(f.message)}`);
  if (result.aborted) lines.push(`stopped early: ${printableText(result.aborted.message)}`);
  return lines.join('\n');
}

export function planToJson(plan: SyncPlan): object {
  return {
    totals: plan.totals,
    stops: plan.stops,
    actions: plan.actions,
    skipped: plan.skipped,
    ...(plan.leftAlone === undefined ? {} : { leftAlone: plan.leftAlone }),
  };
}
