import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { askMissing, providerFor } from '../../src/init/questions.js';
import { createPrompter, PromptClosedError } from '../../src/init/prompt.js';
import { parseFolderSpec, folderIdFromPath } from '../../src/init/plan.js';
import { tempDir } from '../harness/tmp.js';

function scripted(answers: string[]): { prompter: ReturnType<typeof createPrompter>; transcript: () => string } {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d: Buffer) => (text += d.toString()));
  input.end(answers.map((a) => `${a}\n`).join(''));
  return { prompter: createPrompter(input, output), transcript: () => text };
}

test('init questions: defaults on Enter, a bad answer is asked again, the password is not echoed', async (t) => {
  const dir = await tempDir(t);
  const { prompter, transcript } = scripted([
    '', // name: keep default
    'copy', // role: invalid
    'backup',
    `${dir}/Pictures Backup`, // folder (backup: may not exist yet)
    'bad id!', // invalid folder ID
    '', // folder ID default
    'n', // no other folder
    '', // e-mail? default yes on a backup
    'ann@gmail.com',
    '', // login as: default = to
    '', // host: default from the provider
    '', // port default
    '', // from default
    'app-password-1234',
  ]);
  const plan = await askMissing(
    prompter,
    { name: 'laptop', folders: [] },
    { nameGiven: false, roleGiven: false, foldersGiven: false, emailGiven: false },
    'source',
  );
  prompter.close();
  assert.equal(plan.name, 'laptop');
  assert.deepEqual(plan.folders, [{ id: 'pictures-backup', path: `${dir}/Pictures Backup`, role: 'backup' }]);
  assert.deepEqual(plan.email, {
    to: ['ann@gmail.com'],
    from: 'ann@gmail.com',
    host: 'smtp.gmail.com',
    port: 587,
    secure: false,
    user: 'ann@gmail.com',
    password: 'app-password-1234',
  });
  const shown = transcript();
  assert.match(shown, /Answer source or backup\./);
  assert.match(shown, /A folder ID is 1-64 letters/);
  assert.match(shown, /Gmail needs an app password/);
  assert.doesNotMatch(shown, /app-password-1234/);
});

test('init questions: input that ends early is an error, not a half-answered set-up', async () => {
  const { prompter } = scripted(['laptop']);
  await assert.rejects(
    askMissing(
      prompter,
      { name: 'x', folders: [] },
      { nameGiven: false, roleGiven: false, foldersGiven: false, emailGiven: false },
      'source',
    ),
    PromptClosedError,
  );
  prompter.close();
});

test('folder specs and IDs', () => {
  assert.deepEqual(parseFolderSpec('pictures=/data/Pictures', 'source'), { id: 'pictures', path: '/data/Pictures', role: 'source' });
  assert.deepEqual(parseFolderSpec('/data/My Photos', 'backup'), { id: 'my-photos', path: '/data/My Photos', role: 'backup' });
  // An "=" inside a path that is not an ID stays part of the path.
  assert.equal(parseFolderSpec('/data/a=b', 'source').path, '/data/a=b');
  assert.equal(folderIdFromPath('/x/Fotos Été'), 'fotos-ete');
  assert.equal(providerFor('someone@Outlook.com')?.host, 'smtp-mail.outlook.com');
  assert.equal(providerFor('someone@example.org'), undefined);
});

test('init questions: --email-to without a server or login asks for the rest, not for the address again', async () => {
  const { prompter, transcript } = scripted([
    '', // login as: default = the address
    '', // host: the provider's
    '', // port
    '', // from
    'app-password-5678',
  ]);
  const plan = await askMissing(
    prompter,
    { name: 'nas', folders: [{ id: 'pictures', path: '/media/backup/pictures', role: 'backup' }] },
    { nameGiven: true, roleGiven: true, foldersGiven: true, emailGiven: true, emailTo: 'anna@gmail.com' },
    'backup',
  );
  prompter.close();
  assert.deepEqual(plan.email, {
    to: ['anna@gmail.com'],
    from: 'anna@gmail.com',
    host: 'smtp.gmail.com',
    port: 587,
    secure: false,
    user: 'anna@gmail.com',
    password: 'app-password-5678',
  });
  const shown = transcript();
  assert.match(shown, /E-mail reports to anna@gmail\.com:/);
  assert.doesNotMatch(shown, /Send reports to/);
});
