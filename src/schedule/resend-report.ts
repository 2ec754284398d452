/**
 * "Send the report again" (the status page's button): the folder's last
 * report as the agent keeps it (last-report.ts) e-mailed once more, through
 * the outbox like every message. The kept report holds at most 1,000 items
 * a category, not the full list of the original mail's CSV: this mail
 * lists what is kept (within the mail body budget), counts the rest and
 * says how to have the full list (`synker check FOLDER`). Two presses within
 * a minute send one message (the outbox keys it by the minute).
 */
import { printablePath, printableText } from '../base/printable.js';
import { formatBytes, formatCount, plural } from '../base/units.js';
import { SYNKER_VERSION } from '../base/version.js';
import type { MailContent } from '../mail/compose.js';
import { folderPhrase, machineName, type EmailContext } from '../mail/context.js';
import { formatDate } from '../mail/dates.js';
import { COLORS, MONO, dataTable, escapeHtml, page, paragraph } from '../mail/html.js';
import type { LastReport } from './last-report.js';
import { VERIFIED_BY_WORDS } from './state.js';

/** Items listed in the body, all categories together (the original report mail lists at most 500). */
export const RESEND_ROWS = 300;

/** The outbox key: the same report asked for twice within a minute is one message. */
export function resendKey(last: LastReport, now: number): string {
  return `report-again:${last.folder}:${last.at}:${Math.floor(now / 60_000)}`;
}

export function renderKeptReportEmail(last: LastReport, ctx: EmailContext): MailContent {
  const agent = machineName(ctx.agentName);
  const folder = last.folder;
  const what = last.after === 'sync' ? 'sync' : 'check';
  const state = last.status === 'complete' ? 'complete' : last.status === 'error' ? `could not be checked` : last.summary;
  const subject = `${folderPhrase(folder, agent)}: ${printableText(state)} (sent again)`;
  const banner =
    last.status === 'complete'
      ? { color: COLORS.ok, text: 'Backup complete' }
      : last.status === 'error'
        ? { color: COLORS.warn, text: 'Backup could not be checked' }
        : { color: COLORS.bad, text: `Backup incomplete: ${plural(last.differences ?? 0, 'difference')}` };
  const lead = [
    `The report of the last ${what} of ${folder} on ${agent}, ${formatDate(last.at, ctx)} (${VERIFIED_BY_WORDS[last.by]}), sent again from the status page.`,
    last.peer === null ? 'The source was not reached.' : `Source: ${machineName(last.peer)}.`,
    `Result: ${printableText(last.summary)}`,
  ];
  if (last.error !== null) {
    lead.push(`Error: ${printableText(last.error.message)}`);
    if (last.error.hint !== null) lead.push(`What to do: ${printableText(last.error.hint)}`);
  }
  let budget = RESEND_ROWS;
  let leftOut = 0;
  // A whole folder is one item (report/whole-folders.ts): what is left out is counted in items, as the page counts it.
  const folders = last.categories.some((c) => c.items.some((item) => item.files !== undefined && c.category !== 'moved'));
  const sections = last.categories.map((c) => {
    const shown = c.items.slice(0, Math.max(0, budget));
    budget -= shown.length;
    const more = c.items.length - shown.length + c.more;
    leftOut += more;
    // A folder that stands for what is inside it ends in "/", as in the terminal.
    const slash = (item: { files?: number }) => (item.files !== undefined ? '/' : '');
    const rows = shown.map((item) => ({
      name: `${printablePath(item.path)}${slash(item)}${item.otherPath !== undefined ? ` → ${printablePath(item.otherPath)}${slash(item)}` : ''}`,
      detail: item.detail ?? (item.size !== undefined ? formatBytes(item.size) : ''),
    }));
    const title = `${c.words}: ${formatCount(c.count)}, ${formatBytes(c.bytes)}${c.failing ? '' : ' (does not fail)'}`;
    return { title, rows, more };
  });
  const tail =
    leftOut > 0
      ? `${folders ? `${plural(leftOut, 'item')} (a folder missing with everything in it is one)` : plural(leftOut, 'difference')} not listed here: the status page keeps at most 1,000 a category and this mail lists ${RESEND_ROWS}. For the full list run: synker check ${folder}`
      : '';
  const footer = `synker ${SYNKER_VERSION} on ${agent}`;
  const text = [
    ...lead,
    ...sections.flatMap((s) => [
      '',
      s.title,
      ...s.rows.map((r) => `  ${r.name}${r.detail === '' ? '' : `  ${r.detail}`}`),
      ...(s.more > 0 ? [`  and ${formatCount(s.more)} more`] : []),
    ]),
    ...(tail === '' ? [] : ['', tail]),
    '',
    '--',
    footer,
  ].join('\n');
  const html = page(subject, banner, [
    ...lead.map((l) => paragraph(escapeHtml(l))),
    ...sections.map(
      (s) =>
        paragraph(`<strong>${escapeHtml(s.title)}</strong>`) +
        dataTable(
          ['Name', ''],
          s.rows.map((r) => [`<span style="${MONO}">${escapeHtml(r.name)}</span>`, escapeHtml(r.detail)]),
          ['left', 'right'],
        ) +
        (s.more > 0 ? paragraph(escapeHtml(`and ${formatCount(s.more)} more`), `color:${COLORS.muted};`) : ''),
    ),
    ...(tail === '' ? [] : [paragraph(escapeHtml(tail))]),
    `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(footer)}</div>`,
  ]);
  return { subject, text: `${text}\n`, html };
}
