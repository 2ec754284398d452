/**
 * The README sends readers of the e-mail's CSV attachment to
 * docs/report-schema.md: that page describes every column the code writes,
 * in the order it writes them, and the file name and format rules it uses.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { csvAttachment, differencesCsv } from '../../src/mail/csv.js';
import type { CheckReport } from '../../src/report/model.js';

const ROOT = new URL('../../../', import.meta.url);

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  assert.ok(start >= 0, `docs/report-schema.md has no section "## ${heading}"`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end < 0 ? undefined : end);
}

test("docs/report-schema.md describes the e-mail's CSV attachment: every column, in order, its name and format", () => {
  const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
  assert.match(readme, /docs\/report-schema\.md`: .*the e-mail's CSV attachment/);
  const doc = section(readFileSync(new URL('docs/report-schema.md', ROOT), 'utf8'), "The e-mail's CSV attachment");

  const report = { folderId: 'family photos', startedAt: '2026-01-15T10:00:00.000Z', differences: [] } as unknown as CheckReport;
  const header = differencesCsv(report)
    .replace(/^\ufeff/, '')
    .split('\r\n')[0]!
    .split(',');
  const documented = [...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(documented, header);

  const attachment = csvAttachment(report);
  assert.equal(attachment.filename, 'synker-family_photos-2026-01-15-differences.csv');
  assert.match(doc, /`synker-FOLDER-DATE-differences\.csv`/);
  assert.match(doc, /gzipped and named `….csv.gz`/);
  assert.match(doc, /byte-order mark/);
  assert.match(doc, /CRLF/);
});
