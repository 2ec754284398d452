import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { sendThroughOutbox, flushOutbox } from '../../src/mail/deliver.js';
import { MailDeliveryError } from '../../src/mail/mailer.js';
import { Outbox } from '../../src/mail/outbox.js';
import { composeMessage, type MailContent } from '../../src/mail/compose.js';
import { REFUSED_PORT } from '../harness/ports.js';
import { TestSmtpServer, testSmtpSettings } from '../harness/smtp.js';
import { tempDir } from '../harness/tmp.js';

const CONTENT: MailContent = {
  subject: 'Backup of pictures on nas is complete',
  text: 'All 12 files match.',
  html: '<p>All 12 files match.</p>',
};
const WHEN = new Date('2026-11-25T03:17:00Z');

test('a message is delivered once and leaves the outbox', async (t) => {
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  const outbox = new Outbox(path.join(await tempDir(t), 'outbox'));
  const setup = { settings: testSmtpSettings(server.port), outbox };
  const outcome = await sendThroughOutbox(setup, CONTENT, 'report:pictures:1', WHEN);
  assert.equal(outcome.status, 'sent');
  assert.equal(await outbox.size(), 0);
  assert.equal(server.received.length, 1);
  assert.deepEqual(server.received[0]!.to, ['owner@example.test', 'admin@example.test']);
  assert.equal(server.received[0]!.from, 'synker@nas.test');
  const mail = await server.parsed(0);
  assert.equal(mail.subject, CONTENT.subject);
  assert.equal(mail.messageId, outcome.messageId);
  assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
  // The same report queued again (e.g. after a crash before the agent recorded it) is not sent twice.
  const again = await sendThroughOutbox(setup, CONTENT, 'report:pictures:1', WHEN);
  assert.equal(again.status, 'already-sent');
  assert.equal(server.received.length, 1);
});

test('SMTP down: the report waits in the outbox, then is delivered exactly once when the server is back', async (t) => {
  const port = REFUSED_PORT;
  const outbox = new Outbox(path.join(await tempDir(t), 'outbox'));
  const setup = { settings: testSmtpSettings(port), outbox };

  const outcome = await sendThroughOutbox(setup, CONTENT, 'report:pictures:2', WHEN);
  assert.equal(outcome.status, 'queued');
  assert.ok(outcome.status === 'queued' && outcome.error instanceof MailDeliveryError);
  assert.equal(outcome.error.code, 'E_SMTP_CONNECT');
  assert.match(outcome.error.message, new RegExp(`127\\.0\\.0\\.1:${port} refused the connection`));
  assert.match(outcome.error.hint ?? '', /smtp\.host and smtp\.port/);
  const waiting = await outbox.list();
  assert.equal(waiting.length, 1);
  assert.equal(waiting[0]!.attempts, 1);
  assert.equal(waiting[0]!.lastError?.code, 'E_SMTP_CONNECT');

  // A second failed run keeps one copy, not two.
  await sendThroughOutbox(setup, CONTENT, 'report:pictures:2', WHEN);
  assert.equal(await outbox.size(), 1);

  // The server is back (on a port of its own choosing: a port cannot be held closed and then reused safely).
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  setup.settings = testSmtpSettings(server.port);
  const flushed = await flushOutbox(setup);
  assert.equal(flushed.sent.length, 1);
  assert.equal(flushed.remaining, 0);
  assert.equal(server.received.length, 1);
  assert.equal((await server.parsed(0)).messageId, outcome.messageId);

  // Later runs find nothing to send; the server saw the report once.
  const later = await flushOutbox(setup);
  assert.equal(later.sent.length, 0);
  assert.equal(server.received.length, 1);
});

test('auth refused: the error names the setting, the report waits, and goes out once the password is fixed', async (t) => {
  const server = await new TestSmtpServer().start({ users: { synker: 'right horse battery' } });
  t.after(() => server.stop());
  const outbox = new Outbox(path.join(await tempDir(t), 'outbox'));
  const settings = testSmtpSettings(server.port, { user: 'synker', passwordEnv: 'SYNKER_TEST_SMTP_PASSWORD' });

  const outcome = await sendThroughOutbox({ settings, outbox, env: { SYNKER_TEST_SMTP_PASSWORD: 'wrong' } }, CONTENT, 'report:auth', WHEN);
  assert.equal(outcome.status, 'queued');
  assert.ok(outcome.status === 'queued');
  assert.equal(outcome.error.code, 'E_SMTP_AUTH');
  assert.match(outcome.error.message, /refused the login for smtp\.user "synker"/);
  assert.match(outcome.error.hint ?? '', /SYNKER_TEST_SMTP_PASSWORD \(smtp\.passwordEnv\)/);
  assert.doesNotMatch(`${outcome.error.message} ${outcome.error.hint}`, /wrong/, 'the password never appears in errors');
  assert.equal(await outbox.size(), 1);
  assert.equal(server.received.length, 0);

  const fixed = await flushOutbox({ settings, outbox, env: { SYNKER_TEST_SMTP_PASSWORD: 'right horse battery' } });
  assert.equal(fixed.sent.length, 1);
  assert.equal(server.received.length, 1);
  assert.equal(await outbox.size(), 0);
});

test('a missing password variable keeps the report in the outbox with a clear error', async (t) => {
  const outbox = new Outbox(path.join(await tempDir(t), 'outbox'));
  const settings = testSmtpSettings(REFUSED_PORT, { user: 'synker', passwordEnv: 'SYNKER_TEST_UNSET' });
  const outcome = await sendThroughOutbox({ settings, outbox, env: {} }, CONTENT, 'report:nopass', WHEN);
  assert.equal(outcome.status, 'queued');
  assert.ok(outcome.status === 'queued');
  assert.equal(outcome.error.code, 'E_SMTP_CONFIG');
  assert.match(outcome.error.message, /SYNKER_TEST_UNSET \(smtp\.passwordEnv\) is not set/);
  assert.equal(await outbox.size(), 1);
});

test('a server that never answers times out with a hint about the port and smtp.timeout', async (t) => {
  const sockets: Socket[] = [];
  const silent: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const outbox = new Outbox(path.join(await tempDir(t), 'outbox'));
  const settings = testSmtpSettings((silent.address() as AddressInfo).port, { timeoutMs: 300 });
  const outcome = await sendThroughOutbox({ settings, outbox }, CONTENT, 'report:timeout', WHEN);
  assert.equal(outcome.status, 'queued');
  assert.ok(outcome.status === 'queued');
  assert.equal(outcome.error.code, 'E_SMTP_TIMEOUT');
  assert.match(outcome.error.hint ?? '', /smtp\.port.*smtp\.timeout/);
  assert.equal(await outbox.size(), 1);
});

test('two processes flushing at once send each message once (outbox lock)', async (t) => {
  const server = await new TestSmtpServer().start();
  t.after(() => server.stop());
  const dir = path.join(await tempDir(t), 'outbox');
  const settings = testSmtpSettings(server.port);
  const first = new Outbox(dir);
  for (let i = 0; i < 5; i++) {
    await first.add(
      await composeMessage(settings, { ...CONTENT, subject: `report ${i}` }, `report:${i}`, new Date(WHEN.getTime() + i * 1000)),
    );
  }
  const second = new Outbox(dir);
  const [a, b] = await Promise.all([flushOutbox({ settings, outbox: first }), flushOutbox({ settings, outbox: second })]);
  assert.equal(a.sent.length + b.sent.length, 5);
  assert.ok(a.busy || b.busy, 'one of the two found the outbox busy');
  assert.equal(server.received.length, 5);
  // Oldest first.
  const subjects = await Promise.all(server.received.map((_, i) => server.parsed(i).then((m) => m.subject)));
  assert.deepEqual(subjects, ['report 0', 'report 1', 'report 2', 'report 3', 'report 4']);
  assert.equal(await first.size(), 0);
});

test('TLS problems name smtp.starttls / smtp.tlsVerify; tlsVerify false reaches a self-signed relay', async (t) => {
  const plain = await new TestSmtpServer().start();
  t.after(() => plain.stop());
  const outbox = new Outbox(path.join(await tempDir(t), 'outbox'));
  const required = await sendThroughOutbox(
    { settings: testSmtpSettings(plain.port, { starttls: 'required' }), outbox },
    CONTENT,
    'report:tls1',
    WHEN,
  );
  assert.ok(required.status === 'queued');
  assert.equal(required.error.code, 'E_SMTP_TLS');
  assert.match(required.error.hint ?? '', /smtp\.starttls/);

  const selfSigned = await new TestSmtpServer().start({ starttls: true });
  t.after(() => selfSigned.stop());
  const outbox2 = new Outbox(path.join(await tempDir(t), 'outbox'));
  const refused = await sendThroughOutbox(
    { settings: testSmtpSettings(selfSigned.port, { starttls: 'required' }), outbox: outbox2 },
    CONTENT,
    'report:tls2',
    WHEN,
  );
  assert.ok(refused.status === 'queued');
  assert.equal(refused.error.code, 'E_SMTP_TLS');
  assert.match(refused.error.hint ?? '', /smtp\.tlsVerify: false/);
  assert.equal(selfSigned.received.length, 0);

  const accepted = await flushOutbox({
    settings: testSmtpSettings(selfSigned.port, { starttls: 'required', tlsVerify: false }),
    outbox: outbox2,
  });
  assert.equal(accepted.sent.length, 1);
  assert.equal(selfSigned.received.length, 1);
});
