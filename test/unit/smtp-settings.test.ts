import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { SmtpConfigError, parseSmtpSettings, readSmtpPassword } from '../../src/config/smtp.js';
import { tempDir } from '../harness/tmp.js';

const BASE = { host: 'smtp.example.org', from: 'Backup <backup@example.org>', to: ['me@example.org', 'you@example.org'] };

function configError(fn: () => unknown, message: RegExp, hint?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SmtpConfigError, `expected SmtpConfigError, got ${String(err)}`);
    assert.equal(err.code, 'E_SMTP_CONFIG');
    assert.match(err.message, message);
    if (hint) assert.match(err.hint ?? '', hint);
    return true;
  });
}

test('defaults: port 587 with STARTTLS, 465 with secure, several recipients', () => {
  const plain = parseSmtpSettings(BASE);
  assert.equal(plain.port, 587);
  assert.equal(plain.secure, false);
  assert.equal(plain.starttls, 'opportunistic');
  assert.deepEqual(plain.to, ['me@example.org', 'you@example.org']);
  assert.equal(plain.timeoutMs, 30_000);
  const secure = parseSmtpSettings({ ...BASE, secure: true, user: 'me', passwordEnv: 'PW', timeout: '10s' });
  assert.equal(secure.port, 465);
  assert.equal(secure.starttls, 'required');
  assert.equal(secure.timeoutMs, 10_000);
  assert.equal(parseSmtpSettings({ ...BASE, to: 'one@example.org' }).to.length, 1);
});

test('mistakes are refused with the key to fix', () => {
  configError(() => parseSmtpSettings({ ...BASE, password: 'hunter2' }), /smtp\.password is not allowed/, /passwordFile|passwordEnv/);
  configError(() => parseSmtpSettings({ ...BASE, passwordFle: '/x' }), /unknown setting smtp\.passwordFle/);
  configError(() => parseSmtpSettings({ ...BASE, host: '' }), /smtp\.host/);
  configError(() => parseSmtpSettings({ ...BASE, port: 70000 }), /smtp\.port/);
  configError(() => parseSmtpSettings({ ...BASE, to: [] }), /smtp\.to must list at least one recipient/);
  configError(() => parseSmtpSettings({ ...BASE, to: ['not an address'] }), /smtp\.to is not an e-mail address/);
  configError(() => parseSmtpSettings({ ...BASE, from: 'nobody' }), /smtp\.from/);
  configError(() => parseSmtpSettings({ ...BASE, user: 'me' }), /no password source/);
  configError(() => parseSmtpSettings({ ...BASE, user: 'me', passwordEnv: 'hunter2 is my password' }), /name of an environment variable/);
  configError(() => parseSmtpSettings({ ...BASE, user: 'me', passwordFile: 'relative/path' }), /absolute path/);
  configError(() => parseSmtpSettings({ ...BASE, starttls: 'maybe' }), /smtp\.starttls/);
  configError(() => parseSmtpSettings('smtp.example.org'), /must be an object/);
});

test('password from a file only the user can read; a group/world-readable file is refused', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'smtp-password');
  await writeFile(file, 'correct horse\n', { mode: 0o600 });
  await chmod(file, 0o600);
  const settings = parseSmtpSettings({ ...BASE, user: 'me', passwordFile: file });
  assert.equal(readSmtpPassword(settings), 'correct horse');

  await chmod(file, 0o644);
  configError(() => readSmtpPassword(settings), /can be read by other users \(mode 644\)/, /chmod 600/);
  await chmod(file, 0o640);
  configError(() => readSmtpPassword(settings), /can be read by other users/);

  const missing = parseSmtpSettings({ ...BASE, user: 'me', passwordFile: path.join(dir, 'nope') });
  configError(() => readSmtpPassword(missing), /cannot read smtp\.passwordFile .*ENOENT/);
});

test('password from the environment variable named in the config', () => {
  const settings = parseSmtpSettings({ ...BASE, user: 'me', passwordEnv: 'SYNKER_SMTP_PASSWORD' });
  assert.equal(readSmtpPassword(settings, { SYNKER_SMTP_PASSWORD: 's3cret' }), 's3cret');
  configError(() => readSmtpPassword(settings, {}), /SYNKER_SMTP_PASSWORD \(smtp\.passwordEnv\) is not set/);
  assert.equal(readSmtpPassword(parseSmtpSettings(BASE), {}), undefined);
});
