/**
 * The CSV attachment: every difference, one per line, for spreadsheets and
 * scripts; gzipped when large, so the message stays within mail servers'
 * size limits.
 */
import { gzipSync } from 'node:zlib';
import type { MailAttachment } from './compose.js';
import type { CheckReport } from '../report/model.js';
import { describeDifference } from '../report/words.js';

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
      [d.category, d.path, d.newPath, d.otherPath, d.bytes, d.failing, d.changedOn, d.changes?.join(' '), d.side, describeDifference(d)]
        .map(csvField)
        .join(','),
    );
  }
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

function csvName(report: CheckReport): string {
  const safeId = report.folderId.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `synker-${safeId}-${report.startedAt.slice(0, 10)}-differences.csv`;
}

/** Above this the CSV goes gzipped: a list of 100,000 differences is ~6 MB as text, ~10x less compressed. */
const GZIP_CSV_ABOVE = 1024 * 1024;

/** The full list as an attachment; large lists are gzipped so the message stays within mail servers' size limits. */
export function csvAttachment(report: CheckReport): MailAttachment {
  const csv = differencesCsv(report);
  if (Buffer.byteLength(csv) <= GZIP_CSV_ABOVE) return { filename: csvName(report), content: csv, contentType: 'text/csv; charset=utf-8' };
  return { filename: `${csvName(report)}.gz`, content: gzipSync(csv), contentType: 'application/gzip' };
}
