import assert from 'node:assert/strict';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { serviceFile } from '../../src/service/file.js';
import { agentServiceSpec } from '../../src/service/spec.js';
import { quoteSystemdWord } from '../../src/service/systemd.js';
import { quoteWindowsArg } from '../../src/service/windows-task.js';
import { isolatedEnv, runSynker, SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

test('service print shows the systemd user unit that runs this synker as `agent`, with SYNKER_HOME passed on', async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  const result = await runSynker(['service', 'print', '--platform', 'linux'], { env });
  assert.equal(result.code, 0, result.stderr);
  const unit = result.stdout;
  assert.match(unit, /^\[Unit\]$/m);
  assert.match(unit, /^\[Service\]$/m);
  assert.ok(unit.includes(`ExecStart=${process.execPath} ${SYNKER_BIN} agent\n`), unit);
  assert.ok(unit.includes(`Environment=SYNKER_HOME=${home}/synker\n`), unit);
  assert.match(unit, /^WantedBy=default\.target$/m);
  assert.match(result.stderr, new RegExp(`writes this to ${home}/\\.config/systemd/user/synker\\.service`));
});

test('service print --platform macos and windows render their own formats', async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  const mac = await runSynker(['service', 'print', '--platform', 'macos', '--config', 'my config.json'], { env, cwd: home });
  assert.equal(mac.code, 0, mac.stderr);
  assert.match(mac.stdout, /<key>Label<\/key>\s*<string>org\.synker\.agent<\/string>/);
  assert.match(mac.stdout, /<key>RunAtLoad<\/key>\s*<true\/>/);
  assert.ok(mac.stdout.includes(`<string>--config</string>\n    <string>${home}/my config.json</string>`), mac.stdout);
  assert.match(mac.stderr, /Library\/LaunchAgents\/org\.synker\.agent\.plist/);

  const win = await runSynker(['service', 'print', '--platform', 'windows'], { env });
  assert.equal(win.code, 0, win.stderr);
  assert.match(win.stdout, /<LogonTrigger>/);
  assert.match(win.stdout, /<ExecutionTimeLimit>PT0S<\/ExecutionTimeLimit>/);
  // SYNKER_HOME is set: Task Scheduler has no environment, so cmd.exe sets it.
  assert.match(win.stdout, /<Command>cmd\.exe<\/Command>/);
  assert.ok(win.stdout.includes(`set &quot;SYNKER_HOME=${home}/synker&quot;&amp;&amp;`), win.stdout);

  const bad = await runSynker(['service', 'print', '--platform', 'beos'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown platform "beos"/);
  assert.match(bad.stderr, /hint: Use linux, macos or windows/);
});

test('the Windows task file is UTF-16 with a byte-order mark, as schtasks /XML wants', () => {
  const file = serviceFile('win32', agentServiceSpec({ env: { HOME: '/h', APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' } }), {
    HOME: '/h',
    APPDATA: 'C:\\Users\\ann\\AppData\\Roaming',
  });
  assert.deepEqual([...file.bytes.subarray(0, 2)], [0xff, 0xfe]);
  assert.equal(file.bytes.subarray(2).toString('utf16le'), file.text);
  assert.equal(file.path, 'C:\\Users\\ann\\AppData\\Roaming\\synker\\synker-agent-task.xml');
});

test('command lines survive spaces, quotes, % and $ in paths', () => {
  assert.equal(quoteSystemdWord('/usr/bin/node'), '/usr/bin/node');
  assert.equal(quoteSystemdWord('/home/ann/My Apps/100%/$x "q"\\'), '"/home/ann/My Apps/100%%/$$x \\"q\\"\\\\"');
  assert.throws(() => quoteSystemdWord('a\nb'), RangeError);
  assert.equal(quoteWindowsArg('C:\\node\\node.exe'), 'C:\\node\\node.exe');
  assert.equal(quoteWindowsArg('C:\\Program Files\\nodejs\\'), '"C:\\Program Files\\nodejs\\\\"');
  assert.equal(quoteWindowsArg('say "hi"'), '"say \\"hi\\""');
  assert.equal(quoteWindowsArg(''), '""');
});

test('service install writes the unit on a temp HOME and says clearly that systemctl is missing', async (t) => {
  const home = await tempDir(t);
  const emptyBin = path.join(home, 'bin');
  await mkdir(emptyBin);
  const env = isolatedEnv(home, { PATH: emptyBin });
  const printed = await runSynker(['service', 'print'], { env });
  const result = await runSynker(['service', 'install'], { env });
  assert.equal(result.code, 2, result.stderr);
  const unitPath = path.join(home, '.config/systemd/user/synker.service');
  assert.match(result.stderr, /error: wrote .*synker\.service, but systemctl was not found, so the agent will not start at login/);
  assert.match(result.stderr, /^hint: /m);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace without --debug');
  assert.equal(await readFile(unitPath, 'utf8'), printed.stdout);
  assert.equal((await stat(unitPath)).mode & 0o777, 0o644);

  const removed = await runSynker(['service', 'uninstall'], { env });
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /Removed the synker agent service/);
  await assert.rejects(stat(unitPath), { code: 'ENOENT' });
  const again = await runSynker(['service', 'uninstall'], { env });
  assert.equal(again.code, 0);
  assert.match(again.stdout, /is not installed/);
});

test('service install names the cause when systemd has no user manager to talk to', {
  skip: !(await hasSystemctl()) && 'systemctl is not installed here',
}, async (t) => {
  const home = await tempDir(t);
  // An empty XDG_RUNTIME_DIR: systemctl --user finds no bus, as under sudo or in a container.
  const env = isolatedEnv(home, { XDG_RUNTIME_DIR: home, DBUS_SESSION_BUS_ADDRESS: `unix:path=${home}/no-bus` });
  const result = await runSynker(['service', 'install'], { env });
  assert.equal(result.code, 2, result.stdout);
  assert.match(result.stderr, /`systemctl --user daemon-reload` failed during install/);
  assert.match(
    result.stderr,
    /hint: Run it from a normal login session: systemctl --user daemon-reload && systemctl --user enable synker\.service/,
  );
  assert.ok((await stat(path.join(home, '.config/systemd/user/synker.service'))).isFile());
});

async function hasSystemctl(): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      await stat(path.join(dir, 'systemctl'));
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}
