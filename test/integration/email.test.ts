import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { ParsedMail } from 'mailparser';
import { sendThroughOutbox } from '../../src/mail/deliver.js';
import type { EmailContext } from '../../src/mail/context.js';
import { differencesCsv } from '../../src/mail/csv.js';
import { renderStaleEmail, renderTestEmail } from '../../src/mail/notices.js';
import { BODY_BUDGET } from '../../src/mail/report-body.js';
import { renderReportEmail } from '../../src/mail/report-email.js';
import { Outbox } from '../../src/mail/outbox.js';
import type { CheckReport } from '../../src/report/model.js';
import { formatBytes, formatCount } from '../../src/base/units.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { TestSmtpServer, testSmtpSettings } from '../harness/smtp.js';
import { file, reportOf } from '../harness/report.js';
import { tempDir } from '../harness/tmp.js';

const CTX: EmailContext = { now: new Date('2026-11-25T03:20:00Z'), timeZone: 'UTC', agentName: 'nas' };

/** Anything that would make a mail client fetch from outside the message. */
const EXTERNAL = /https?:|\/\/[a-z]|\bsrc\s*=|url\s*\(|@import|<script|<img|<link|<style|<iframe|<object|<form/i;

async function deliver(t: import('node:test').TestContext, report: CheckReport): Promise<{ mail: ParsedMail; raw: Buffer }> {
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  const outbox = new Outbox(path.join(await tempDir(t), 'outbox'));
  const content = renderReportEmail(report, CTX);
  const outcome = await sendThroughOutbox(
    { settings: testSmtpSettings(server.port), outbox },
    content,
    `report:${report.folderId}:${report.startedAt}`,
    CTX.now,
  );
  assert.equal(outcome.status, 'sent');
  assert.equal(server.received.length, 1);
  return { mail: await server.parsed(0), raw: server.received[0]!.raw };
}

/** The "Summary" block of the text part: label -> [count, size]. */
function textSummary(text: string): Map<string, string[]> {
  const lines = text.split('\n');
  const start = lines.indexOf('Summary');
  assert.ok(start >= 0, 'the text part has a summary');
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('  ')) break;
    const m = /^ {2}(.+?)\s{2,}([\d,]+)\s+([\d.]+ \w+)/.exec(line);
    assert.ok(m, `summary line: ${line}`);
    rows.set(m[1]!.trim(), [m[2]!, m[3]!]);
  }
  return rows;
}

function bigBackupPair(): { source: ManifestEntry[]; backup: ManifestEntry[] } {
  const source: ManifestEntry[] = [];
  const backup: ManifestEntry[] = [];
  for (let i = 0; i < 3000; i++) source.push(file(`2026/trip/IMG_${String(i).padStart(5, '0')}.jpg`, `photo ${i} `.repeat(40)));
  for (let i = 0; i < 50; i++) {
    const same = file(`kept/${i}.txt`, `kept ${i}`);
    source.push(same);
    backup.push(same);
  }
  source.push(file('notes/todo.txt', 'new text'));
  backup.push(file('notes/todo.txt', 'old text, longer'));
  backup.push(file('only-on-backup.tmp', 'leftover'));
  source.push(file('suspicious/ledger.db', 'new'));
  backup.push(file('suspicious/ledger.db', 'old'));
  source.push(file('=cmd|calc.csv', 'formula'));
  return { source, backup };
}

test('a large report: subject at a glance, both parts with the same totals as the JSON, CSV of everything, under the size limit', async (t) => {
  const { source, backup } = bigBackupPair();
  const report = await reportOf(source, backup);
  assert.equal(report.summary.byCategory.missing.count, 3001);
  const { mail } = await deliver(t, report);

  const missing = report.summary.byCategory.missing;
  assert.equal(
    mail.subject,
    // The file only on the backup is listed in the body, not in the subject: it does not fail.
    `Backup of pictures on nas: 3,001 files missing (${formatBytes(missing.bytes)}), 2 files differ`,
  );
  assert.ok(mail.text && mail.html, 'multipart: text and HTML');

  // The text part carries the same totals as the report's JSON.
  const summary = textSummary(mail.text);
  assert.deepEqual(summary.get('missing on backup'), [formatCount(missing.count), formatBytes(missing.bytes)]);
  assert.deepEqual(summary.get('content differs'), [
    formatCount(report.summary.byCategory.content.count),
    formatBytes(report.summary.byCategory.content.bytes),
  ]);
  assert.deepEqual(summary.get('Total failing'), [formatCount(report.summary.failing), formatBytes(report.summary.failingBytes)]);
  // ... and so does the HTML.
  assert.match(mail.html, new RegExp(`<strong>${formatCount(report.summary.failing)}</strong>`));
  assert.ok(mail.html.includes(formatBytes(report.summary.failingBytes)));

  // The suspicious source change is called out at the top of both parts.
  assert.match(mail.text, /WARNING: 1 file changed on the source while keeping size and modification time/);
  assert.match(mail.html, /possible corruption or tampering on the source/);

  // Body under the limit, and it says it shows only part.
  const bodyBytes = Buffer.byteLength(mail.text) + Buffer.byteLength(mail.html);
  assert.ok(bodyBytes <= BODY_BUDGET && bodyBytes < 100 * 1024, `body is ${bodyBytes} bytes`);
  assert.match(
    mail.text,
    /This message lists [\d,]+ of 3,004 differences; the full list is attached \(synker-pictures-2026-11-25-differences\.csv\)/,
  );
  // Small categories are never crowded out by a big one.
  assert.ok(mail.text.includes('only-on-backup.tmp') && mail.text.includes('notes/todo.txt'));

  // No external resources anywhere in the HTML; inline styles only.
  assert.doesNotMatch(mail.html, EXTERNAL);
  assert.doesNotMatch(mail.html, /<style|class=/i);

  // The CSV holds every difference.
  assert.equal(mail.attachments.length, 1);
  const csv = mail.attachments[0]!;
  assert.equal(csv.filename, 'synker-pictures-2026-11-25-differences.csv');
  assert.equal(csv.contentType, 'text/csv');
  const csvText = csv.content.toString('utf8').replace(/^\ufeff/, '');
  const lines = csvText.trimEnd().split('\r\n');
  assert.equal(lines[0], 'category,path,new_path,other_path,bytes,failing,changed_on,changes,side,detail');
  assert.equal(lines.length - 1, report.differences.length);
  const perCategory = new Map<string, number>();
  for (const line of lines.slice(1)) perCategory.set(line.split(',')[0]!, (perCategory.get(line.split(',')[0]!) ?? 0) + 1);
  for (const [category, total] of Object.entries(report.summary.byCategory))
    assert.equal(perCategory.get(category) ?? 0, total.count, category);
  // A name that starts like a spreadsheet formula is neutralised.
  assert.ok(lines.some((l) => l.startsWith("missing,'=cmd|calc.csv,")));
});

test('suspicious source changes are named in the warning and listed first, even when the list is cut', async () => {
  const source: ManifestEntry[] = [];
  const backup: ManifestEntry[] = [];
  for (let i = 0; i < 600; i++) {
    source.push(file(`a/file-${String(i).padStart(3, '0')}.txt`, `source ${i}`));
    backup.push(file(`a/file-${String(i).padStart(3, '0')}.txt`, `backup copy ${i}`));
  }
  // Verified as 'old' (helpers/report.ts): changed on the source with size and mtime kept.
  for (const p of ['suspicious/ledger.db', 'suspicious/z\u202e.db']) {
    source.push(file(p, 'new'));
    backup.push(file(p, 'old'));
  }
  const report = await reportOf(source, backup);
  assert.equal(report.differences.filter((d) => d.changedOn === 'source-suspicious').length, 2);
  const content = renderReportEmail(report, CTX);
  assert.match(content.text, /This message lists [\d,]+ of 602 differences/, 'the list is cut');
  assert.match(
    content.text,
    /WARNING: 2 files changed on the source [^\n]*Look at them before the backup is updated from the source:\n {2}suspicious\/ledger\.db\n {2}suspicious\/z\\u\{202e\}\.db\n\n/,
  );
  assert.match(
    content.text,
    /Content differs \(602\)\n {2}suspicious\/ledger\.db {2}\(same size \(3 B\), different content; SUSPICIOUS[^\n]*\n {2}suspicious\/z\\u\{202e\}\.db /,
  );
  const warning = content.html.indexOf('<strong>Warning:</strong>');
  assert.ok(
    warning > 0 && content.html.indexOf('suspicious/ledger.db', warning) < content.html.indexOf('Total failing'),
    'named in the HTML warning',
  );

  // Many: the first ones named, the rest counted and pointed to.
  for (let i = 0; i < 30; i++) {
    source.push(file(`suspicious/m${String(i).padStart(2, '0')}`, 'new'));
    backup.push(file(`suspicious/m${String(i).padStart(2, '0')}`, 'old'));
  }
  const text = renderReportEmail(await reportOf(source, backup), CTX).text;
  assert.match(
    text,
    /WARNING: 32 files changed[^\n]*\n(?: {2}suspicious\/[^\n]+\n){20} {2}… and 12 more in synker-pictures-2026-11-25-differences\.csv\n/,
  );
});

test('a complete backup: short mail, no attachment', async (t) => {
  const files = [file('a.jpg', 'a'), file('b.jpg', 'b')];
  const report = await reportOf(files, files);
  const { mail } = await deliver(t, report);
  assert.equal(mail.subject, 'Backup of pictures on nas is complete');
  assert.match(mail.text ?? '', /matches 2 files \(2 B\) on laptop\./);
  assert.equal(mail.attachments.length, 0);
  assert.doesNotMatch(mail.html || '', EXTERNAL);
});

test('a few differences are all listed in the body, with no attachment', async (t) => {
  const report = await reportOf([file('a.jpg', 'a'), file('b.jpg', 'b')], [file('a.jpg', 'a')]);
  const content = renderReportEmail(report, CTX);
  assert.equal(content.subject, 'Backup of pictures on nas: 1 file missing (1 B)');
  assert.equal(content.attachments?.length, 0);
  assert.match(content.text, /Missing on backup \(1\)\n {2}b\.jpg/);
  await deliver(t, report);
});

test('hostile file names are escaped in both parts', async () => {
  const evil = '<script>alert(1)</script>\u202egpj.exe';
  const report = await reportOf([file(evil, 'x'), file('ok', 'y')], [file('ok', 'y')]);
  const content = renderReportEmail(report, CTX);
  assert.ok(!content.html.includes('<script>'));
  assert.ok(content.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;\\u{202e}gpj.exe'));
  assert.ok(content.text.includes('<script>alert(1)</script>\\u{202e}gpj.exe'));
  assert.ok(!content.text.includes('\u202e'));
  assert.match(differencesCsv(report), /"?<script>alert\(1\)<\/script>\u202egpj\.exe/, 'the CSV keeps the real name for scripts');
});

test('a symlink target is escaped like a name: control and bidirectional-override characters', async () => {
  const link = (p: string, target: string): ManifestEntry => ({ path: p, type: 'symlink', size: 0, mtime: 0, mode: 0o777, target });
  const report = await reportOf([link('a-link', 'photo\u202egpj.exe\x1b[8m')], [link('a-link', 'plain')]);
  const content = renderReportEmail(report, CTX);
  for (const part of [content.text, content.html]) {
    assert.ok(!part.includes('\u202e') && !part.includes('\x1b'), 'no raw bidi or control character');
    assert.ok(part.includes('photo\\u{202e}gpj.exe\\u{1b}[8m'), 'shown as escapes');
  }
});

test('a failed check reads "NOT verified" and says what to do', async () => {
  const { buildFailedReport } = await import('../../src/report/model.js');
  const report = buildFailedReport({
    folderId: 'pictures',
    startedAt: new Date('2026-11-25T03:17:00Z'),
    finishedAt: new Date('2026-11-25T03:17:30Z'),
    source: { name: null, deviceId: null, location: null, scan: null },
    backup: { name: 'nas', deviceId: null, location: '/srv/backup/pictures', scan: null },
    error: { code: 'E_PEER_UNREACHABLE', message: 'the source laptop cannot be reached', hint: 'Wake the laptop or check the network.' },
  });
  const content = renderReportEmail(report, CTX);
  assert.equal(content.subject, 'Backup of pictures on nas NOT verified: the source laptop cannot be reached');
  assert.match(content.text, /What to do: Wake the laptop or check the network\./);
  // The check's own words are long ("cannot reach the source of folder ...: 127.0.0.1:7780 (config): ..."): the subject says it short,
  // naming the source from the config when the check never reached it.
  const unreachable = {
    ...report,
    error: {
      code: 'E_SOURCE_UNREACHABLE',
      message:
        'cannot reach the source of folder "pictures": 192.168.1.20:7780 (config): cannot connect to 192.168.1.20:7780: the connection was refused',
      hint: null,
    },
  };
  assert.equal(
    renderReportEmail(unreachable, { ...CTX, sourceNameOf: (id) => (id === 'pictures' ? 'laptop' : undefined) }).subject,
    'Backup of pictures on nas NOT verified: the source laptop cannot be reached',
  );
  assert.equal(renderReportEmail(unreachable, CTX).subject, 'Backup of pictures on nas NOT verified: the source cannot be reached');
  assert.match(
    renderReportEmail(unreachable, CTX).text,
    /192\.168\.1\.20:7780 \(config\): cannot connect/,
    'the body keeps the whole message',
  );
  // The source went away after its manifest began: a short phrase too, the long message in the body.
  const dropped = {
    ...report,
    source: { ...report.source, name: 'laptop' },
    error: {
      code: 'E_PEER_CLOSED',
      message: 'laptop (127.0.0.1:44040) closed the connection (code 1006), before the manifest of "pictures" was complete',
      hint: null,
    },
  };
  assert.equal(renderReportEmail(dropped, CTX).subject, 'Backup of pictures on nas NOT verified: the source laptop dropped the connection');
  assert.match(renderReportEmail(dropped, CTX).text, /closed the connection \(code 1006\)/);
  const frozen = {
    ...report,
    error: {
      code: 'E_PEER_UNRESPONSIVE',
      message: 'laptop (127.0.0.1:44040) sent nothing for 15 s: it is frozen, asleep or unreachable',
      hint: null,
    },
  };
  assert.equal(renderReportEmail(frozen, CTX).subject, 'Backup of pictures on nas NOT verified: the source stopped answering');
  const stalled = {
    ...report,
    error: {
      code: 'E_PEER_STALLED',
      message: 'laptop (127.0.0.1:44040) answers but has made no progress for 1 min 0 s: its scan or its disk seems stuck',
      hint: null,
    },
  };
  assert.equal(
    renderReportEmail(stalled, CTX).subject,
    'Backup of pictures on nas NOT verified: the source is stuck (no progress for a minute)',
  );
});

test('staleness mail: "NOT verified since <date>"', () => {
  const content = renderStaleEmail(
    {
      folderId: 'pictures',
      since: '2026-11-03T03:17:00Z',
      lastAttemptAt: '2026-11-06T04:17:00Z',
      retryEvery: 'hour',
      error: { code: 'E_PEER_UNREACHABLE', message: 'the source laptop cannot be reached' },
    },
    { ...CTX, now: new Date('2026-11-06T04:17:00Z') },
  );
  assert.equal(content.subject, 'Backup of pictures on nas NOT verified since 3 Nov');
  assert.match(content.text, /for 3 days and 1 hour, since 3 Nov 2026, 03:17 UTC/);
  assert.doesNotMatch(content.html, EXTERNAL);
});

test('how long a backup went unverified is said as a person would: seconds, minutes, hours, days and hours', async () => {
  const { ago } = await import('../../src/mail/dates.js');
  const now = new Date('2026-11-26T12:00:00Z');
  const since = (ms: number) => new Date(now.getTime() - ms).toISOString();
  assert.equal(ago(since(3 * 60_000), now), '3 minutes');
  // Under a minute, seconds: an alert after 30 s does not say "for 1 minute".
  assert.equal(ago(since(20_000), now), '20 seconds');
  assert.equal(ago(since(1000), now), '1 second');
  assert.equal(ago(since(59_700), now), '1 minute');
  assert.equal(ago(since(5 * 3_600_000), now), '5 hours');
  assert.equal(ago(since(47 * 3_600_000), now), '47 hours');
  assert.equal(ago(since(72 * 3_600_000), now), '3 days');
  assert.equal(ago(since(71 * 3_600_000 + 50 * 60_000), now), '3 days');
  assert.equal(ago(since(50 * 3_600_000), now), '2 days and 2 hours');
});

test('test e-mail lists the settings, never a password', () => {
  const content = renderTestEmail(
    { host: '127.0.0.1', port: 2525, security: 'STARTTLS required', user: 'synker', from: 'a@b.test', to: ['c@d.test', 'e@f.test'] },
    CTX,
  );
  assert.equal(content.subject, 'synker test e-mail from nas');
  assert.match(content.text, /Server {2}127\.0\.0\.1:2525 \(STARTTLS required\)/);
  assert.match(content.text, /To {6}c@d\.test, e@f\.test/);
});

test('the subject counts files and folders separately', async () => {
  const dir = (p: string): import('../../src/manifest/entry.js').ManifestEntry => ({
    path: p,
    type: 'dir',
    size: 0,
    mtime: 0,
    mode: 0o755,
  });
  const report = await reportOf(
    [dir('new'), file('new/a.jpg', 'aa'), file('new/b.jpg', 'bb'), file('kept', 'k')],
    [file('kept', 'k'), file('old.tmp', 'o')],
  );
  assert.equal(renderReportEmail(report, CTX).subject, 'Backup of pictures on nas: 2 files and 1 folder missing (4 B)');
});

test('a very long list goes as a gzipped CSV, so the message stays small enough for mail servers', async (t) => {
  const source: ManifestEntry[] = [];
  for (let i = 0; i < 15_000; i++)
    source.push(file(`archive/2019/holiday-in-the-mountains/raw-exports/IMG_${String(i).padStart(6, '0')}.cr2`, `raw ${i}`));
  const report = await reportOf(source, []);
  const { mail, raw } = await deliver(t, report);
  assert.ok(raw.length < 1024 * 1024, `message is ${raw.length} bytes`);
  assert.match(mail.text ?? '', /the full list is attached \(synker-pictures-2026-11-25-differences\.csv\.gz\)/);
  const attachment = mail.attachments[0]!;
  assert.equal(attachment.filename, 'synker-pictures-2026-11-25-differences.csv.gz');
  const { gunzipSync } = await import('node:zlib');
  const rows = gunzipSync(attachment.content).toString('utf8').trimEnd().split('\r\n');
  assert.equal(rows.length - 1, 15_000);
});

/** A report whose sync (without --delete) had nothing to copy and kept the one extra file on the backup. */
async function syncedKeepingOneExtra(): Promise<CheckReport> {
  const { buildSyncReport } = await import('../../src/sync/sync-report.js');
  const report = await reportOf([file('a.jpg', 'a')], [file('a.jpg', 'a'), file('only-here.txt', 'x')]);
  const plan = {
    actions: [],
    skipped: [{ path: 'only-here.txt', reason: 'extra-kept' as const, detail: 'not on the source; kept' }],
    stops: [],
    totals: { pullFiles: 0, pullBytes: 0, moves: 0, movedFiles: 0, mkdirs: 0, symlinks: 0, metadata: 0, deletes: 0, deleteBytes: 0 },
  };
  const result = {
    pulled: 0,
    pulledBytes: 0,
    bytesReceived: 0,
    moved: 0,
    renames: 0,
    created: 0,
    metadataFixed: 0,
    deleted: 0,
    emptiedFolders: 0,
    versions: [],
    failed: [],
  };
  report.sync = buildSyncReport(report.differences, { plan, result, donePaths: new Set(), dryRun: false, exitCode: 0 });
  return report;
}

test('a sync that kept extra files by choice says so, and does not claim the backup matches', async () => {
  const report = await syncedKeepingOneExtra();
  const mail = renderReportEmail(report, CTX);
  assert.equal(mail.subject, 'Backup of pictures on nas synced: nothing needed fixing; complete (1 extra file kept)');
  assert.match(
    mail.text,
    /The backup now has everything the source has; 1 file only on the backup is kept \(synker sync --delete moves them to \.synker\/versions\/\)\./,
  );
  assert.doesNotMatch(mail.text, /The backup now matches the source/);
});

test('extras kept by a sync without --delete are not counted as failing: mail total and status agree with "complete"', async () => {
  const { summarizeReport } = await import('../../src/schedule/check-process.js');
  const report = await syncedKeepingOneExtra();
  const summary = summarizeReport(report, 'manual-sync');
  assert.equal(summary.status, 'complete');
  assert.equal(summary.differences, 0);
  const mail = renderReportEmail(report, CTX);
  assert.match(mail.text, /Total failing\s+0\s/);
  assert.match(mail.text, /\(does not fail\)/);
  assert.doesNotMatch(mail.text, /Total failing\s+1\s/);
  assert.match(mail.html ?? '', /<strong>Total failing<\/strong><\/td>[\s\S]*?<strong>0<\/strong>/);
});

test('machine names are escaped like file names in subjects and bodies: a bidi override cannot turn them around', async () => {
  const name = 'nas\u202egpj.exe';
  const ctx: EmailContext = { ...CTX, agentName: name };
  const report = await reportOf([file('a', 'x'), file('b', 'y')], [file('a', 'x')]);
  const mails = [
    renderReportEmail({ ...report, backup: { ...report.backup, name }, source: { ...report.source, name } }, ctx),
    renderReportEmail({ ...report, backup: { ...report.backup, name: null } }, ctx),
    renderStaleEmail(
      { folderId: 'pictures', since: '2026-11-20T03:00:00Z', lastAttemptAt: '2026-11-25T03:00:00Z', retryEvery: '1 h' },
      ctx,
    ),
    renderTestEmail({ host: 'mail.example.org', port: 587, security: 'STARTTLS', from: 'a@example.org', to: ['b@example.org'] }, ctx),
  ];
  for (const mail of mails) {
    for (const part of [mail.subject, mail.text, mail.html]) {
      assert.ok(!part.includes('\u202e'), `no raw bidi override in: ${part.slice(0, 80)}`);
    }
    assert.ok(mail.subject.includes('nas\\u{202e}gpj.exe'), mail.subject);
  }
});
