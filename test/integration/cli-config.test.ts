import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Command } from 'commander';
import { loadAllCommands } from '../../src/cli/commands/index.js';
import { deviceIdFromCertificate, formatDeviceId } from '../../src/identity/device-id.js';
import { AgentState } from '../../src/state/agent-state.js';
import { isolatedEnv, runSynker, SYNKER_BIN } from '../harness/synker-cli.js';

/** The real CLI with HOME=home and SYNKER_HOME=home/synker. */
function runCli(args: string[], options: { home: string; cwd?: string }) {
  return runSynker(args, { env: isolatedEnv(options.home), ...(options.cwd ? { cwd: options.cwd } : {}) });
}
import { tempDir } from '../harness/tmp.js';
import { snapshotChanges, snapshotTree } from '../harness/snapshot.js';

const deviceA = deviceIdFromCertificate(Buffer.from('cli device a'));
const deviceB = deviceIdFromCertificate(Buffer.from('cli device b'));

test('`synker id` creates the identity once and prints the grouped device ID', async (t) => {
  const home = await tempDir(t);
  const first = await runCli(['id'], { home });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^([A-Z2-7]{7}-){7}[A-Z2-7]{7}\n$/);
  assert.match(first.stderr, /created this device's identity/);
  assert.equal((await stat(path.join(home, 'synker', 'config', 'key.pem'))).mode & 0o777, 0o600);
  const second = await runCli(['id', '--json'], { home });
  const parsed = JSON.parse(second.stdout) as { deviceId: string; formatted: string };
  assert.equal(parsed.formatted, first.stdout.trim());
  assert.doesNotMatch(second.stderr, /created/);
});

test("`synker trust` refuses a mistyped ID and this device's own ID", async (t) => {
  const home = await tempDir(t);
  const shown = formatDeviceId(deviceA);
  const typo = shown.slice(0, 10) + (shown[10] === 'A' ? 'B' : 'A') + shown.slice(11);
  const bad = await runCli(['trust', typo], { home });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error: ".*" is not a valid device ID: a check character does not match \(typo\?\)/);
  assert.match(bad.stderr, /hint: Copy the ID exactly/);
  assert.equal(bad.stdout, '');
  const own = (await runCli(['id'], { home })).stdout.trim();
  const self = await runCli(['trust', own], { home });
  assert.equal(self.code, 2);
  assert.match(self.stderr, /this device's own ID/);
  const list = await runCli(['trusted', '--json'], { home });
  assert.deepEqual(JSON.parse(list.stdout), []);
});

test('trust, trusted and untrust by name, ID or first group', async (t) => {
  const home = await tempDir(t);
  assert.equal((await runCli(['trust', formatDeviceId(deviceA).toLowerCase(), '--name', 'nas'], { home })).code, 0);
  const again = await runCli(['trust', deviceA], { home });
  assert.match(again.stdout, /^already trusted: nas /);
  assert.doesNotMatch(again.stdout, /renamed/);
  // A new --name for a device already trusted is a rename: said, old -> new.
  const renamed = await runCli(['trust', deviceA, '--name', 'nas2'], { home });
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.equal(renamed.stdout, `already trusted: nas2 ${formatDeviceId(deviceA)} (renamed: "nas" -> "nas2")\n`);
  const same = await runCli(['trust', deviceA, '--name', 'nas2'], { home });
  assert.equal(same.stdout, `already trusted: nas2 ${formatDeviceId(deviceA)}\n`);
  assert.equal((await runCli(['trust', deviceA, '--name', 'nas'], { home })).code, 0);
  assert.equal((await runCli(['trust', deviceB], { home })).code, 0);
  const clash = await runCli(['trust', deviceB, '--name', 'NAS'], { home });
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /the name "NAS" is already used/);

  const table = await runCli(['trusted'], { home });
  assert.match(table.stdout, /^NAME\s+DEVICE ID\s+FOLDERS\n/);
  assert.match(table.stdout, new RegExp(`nas\\s+${formatDeviceId(deviceA)}\\s+-`));
  const json = JSON.parse((await runCli(['trusted', '--json'], { home })).stdout) as Array<{ deviceId: string; name: string | null }>;
  assert.deepEqual(
    json.map((d) => [d.deviceId, d.name]),
    [
      [deviceA, 'nas'],
      [deviceB, null],
    ],
  );

  const missing = await runCli(['untrust', 'laptop'], { home });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /"laptop" is not a trusted device/);
  assert.equal((await runCli(['untrust', 'NAS'], { home })).code, 0);
  const byShort = await runCli(['untrust', deviceB.slice(0, 7).toLowerCase()], { home });
  assert.equal(byShort.code, 0, byShort.stderr);
  assert.deepEqual(JSON.parse((await runCli(['trusted', '--json'], { home })).stdout), []);
  // A device trusted without a name, then named: said too.
  await runCli(['trust', deviceB], { home });
  const named = await runCli(['trust', deviceB, '--name', 'box'], { home });
  assert.equal(named.stdout, `already trusted: box ${formatDeviceId(deviceB)} (renamed: no name -> "box")\n`);
});

test("a name that is another device's first ID group is refused, from --name and from an announcement", async (t) => {
  const home = await tempDir(t);
  const shortA = deviceA.slice(0, 7);
  assert.equal((await runCli(['trust', deviceA, '--name', 'nas'], { home })).code, 0);
  const hijack = await runCli(['trust', deviceB, '--name', shortA], { home });
  assert.equal(hijack.code, 2);
  assert.match(hijack.stderr, new RegExp(`error: "${shortA}" is the first group of the device ID ${formatDeviceId(deviceA)} \\(nas\\)`));
  // The name a device announced when it tried to connect is peer-controlled: such a name is dropped.
  const state = await AgentState.open(path.join(home, 'synker', 'data'));
  await state.recordPairingAttempt({ deviceId: deviceB, name: shortA.toLowerCase() });
  await state.close();
  const announced = await runCli(['trust', deviceB], { home });
  assert.equal(announced.code, 0, announced.stderr);
  // Not silently: the user learns the name was dropped, why, and how to give one.
  assert.match(
    announced.stderr,
    new RegExp(
      `note: the name it announced was not kept: "${shortA.toLowerCase()}" is the first group of the device ID ${formatDeviceId(deviceA)} \\(nas\\)`,
    ),
  );
  assert.match(announced.stderr, new RegExp(`hint: give it a name: synker trust ${formatDeviceId(deviceB)} --name NAME\n`));
  assert.deepEqual(JSON.parse((await runCli(['trusted', '--json'], { home })).stdout), [
    { deviceId: deviceA, name: 'nas', folders: [] },
    { deviceId: deviceB, name: null, folders: [] },
  ]);
  // The reverse order: a device whose first group is already another device's name.
  assert.equal((await runCli(['untrust', deviceA], { home })).code, 0);
  assert.equal((await runCli(['trust', deviceB, '--name', shortA], { home })).code, 0);
  const shadowed = await runCli(['trust', deviceA], { home });
  assert.equal(shadowed.code, 2);
  assert.match(
    shadowed.stderr,
    new RegExp(
      `this device's ID starts with "${shortA}", which is the name of ${formatDeviceId(deviceB)}\\nhint: Rename that device first`,
    ),
  );
  assert.deepEqual((JSON.parse((await runCli(['trusted', '--json'], { home })).stdout) as unknown[]).length, 1);
});

test('an announced name another trusted device already has is dropped with a note; a free one is kept quietly', async (t) => {
  const home = await tempDir(t);
  const deviceC = deviceIdFromCertificate(Buffer.from('cli device c'));
  assert.equal((await runCli(['trust', deviceA, '--name', 'nas'], { home })).code, 0);
  const state = await AgentState.open(path.join(home, 'synker', 'data'));
  await state.recordPairingAttempt({ deviceId: deviceB, name: 'NAS' });
  await state.recordPairingAttempt({ deviceId: deviceC, name: 'laptop' });
  await state.close();
  const clash = await runCli(['trust', deviceB], { home });
  assert.equal(clash.code, 0, clash.stderr);
  assert.equal(clash.stdout, `trusted ${formatDeviceId(deviceB)}\n`);
  assert.match(
    clash.stderr,
    new RegExp(`^note: the name it announced was not kept: the name "NAS" is already used by ${formatDeviceId(deviceA)}\n`),
  );
  assert.match(clash.stderr, /hint: give it a name: synker trust \S+ --name NAME\n/);
  const free = await runCli(['trust', deviceC], { home });
  assert.equal(free.stdout, `trusted laptop ${formatDeviceId(deviceC)}\n`);
  assert.doesNotMatch(free.stderr, /not kept/);
});

test('folder add refuses a folder inside another folder, or around one, also through a symlink', async (t) => {
  const home = await tempDir(t);
  const data = await tempDir(t);
  const f1 = path.join(data, 'f1');
  await mkdir(path.join(f1, 'inner', 'deeper'), { recursive: true });
  await mkdir(path.join(data, 'f1-sibling'));
  await symlink(f1, path.join(data, 'link'));
  assert.equal((await runCli(['folder', 'add', 'f1', f1, '--role', 'source'], { home })).code, 0);
  for (const [id, root, words] of [
    ['inner', path.join(f1, 'inner'), 'inside folder "f1"'],
    ['deeper', path.join(data, 'link', 'inner', 'deeper'), 'inside folder "f1"'],
    ['all', data, 'the parent of folder "f1"'],
  ] as const) {
    const nested = await runCli(['folder', 'add', id, root, '--role', 'backup'], { home });
    assert.equal(nested.code, 2, nested.stderr);
    assert.match(nested.stderr, new RegExp(`^error: .* is ${words} \\(${f1}\\): folders must not be inside one another\\nhint: `), id);
  }
  const viaLink = await runCli(['folder', 'add', 'again', path.join(data, 'link'), '--role', 'backup'], { home });
  assert.match(viaLink.stderr, /is already folder "f1" \(at /);
  // A sibling whose name merely starts the same is not inside.
  assert.equal((await runCli(['folder', 'add', 'sibling', path.join(data, 'f1-sibling'), '--role', 'backup'], { home })).code, 0);
  assert.deepEqual(
    (JSON.parse((await runCli(['folder', 'list', '--json'], { home })).stdout) as Array<{ id: string }>).map((f) => f.id),
    ['f1', 'sibling'],
  );
  await assert.rejects(stat(path.join(f1, 'inner', '.synker')), /ENOENT/);
});

test('folder add takes ~/ as the home folder, as init and the config file do (a quoted ~, or cmd/PowerShell)', async (t) => {
  const home = await tempDir(t);
  const elsewhere = await tempDir(t);
  await mkdir(path.join(home, 'Pictures'));
  // From another folder, so a literal "~" would resolve there and not exist.
  const add = await runCli(['folder', 'add', 'pics', '~/Pictures', '--role', 'source'], { home, cwd: elsewhere });
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /added folder "pics" \(source\) at (.*)\n/);
  const list = await runCli(['folder', 'list', '--json'], { home });
  const folders = JSON.parse(list.stdout) as { id: string; path: string }[];
  assert.equal(folders.find((f) => f.id === 'pics')?.path, path.join(home, 'Pictures'));
  const marker = JSON.parse(await readFile(path.join(home, 'Pictures', '.synker', 'folder.json'), 'utf8')) as { folderId: string };
  assert.equal(marker.folderId, 'pics');
  const missing = await runCli(['folder', 'add', 'docs', '~/Documents', '--role', 'source'], { home, cwd: elsewhere });
  assert.equal(missing.code, 2);
  assert.ok(missing.stderr.includes(`error: ${path.join(home, 'Documents')} does not exist`), missing.stderr);
});

test('folder add writes the marker, accepts role aliases, and refuses a missing path', async (t) => {
  const home = await tempDir(t);
  const data = await tempDir(t);
  const photos = path.join(data, 'photos');
  const copy = path.join(data, 'copy');
  await mkdir(photos);
  await mkdir(copy);
  await runCli(['trust', deviceA, '--name', 'nas'], { home });

  const add = await runCli(['folder', 'add', 'photos', photos, '--role', 'master', '--share', 'nas'], { home });
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /added folder "photos" \(source\) at .*, shared with nas/);
  const marker = JSON.parse(await readFile(path.join(photos, '.synker', 'folder.json'), 'utf8')) as { folderId: string };
  assert.equal(marker.folderId, 'photos');
  const slave = await runCli(['folder', 'add', 'copy', path.relative(data, copy), '--role', 'SLAVE'], { home, cwd: data });
  assert.equal(slave.code, 0, slave.stderr);
  assert.match(slave.stderr, /hint: no device can see it yet/);

  const missing = await runCli(['folder', 'add', 'gone', path.join(data, 'nope'), '--role', 'source'], { home });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /error: .*nope does not exist\nhint: Create it/);
  const badRole = await runCli(['folder', 'add', 'x', photos, '--role', 'mirror'], { home });
  assert.equal(badRole.code, 2);
  assert.match(badRole.stderr, /--role must be source \(or master\) or backup \(or slave\)/);
  const badId = await runCli(['folder', 'add', '../x', photos, '--role', 'source'], { home });
  assert.match(badId.stderr, /not a valid folder ID/);
  const dupId = await runCli(['folder', 'add', 'photos', copy, '--role', 'source'], { home });
  assert.match(dupId.stderr, /folder "photos" already exists/);
  const untrusted = await runCli(['folder', 'add', 'more', data, '--role', 'source', '--share', deviceB], { home });
  assert.equal(untrusted.code, 2);
  assert.match(untrusted.stderr, /is not a trusted device/);
  // A directory that is already another folder's root is refused.
  const other = await runCli(['folder', 'add', 'photos2', photos, '--role', 'source'], { home });
  assert.match(other.stderr, /is already folder "photos"/);

  const list = JSON.parse((await runCli(['folder', 'list', '--json'], { home })).stdout) as Array<{
    id: string;
    role: string;
    path: string;
    status: string;
    shareWith: Array<{ name: string }>;
  }>;
  assert.deepEqual(
    list.map((f) => [f.id, f.role, f.path, f.status, f.shareWith.map((s) => s.name)]),
    [
      ['photos', 'source', photos, 'ok', ['nas']],
      ['copy', 'backup', copy, 'ok', []],
    ],
  );

  // An unmounted disk: the root is there but the marker is not.
  await rm(path.join(copy, '.synker'), { recursive: true });
  const table = await runCli(['folder', 'list'], { home });
  assert.match(table.stdout, /copy\s+backup\s+absent \(no marker: disk not mounted\?\)/);
});

test('folder share, unshare and remove; untrust unshares', async (t) => {
  const home = await tempDir(t);
  const root = await tempDir(t);
  await runCli(['trust', deviceA, '--name', 'nas'], { home });
  await runCli(['trust', deviceB, '--name', 'laptop'], { home });
  await runCli(['folder', 'add', 'docs', root, '--role', 'source'], { home });
  const share = await runCli(['folder', 'share', 'docs', 'nas', 'laptop'], { home });
  assert.equal(share.code, 0, share.stderr);
  assert.match(share.stdout, /shared "docs" with nas \(.{7}\), laptop/);
  assert.match((await runCli(['folder', 'share', 'docs', 'nas'], { home })).stdout, /nothing to change/);
  assert.equal((await runCli(['folder', 'unshare', 'docs', 'laptop'], { home })).code, 0);
  for (const sub of ['share', 'unshare']) {
    const unknown = await runCli(['folder', sub, 'docs', 'nobody'], { home });
    assert.equal(unknown.code, 1, `folder ${sub}: ${unknown.stderr}`);
    assert.match(unknown.stderr, /error: "nobody" is not a trusted device\nhint: Run `synker trusted`/);
  }
  assert.equal((await runCli(['folder', 'share', 'nothere', 'nas'], { home })).code, 1);
  const untrust = await runCli(['untrust', 'nas'], { home });
  assert.match(untrust.stdout, /no longer shared with it: docs/);
  const config = JSON.parse(await readFile(path.join(home, 'synker', 'config', 'config.json'), 'utf8')) as {
    folders: Array<{ shareWith: string[] }>;
  };
  assert.deepEqual(config.folders[0]!.shareWith, []);
  assert.equal((await runCli(['folder', 'remove', 'docs'], { home })).code, 0);
  const again = await runCli(['folder', 'remove', 'docs'], { home });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /there is no folder "docs"/);
  // The marker stays, so adding the folder back at the same place works.
  assert.equal((await runCli(['folder', 'add', 'docs', root, '--role', 'backup'], { home })).code, 0);
  const mismatch = await runCli(['folder', 'add', 'papers', root, '--role', 'backup'], { home });
  assert.match(mismatch.stderr, /already/);
});

test('--config points every command at another file; a broken one is refused with file and line', async (t) => {
  const home = await tempDir(t);
  const file = path.join(home, 'elsewhere.json');
  assert.equal((await runCli(['--config', file, 'trust', deviceA], { home })).code, 0);
  assert.match(await readFile(file, 'utf8'), new RegExp(deviceA));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await assert.rejects(stat(path.join(home, 'synker', 'config', 'config.json')), /ENOENT/);

  await writeFile(file, '{\n  "version": 1,\n  "trusted": [\n    {"deviceID": "x"}\n  ]\n}\n');
  const broken = await runCli(['--config', file, 'trusted'], { home });
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /error: .*elsewhere\.json:4:6: trusted\[0\]\.deviceID: unknown key \(did you mean "deviceId"\?\)/);
  assert.match(broken.stderr, /hint: Fix the file by hand/);
});

test('no command defines its own --config: the global one would take its value first', async () => {
  const program = new Command('synker');
  for (const register of await loadAllCommands()) register(program);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  const shadowing = all(program)
    .filter((c) => c.options.some((o) => o.long === '--config'))
    .map((c) => c.name());
  assert.deepEqual(shadowing, [], 'read it with command.optsWithGlobals() (or loadCliContext) instead');
});

/** Root ignores file modes; dropping these capabilities makes a read-only folder read-only again. */
function withoutDacOverride(): boolean {
  try {
    execFileSync('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', '--', 'true']);
    return true;
  } catch {
    return false;
  }
}

test('a read-only folder root or config dir is a clear error, and nothing is half-written', async (t) => {
  const home = await tempDir(t);
  const limited = withoutPermissionOverride(t, home);
  if (limited === undefined) return;
  const root = await tempDir(t);
  assert.equal((await runCli(['id'], { home })).code, 0);
  const configDir = path.join(home, 'synker', 'config');
  // What the config dir holds (not the dir itself, whose ctime the chmods below change).
  const configFiles = () => {
    const { '.': _dir, ...files } = snapshotTree(configDir);
    return files;
  };
  const configBefore = configFiles();
  await chmod(root, 0o555);
  await chmod(configDir, 0o555);
  try {
    const add = await limited(['folder', 'add', 'photos', root, '--role', 'source']);
    assert.equal(add.code, 2, add.stderr);
    assert.match(add.stderr, /error: cannot write the folder marker .*folder\.json: EACCES\nhint: .*read-write/);
    const trust = await limited(['trust', deviceA]);
    assert.equal(trust.code, 2, trust.stderr);
    assert.match(trust.stderr, /error: .*config\.json: cannot save the config: EACCES/);
  } finally {
    await chmod(root, 0o755);
    await chmod(configDir, 0o700);
  }
  assert.deepEqual(readdirSync(root), [], 'no marker, folder or temporary file in the folder root');
  assert.deepEqual(
    snapshotChanges(configBefore, configFiles()),
    [],
    'the config dir holds what it held, byte for byte, and no temporary file',
  );
  assert.deepEqual(JSON.parse((await runCli(['folder', 'list', '--json'], { home })).stdout), []);
  assert.deepEqual(JSON.parse((await runCli(['trusted', '--json'], { home })).stdout), []);
});

test('a config dir that cannot be created is a clear error naming it, for every command that needs it', async (t) => {
  // SYNKER_HOME under a folder this user may not write (e.g. another user's).
  const home = await tempDir(t);
  const limited = withoutPermissionOverride(t, home);
  if (limited === undefined) return;
  await chmod(home, 0o555);
  const configDir = path.join(home, 'synker', 'config');
  try {
    for (const args of [['id'], ['init', '--yes'], ['trust', deviceA], ['agent', '--no-discovery', '--port', '0']]) {
      const run = await limited(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.ok(
        run.stderr.startsWith(`error: cannot create the config dir ${configDir}: EACCES: permission denied, mkdir `),
        `${args.join(' ')}: ${run.stderr}`,
      );
      assert.match(run.stderr, /\nhint: Create it with write access for the user running synker .*SYNKER_HOME/, args.join(' '));
    }
  } finally {
    await chmod(home, 0o755);
  }
});

/**
 * Runs synker in `home` as a user whom permissions apply to: as root, under
 * setpriv without the permission-override capabilities. Undefined (the test
 * is skipped) as root without setpriv.
 */
function withoutPermissionOverride(
  t: TestContext,
  home: string,
): ((args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>) | undefined {
  const root0 = process.getuid?.() === 0;
  if (root0 && !withoutDacOverride()) {
    t.skip('running as root without setpriv (util-linux): cannot make a folder read-only for this test');
    return undefined;
  }
  return (args) => (root0 ? runSetpriv(args, home) : runSynker(args, { env: isolatedEnv(home) }));
}

function runSetpriv(args: string[], home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'setpriv',
      ['--bounding-set', '-dac_override,-dac_read_search', '--', process.execPath, SYNKER_BIN, ...args],
      { env: isolatedEnv(home) },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      },
    );
  });
}

test('a path through a file names the file in the way, not read rights; a folder given as the config file says so', async (t) => {
  const home = await tempDir(t);
  const file = path.join(home, 'notes.txt');
  await writeFile(file, 'x');
  const inTheWay = `${file.replace(/[.\\]/g, '\\$&')} is a file, not a folder`;

  const viaHome = await runSynker(['status'], { env: isolatedEnv(home, { SYNKER_HOME: path.join(file, 'synker') }) });
  assert.equal(viaHome.code, 2);
  assert.match(viaHome.stderr, new RegExp(`: cannot read the config file: ${inTheWay}\\n`));
  assert.doesNotMatch(viaHome.stderr, /readable/);
  const viaFlag = await runCli(['--config', path.join(file, 'config.json'), 'status'], { home });
  assert.match(viaFlag.stderr, new RegExp(`cannot read the config file: ${inTheWay}\\n`));

  const folderAsFile = await runCli(['--config', home, 'status'], { home });
  assert.equal(folderAsFile.code, 2);
  assert.match(
    folderAsFile.stderr,
    /cannot read the config file: it is a folder, not a file\nhint: Give the path of the config file itself/,
  );

  const init = await runCli(['init', '--yes', '--role', 'source', '--folder', path.join(file, 'photos'), '--no-email'], { home });
  assert.equal(init.code, 2);
  assert.match(init.stderr, new RegExp(`cannot open .*photos: ${inTheWay}\\n`));
  const scan = await runCli(['scan', path.join(file, 'photos')], { home });
  assert.equal(scan.code, 2);
  assert.match(scan.stderr, new RegExp(`folder .*photos does not exist: ${inTheWay}\\n`));
  const add = await runCli(['folder', 'add', 'photos', path.join(file, 'photos'), '--role', 'backup'], { home });
  assert.equal(add.code, 2);
  assert.match(add.stderr, new RegExp(`cannot open .*photos: ${inTheWay}\\n`));
});
