/**
 * Reports through a real MTA (OpenSMTPD): queued while it is down, delivered
 * exactly once when it is up, readable as sent.
 */
import assert from 'node:assert/strict';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { flushOutbox, sendThroughOutbox } from '../../src/mail/deliver.js';
import { renderReportEmail } from '../../src/mail/report-email.js';
import { Outbox } from '../../src/mail/outbox.js';
import { formatBytes, formatCount } from '../../src/base/units.js';
import { OpenSmtpd, opensmtpdUnavailable } from '../harness/opensmtpd.js';
import { file, reportOf } from '../harness/report.js';
import { freePort } from '../harness/ports.js';
import { testSmtpSettings } from '../harness/smtp.js';
import { tempDir } from '../harness/tmp.js';

const skip = opensmtpdUnavailable();

test('OpenSMTPD down, then up: the report is delivered once to every recipient', { skip: skip ?? false }, async (t) => {
  const dir = await tempDir(t);
  await chmod(dir, 0o755); // smtpd delivers as nobody: it must reach the maildir inside
  const port = await freePort();
  const mta = new OpenSmtpd(path.join(dir, 'mta'), port);
  t.after(() => mta.stop());

  const source = [];
  const backup = [];
  for (let i = 0; i < 1500; i++) source.push(file(`photos/${i}.jpg`, `photo ${i}`.repeat(100)));
  source.push(file('docs/a.txt', 'new'));
  backup.push(file('docs/a.txt', 'old version'));
  const report = await reportOf(source, backup);
  const content = renderReportEmail(report, { now: new Date('2026-11-25T03:20:00Z'), timeZone: 'UTC', agentName: 'nas' });
  const setup = { settings: testSmtpSettings(port), outbox: new Outbox(path.join(dir, 'outbox')) };

  const queued = await sendThroughOutbox(setup, content, `report:pictures:${report.startedAt}`, new Date());
  assert.equal(queued.status, 'queued');
  assert.ok(queued.status === 'queued');
  assert.equal(queued.error.code, 'E_SMTP_CONNECT');
  assert.equal(await setup.outbox.size(), 1);

  await mta.start();
  const flushed = await flushOutbox(setup);
  assert.equal(flushed.sent.length, 1, mta.output);
  assert.match(flushed.sent[0]!.result.response, /^250 /);
  assert.equal(await setup.outbox.size(), 0);
  // Running again (the agent's next retry) sends nothing more.
  assert.equal((await flushOutbox(setup)).sent.length, 0);

  const delivered = await mta.delivered(2);
  assert.equal(delivered.length, 2, mta.output);
  await new Promise((r) => setTimeout(r, 300)); // anything extra would show up by now
  const again = await mta.delivered(2, 0);
  assert.equal(again.length, 2, 'one copy per recipient, no duplicate');
  const mails = await Promise.all(delivered.map((raw) => simpleParser(raw)));
  const recipients = mails
    .map((m) => m.headerLines.find((h) => h.key === 'delivered-to')?.line.replace(/^Delivered-To:\s*/i, '') ?? '')
    .sort();
  assert.deepEqual(recipients, ['admin@example.test', 'owner@example.test']);
  for (const mail of mails) {
    assert.equal(
      mail.subject,
      `Backup of pictures on nas: 1,500 files missing (${formatBytes(report.summary.byCategory.missing.bytes)}), 1 file differs`,
    );
    assert.equal(mail.messageId, queued.messageId);
    assert.ok(mail.text?.includes(`Total failing`) && mail.text.includes(formatCount(report.summary.failing)));
    assert.ok(mail.html && !/https?:|<img|<script/i.test(mail.html));
    assert.equal(mail.attachments.length, 1, 'full list as CSV');
    assert.equal(mail.attachments[0]!.content.toString('utf8').trimEnd().split('\r\n').length - 1, report.differences.length);
  }
});
