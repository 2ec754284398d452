/**
 * Two homes (SYNKER_HOME) of one user on one machine, as the README's quick
 * start does it on one laptop: their agents find each other through the
 * runtime folder with no network at all; the second agent on the same home
 * refuses to start and names the first; the config's default port held by
 * the other home's agent is no dead end; a check handed to an agent looks
 * for the source the way that agent was started to; no interface to search
 * on is said at once. Real agents and the real CLI on loopback; mDNS only on
 * `lo`, or on an interface that does not exist (no socket is opened).
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { AgentRunningError, holdAgentLock } from '../../src/agent/home-lock.js';
import { readLocalAgents, registerLocalAgent } from '../../src/discovery/local-agents.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const NO_SUCH_INTERFACE = 'synkertypo0';

test('a second agent on the same home refuses to start, naming the process of the first (E_AGENT_RUNNING)', async (t) => {
  const dir = await tempDir(t, 'synker-two-homes-lock-');
  const { backupEnv } = await configureCliPair(dir, { 'a.txt': 'alpha' });
  const first = await startCliAgent(t, backupEnv);
  const second = await runSynker(['agent', '--port', '0', '--no-discovery', '--no-schedule'], { env: backupEnv, timeoutMs: 20_000 });
  assert.equal(second.code, 2, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(`error: another synker agent already runs on this home \\(.*\\): process ${first.process.pid}, since `),
  );
  assert.match(second.stderr, new RegExp(`hint: One agent serves one home\\. Stop that one first \\(kill ${first.process.pid}\\)`));
  // The first one goes on serving.
  assert.equal(first.process.exitCode, null);

  // The error is typed, its data in fields.
  const dataDir = path.join(dir, 'lock-home');
  await mkdir(dataDir);
  const held = await holdAgentLock(dataDir);
  t.after(() => held.release());
  const err = await holdAgentLock(dataDir).then(
    () => assert.fail('a second lock on the same home was granted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AgentRunningError, String(err));
  assert.equal(err.code, 'E_AGENT_RUNNING');
  assert.equal(err.pid, process.pid);
  assert.equal(err.dataDir, dataDir);
  // The same home through a symlink is the same home.
  const link = path.join(dir, 'lock-home-link');
  await symlink(dataDir, link);
  await assert.rejects(holdAgentLock(link), (e: unknown) => e instanceof AgentRunningError && e.pid === process.pid);
});

test('two homes on one machine: the backup finds the source agent with no mDNS at all, and peers lists it', async (t) => {
  const dir = await tempDir(t, 'synker-two-homes-find-');
  const pair = await configureCliPair(dir, { 'a.txt': 'alpha', 'b.txt': 'beta' });
  // One user, one machine: one runtime folder for both homes.
  const run = path.join(dir, 'run');
  const sourceEnv = { ...pair.sourceEnv, XDG_RUNTIME_DIR: run };
  const backupEnv = { ...pair.backupEnv, XDG_RUNTIME_DIR: run };
  // No mDNS on the source: only the runtime folder can tell where it is.
  const source = await startCliAgent(t, sourceEnv);
  // mDNS on lo alone (the source announces nothing there): the runtime folder finds it, at once.
  const started = Date.now();
  const check = await runSynker(['check', 'photos', '--interface', 'lo', '--no-agent', '--timeout', '30s'], { env: backupEnv });
  assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
  assert.match(check.stdout, new RegExp(`source +laptop \\(\\w+\\) 127\\.0\\.0\\.1:${source.port}`));
  assert.ok(Date.now() - started < 15_000, `the check took ${Date.now() - started} ms: it waited for mDNS`);

  const peers = await runSynker(['peers', '--interface', 'lo', '--timeout', '500ms', '--json'], { env: backupEnv });
  assert.equal(peers.code, 0, peers.stderr);
  const listed = JSON.parse(peers.stdout) as { localAgents: Array<{ status: string; port: number; pid: number }> };
  assert.deepEqual(
    listed.localAgents.map((a) => [a.status, a.port, a.pid]),
    [['trusted as "laptop"', source.port, source.process.pid]],
  );

  // --no-discovery turns off the search on the network, not this machine's own list: the CLI, and an
  // agent started with --no-discovery that does the check, find the other home alike.
  const offline = await runSynker(['check', 'photos', '--no-discovery', '--no-agent'], { env: backupEnv });
  assert.equal(offline.code, 0, `${offline.stdout}\n${offline.stderr}`);
  const offlinePeers = await runSynker(['peers', '--no-discovery', '--json'], { env: backupEnv });
  assert.equal(offlinePeers.code, 0, offlinePeers.stderr);
  assert.deepEqual(
    (JSON.parse(offlinePeers.stdout) as { localAgents: Array<{ port: number }> }).localAgents.map((a) => a.port),
    [source.port],
  );

  // Another machine (its own runtime folder) is not found this way: the folder is this machine's.
  const elsewhere = await runSynker(['check', 'photos', '--interface', NO_SUCH_INTERFACE, '--no-agent', '--timeout', '30s'], {
    env: pair.backupEnv,
  });
  assert.equal(elsewhere.code, 2, elsewhere.stderr);
  assert.match(elsewhere.stderr, /was not found on the network: no network interface to search on/);

  // Stopped cleanly: its entry goes with it.
  source.process.kill('SIGTERM');
  await new Promise((resolve) => source.process.once('exit', resolve));
  const after = await runSynker(['peers', '--interface', NO_SUCH_INTERFACE, '--json'], { env: backupEnv });
  assert.equal(after.code, 1, after.stderr);
  assert.deepEqual((JSON.parse(after.stdout) as { localAgents: unknown[] }).localAgents, []);
});

test("the config's port held by the other home's agent: the second agent listens on a free port and says why", async (t) => {
  const dir = await tempDir(t, 'synker-two-homes-port-');
  const pair = await configureCliPair(dir, { 'a.txt': 'alpha' });
  const run = path.join(dir, 'run');
  const source = await startCliAgent(t, { ...pair.sourceEnv, XDG_RUNTIME_DIR: run });
  // Both configs name the same port, as two `synker init` on one machine do (7780).
  const configFile = path.join(pair.backupEnv.SYNKER_HOME!, 'config', 'config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as { port: number };
  await writeFile(configFile, JSON.stringify({ ...config, port: source.port }));
  const backupEnv = { ...pair.backupEnv, XDG_RUNTIME_DIR: run };
  // Before the backup's agent starts, doctor says it will step aside, not that it cannot start.
  const before = await runSynker(['doctor', '--no-multicast'], { env: backupEnv });
  assert.match(
    before.stdout,
    new RegExp(
      `ok +port +TCP port ${source.port}, the config's "port", is held by the agent of another home on this machine .*: this home's agent \\(not running\\) will listen on a free port instead`,
    ),
  );
  const backup = await startCliAgent(t, backupEnv, [], ['--no-discovery'], []);
  assert.notEqual(backup.port, source.port);
  assert.match(
    backup.log(),
    new RegExp(
      `port ${source.port} \\(the config's\\) is held by the agent of another home on this machine \\(process ${source.process.pid}, data .*laptop.*\\): listening on a free port instead`,
    ),
  );
  // doctor agrees: the port and the peer are fine, found on this machine without multicast.
  const doctor = await runSynker(['doctor', '--no-multicast'], { env: backupEnv });
  assert.match(
    doctor.stdout,
    new RegExp(
      `ok +port +the agent is running on TCP port ${backup.port}: ${source.port}, the config's "port", is held by the agent of another home on this machine`,
    ),
  );
  assert.match(
    doctor.stdout,
    new RegExp(`ok +peer +"laptop" \\(\\w+\\) is reachable at 127\\.0\\.0\\.1:${source.port} \\(found via this machine`),
  );
  assert.equal(doctor.code, 0, doctor.stdout);
  // Another program on the port is still an error: only another home's agent is stepped around.
  const other = await runSynker(['agent', '--port', String(source.port), '--no-discovery', '--no-schedule'], {
    env: backupEnv,
    timeoutMs: 20_000,
  });
  assert.equal(other.code, 2);
});

test('a check handed to the agent looks for the source the way the agent was started (its --interface), and says so', async (t) => {
  const dir = await tempDir(t, 'synker-two-homes-handed-');
  const { backupEnv } = await configureCliPair(dir, { 'a.txt': 'alpha' });
  // An interface that does not exist: no mDNS socket is opened anywhere.
  const agent = await startCliAgent(t, backupEnv, [], ['--interface', NO_SUCH_INTERFACE]);
  assert.match(agent.log(), new RegExp(`mDNS announces nothing: ${NO_SUCH_INTERFACE} \\(--interface\\) is not up with an IPv4 address`));
  const started = Date.now();
  // No discovery flag: the agent's own settings apply (before, the CLI's default, every interface, was sent).
  const r = await runSynker(['--debug', 'check', 'photos', '--timeout', '30s'], { env: backupEnv });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /the agent ran the check/);
  assert.match(
    r.stderr,
    new RegExp(`was not found on the network: no network interface to search on \\(${NO_SUCH_INTERFACE} is not up with an IPv4 address\\)`),
  );
  assert.match(r.stderr, /hint: Check the agent's --interface name/);
  // Known at once: no wait for the 30 s timeout.
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
});

test('peers and check say at once that there is no interface to search on; the hint names --interface only when given', async (t) => {
  const dir = await tempDir(t, 'synker-two-homes-none-');
  const { backupEnv } = await configureCliPair(dir, { 'a.txt': 'alpha' });
  const started = Date.now();
  const peers = await runSynker(['peers', '--interface', NO_SUCH_INTERFACE, '--timeout', '30s'], { env: backupEnv });
  assert.equal(peers.code, 1, peers.stderr);
  assert.match(peers.stderr, new RegExp(`no agent found: no network interface to search on \\(${NO_SUCH_INTERFACE} is not up`));
  assert.match(peers.stderr, /hint: Check the --interface name/);
  const check = await runSynker(['check', 'photos', '--interface', NO_SUCH_INTERFACE, '--no-agent', '--timeout', '30s'], {
    env: backupEnv,
  });
  assert.equal(check.code, 2, check.stderr);
  assert.match(check.stderr, /hint: Check the --interface name/);
  assert.ok(Date.now() - started < 20_000, `peers and check took ${Date.now() - started} ms: they waited their 30 s`);
});

test("service install for a second home refuses to replace the first home's login service (E_SERVICE_OTHER_HOME), and uninstall too", async (t) => {
  const home = await tempDir(t, 'synker-two-homes-service-');
  // No systemctl: the unit is written, the manager step fails (as in a container); nothing reaches the real user's systemd.
  const emptyBin = path.join(home, 'empty-bin');
  await mkdir(emptyBin);
  const envOf = (name: string) => isolatedEnv(home, { PATH: emptyBin, SYNKER_HOME: path.join(home, name) });
  const unit = path.join(home, '.config', 'systemd', 'user', 'synker.service');
  const first = await runSynker(['service', 'install'], { env: envOf('anna') });
  assert.match(first.stderr, /wrote .*synker\.service, but systemctl was not found/);
  const written = await readFile(unit, 'utf8');
  assert.match(written, /Environment=SYNKER_HOME=.*\/anna\n/);

  const second = await runSynker(['service', 'install'], { env: envOf('nas') });
  assert.equal(second.code, 2, second.stderr);
  assert.match(
    second.stderr,
    /error: .*synker\.service starts the agent of another home, SYNKER_HOME=.*\/anna, not this one \(SYNKER_HOME=.*\/nas\): installing would replace it/,
  );
  const uninstall = await runSynker(['service', 'uninstall'], { env: envOf('nas') });
  assert.equal(uninstall.code, 2, uninstall.stderr);
  assert.match(uninstall.stderr, /uninstalling would remove it/);
  assert.equal(await readFile(unit, 'utf8'), written, "the first home's unit was changed");

  // The same home again is an update, as before.
  const again = await runSynker(['service', 'install'], { env: envOf('anna') });
  assert.doesNotMatch(again.stderr, /another home/);
});

test("the runtime folder is believed only when it is this user's own: entries in a folder others can write are ignored", async (t) => {
  const dir = await tempDir(t, 'synker-two-homes-runtime-');
  const folder = path.join(dir, 'synker');
  const registered = await registerLocalAgent(
    { deviceId: 'A'.repeat(56), name: 'x', host: '127.0.0.1', port: 7780, dataDir: path.join(dir, 'home') },
    folder,
  );
  assert.deepEqual(
    readLocalAgents(folder).map((a) => [a.pid, a.port]),
    [[process.pid, 7780]],
  );
  // A host name would be looked up in the DNS: only IP addresses are read.
  await writeFile(
    path.join(folder, 'agent-byname.json'),
    JSON.stringify({ ...JSON.parse(await readFile(registered.file, 'utf8')), host: 'example.org', dataDir: '/y' }),
  );
  assert.equal(readLocalAgents(folder).length, 1);
  await chmod(folder, 0o777);
  assert.deepEqual(readLocalAgents(folder), []);
  await assert.rejects(registerLocalAgent({ deviceId: 'B'.repeat(56), name: 'y', host: '127.0.0.1', port: 1, dataDir: dir }, folder), {
    code: 'E_RUNTIME_DIR',
  });
  await chmod(folder, 0o700);
  await registered.remove();
  assert.deepEqual(readLocalAgents(folder), []);
});
