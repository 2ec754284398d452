/**
 * The body of a report mail, as plain text and HTML with the same content:
 * the lead sentence, warnings, the summary, the listed differences and the
 * footer. The body stays under BODY_BUDGET bytes (Gmail clips larger
 * messages); when the list of differences does not fit, the body shows part
 * of it and the full list goes along as a CSV attachment (csv.ts).
 */
import { CATEGORIES, type Difference } from '../diff/index.js';
import type { MailAttachment, MailContent } from './compose.js';
import type { CheckReport } from '../report/model.js';
import { printablePath } from '../base/printable.js';
import { formatBytes, formatCount, formatDuration, plural, withSize } from '../base/units.js';
import { CATEGORY_LABELS, CATEGORY_TITLES, describeDifference, nextStepWords, specialModesWords } from '../report/words.js';
import { backupName, sourceName, type EmailContext } from './context.js';
import { formatDate } from './dates.js';
import { COLORS, FONT, MONO, callout, dataTable, escapeHtml, page, paragraph, type Rendered } from './html.js';
import { allocateRows, isSuspicious, pathOf } from './rows.js';
import { listedCounts, listedDifferences, type ListedDifference } from '../report/whole-folders.js';
import { csvAttachment } from './csv.js';

/** Text + HTML together stay below this (Gmail clips a message body at 102 KB). */
export const BODY_BUDGET = 95 * 1024;
/** Never list more than this many differences in the body, whatever their size. */
const MAX_ROWS = 500;

function summaryRows(report: CheckReport): Array<{ label: string; count: number; bytes: number; failing: boolean }> {
  return CATEGORIES.filter((c) => report.summary.byCategory[c].count > 0).map((c) => ({
    label: CATEGORY_LABELS[c],
    count: report.summary.byCategory[c].count,
    bytes: report.summary.byCategory[c].bytes,
    failing: report.differences.some((d) => d.category === c && d.failing),
  }));
}

/** Suspicious source changes named in the warning; the rest are counted (all are in the CSV). */
const SUSPICIOUS_NAMES = 20;
/** ... and no more than this many characters of their names, so long names cannot push the body over its budget. */
const SUSPICIOUS_NAME_CHARS = 4000;

/** The names the warning shows: the first few, within SUSPICIOUS_NAME_CHARS. */
function suspiciousNames(suspicious: Difference[]): string[] {
  const names: string[] = [];
  let chars = 0;
  for (const d of suspicious.slice(0, SUSPICIOUS_NAMES)) {
    const name = pathOf(d);
    if (names.length > 0 && chars + name.length > SUSPICIOUS_NAME_CHARS) break;
    names.push(name);
    chars += name.length;
  }
  return names;
}

function leadSentence(report: CheckReport, ctx: EmailContext): string {
  const src = sourceName(report);
  const totals = report.source.totals;
  const compared = totals ? `${plural(totals.files, 'file')} (${formatBytes(totals.bytes)}) on ${src}` : `the files on ${src}`;
  if (report.error) return `synker on ${backupName(report, ctx)} could not check the backup of ${report.folderId}.`;
  if (report.complete) {
    const notes =
      report.summary.differences > 0
        ? ` ${plural(report.summary.differences, 'difference')} that do${report.summary.differences === 1 ? 'es' : ''} not make it incomplete (listed below).`
        : '';
    return `The backup of ${report.folderId} on ${backupName(report, ctx)} matches ${compared}.${notes}`;
  }
  return `The backup of ${report.folderId} on ${backupName(report, ctx)} does not match ${compared}: ${withSize(plural(report.summary.failing, 'difference'), report.summary.failingBytes)}.`;
}

function footerLines(report: CheckReport, ctx: EmailContext): string[] {
  const lines: string[] = [];
  const src = report.source;
  lines.push(
    printablePath(
      `Source: ${src.name ?? 'not reached'}${src.deviceId ? ` (device ${src.deviceId.slice(0, 7)})` : ''}${src.location ? ` at ${src.location}` : ''}`,
    ),
  );
  lines.push(printablePath(`Backup: ${report.backup.name ?? ctx.agentName}${report.backup.location ? `, ${report.backup.location}` : ''}`));
  lines.push(
    `Checked ${formatDate(report.startedAt, ctx)}, took ${formatDuration(Math.max(0, Date.parse(report.finishedAt) - Date.parse(report.startedAt)))}`,
  );
  if (report.settings?.sizeOnly) lines.push('Compared sizes only (--size-only): edits that keep the size are not detected.');
  if (report.settings?.verify) lines.push('Every file was re-read and hashed on both sides (--verify).');
  const special = specialModesWords(report);
  if (special !== undefined) lines.push(`Note: ${special}`);
  lines.push(`synker ${report.synkerVersion} · report schema ${report.schema} v${report.version}`);
  return lines;
}

/** Parts of the body that replace or come before the default ones (the sync section). */
export interface BodyParts {
  lead?: string;
  /** Rendered after the lead and warnings, before the summary of differences. */
  blocks?: Rendered[];
  summaryTitle?: string;
}

function renderReportBody(
  report: CheckReport,
  listed: readonly ListedDifference[],
  ctx: EmailContext,
  rowLimit: number,
  banner: { color: string; text: string },
  intro: string[],
  attachment: () => string,
  parts: BodyParts = {},
): Rendered {
  const shown = allocateRows(listed, rowLimit);
  const shownCount = [...shown.values()].reduce((n, list) => n + list.length, 0);
  const truncated = shownCount < listed.length;
  const listedCount = listedCounts(listed);
  // Only a cut list needs the attachment (and its name): a short report never builds the CSV.
  const attachmentName = truncated ? attachment() : '';
  const text: string[] = [];
  const html: string[] = [];

  for (const line of intro) {
    text.push(line, '');
    html.push(paragraph(escapeHtml(line)));
  }
  const lead = parts.lead ?? leadSentence(report, ctx);
  text.push(lead, '');
  html.push(paragraph(escapeHtml(lead)));

  if (report.error) {
    text.push(`Error: ${report.error.message}`);
    html.push(paragraph(`<strong>Error:</strong> ${escapeHtml(report.error.message)}`));
    if (report.error.hint) {
      text.push(`What to do: ${report.error.hint}`);
      html.push(paragraph(`<strong>What to do:</strong> ${escapeHtml(report.error.hint)}`));
    }
    text.push('');
  }
  // The verdict's next step, in the words the terminal prints after `hint:` (report/words.ts).
  const next = nextStepWords(report);
  if (next !== undefined) {
    text.push(`What to do: ${next}`, '');
    html.push(paragraph(`<strong>What to do:</strong> ${escapeHtml(next)}`));
  }

  const suspicious = report.differences.filter(isSuspicious);
  if (suspicious.length > 0) {
    const them = suspicious.length === 1 ? 'it' : 'them';
    const warning = `${plural(suspicious.length, 'file')} changed on the source while keeping size and modification time: possible corruption or tampering on the source. Look at ${them} before the backup is updated from the source:`;
    const names = suspiciousNames(suspicious);
    const more =
      suspicious.length > names.length
        ? `… and ${formatCount(suspicious.length - names.length)} more${truncated ? ` in ${attachmentName}` : ', listed below'}`
        : '';
    text.push(`WARNING: ${warning}`, ...names.map((n) => `  ${n}`), ...(more ? [`  ${more}`] : []), '');
    html.push(
      callout(
        COLORS.warn,
        `<strong>Warning:</strong> ${escapeHtml(warning)}` +
          names.map((n) => `<div style="${MONO}word-break:break-all;">${escapeHtml(n)}</div>`).join('') +
          (more ? `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(more)}</div>` : ''),
      ),
    );
  }

  for (const block of parts.blocks ?? []) {
    text.push(block.text);
    html.push(block.html);
  }

  const rows = summaryRows(report);
  if (rows.length > 0) {
    const width = Math.max(...rows.map((r) => r.label.length), 'Total failing'.length);
    const title = parts.summaryTitle ?? 'Summary';
    text.push(title);
    if (parts.summaryTitle !== undefined)
      html.push(`<div style="font-size:16px;font-weight:bold;margin:8px 0 4px 0;${FONT}">${escapeHtml(title)}</div>`);
    for (const r of rows)
      text.push(
        `  ${r.label.padEnd(width)}  ${formatCount(r.count).padStart(9)}  ${formatBytes(r.bytes).padStart(10)}${r.failing ? '' : '  (does not fail)'}`,
      );
    text.push(
      `  ${'Total failing'.padEnd(width)}  ${formatCount(report.summary.failing).padStart(9)}  ${formatBytes(report.summary.failingBytes).padStart(10)}`,
      '',
    );
    html.push(
      dataTable(
        ['Difference', 'Count', 'Size'],
        [
          ...rows.map((r) => [
            escapeHtml(r.label) + (r.failing ? '' : ` <span style="color:${COLORS.muted};">(does not fail)</span>`),
            formatCount(r.count),
            formatBytes(r.bytes),
          ]),
          [
            '<strong>Total failing</strong>',
            `<strong>${formatCount(report.summary.failing)}</strong>`,
            `<strong>${formatBytes(report.summary.failingBytes)}</strong>`,
          ],
        ],
        ['left', 'right', 'right'],
      ),
    );
  }

  if (truncated) {
    const note =
      listed.length === report.differences.length
        ? `This message lists ${formatCount(shownCount)} of ${formatCount(report.differences.length)} differences; the full list is attached (${attachmentName}).`
        : `This message lists ${formatCount(shownCount)} of ${formatCount(listed.length)} lines (a whole folder is one line); every one of the ${formatCount(report.differences.length)} differences is in the attached list (${attachmentName}).`;
    text.push(note, '');
    html.push(paragraph(escapeHtml(note), `color:${COLORS.muted};`));
  }

  for (const [category, list] of shown) {
    // The title counts every difference, as the summary does; the rows count a whole folder as one.
    const total = listedCount.get(category) ?? 0;
    const folders = list.some((d) => d.wholeFolder !== undefined)
      ? listed.reduce((n, d) => (d.category === category && d.wholeFolder !== undefined ? n + 1 : n), 0)
      : 0;
    const title = `${CATEGORY_TITLES[category]} (${formatCount(report.summary.byCategory[category].count)})${folders > 0 ? `: ${plural(folders, 'whole folder')}, one line each` : ''}`;
    text.push(title);
    const items: string[] = [];
    for (const d of list) {
      const detail = describeDifference(d);
      text.push(`  ${pathOf(d)}${detail ? `  (${detail})` : ''}`);
      const suspiciousStyle = d.changedOn === 'source-suspicious' ? `color:${COLORS.bad};font-weight:bold;` : `color:${COLORS.muted};`;
      items.push(
        `<tr><td style="padding:4px 0;border-bottom:1px solid ${COLORS.line};font-size:13px;${FONT}">` +
          `<div style="${MONO}word-break:break-all;">${escapeHtml(pathOf(d))}</div>` +
          (detail ? `<div style="font-size:12px;${suspiciousStyle}">${escapeHtml(detail)}</div>` : '') +
          `</td></tr>`,
      );
    }
    if (list.length < total) {
      const more = `… and ${formatCount(total - list.length)} more in ${attachmentName}`;
      text.push(`  ${more}`);
      items.push(`<tr><td style="padding:4px 0;font-size:12px;color:${COLORS.muted};${FONT}">${escapeHtml(more)}</td></tr>`);
    }
    text.push('');
    html.push(
      `<div style="font-size:16px;font-weight:bold;margin:8px 0 4px 0;${FONT}">${escapeHtml(title)}</div>` +
        `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">${items.join('')}</table>`,
    );
  }

  const footer = footerLines(report, ctx);
  text.push('--', ...footer);
  html.push(
    `<div style="font-size:12px;color:${COLORS.muted};border-top:1px solid ${COLORS.line};padding-top:8px;${FONT}">${footer.map(escapeHtml).join('<br>')}</div>`,
  );

  return { text: `${text.join('\n')}\n`, html: page(banner.text, banner, html) };
}

export function bannerFor(report: CheckReport): { color: string; text: string } {
  if (report.error) return { color: COLORS.warn, text: 'Backup NOT verified' };
  if (report.complete) return { color: COLORS.ok, text: 'Backup complete' };
  return { color: COLORS.bad, text: `Backup incomplete: ${plural(report.summary.failing, 'difference')}` };
}

/** Fits the body into BODY_BUDGET by listing fewer rows; the CSV carries the rest. */
function fitted(lines: number, render: (rows: number) => Rendered): { body: Rendered; complete: boolean } {
  let rows = Math.min(MAX_ROWS, lines);
  for (;;) {
    const body = render(rows);
    const size = Buffer.byteLength(body.text) + Buffer.byteLength(body.html);
    if (size <= BODY_BUDGET || rows === 0) return { body, complete: rows >= lines };
    rows = Math.floor(rows * Math.min(0.8, BODY_BUDGET / size));
  }
}

function withAttachment(body: Rendered, complete: boolean, subject: string, attachment: () => MailAttachment): MailContent {
  return { subject, text: body.text, html: body.html, attachments: complete ? [] : [attachment()] };
}

/** A report mail: the body fitted into BODY_BUDGET, and the CSV attached when the body does not list every difference. */
export function reportMessage(
  report: CheckReport,
  ctx: EmailContext,
  subject: string,
  banner: { color: string; text: string },
  intro: string[] = [],
  parts: BodyParts = {},
): MailContent {
  let attachment: MailAttachment | undefined;
  const csv = (): MailAttachment => (attachment ??= csvAttachment(report));
  // A folder missing with everything in it is one row (report/whole-folders.ts); the CSV lists every difference.
  const listed = listedDifferences(report.differences);
  const { body, complete } = fitted(listed.length, (rows) =>
    renderReportBody(report, listed, ctx, rows, banner, intro, () => csv().filename, parts),
  );
  return withAttachment(body, complete, subject, csv);
}
