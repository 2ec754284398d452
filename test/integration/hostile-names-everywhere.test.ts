/**
 * Every renderer of names goes through the one escaping function
 * (base/printable.ts): the same hostile names (ESC sequences, an OSC title,
 * the C1 CSI U+009B, U+202E, newline, tab, carriage return) go through the
 * output of every command that prints names, run as a user would on two
 * real devices, and no raw control byte may come out, nor a forged line.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { configureCliPair, deviceId, startCliAgent, synkerOk } from '../harness/cli-pair.js';
import { type CliResult, isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';
import { TERMINAL_HOSTILE_NAMES } from '../harness/hostile-names.js';

const HOSTILE = TERMINAL_HOSTILE_NAMES;
/** Raw control characters (newline aside: lines are the output's own), C1 controls, bidirectional overrides and invisible spaces. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/u;

function clean(what: string, r: CliResult): void {
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    const raw = RAW.exec(text);
    assert.equal(raw, null, `${what} (${stream}): raw U+${raw?.[0].codePointAt(0)?.toString(16)} in ${JSON.stringify(text)}`);
    // A name with a newline must not start a line of its own that reads like the report's.
    assert.doesNotMatch(text, /^Missing on backup \(999\)/m, `${what} (${stream}): a forged line`);
  }
}

test('hostile names come out escaped from every command: check, sync, restore, versions, scan, status, outbox', async (t) => {
  const dir = await tempDir(t);
  const pair = await configureCliPair(dir, { 'ok.txt': 'ok' });
  for (const name of HOSTILE) writeFileSync(path.join(pair.sourceRoot, name), `first ${name}`);
  symlinkSync('\u001b]0;LINK\u0007\u009b2J', path.join(pair.sourceRoot, 'link\u001b[2J'));
  const source = await startCliAgent(t, pair.sourceEnv);
  const peer = ['--peer', `127.0.0.1:${source.port}`, '--no-discovery'];
  const onBackup = (args: string[]): Promise<CliResult> => runSynker(args, { env: pair.backupEnv });
  const onSource = (args: string[]): Promise<CliResult> => runSynker(args, { env: pair.sourceEnv });

  for (const extra of [[], ['--all']]) {
    const check = await onBackup(['check', 'photos', ...peer, '--no-agent', ...extra]);
    assert.equal(check.code, 1, check.stderr);
    assert.match(check.stdout, /esc\\u\{1b\}\[2J/);
    clean(`check ${extra.join(' ')}`, check);
  }
  const dry = await onBackup(['sync', 'photos', ...peer, '--dry-run', '--all']);
  assert.match(dry.stdout, /rlo\\u\{202e\}gpj\.exe/);
  clean('sync --dry-run', dry);
  const sync = await onBackup(['sync', 'photos', ...peer]);
  assert.equal(sync.code, 0, sync.stdout + sync.stderr);
  clean('sync', sync);
  // Changed on the source: the next sync keeps the old copies in versions.
  for (const name of HOSTILE) writeFileSync(path.join(pair.sourceRoot, name), `second ${name}, longer`);
  const again = await onBackup(['sync', 'photos', ...peer, '--all']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  clean('sync (replacing)', again);
  const versions = await onBackup(['versions', 'list', 'photos']);
  assert.equal(versions.code, 0, versions.stderr);
  assert.match(versions.stdout, /c1\\u\{9b\}31mRED/);
  clean('versions list', versions);

  const scan = await onSource(['scan', pair.sourceRoot]);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stdout, /osc\\u\{1b\}\]0;TITLE\\u\{7\}/);
  clean('scan', scan);

  // A report queued for e-mail (the mail server is down), then status and outbox.
  const config = path.join(pair.backupEnv.SYNKER_HOME!, 'config', 'config.json');
  const settings = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
  // A hostile mail server that refuses every connection with control characters in its words: the report waits in the outbox.
  const down = net.createServer((socket) => socket.end('554 5.7.1 \u001b]0;PWNED\u0007\u001b[2J\u009b31m go away\r\n'));
  await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
  t.after(() => down.close());
  const port = (down.address() as net.AddressInfo).port;
  settings.smtp = { host: '127.0.0.1', port, starttls: 'never', from: 'synker <s@nas.test>', to: ['o@example.test'], timeout: '5s' };
  writeFileSync(config, JSON.stringify(settings, null, 2));
  writeFileSync(path.join(pair.sourceRoot, HOSTILE[4]!), 'third: changed again');
  const mailed = await onBackup(['check', 'photos', ...peer, '--no-agent', '--email']);
  assert.equal(mailed.code, 1, mailed.stderr);
  clean('check --email', mailed);
  const status = await onBackup(['status']);
  assert.match(status.stdout, /photos/, status.stderr);
  clean('status', status);
  const outbox = await onBackup(['outbox']);
  assert.equal(outbox.code, 1, `one report waits: ${outbox.stdout}${outbox.stderr}`);
  assert.match(outbox.stdout, /last error: .*PWNED/);
  clean('outbox', outbox);

  // Restore: the source lost the hostile files; the backup's agent serves them back.
  await new Promise<void>((resolve) => {
    source.process.once('exit', () => resolve());
    source.process.kill('SIGTERM');
  });
  // All lost but one, edited since on the source: restore leaves that one alone and says so.
  for (const name of HOSTILE.slice(1)) rmSync(path.join(pair.sourceRoot, name));
  writeFileSync(path.join(pair.sourceRoot, HOSTILE[0]!), 'edited on the source since, newer than the backup');
  const backup = await startCliAgent(t, pair.backupEnv);
  const from = ['--peer', `127.0.0.1:${backup.port}`, '--no-discovery'];
  const restoreDry = await onSource(['restore', 'photos', ...from, '--dry-run', '--all']);
  assert.match(restoreDry.stdout, /nl\\u\{a\}Missing on backup \(999\)/);
  clean('restore --dry-run', restoreDry);
  const restore = await onSource(['restore', 'photos', ...from, '--all']);
  assert.match(restore.stdout, /skipped \([a-z-]+\): esc\\u\{1b\}\[2J/, restore.stdout + restore.stderr);
  clean('restore', restore);
  const nothing = await onSource(['restore', 'photos', ...from, 'nosuch\u001b[31m\u202e']);
  assert.match(nothing.stdout + nothing.stderr, /nosuch\\u\{1b\}\[31m\\u\{202e\}/);
  clean('restore of a path the backup lacks', nothing);
  clean('the source agent log', { code: 0, signal: null, stdout: '', stderr: source.log() });
  clean('the backup agent log', { code: 0, signal: null, stdout: '', stderr: backup.log() });
});

test("a folder path holding hostile characters comes out escaped from folder list, doctor and the absent folder's error", async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(path.join(dir, 'home'));
  const root = path.join(dir, `backup ${HOSTILE.join(' ')}`.replaceAll('/', '_'));
  mkdirSync(root);
  const add = await runSynker(['folder', 'add', 'photos', root, '--role', 'backup'], { env });
  assert.equal(add.code, 0, add.stderr);
  clean('folder add', add);
  renameSync(root, path.join(dir, 'moved')); // the disk is not mounted: every command names the path

  const list = await runSynker(['folder', 'list'], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /esc\\u\{1b\}\[2J/);
  clean('folder list', list);
  const doctor = await runSynker(['doctor', '--no-multicast'], { env });
  assert.match(doctor.stdout, /FAIL {2}folder .*esc\\u\{1b\}\[2J.*does not exist/);
  clean('doctor', doctor);
  for (const args of [
    ['check', 'photos', '--peer', '127.0.0.1:1', '--no-discovery', '--no-agent'],
    ['sync', 'photos', '--peer', '127.0.0.1:1', '--no-discovery'],
    ['status'],
  ]) {
    const r = await runSynker(args, { env });
    assert.notEqual(r.code, 0, `${args[0]}: the folder is absent`);
    assert.match(r.stdout + r.stderr, /is absent/);
    clean(args[0]!, r);
    assert.doesNotMatch(r.stderr, /\n\S*Missing on backup \(999\)/, `${args[0]}: the path's newline breaks no line`);
  }
});

test("folder add's errors name a hostile path escaped: a newline in it forges no line", async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(path.join(dir, 'home'));
  const evil = path.join(dir, 'ev\u001b[31mil\nMissing on backup (999)\u202eyy');
  mkdirSync(evil);
  writeFileSync(path.join(evil, 'afile'), 'a file, not a folder');
  mkdirSync(path.join(evil, 'sub'));
  const notDir = await runSynker(['folder', 'add', 'bad', path.join(evil, 'afile'), '--role', 'source'], { env });
  assert.notEqual(notDir.code, 0);
  assert.match(notDir.stderr, /il\\u\{a\}Missing on backup \(999\)\\u\{202e\}yy\/afile is not a directory/);
  clean('folder add <a file>', notDir);
  await synkerOk(env, ['folder', 'add', 'photos', evil, '--role', 'source']);
  for (const args of [
    ['folder', 'add', 'photos', dir, '--role', 'source'],
    ['folder', 'add', 'other', evil, '--role', 'source'],
    ['folder', 'add', 'inner', path.join(evil, 'sub'), '--role', 'source'],
  ]) {
    const r = await runSynker(args, { env });
    assert.notEqual(r.code, 0, `${args.join(' ')}: refused`);
    assert.match(r.stderr, /\\u\{a\}Missing on backup/);
    clean(args.join(' '), r);
  }
  // A damaged config at such a path: its FILE:LINE:COLUMN is on one line too.
  writeFileSync(path.join(evil, 'config.json'), '{ "name": ');
  const damaged = await runSynker(['folder', 'list', '--config', path.join(evil, 'config.json')], { env });
  assert.equal(damaged.code, 2, damaged.stderr);
  assert.match(damaged.stderr, /\\u\{a\}Missing on backup \(999\)\\u\{202e\}yy\/config\.json:1:/);
  clean('a damaged config', damaged);
});

test('folder share names a trusted device whose name holds U+202E and the invisible U+200B escaped', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(path.join(dir, 'home'));
  mkdirSync(path.join(dir, 'pics'));
  await synkerOk(env, ['folder', 'add', 'photos', path.join(dir, 'pics'), '--role', 'source']);
  const otherEnv = isolatedEnv(path.join(dir, 'other'));
  await synkerOk(env, ['trust', await deviceId(otherEnv), '--name', 'bak\u202exob\u200b']);
  const share = await runSynker(['folder', 'share', 'photos', 'bak\u202exob\u200b'], { env });
  assert.equal(share.code, 0, share.stderr);
  assert.match(share.stdout, /shared "photos" with bak\\u\{202e\}xob\\u\{200b\} \(/);
  clean('folder share', share);
});

test("init's summary shows the name and the config path (SYNKER_HOME) escaped; a name breaking the rule is a usage error before anything is made", async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'h\u001b[31mome');
  const initEnv = isolatedEnv(home, { SYNKER_HOME: home });
  const init = await runSynker(['init', '--yes', '--name', 'my\u202ebox', '--port', '0', '--no-email'], { env: initEnv });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /Name +my\\u\{202e\}box\n/);
  assert.match(init.stdout, /Config +\S*h\\u\{1b\}\[31mome/);
  clean('init', init);
  // A name the config would refuse: a usage error about --name, and nothing made.
  const badHome = path.join(dir, 'bad-home');
  const bad = await runSynker(['init', '--yes', '--name', 'bad\tname', '--port', '0', '--no-email'], {
    env: isolatedEnv(badHome, { SYNKER_HOME: badHome }),
  });
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /--name must not contain control characters/);
  assert.doesNotMatch(bad.stderr, /config\.json/);
  assert.ok(!existsSync(badHome) || readdirSync(badHome, { recursive: true }).length === 0, 'no key, no config');
});

test("peers and the agent's log line show a name ending in an invisible U+200B escaped", async (t) => {
  const dir = await tempDir(t);
  // One machine's two homes: peers lists the other home's agent by the name it registered.
  const pair = await configureCliPair(path.join(dir, 'pair'), { 'a.txt': 'a' }, { sharedRuntime: true });
  const name = 'src\u202ebox\u200b';
  const configFile = path.join(pair.sourceEnv.SYNKER_HOME!, 'config', 'config.json');
  writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), name }));
  const source = await startCliAgent(t, pair.sourceEnv);
  const peers = await runSynker(['peers', '--no-discovery', '--peer', `127.0.0.1:${source.port}`], { env: pair.backupEnv });
  assert.match(peers.stdout, /src\\u\{202e\}box\\u\{200b\}/, peers.stdout + peers.stderr);
  clean('peers', peers);
  assert.match(source.log(), /synker agent "src\\u\{202e\}box\\u\{200b\}"/);
  clean('the agent log', { code: 0, signal: null, stdout: '', stderr: source.log() });
});
