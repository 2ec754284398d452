/**
 * The mail of a check followed by a sync: what the sync fixed, stopped on or
 * refused, and the differences still there after it.
 */
import type { MailContent } from './compose.js';
import { verdictOf, type CheckReport, type SyncReport } from '../report/model.js';
import { printablePath } from '../base/printable.js';
import { formatBytes, formatCount, plural, withSize } from '../base/units.js';
import { fixedPhrase, GUARD_WORDS, REFUSAL_WORDS } from '../report/words.js';
import { backupName, folderPhrase, oneLine, sourceName, type EmailContext } from './context.js';
import { COLORS, FONT, MONO, callout, dataTable, escapeHtml, paragraph, type Rendered } from './html.js';
import { reportMessage, type BodyParts } from './report-body.js';
import { differencePhrase } from './subject.js';

/** The report as the sync left it: the differences still there, with their counts (report/model.ts verdictOf). */
function afterSync(report: CheckReport, sync: SyncReport): CheckReport {
  const v = verdictOf({ ...report, sync });
  return {
    ...report,
    complete: sync.complete,
    differences: sync.remaining.differences,
    summary: { ...report.summary, differences: v.differences, failing: v.failing, failingBytes: v.failingBytes, byCategory: v.byCategory },
  };
}

/** "synced: 3 files copied (1.2 MiB), 1 renamed; complete", "sync STOPPED (mass change on the source), nothing changed". */
export function syncPhrase(report: CheckReport, sync: SyncReport): string {
  if (sync.stops.length > 0) return `sync STOPPED (${GUARD_WORDS[sync.stops[0]!.guard] ?? sync.stops[0]!.guard}), nothing changed`;
  const fixed = fixedPhrase(sync);
  if (sync.aborted !== null) return `sync interrupted (${fixed}): ${oneLine(sync.aborted.message, 80)}`;
  if (sync.complete) return `synced: ${fixed}; complete${sync.keptExtras > 0 ? ` (${plural(sync.keptExtras, 'extra file')} kept)` : ''}`;
  return `synced: ${fixed}; not fixed: ${differencePhrase(afterSync(report, sync))}`;
}

export function syncSubject(report: CheckReport, sync: SyncReport, ctx: EmailContext): string {
  const phrase = syncPhrase(report, sync);
  return `${folderPhrase(report.folderId, backupName(report, ctx))}${phrase.startsWith('synced') ? ' ' : ': '}${phrase}`;
}

/** Up to `max` lines of a list, and how many more there are. */
function listBlock(title: string, items: Array<{ path: string; detail: string }>, max: number): Rendered {
  const shown = items.slice(0, max);
  const more = items.length - shown.length;
  const text = [
    title,
    ...shown.map((i) => `  ${printablePath(i.path)}  (${printablePath(i.detail)})`),
    ...(more > 0 ? [`  … and ${formatCount(more)} more`] : []),
    '',
  ];
  const rows = shown.map(
    (i) =>
      `<tr><td style="padding:4px 0;border-bottom:1px solid ${COLORS.line};font-size:13px;${FONT}"><div style="${MONO}word-break:break-all;">${escapeHtml(printablePath(i.path))}</div>` +
      `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(printablePath(i.detail))}</div></td></tr>`,
  );
  if (more > 0)
    rows.push(`<tr><td style="padding:4px 0;font-size:12px;color:${COLORS.muted};${FONT}">… and ${formatCount(more)} more</td></tr>`);
  const html =
    `<div style="font-size:16px;font-weight:bold;margin:8px 0 4px 0;${FONT}">${escapeHtml(title)}</div>` +
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">${rows.join('')}</table>`;
  return { text: text.join('\n'), html };
}

const SYNC_LIST_ROWS = 100;

function syncBlocks(sync: SyncReport): Rendered[] {
  const blocks: Rendered[] = [];
  for (const stop of sync.stops) {
    const line = `STOPPED (${GUARD_WORDS[stop.guard] ?? stop.guard}): ${stop.message}.`;
    blocks.push({
      text: `${line}\nWhat to do: ${stop.hint}\n`,
      html: callout(COLORS.bad, `<strong>${escapeHtml(line)}</strong><br>What to do: ${escapeHtml(stop.hint)}`),
    });
  }
  if (sync.aborted !== null) {
    const line = `The sync stopped part-way: ${sync.aborted.message}`;
    const hint = sync.aborted.hint ? `What to do: ${sync.aborted.hint}` : '';
    blocks.push({ text: `${line}\n${hint}\n`, html: callout(COLORS.bad, `${escapeHtml(line)}${hint ? `<br>${escapeHtml(hint)}` : ''}`) });
  }
  const f = sync.fixed;
  const rows: Array<[string, number, string]> = [
    ['Copied from the source', f.pulledFiles, formatBytes(f.pulledBytes)],
    ['Renamed locally (files and folders)', f.renames ?? f.moved, f.moved > (f.renames ?? f.moved) ? plural(f.moved, 'file') : ''],
    ['Folders and links created', f.created, ''],
    ['Times and permissions set', f.metadataFixed, ''],
    ['Removed (deleted on the source)', f.deleted, ''],
    ['Folders the renames emptied, removed', f.emptiedFolders ?? 0, ''],
    ['Old copies kept in .synker/versions/', f.versions.length, ''],
  ];
  const shown = rows.filter(([, n]) => n > 0);
  if (shown.length > 0) {
    const width = Math.max(...shown.map(([l]) => l.length));
    const received =
      f.bytesReceived < f.pulledBytes
        ? `${formatBytes(f.bytesReceived)} came over the network; the rest was resumed or copied locally.`
        : '';
    blocks.push({
      text: [
        'What the sync fixed',
        ...shown.map(([l, n, b]) => `  ${l.padEnd(width)}  ${formatCount(n).padStart(9)}  ${b.padStart(10)}`.trimEnd()),
        ...(received ? [`  ${received}`] : []),
        '',
      ].join('\n'),
      html:
        `<div style="font-size:16px;font-weight:bold;margin:8px 0 4px 0;${FONT}">What the sync fixed</div>` +
        dataTable(
          ['', 'Count', 'Size'],
          shown.map(([l, n, b]) => [escapeHtml(l), formatCount(n), b]),
          ['left', 'right', 'right'],
        ) +
        (received ? paragraph(escapeHtml(received), `color:${COLORS.muted};`) : ''),
    });
  }
  if (sync.refused.length > 0) {
    blocks.push(
      listBlock(
        `Not synced on purpose (${formatCount(sync.refused.length)})`,
        sync.refused.map((r) => ({ path: r.path, detail: `${REFUSAL_WORDS[r.reason] ?? r.reason}: ${r.detail}` })),
        SYNC_LIST_ROWS,
      ),
    );
  }
  if (sync.failed.length > 0)
    blocks.push(
      listBlock(
        `Failed (${formatCount(sync.failed.length)})`,
        sync.failed.map((x) => ({ path: x.path, detail: x.message })),
        SYNC_LIST_ROWS,
      ),
    );
  if (sync.keptExtras > 0) {
    const line = `${plural(sync.keptExtras, 'file')} only on the backup ${sync.keptExtras === 1 ? 'was' : 'were'} kept (a sync with --delete moves them to .synker/versions/).`;
    blocks.push({ text: `${line}\n`, html: paragraph(escapeHtml(line)) });
  }
  return blocks;
}

function syncLead(report: CheckReport, sync: SyncReport, ctx: EmailContext): string {
  const where = `the backup of ${report.folderId} on ${backupName(report, ctx)} from ${sourceName(report)}`;
  if (sync.stops.length > 0)
    return `synker did NOT sync ${where}: a safety guard stopped it before anything changed. The check found ${plural(report.summary.failing, 'difference')}.`;
  const left = verdictOf({ ...report, sync });
  const state = !sync.complete
    ? `Still different after the sync: ${withSize(plural(left.failing, 'difference'), left.failingBytes)}.`
    : sync.keptExtras > 0
      ? `The backup now has everything the source has; ${plural(sync.keptExtras, 'file')} only on the backup ${sync.keptExtras === 1 ? 'is' : 'are'} kept (synker sync --delete moves them to .synker/versions/).`
      : 'The backup now matches the source.';
  return `synker synced ${where}: ${fixedPhrase(sync)}. ${state}`;
}

export function renderSyncEmail(
  report: CheckReport,
  sync: SyncReport,
  ctx: EmailContext,
  intro: string[] = [],
  subject = syncSubject(report, sync, ctx),
): MailContent {
  const view = afterSync(report, sync);
  const banner =
    sync.stops.length > 0 || sync.aborted !== null
      ? { color: COLORS.bad, text: sync.stops.length > 0 ? 'Sync STOPPED: nothing changed' : 'Sync interrupted' }
      : sync.complete
        ? { color: COLORS.ok, text: 'Backup synced: complete' }
        : { color: COLORS.bad, text: `Backup synced: ${plural(verdictOf({ ...report, sync }).failing, 'difference')} left` };
  const parts: BodyParts = { lead: syncLead(report, sync, ctx), blocks: syncBlocks(sync), summaryTitle: 'Still differs after the sync' };
  return reportMessage(view, ctx, subject, banner, intro, parts);
}
