import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { checkSmtp } from '../../src/doctor/smtp-check.js';
import { REFUSED_PORT } from '../harness/ports.js';
import { TestSmtpServer } from '../harness/smtp.js';
import { tempDir } from '../harness/tmp.js';

/** The config's smtp section, as a user writes it. */
function section(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port,
    starttls: 'never',
    from: 'nas@example.test',
    to: ['me@example.test'],
    clientName: 'nas.test',
    timeout: '5s',
    ...extra,
  };
}

test('doctor: the SMTP server accepts the connection and the login', async (t) => {
  const server = await new TestSmtpServer().start({ users: { ann: 's3cret' } });
  t.after(() => server.stop());
  const finding = await checkSmtp(section(server.port, { user: 'ann', passwordEnv: 'DOCTOR_TEST_PW' }), { DOCTOR_TEST_PW: 's3cret' });
  assert.equal(finding.status, 'ok', finding.message);
  assert.match(finding.message, /login as ann accepted/);
  assert.equal(server.received.length, 0, 'doctor sends no message');
});

test('doctor: a refused login is a problem naming the setting to fix', async (t) => {
  const dir = await tempDir(t);
  const server = await new TestSmtpServer().start({ users: { ann: 's3cret' } });
  t.after(() => server.stop());
  const passwordFile = path.join(dir, 'pw');
  await writeFile(passwordFile, 'wrong\n', { mode: 0o600 });
  const finding = await checkSmtp(section(server.port, { user: 'ann', passwordFile }));
  assert.equal(finding.status, 'fail');
  assert.match(finding.message, /refused the login for smtp\.user "ann"/);
  assert.match(finding.fix ?? '', /app password/);
});

test('doctor: a mail server that is down (closed port on 127.0.0.1) is a problem with a fix', async () => {
  const port = REFUSED_PORT;
  const finding = await checkSmtp(section(port));
  assert.equal(finding.status, 'fail');
  assert.match(finding.message, new RegExp(`127\\.0\\.0\\.1:${port} refused the connection`));
  assert.match(finding.fix ?? '', /smtp\.port/);
});

test('doctor: e-mail not set up is skipped, not a problem', async () => {
  assert.equal((await checkSmtp(undefined)).status, 'skip');
});
