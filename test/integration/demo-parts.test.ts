/**
 * The demo's own small parts: reading the received report (checked against
 * mailparser on messages from synker's real composer) and the rule that only
 * a folder a previous demo made is ever cleared.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { DemoError } from '../../src/demo/errors.js';
import { DEMO_MARKER, prepareDemoDir } from '../../src/demo/folder.js';
import { decodeHeaderWords, readReportMessage } from '../../src/demo/mime.js';
import { composeMessage } from '../../src/mail/compose.js';
import { testSmtpSettings } from '../harness/smtp.js';
import { tempDir } from '../harness/tmp.js';

const settings = testSmtpSettings(25);

async function composed(content: Parameters<typeof composeMessage>[1]): Promise<Buffer> {
  return (await composeMessage(settings, content, 'report:test', new Date('2026-11-25T03:17:00Z'))).raw;
}

test('the HTML part and subject of composed reports read the same as mailparser reads them', async () => {
  const longLine = `<p>${'Photos/2024/Été à Lisboa/IMG_0001.jpg '.repeat(40)}</p>`;
  const cases = [
    {
      subject: 'Backup of family on nas: 3 files missing',
      text: 'plain',
      html: '<!DOCTYPE html>\n<html><body><p>3 files missing</p>\n</body></html>\n',
    },
    {
      subject: 'Sauvegarde de « Photos » sur nas : 2 fichiers manquants — été',
      text: 'été',
      html: `<html><body>${longLine}\n<p>→ ✓ 日本語</p></body></html>`,
    },
    {
      subject: 'with a CSV attachment',
      text: 'see the CSV',
      html: '<p>the full list is attached</p>',
      attachments: [{ filename: 'differences.csv', content: 'path,category\n"a,b.jpg",missing\n', contentType: 'text/csv; charset=utf-8' }],
    },
    {
      subject: 'binary attachment first',
      text: 't',
      html: '<p>x</p>',
      attachments: [{ filename: 'list.csv.gz', content: Buffer.from([0x1f, 0x8b, 0, 1, 2, 255]), contentType: 'application/gzip' }],
    },
  ];
  for (const content of cases) {
    const raw = await composed(content);
    const ours = readReportMessage(raw);
    const theirs = await simpleParser(raw);
    assert.equal(ours.subject, theirs.subject, content.subject);
    assert.equal(ours.html, theirs.html, content.subject);
    assert.equal(ours.html, content.html, content.subject);
  }
});

test('encoded words in headers are decoded (Q and B, adjacent words joined)', () => {
  assert.equal(decodeHeaderWords('=?UTF-8?Q?=C3=A9t=C3=A9_ok?= =?UTF-8?B?4oaS?= end'), 'été ok→ end');
  assert.equal(decodeHeaderWords('plain subject'), 'plain subject');
});

test('a message without an HTML part is a DemoError with a hint, not a crash', () => {
  const raw = Buffer.from('Subject: hi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nonly text\r\n');
  assert.throws(
    () => readReportMessage(raw),
    (err: unknown) => err instanceof DemoError && err.code === 'E_DEMO_MAIL' && err.hint !== undefined,
  );
});

test('the demo folder: made when missing, cleared when a previous demo made it, refused (and left alone) otherwise', async (t) => {
  const work = await tempDir(t, 'synker-demo-dir-');
  const dir = path.join(work, 'demo');
  await prepareDemoDir(dir);
  assert.deepEqual(await readdir(dir), [DEMO_MARKER]);
  await writeFile(path.join(dir, 'report.html'), 'old');
  await mkdir(path.join(dir, 'source', 'Photos'), { recursive: true });
  await prepareDemoDir(dir);
  assert.deepEqual(await readdir(dir), [DEMO_MARKER], 'a previous demo is cleared');

  const mine = path.join(work, 'mine');
  await mkdir(mine);
  await writeFile(path.join(mine, 'thesis.tex'), 'precious');
  await assert.rejects(
    prepareDemoDir(mine),
    (err: unknown) =>
      err instanceof DemoError &&
      err.code === 'E_DEMO_DIR' &&
      /not made by synker demo; nothing was changed/.test(err.message) &&
      err.hint !== undefined,
  );
  assert.equal(await readFile(path.join(mine, 'thesis.tex'), 'utf8'), 'precious');
  assert.deepEqual(await readdir(mine), ['thesis.tex']);

  const file = path.join(work, 'a-file');
  await writeFile(file, 'x');
  await assert.rejects(prepareDemoDir(file), (err: unknown) => err instanceof DemoError && /is not a folder/.test(err.message));

  const empty = path.join(work, 'empty');
  await mkdir(empty);
  await prepareDemoDir(empty);
  assert.deepEqual(await readdir(empty), [DEMO_MARKER]);
});

test('the demo writes synker as a command that works here: `synker` only when that is this synker on the PATH, else `node bin/synker.js`', {
  skip: process.platform !== 'linux' && 'pastes the commands into /bin/sh: checked on Linux only',
}, async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { symlink } = await import('node:fs/promises');
  const { synkerCommand } = await import('../../src/demo/command.js');
  const { SYNKER_BIN } = await import('../harness/synker-cli.js');
  const repo = path.dirname(path.dirname(SYNKER_BIN));
  const nodeDir = path.dirname(process.execPath);
  const version = execFileSync(process.execPath, [SYNKER_BIN, '--version'], { encoding: 'utf8' });
  /** What a user gets when pasting `command --version` into a shell with this PATH, in this folder. */
  const paste = (command: string, PATH: string, cwd: string): string =>
    execFileSync('/bin/sh', ['-c', `${command} --version`], { cwd, env: { ...process.env, PATH }, encoding: 'utf8' });

  // After `npm start`: no synker on the PATH.
  const empty = await tempDir(t);
  const bare = `${empty}:${nodeDir}:/usr/bin:/bin`;
  const fromRepo = synkerCommand({ env: { PATH: bare }, cwd: repo });
  assert.equal(fromRepo, 'node bin/synker.js');
  assert.equal(paste(fromRepo, bare, repo), version);
  const elsewhere = synkerCommand({ env: { PATH: bare }, cwd: empty });
  assert.equal(elsewhere, `node ${SYNKER_BIN}`);
  assert.equal(paste(elsewhere, bare, empty), version);

  // After `npm link`: `synker` on the PATH is this launcher.
  const linked = await tempDir(t);
  await symlink(SYNKER_BIN, path.join(linked, 'synker'));
  const withLink = `${linked}:${nodeDir}:/usr/bin:/bin`;
  assert.equal(synkerCommand({ env: { PATH: withLink }, cwd: empty }), 'synker');
  assert.equal(paste('synker', withLink, empty), version);

  // Another synker first on the PATH would run other code: not that one.
  const other = await tempDir(t);
  await writeFile(path.join(other, 'synker'), '#!/bin/sh\necho other\n', { mode: 0o755 });
  assert.equal(synkerCommand({ env: { PATH: `${other}:${withLink}` }, cwd: repo }), 'node bin/synker.js');
});
