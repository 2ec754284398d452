import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parseDeviceId } from '../../src/identity/device-id.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

async function setup(
  t: Parameters<typeof tempDir>[0],
): Promise<{ home: string; env: NodeJS.ProcessEnv; configFile: string; folder: string }> {
  const home = await tempDir(t);
  const folder = path.join(home, 'Pictures');
  await mkdir(folder);
  return { home, env: isolatedEnv(home), configFile: path.join(home, 'synker/config/config.json'), folder };
}

test('init --yes writes the config, the identity and the folder marker, then prints the device ID and the next steps', async (t) => {
  const { home, env, configFile, folder } = await setup(t);
  const result = await runSynker(['init', '--yes', '--role', 'master', '--folder', `pictures=${folder}`, '--name', 'anna-laptop'], { env });
  assert.equal(result.code, 0, result.stderr);
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  assert.equal(config.name, 'anna-laptop');
  assert.deepEqual(config.folders, [{ id: 'pictures', path: folder, role: 'source', shareWith: [] }]);
  assert.equal(config.smtp, undefined);
  for (const file of ['cert.pem', 'key.pem']) assert.equal((await stat(path.join(home, 'synker/config', file))).mode & 0o777, 0o600);
  const marker = JSON.parse(await readFile(path.join(folder, '.synker/folder.json'), 'utf8')) as { folderId: string };
  assert.equal(marker.folderId, 'pictures');

  const id = /Device ID\s+(\S+)\s+\(new\)/.exec(result.stdout)?.[1];
  assert.ok(id && parseDeviceId(id), result.stdout);
  assert.match(result.stdout, /On the other machine:\s+synker init --role backup --folder pictures=PATH/);
  assert.ok(result.stdout.includes(`synker trust ${id} --name anna-laptop`), result.stdout);
  assert.match(result.stdout, /synker folder share pictures OTHER/);
  assert.match(result.stdout, /synker service install/);

  // The CLI's own view agrees: `synker id` prints the same device.
  const shown = await runSynker(['id'], { env });
  assert.equal(shown.stdout.trim(), id);

  // A second init does not overwrite anything...
  const again = await runSynker(['init', '--yes', '--folder', folder], { env });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /error: synker is already set up here: .*config\.json \(agent "anna-laptop", 1 folder\)/);
  assert.match(again.stderr, /hint: .*synker init --force/);
  // ...and --force rewrites the set-up but keeps the identity.
  const forced = await runSynker(
    ['init', '--yes', '--force', '--role', 'backup', '--folder', `pics=${path.join(home, 'copy')}`, '--name', 'nas', '--json'],
    { env },
  );
  assert.equal(forced.code, 0, forced.stderr);
  const json = JSON.parse(forced.stdout) as { deviceId: string; identityCreated: boolean; folders: unknown[]; createdFolders: string[] };
  assert.equal(json.identityCreated, false);
  assert.equal(json.deviceId, parseDeviceId(id));
  assert.deepEqual(json.folders, [{ id: 'pics', path: path.join(home, 'copy'), role: 'backup' }]);
  assert.deepEqual(json.createdFolders, [path.join(home, 'copy')]);
});

test('init sets up e-mail from flags: provider preset, login defaults to the address, password only from a file or a variable', async (t) => {
  const { home, env, configFile, folder } = await setup(t);
  const passwordFile = path.join(home, 'gmail-app-password');
  await writeFile(passwordFile, 'abcd efgh ijkl mnop\n', { mode: 0o600 });
  const result = await runSynker(
    ['init', '--yes', '--role', 'backup', '--folder', folder, '--email-to', 'anna@gmail.com', '--smtp-password-file', passwordFile],
    { env },
  );
  assert.equal(result.code, 0, result.stderr);
  const config = JSON.parse(await readFile(configFile, 'utf8')) as { smtp: Record<string, unknown> };
  assert.deepEqual(config.smtp, {
    host: 'smtp.gmail.com',
    port: 587,
    user: 'anna@gmail.com',
    passwordFile,
    from: 'anna@gmail.com',
    to: ['anna@gmail.com'],
  });
  assert.match(result.stdout, /E-mail\s+reports to anna@gmail.com via smtp.gmail.com:587, login anna@gmail.com \(password in /);

  const noHost = await runSynker(['init', '--yes', '--force', '--email-to', 'me@example.org'], { env });
  assert.equal(noHost.code, 2);
  assert.match(noHost.stderr, /--smtp-host is needed/);
  const noPassword = await runSynker(
    ['init', '--yes', '--force', '--email-to', 'me@example.org', '--smtp-host', 'mail.example.org', '--smtp-user', 'me'],
    { env },
  );
  assert.equal(noPassword.code, 2);
  assert.match(noPassword.stderr, /passwords are never taken on the command line/);
});

test('init refuses what would hide a problem: a missing source, a backup on an unmounted disk, no terminal without --yes', async (t) => {
  const { home, env } = await setup(t);
  const missing = await runSynker(['init', '--yes', '--role', 'source', '--folder', path.join(home, 'nope')], { env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /the source folder .*nope does not exist/);
  const unmounted = await runSynker(['init', '--yes', '--role', 'backup', '--folder', path.join(home, 'media/disk/copy')], { env });
  assert.equal(unmounted.code, 2);
  assert.match(unmounted.stderr, /hint: Mount the backup disk first/);
  const noTty = await runSynker(['init'], { env });
  assert.equal(noTty.code, 2);
  assert.match(noTty.stderr, /no terminal to ask the questions on/);
  assert.match(noTty.stderr, /hint: Pass --yes/);
  await assert.rejects(stat(path.join(home, 'synker/config/config.json')), { code: 'ENOENT' }, 'nothing was written');
});

test('init --force keeps the folders and e-mail it is not given again; a folder given again keeps its shares; ports as the config takes them', async (t) => {
  const { home, env, configFile, folder } = await setup(t);
  const passwordFile = path.join(home, 'pw');
  await writeFile(passwordFile, 'secret\n', { mode: 0o600 });
  const first = await runSynker(
    [
      'init',
      '--yes',
      '--role',
      'backup',
      '--folder',
      `pics=${folder}`,
      '--email-to',
      'me@example.org',
      '--smtp-host',
      'mail.example.org',
      '--smtp-user',
      'me',
      '--smtp-password-file',
      passwordFile,
    ],
    { env },
  );
  assert.equal(first.code, 0, first.stderr);
  // With no folder, the next steps speak of the other role than the one given.
  assert.match(first.stdout, /On the other machine:\s+synker init --role source --folder pics=PATH/);
  const other = await runSynker(['init', '--yes', '--force', '--role', 'backup', '--name', 'x'], {
    env: { ...env, SYNKER_HOME: path.join(home, 'second') },
  });
  assert.match(other.stdout, /On the other machine:\s+synker init --role source\n/);
  // Shared since, by hand.
  const config = JSON.parse(await readFile(configFile, 'utf8')) as { folders: Array<Record<string, unknown>> };
  config.folders[0]!.shareWith = ['MFZWI3DBONSGYCYLTMRWGC43ENR5QXGZDMMFZWI3DPBONSGYYLTMRWAD'];
  config.folders[0]!.sync = true;
  await writeFile(
    configFile,
    JSON.stringify({ ...config, trusted: [{ deviceId: 'MFZWI3DBONSGYCYLTMRWGC43ENR5QXGZDMMFZWI3DPBONSGYYLTMRWAD', name: 'laptop' }] }),
  );

  const renamed = await runSynker(['init', '--yes', '--force', '--name', 'nas2'], { env });
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.match(renamed.stdout, /Folder\s+pics\s+\S+\s+\(backup, kept\)/);
  assert.match(renamed.stdout, /E-mail\s+kept as it was/);
  const after = JSON.parse(await readFile(configFile, 'utf8')) as { name: string; folders: Array<Record<string, unknown>>; smtp?: unknown };
  assert.equal(after.name, 'nas2');
  assert.equal(after.folders.length, 1);
  assert.equal(after.folders[0]!.sync, true);
  assert.ok(after.smtp, 'e-mail kept');

  const again = await runSynker(
    ['init', '--yes', '--force', '--role', 'backup', '--folder', `pics=${folder}`, '--no-email', '--port', '0'],
    { env },
  );
  assert.equal(again.code, 0, again.stderr);
  const last = JSON.parse(await readFile(configFile, 'utf8')) as { port: number; folders: Array<Record<string, unknown>>; smtp?: unknown };
  assert.deepEqual(
    last.folders[0]!.shareWith,
    ['MFZWI3DBONSGYCYLTMRWGC43ENR5QXGZDMMFZWI3DPBONSGYYLTMRWAD'],
    'the folder given again keeps its shares',
  );
  assert.equal(last.smtp, undefined, '--no-email removes e-mail');
  assert.equal(last.port, 0);
  // A public provider never relays without a login: --yes without a password source is refused, naming the way to give one.
  const noLogin = await runSynker(['init', '--yes', '--force', '--email-to', 'anna@gmail.com'], { env });
  assert.equal(noLogin.code, 2);
  assert.match(
    noLogin.stderr,
    /error: smtp\.gmail\.com needs a login: give the password's source\nhint: Gmail needs an app password .*--smtp-password-file FILE/,
  );
  const scientific = await runSynker(['init', '--yes', '--force', '--port', '1e3'], { env });
  assert.equal(scientific.code, 2);
  assert.match(scientific.stderr, /--port 1e3: not a port number/);
});

test('init refuses folders inside one another before it writes anything', async (t) => {
  const { home, env, configFile } = await setup(t);
  const outer = path.join(home, 'pictures');
  const inner = path.join(outer, 'holidays');
  const result = await runSynker(['init', '--yes', '--role', 'backup', '--folder', `pics=${outer}`, '--folder', `hol=${inner}`], { env });
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /error: folder "hol" \(.*holidays\) is inside folder "pics" \(.*pictures\)\nhint: Folders must not be inside one another/,
  );
  await assert.rejects(readFile(configFile, 'utf8'), /ENOENT/, 'no config written');
  await assert.rejects(readFile(path.join(outer, '.synker', 'folder.json'), 'utf8'), /ENOENT/, 'no folder marker written');
});

test('init accepts "Name <address>" for --email-to and --email-from, as the config file does; the login is the bare address', async (t) => {
  const { home, env, configFile, folder } = await setup(t);
  const passwordFile = path.join(home, 'gmail-app-password');
  await writeFile(passwordFile, 'abcd efgh ijkl mnop\n', { mode: 0o600 });
  const result = await runSynker(
    [
      'init',
      '--yes',
      '--role',
      'backup',
      '--folder',
      folder,
      '--email-to',
      'Ann <anna@gmail.com>',
      '--email-from',
      'synker <nas@example.org>',
      '--smtp-password-file',
      passwordFile,
    ],
    { env },
  );
  assert.equal(result.code, 0, result.stderr);
  const config = JSON.parse(await readFile(configFile, 'utf8')) as { smtp: Record<string, unknown> };
  assert.deepEqual(config.smtp, {
    host: 'smtp.gmail.com',
    port: 587,
    user: 'anna@gmail.com',
    passwordFile,
    from: 'synker <nas@example.org>',
    to: ['Ann <anna@gmail.com>'],
  });

  const bad = await runSynker(['init', '--yes', '--force', '--email-to', 'Ann <not an address>', '--smtp-host', 'mail.example.org'], {
    env,
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--email-to Ann <not an address>: not an e-mail address/);
});

test('init with its config dir under /proc fails at once with E_CONFIG_DIR, instead of spinning for ever', {
  skip: process.platform !== 'linux' && '/proc refusing new folders is a Linux feature',
}, async (t) => {
  const { home, folder } = await setup(t);
  // /proc exists and refuses new entries with ENOENT: Node's recursive mkdir loops on that for ever.
  const env = isolatedEnv(home, { SYNKER_HOME: `/proc/synker-test-${process.pid}` });
  const started = Date.now();
  const run = await runSynker(['init', '--yes', '--role', 'source', '--folder', folder, '--no-email'], { env, timeoutMs: 20_000 });
  assert.equal(run.signal, null, `killed after ${Date.now() - started} ms: it did not finish`);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, new RegExp(`^error: cannot create the config dir /proc/synker-test-${process.pid}/config: ENOENT`, 'm'));
  assert.match(run.stderr, /hint: That place takes no new folders \(a virtual file system such as \/proc or \/sys\?\)/);
  // The config lock was let go: another command on the same home is not kept waiting.
  const again = await runSynker(['init', '--yes', '--role', 'source', '--folder', folder, '--no-email'], { env, timeoutMs: 20_000 });
  assert.equal(again.code, 2, again.stderr);
});
