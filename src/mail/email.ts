/**
 * E-mail rendering of the check report (model.ts) and of the agent's notices
 * (backup not verified since..., verified again, test mail). Every message has
 * a subject that states the result at a glance, and the same content as plain
 * text and as HTML built to survive real mail clients: inline styles only,
 * tables for layout, no images, fonts, scripts or links to anything outside
 * the message. The body stays under BODY_BUDGET bytes (Gmail clips larger
 * messages); when the list of differences does not fit, the body shows part
 * of it and the full list goes along as a CSV attachment.
 */
import { gzipSync } from 'node:zlib';
import { CATEGORIES, type Category, type Difference } from '../diff/index.js';
import { SYNKER_VERSION } from '../base/version.js';
import type { MailAttachment, MailContent } from './compose.js';
import { failingAfterSync, keptOnPurpose, type CheckReport, type SyncReport } from '../report/model.js';
import { printablePath } from '../report/printable.js';
import { formatBytes, formatCount, plural } from '../base/units.js';
import { CATEGORY_LABELS, CATEGORY_TITLES, describeDifference, fixedPhrase, GUARD_WORDS, REFUSAL_WORDS } from '../report/words.js';

/** Text + HTML together stay below this (Gmail clips a message body at 102 KB). */
export const BODY_BUDGET = 95 * 1024;
/** Never list more than this many differences in the body, whatever their size. */
const MAX_ROWS = 500;

export interface EmailContext {
  /** Now, for relative words ("4 days"); injected so tests are stable. */
  now: Date;
  /** IANA time zone for dates in the mail (default: this machine's). */
  timeZone?: string;
  /** This agent's name, when the report does not carry the backup's name. */
  agentName: string;
  /** The source's name from the config, for a report whose check never reached it. */
  sourceNameOf?: (folderId: string) => string | undefined;
}

// ---------------------------------------------------------------- words

function folderPhrase(folderId: string, machine: string): string {
  return `Backup of ${folderId} on ${machine}`;
}

/**
 * Machine names come from the config and from the peer: escaped like file
 * names (printable.ts), so a bidi override cannot turn a subject around.
 */
function machineName(name: string): string {
  return printablePath(name);
}

function backupName(report: CheckReport, ctx: EmailContext): string {
  return machineName(report.backup.name ?? ctx.agentName);
}

function sourceName(report: CheckReport): string {
  return machineName(report.source.name ?? report.source.location ?? 'the source');
}

const KIND_NOUNS = { file: ['file', 'files'], folder: ['folder', 'folders'], symlink: ['symlink', 'symlinks'], entry: ['entry', 'entries'] } as const;
type Kind = keyof typeof KIND_NOUNS;

function kindOf(d: Difference): Kind {
  if (d.fileCount !== undefined && d.category === 'moved') return 'folder';
  const type = (d.source ?? d.backup)?.type;
  return type === 'file' ? 'file' : type === 'dir' ? 'folder' : type === 'symlink' ? 'symlink' : 'entry';
}

/** "2 files and 1 folder", "1 extra file": what a category holds, counted by kind. */
function countedNoun(differences: Difference[], category: Category, adjective = ''): string {
  const counts = new Map<Kind, number>();
  for (const d of differences) if (d.category === category) counts.set(kindOf(d), (counts.get(kindOf(d)) ?? 0) + 1);
  const parts = (Object.keys(KIND_NOUNS) as Kind[])
    .filter((k) => (counts.get(k) ?? 0) > 0)
    .map((k, i) => {
      const n = counts.get(k)!;
      return `${formatCount(n)} ${i === 0 && adjective ? `${adjective} ` : ''}${KIND_NOUNS[k][n === 1 ? 0 : 1]}`;
    });
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

const SUBJECT_PHRASE: Partial<Record<Category, (differences: Difference[], n: number) => string>> = {
  missing: (ds) => `${countedNoun(ds, 'missing')} missing`,
  content: (ds, n) => `${countedNoun(ds, 'content')} differ${n === 1 ? 's' : ''}`,
  extra: (ds) => countedNoun(ds, 'extra', 'extra'),
  type: (ds) => `${countedNoun(ds, 'type')} changed type`,
  moved: (ds) => `${countedNoun(ds, 'moved')} moved`,
  'name-clash': (_ds, n) => `${plural(n, 'name clash', 'name clashes')}`,
  unreadable: (ds) => `${countedNoun(ds, 'unreadable')} unreadable`,
  unstable: (ds) => `${countedNoun(ds, 'unstable')} changed while scanned`,
};

/** "12 files missing (340 MiB), 3 files differ, 2 extra files" — the worst three failing categories. */
export function differencePhrase(report: CheckReport): string {
  const parts: string[] = [];
  for (const category of CATEGORIES) {
    const total = report.summary.byCategory[category];
    const phrase = SUBJECT_PHRASE[category];
    if (!phrase || total.count === 0) continue;
    if (!report.differences.some((d) => d.category === category && d.failing)) continue;
    const text = phrase(report.differences, total.count);
    parts.push(parts.length === 0 && total.bytes > 0 ? `${text} (${formatBytes(total.bytes)})` : text);
  }
  if (parts.length === 0) return plural(report.summary.failing, 'difference');
  return parts.length > 3 ? `${parts.slice(0, 3).join(', ')} and more` : parts.join(', ');
}

/** Why a check could not be done, in a few words for a subject line; the body has the whole message. */
function errorPhrase(report: CheckReport, error: NonNullable<CheckReport['error']>, ctx: EmailContext): string {
  const name = report.source.name ?? ctx.sourceNameOf?.(report.folderId);
  const source = name === undefined ? 'the source' : `the source ${machineName(name)}`;
  switch (error.code) {
    case 'E_SOURCE_UNREACHABLE':
    case 'E_SOURCE_NOT_FOUND':
      return `${source} cannot be reached`;
    case 'E_SOURCE_FAILED':
      return `${source} refused or failed`;
    // The source was serving the manifest, then went away: the body says when and how.
    case 'E_PEER_CLOSED':
      return `${source} dropped the connection`;
    case 'E_PEER_UNRESPONSIVE':
      return `${source} stopped answering`;
    case 'E_SOURCE_FOLDER_ABSENT':
      return `the folder is absent on ${source} (disk not mounted?)`;
    case 'E_FOLDER_ABSENT':
      return 'the backup folder is absent (disk not mounted?)';
    default:
      return oneLine(error.message, 120);
  }
}

export function reportSubject(report: CheckReport, ctx: EmailContext): string {
  const head = folderPhrase(report.folderId, backupName(report, ctx));
  if (report.error) return `${head} NOT verified: ${errorPhrase(report, report.error, ctx)}`;
  if (report.complete) return `${head} is complete`;
  return `${head}: ${differencePhrase(report)}`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function formatDate(iso: string | Date, ctx: EmailContext): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  return new Intl.DateTimeFormat('en-GB', {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
    ...(ctx.timeZone !== undefined ? { timeZone: ctx.timeZone } : {}),
  }).format(date);
}

/** "3 Nov", with the year only when it is not this year. */
function shortDate(iso: string, ctx: EmailContext): string {
  const date = new Date(iso);
  const tz = ctx.timeZone !== undefined ? { timeZone: ctx.timeZone } : {};
  const year = (d: Date) => new Intl.DateTimeFormat('en-GB', { year: 'numeric', ...tz }).format(d);
  return new Intl.DateTimeFormat('en-GB', {
    day: 'numeric', month: 'short', ...(year(date) !== year(ctx.now) ? { year: 'numeric' } : {}), ...tz,
  }).format(date);
}

/** How long since `iso`, rounded to what a person would say: "3 minutes", "5 hours", "2 days and 23 hours". */
export function ago(iso: string, now: Date): string {
  const minutes = Math.max(1, Math.round((now.getTime() - Date.parse(iso)) / 60_000));
  if (minutes < 60) return plural(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  const days = Math.floor(hours / 24);
  const rest = hours - days * 24;
  return rest === 0 ? plural(days, 'day') : `${plural(days, 'day')} and ${plural(rest, 'hour')}`;
}

function pathOf(d: Difference): string {
  // Read as a rename, old name first: where the backup has it → what the source calls it now.
  if (d.newPath !== undefined) return `${printablePath(d.newPath)} → ${printablePath(d.path)}`;
  if (d.otherPath !== undefined) return `${printablePath(d.path)} ≠ ${printablePath(d.otherPath)}`;
  return printablePath(d.path);
}

// ---------------------------------------------------------------- choosing rows

function isSuspicious(d: Difference): boolean {
  return d.changedOn === 'source-suspicious';
}

/**
 * Shares `limit` rows among categories: suspicious source changes first, each
 * at the top of its category, then round-robin, so a flood in one category
 * does not hide the others.
 */
function allocateRows(report: CheckReport, limit: number): Map<Category, Difference[]> {
  const groups = new Map<Category, Difference[]>();
  for (const category of CATEGORIES) groups.set(category, []);
  for (const d of report.differences) if (isSuspicious(d)) groups.get(d.category)!.push(d);
  for (const d of report.differences) if (!isSuspicious(d)) groups.get(d.category)!.push(d);
  const shown = new Map<Category, Difference[]>();
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

// ---------------------------------------------------------------- HTML kit

const FONT = 'font-family:Arial,Helvetica,sans-serif;';
const MONO = "font-family:Consolas,Menlo,'Courier New',monospace;";
const COLORS = { ok: '#15803d', bad: '#b91c1c', warn: '#b45309', muted: '#6b7280', line: '#e5e7eb' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, banner: { color: string; text: string }, rows: string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">',
    `<title>${escapeHtml(title)}</title></head>`,
    `<body style="margin:0;padding:0;background-color:#f3f4f6;">`,
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f3f4f6;">`,
    `<tr><td align="center" style="padding:24px 8px;">`,
    `<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:640px;background-color:#ffffff;border:1px solid ${COLORS.line};${FONT}color:#111827;">`,
    `<tr><td style="background-color:${banner.color};color:#ffffff;padding:16px 24px;font-size:20px;font-weight:bold;${FONT}">${escapeHtml(banner.text)}</td></tr>`,
    ...rows.map((r) => `<tr><td style="padding:12px 24px;font-size:14px;line-height:1.5;${FONT}">${r}</td></tr>`),
    `</table></td></tr></table></body></html>`,
  ].join('\n');
}

function paragraph(html: string, style = ''): string {
  return `<p style="margin:0 0 8px 0;${style}">${html}</p>`;
}

function callout(color: string, html: string): string {
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td style="border-left:4px solid ${color};background-color:#fef3c7;padding:8px 12px;font-size:14px;${FONT}">${html}</td></tr></table>`;
}

function dataTable(header: string[], rows: string[][], align: Array<'left' | 'right'>): string {
  const cell = (tag: 'th' | 'td', text: string, i: number) =>
    `<${tag} align="${align[i] ?? 'left'}" style="padding:4px 8px;border-bottom:1px solid ${COLORS.line};font-size:13px;${tag === 'th' ? 'color:#374151;' : ''}${FONT}">${text}</${tag}>`;
  return [
    `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;">`,
    `<tr>${header.map((h, i) => cell('th', h, i)).join('')}</tr>`,
    ...rows.map((r) => `<tr>${r.map((c, i) => cell('td', c, i)).join('')}</tr>`),
    '</table>',
  ].join('\n');
}

// ---------------------------------------------------------------- report body

interface Rendered {
  text: string;
  html: string;
}

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
    const notes = report.summary.differences > 0 ? ` ${plural(report.summary.differences, 'difference')} that do${report.summary.differences === 1 ? 'es' : ''} not make it incomplete (listed below).` : '';
    return `The backup of ${report.folderId} on ${backupName(report, ctx)} matches ${compared}.${notes}`;
  }
  return `The backup of ${report.folderId} on ${backupName(report, ctx)} does not match ${compared}: ${plural(report.summary.failing, 'difference')} (${formatBytes(report.summary.failingBytes)}).`;
}

function footerLines(report: CheckReport, ctx: EmailContext): string[] {
  const lines: string[] = [];
  const src = report.source;
  lines.push(printablePath(`Source: ${src.name ?? 'not reached'}${src.deviceId ? ` (device ${src.deviceId.slice(0, 7)})` : ''}${src.location ? ` at ${src.location}` : ''}`));
  lines.push(printablePath(`Backup: ${report.backup.name ?? ctx.agentName}${report.backup.location ? `, ${report.backup.location}` : ''}`));
  lines.push(`Checked ${formatDate(report.startedAt, ctx)}, took ${Math.max(0, Math.round((Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000))} s`);
  if (report.settings?.sizeOnly) lines.push('Compared sizes only (--size-only): edits that keep the size are not detected.');
  if (report.settings?.verify) lines.push('Every file was re-read and hashed on both sides (--verify).');
  lines.push(`synker ${report.synkerVersion} · report schema ${report.schema} v${report.version}`);
  return lines;
}

/** Parts of the body that replace or come before the default ones (the sync section). */
interface BodyParts {
  lead?: string;
  /** Rendered after the lead and warnings, before the summary of differences. */
  blocks?: Rendered[];
  summaryTitle?: string;
}

function renderReportBody(report: CheckReport, ctx: EmailContext, rowLimit: number, banner: { color: string; text: string }, intro: string[], attachment: () => string, parts: BodyParts = {}): Rendered {
  const shown = allocateRows(report, rowLimit);
  const shownCount = [...shown.values()].reduce((n, list) => n + list.length, 0);
  const truncated = shownCount < report.differences.length;
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

  const suspicious = report.differences.filter(isSuspicious);
  if (suspicious.length > 0) {
    const them = suspicious.length === 1 ? 'it' : 'them';
    const warning = `${plural(suspicious.length, 'file')} changed on the source while keeping size and modification time: possible corruption or tampering on the source. Look at ${them} before the backup is updated from the source:`;
    const names = suspiciousNames(suspicious);
    const more = suspicious.length > names.length ? `… and ${formatCount(suspicious.length - names.length)} more${truncated ? ` in ${attachmentName}` : ', listed below'}` : '';
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
    if (parts.summaryTitle !== undefined) html.push(`<div style="font-size:16px;font-weight:bold;margin:8px 0 4px 0;${FONT}">${escapeHtml(title)}</div>`);
    for (const r of rows) text.push(`  ${r.label.padEnd(width)}  ${formatCount(r.count).padStart(9)}  ${formatBytes(r.bytes).padStart(10)}${r.failing ? '' : '  (does not fail)'}`);
    text.push(`  ${'Total failing'.padEnd(width)}  ${formatCount(report.summary.failing).padStart(9)}  ${formatBytes(report.summary.failingBytes).padStart(10)}`, '');
    html.push(
      dataTable(
        ['Difference', 'Count', 'Size'],
        [
          ...rows.map((r) => [escapeHtml(r.label) + (r.failing ? '' : ` <span style="color:${COLORS.muted};">(does not fail)</span>`), formatCount(r.count), formatBytes(r.bytes)]),
          ['<strong>Total failing</strong>', `<strong>${formatCount(report.summary.failing)}</strong>`, `<strong>${formatBytes(report.summary.failingBytes)}</strong>`],
        ],
        ['left', 'right', 'right'],
      ),
    );
  }

  if (truncated) {
    const note = `This message lists ${formatCount(shownCount)} of ${formatCount(report.differences.length)} differences; the full list is attached (${attachmentName}).`;
    text.push(note, '');
    html.push(paragraph(escapeHtml(note), `color:${COLORS.muted};`));
  }

  for (const [category, list] of shown) {
    const total = report.summary.byCategory[category].count;
    const title = `${CATEGORY_TITLES[category]} (${formatCount(total)})`;
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
  html.push(`<div style="font-size:12px;color:${COLORS.muted};border-top:1px solid ${COLORS.line};padding-top:8px;${FONT}">${footer.map(escapeHtml).join('<br>')}</div>`);

  return { text: text.join('\n') + '\n', html: page(banner.text, banner, html) };
}

function bannerFor(report: CheckReport): { color: string; text: string } {
  if (report.error) return { color: COLORS.warn, text: 'Backup NOT verified' };
  if (report.complete) return { color: COLORS.ok, text: 'Backup complete' };
  return { color: COLORS.bad, text: `Backup incomplete: ${plural(report.summary.failing, 'difference')}` };
}

/** Fits the body into BODY_BUDGET by listing fewer rows; the CSV carries the rest. */
function fitted(report: CheckReport, render: (rows: number) => Rendered): { body: Rendered; complete: boolean } {
  let rows = Math.min(MAX_ROWS, report.differences.length);
  for (;;) {
    const body = render(rows);
    const size = Buffer.byteLength(body.text) + Buffer.byteLength(body.html);
    if (size <= BODY_BUDGET || rows === 0) return { body, complete: rows >= report.differences.length };
    rows = Math.floor(rows * Math.min(0.8, BODY_BUDGET / size));
  }
}

function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  // A leading = + - @ would run as a formula in a spreadsheet: neutralise it.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Every difference, one per line, for spreadsheets and scripts (RFC 4180, UTF-8 with BOM for Excel). */
export function differencesCsv(report: CheckReport): string {
  const header = ['category', 'path', 'new_path', 'other_path', 'bytes', 'failing', 'changed_on', 'changes', 'side', 'detail'];
  const lines = [header.join(',')];
  for (const d of report.differences) {
    lines.push(
      [d.category, d.path, d.newPath, d.otherPath, d.bytes, d.failing, d.changedOn, d.changes?.join(' '), d.side, describeDifference(d)].map(csvField).join(','),
    );
  }
  return '\ufeff' + lines.join('\r\n') + '\r\n';
}

function csvName(report: CheckReport): string {
  const safeId = report.folderId.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `synker-${safeId}-${report.startedAt.slice(0, 10)}-differences.csv`;
}

/** Above this the CSV goes gzipped: a list of 100,000 differences is ~6 MB as text, ~10x less compressed. */
const GZIP_CSV_ABOVE = 1024 * 1024;

/** The full list as an attachment; large lists are gzipped so the message stays within mail servers' size limits. */
function csvAttachment(report: CheckReport): MailAttachment {
  const csv = differencesCsv(report);
  if (Buffer.byteLength(csv) <= GZIP_CSV_ABOVE) return { filename: csvName(report), content: csv, contentType: 'text/csv; charset=utf-8' };
  return { filename: `${csvName(report)}.gz`, content: gzipSync(csv), contentType: 'application/gzip' };
}

function withAttachment(body: Rendered, complete: boolean, subject: string, attachment: () => MailAttachment): MailContent {
  return { subject, text: body.text, html: body.html, attachments: complete ? [] : [attachment()] };
}

export function renderReportEmail(report: CheckReport, ctx: EmailContext): MailContent {
  if (report.sync !== null && report.error === null) return renderSyncEmail(report, report.sync, ctx);
  const subject = reportSubject(report, ctx);
  let attachment: MailAttachment | undefined;
  const csv = (): MailAttachment => (attachment ??= csvAttachment(report));
  const { body, complete } = fitted(report, (rows) => renderReportBody(report, ctx, rows, bannerFor(report), [], () => csv().filename));
  return withAttachment(body, complete, subject, csv);
}

// ---------------------------------------------------------------- sync

/** The report as the sync left it: the differences still there, with their counts. */
function afterSync(report: CheckReport, sync: SyncReport): CheckReport {
  const left = sync.remaining;
  return {
    ...report,
    complete: sync.complete,
    differences: left.differences.map((d) => (d.failing && keptOnPurpose(sync.keptExtras, d) ? { ...d, failing: false } : d)),
    summary: { ...report.summary, differences: left.differences.length, ...failingAfterSync(sync), byCategory: left.byCategory },
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
  const text = [title, ...shown.map((i) => `  ${printablePath(i.path)}  (${printablePath(i.detail)})`), ...(more > 0 ? [`  … and ${formatCount(more)} more`] : []), ''];
  const rows = shown.map(
    (i) =>
      `<tr><td style="padding:4px 0;border-bottom:1px solid ${COLORS.line};font-size:13px;${FONT}"><div style="${MONO}word-break:break-all;">${escapeHtml(printablePath(i.path))}</div>` +
      `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(printablePath(i.detail))}</div></td></tr>`,
  );
  if (more > 0) rows.push(`<tr><td style="padding:4px 0;font-size:12px;color:${COLORS.muted};${FONT}">… and ${formatCount(more)} more</td></tr>`);
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
    blocks.push({ text: `${line}\nWhat to do: ${stop.hint}\n`, html: callout(COLORS.bad, `<strong>${escapeHtml(line)}</strong><br>What to do: ${escapeHtml(stop.hint)}`) });
  }
  if (sync.aborted !== null) {
    const line = `The sync stopped part-way: ${sync.aborted.message}`;
    const hint = sync.aborted.hint ? `What to do: ${sync.aborted.hint}` : '';
    blocks.push({ text: `${line}\n${hint}\n`, html: callout(COLORS.bad, `${escapeHtml(line)}${hint ? `<br>${escapeHtml(hint)}` : ''}`) });
  }
  const f = sync.fixed;
  const rows: Array<[string, number, string]> = [
    ['Copied from the source', f.pulledFiles, formatBytes(f.pulledBytes)],
    ['Renamed locally (moves)', f.moved, ''],
    ['Folders and links created', f.created, ''],
    ['Times and permissions set', f.metadataFixed, ''],
    ['Removed (deleted on the source)', f.deleted, ''],
    ['Old copies kept in .synker/versions/', f.versions.length, ''],
  ];
  const shown = rows.filter(([, n]) => n > 0);
  if (shown.length > 0) {
    const width = Math.max(...shown.map(([l]) => l.length));
    const received = f.bytesReceived < f.pulledBytes ? `${formatBytes(f.bytesReceived)} came over the network; the rest was resumed or copied locally.` : '';
    blocks.push({
      text: ['What the sync fixed', ...shown.map(([l, n, b]) => `  ${l.padEnd(width)}  ${formatCount(n).padStart(9)}  ${b.padStart(10)}`.trimEnd()), ...(received ? [`  ${received}`] : []), ''].join('\n'),
      html:
        `<div style="font-size:16px;font-weight:bold;margin:8px 0 4px 0;${FONT}">What the sync fixed</div>` +
        dataTable(['', 'Count', 'Size'], shown.map(([l, n, b]) => [escapeHtml(l), formatCount(n), b]), ['left', 'right', 'right']) +
        (received ? paragraph(escapeHtml(received), `color:${COLORS.muted};`) : ''),
    });
  }
  if (sync.refused.length > 0) {
    blocks.push(listBlock(`Not synced on purpose (${formatCount(sync.refused.length)})`, sync.refused.map((r) => ({ path: r.path, detail: `${REFUSAL_WORDS[r.reason] ?? r.reason}: ${r.detail}` })), SYNC_LIST_ROWS));
  }
  if (sync.failed.length > 0) blocks.push(listBlock(`Failed (${formatCount(sync.failed.length)})`, sync.failed.map((x) => ({ path: x.path, detail: x.message })), SYNC_LIST_ROWS));
  if (sync.keptExtras > 0) {
    const line = `${plural(sync.keptExtras, 'file')} only on the backup ${sync.keptExtras === 1 ? 'was' : 'were'} kept (a sync with --delete moves them to .synker/versions/).`;
    blocks.push({ text: `${line}\n`, html: paragraph(escapeHtml(line)) });
  }
  return blocks;
}

function syncLead(report: CheckReport, sync: SyncReport, ctx: EmailContext): string {
  const where = `the backup of ${report.folderId} on ${backupName(report, ctx)} from ${sourceName(report)}`;
  if (sync.stops.length > 0) return `synker did NOT sync ${where}: a safety guard stopped it before anything changed. The check found ${plural(report.summary.failing, 'difference')}.`;
  const left = failingAfterSync(sync);
  const state = !sync.complete
    ? `Still different after the sync: ${plural(left.failing, 'difference')} (${formatBytes(left.failingBytes)}).`
    : sync.keptExtras > 0
      ? `The backup now has everything the source has; ${plural(sync.keptExtras, 'file')} only on the backup ${sync.keptExtras === 1 ? 'is' : 'are'} kept (synker sync --delete moves them to .synker/versions/).`
      : 'The backup now matches the source.';
  return `synker synced ${where}: ${fixedPhrase(sync)}. ${state}`;
}

function renderSyncEmail(report: CheckReport, sync: SyncReport, ctx: EmailContext, intro: string[] = [], subject = syncSubject(report, sync, ctx)): MailContent {
  const view = afterSync(report, sync);
  const banner =
    sync.stops.length > 0 || sync.aborted !== null
      ? { color: COLORS.bad, text: sync.stops.length > 0 ? 'Sync STOPPED: nothing changed' : 'Sync interrupted' }
      : sync.complete
        ? { color: COLORS.ok, text: 'Backup synced: complete' }
        : { color: COLORS.bad, text: `Backup synced: ${plural(failingAfterSync(sync).failing, 'difference')} left` };
  let attachment: MailAttachment | undefined;
  const csv = (): MailAttachment => (attachment ??= csvAttachment(view));
  const parts: BodyParts = { lead: syncLead(report, sync, ctx), blocks: syncBlocks(sync), summaryTitle: 'Still differs after the sync' };
  const { body, complete } = fitted(view, (rows) => renderReportBody(view, ctx, rows, banner, intro, () => csv().filename, parts));
  return withAttachment(body, complete, subject, csv);
}

// ---------------------------------------------------------------- notices

export interface StaleNotice {
  folderId: string;
  /** Last time the backup was verified (or the agent started watching it). */
  since: string;
  /** When the agent last tried. */
  lastAttemptAt: string;
  error?: { code: string; message: string; hint?: string };
  /** How often the agent tries again. */
  retryEvery: string;
}

export function renderStaleEmail(notice: StaleNotice, ctx: EmailContext): MailContent {
  const agent = machineName(ctx.agentName);
  const subject = `${folderPhrase(notice.folderId, agent)} NOT verified since ${shortDate(notice.since, ctx)}`;
  const lines = [
    `synker on ${agent} has not been able to verify the backup of ${notice.folderId} for ${ago(notice.since, ctx.now)}, since ${formatDate(notice.since, ctx)}.`,
    'Until a check succeeds, nobody knows whether the backup still matches the source.',
    `Last attempt: ${formatDate(notice.lastAttemptAt, ctx)}${notice.error ? `: ${notice.error.message}` : ''}`,
  ];
  if (notice.error?.hint) lines.push(`What to do: ${notice.error.hint}`);
  lines.push(`synker keeps trying every ${notice.retryEvery} and will write again once the backup is verified.`);
  const footer = `synker ${SYNKER_VERSION} on ${agent}`;
  const text = [...lines, '', '--', footer].join('\n') + '\n';
  const html = page(subject, { color: COLORS.warn, text: `Backup of ${notice.folderId} NOT verified` }, [
    ...lines.map((l) => paragraph(escapeHtml(l))),
    `<div style="font-size:12px;color:${COLORS.muted};">${escapeHtml(footer)}</div>`,
  ]);
  return { subject, text, html };
}

/** The first successful check after a "not verified" alert: the report, introduced by the good news. */
export function renderRecoveredEmail(report: CheckReport, since: string, ctx: EmailContext): MailContent {
  const intro = [`The backup of ${report.folderId} could be verified again, after ${ago(since, ctx.now)} without a successful check (since ${formatDate(since, ctx)}).`];
  if (report.sync !== null) return renderSyncEmail(report, report.sync, ctx, intro, `${folderPhrase(report.folderId, backupName(report, ctx))} verified again, ${syncPhrase(report, report.sync)}`);
  const state = report.complete ? 'complete' : differencePhrase(report);
  const subject = `${folderPhrase(report.folderId, backupName(report, ctx))} verified again: ${state}`;
  const banner = report.complete ? { color: COLORS.ok, text: 'Backup verified again: complete' } : { color: COLORS.bad, text: `Backup verified again: ${plural(report.summary.failing, 'difference')}` };
  let attachment: MailAttachment | undefined;
  const csv = (): MailAttachment => (attachment ??= csvAttachment(report));
  const { body, complete } = fitted(report, (rows) => renderReportBody(report, ctx, rows, banner, intro, () => csv().filename));
  return withAttachment(body, complete, subject, csv);
}

export interface TestEmailFacts {
  host: string;
  port: number;
  security: string;
  user?: string;
  from: string;
  to: string[];
}

export function renderTestEmail(facts: TestEmailFacts, ctx: EmailContext): MailContent {
  const agent = machineName(ctx.agentName);
  const subject = `synker test e-mail from ${agent}`;
  const rows: Array<[string, string]> = [
    ['Server', `${facts.host}:${facts.port} (${facts.security})`],
    ['Login', facts.user ?? 'none'],
    ['From', facts.from],
    ['To', facts.to.join(', ')],
    ['Sent', formatDate(ctx.now, ctx)],
  ];
  const lead = `If you can read this, synker on ${agent} can send you its backup reports.`;
  const text = [lead, '', ...rows.map(([k, v]) => `${k.padEnd(7)} ${v}`), '', '--', `synker ${SYNKER_VERSION}`].join('\n') + '\n';
  const html = page(subject, { color: COLORS.ok, text: 'synker can reach you' }, [
    paragraph(escapeHtml(lead)),
    dataTable(['Setting', 'Value'], rows.map(([k, v]) => [escapeHtml(k), escapeHtml(v)]), ['left', 'left']),
    `<div style="font-size:12px;color:${COLORS.muted};">synker ${escapeHtml(SYNKER_VERSION)}</div>`,
  ]);
  return { subject, text, html };
}

