/**
 * `synker check` on a machine whose agent runs: the agent does the check
 * (through the control socket in the data dir), the CLI prints the same
 * report, and without a usable agent the CLI checks by itself.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { mkdir, writeFile } from 'node:fs/promises';
import { checkThroughAgent } from '../../src/control/client.js';
import { parseRequest, startControlServer } from '../../src/control/server.js';
import { CONTROL_VERSION, controlSocketPath, type ControlCheckRequest } from '../../src/control/protocol.js';
import type { CheckReport } from '../../src/report/model.js';
import { runCheckProcess } from '../../src/schedule/check-process.js';
import { loadOrCreateIdentity } from '../../src/identity/identity.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { isFrameOfType, rawHello, startRawServer } from '../harness/peers.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = { 'a.txt': 'alpha', 'b.txt': 'bravo', 'docs/readme.md': '# readme' };

test('with its agent running, `synker check` has the agent check; --no-agent, a killed agent or another config check in the CLI, with the same report', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, sourceEnv);
  await rm(path.join(backupRoot, 'b.txt'));
  const backupAgent = await startCliAgent(t, backupEnv);
  const socket = controlSocketPath(path.join(backupEnv.SYNKER_HOME!, 'data'))!;
  assert.equal(statSync(socket).mode & 0o777, 0o600, 'only the owner may ask the agent');

  const checkWith = (globalArgs: string[], ...extra: string[]) =>
    runSynker(['--debug', ...globalArgs, 'check', 'photos', '--no-discovery', '--peer', `127.0.0.1:${source.port}`, '--json', ...extra], {
      env: backupEnv,
    });
  const check = (...extra: string[]) => checkWith([], ...extra);
  const summary = (stdout: string): unknown => {
    const r = JSON.parse(stdout) as CheckReport;
    return [r.exitCode, r.source.name, r.backup.name, r.differences.map((d) => `${d.category} ${d.path}`)];
  };
  const here = await check('--no-agent');
  assert.equal(here.code, 1, here.stderr);
  assert.doesNotMatch(here.stderr, /the agent ran the check/);
  const expected = summary(here.stdout);
  assert.deepEqual((expected as unknown[])[3], ['missing b.txt']);

  const byAgent = await check();
  assert.equal(byAgent.code, 1, byAgent.stderr);
  assert.deepEqual(summary(byAgent.stdout), expected);
  assert.match(byAgent.stderr, /the agent ran the check/);
  assert.match(backupAgent.log(), /checked "photos" for `synker check` on this machine: 1 difference/);

  // A scheduled check keeps its own low-priority process: the agent does not run it.
  const agentChecksSoFar = (): number => backupAgent.log().split('for `synker check`').length;
  const before = agentChecksSoFar();
  const scheduled = await runCheckProcess('photos', {
    env: backupEnv,
    extraArgs: ['--no-discovery', '--peer', `127.0.0.1:${source.port}`],
  });
  assert.equal(scheduled.report?.exitCode, 1);
  assert.equal(agentChecksSoFar(), before);

  // A CLI reading another config file than the agent's is refused, and checks by itself.
  const configPath = path.join(backupEnv.SYNKER_HOME!, 'config', 'config.json');
  const same = await runSynker(
    [
      '--debug',
      '--config',
      path.join('config', '.', 'config.json'),
      'check',
      'photos',
      '--no-discovery',
      '--peer',
      `127.0.0.1:${source.port}`,
      '--json',
    ],
    {
      env: backupEnv,
      cwd: backupEnv.SYNKER_HOME!,
    },
  );
  assert.match(same.stderr, /the agent ran the check/, 'the same file, given relative to another folder, is the same config');
  const copy = path.join(dir, 'other-config.json');
  await copyFile(configPath, copy);
  const refused = await checkWith(['--config', copy]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /E_CONTROL_CONFIG/);
  assert.deepEqual(summary(refused.stdout), expected);

  // An agent killed without cleaning up leaves its socket file: the next check is done in the CLI.
  backupAgent.process.kill('SIGKILL');
  await new Promise((resolve) => backupAgent.process.once('exit', resolve));
  const afterKill = await check();
  assert.equal(afterKill.code, 1, afterKill.stderr);
  assert.deepEqual(summary(afterKill.stdout), expected);
  assert.match(afterKill.stderr, /no agent on .*agent\.sock/);

  // A restarted agent takes the socket over again.
  await startCliAgent(t, backupEnv);
  const again = await check();
  assert.match(again.stderr, /the agent ran the check/);
});

test('a check whose source drops its manifest before the first entry ends with exit 2, in the agent and in the CLI, and frees the folder', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv } = await configureCliPair(dir, FILES);
  // Posing as the source: it begins the manifest, "hashes" while the backup's scan ends, then drops the connection.
  const { identity: laptop } = await loadOrCreateIdentity(path.join(sourceEnv.SYNKER_HOME!, 'config'));
  const evil = await startRawServer(laptop, (peer) => {
    void (async () => {
      await peer.waitFor(isFrameOfType(1));
      peer.send(rawHello(laptop, { name: 'laptop' }));
      const [, , { req }] = (await peer.waitFor(isFrameOfType(3))) as [number, number, { req: number }];
      peer.send([1, 4, { req, folder: 'photos', role: 'source', ignore: [] }]);
      setTimeout(() => peer.ws.terminate(), 800);
    })().catch(() => undefined);
  });
  t.after(() => evil.close());
  await startCliAgent(t, backupEnv);
  const check = (...extra: string[]) =>
    runSynker(['--debug', 'check', 'photos', '--no-discovery', '--peer', `127.0.0.1:${evil.port}`, ...extra], {
      env: backupEnv,
      timeoutMs: 15_000,
    });
  // Twice through the agent: the first check released the folder's lock there.
  for (const attempt of ['first', 'second']) {
    const byAgent = await check();
    assert.equal(byAgent.code, 2, `${attempt}: ${byAgent.signal ?? ''} ${byAgent.stderr}`);
    assert.match(byAgent.stderr, /the agent ran the check/, attempt);
    assert.match(byAgent.stderr, /before the manifest of "photos" was complete/, attempt);
    assert.doesNotMatch(byAgent.stderr, /E_LOCKED/, attempt);
  }
  const here = await check('--no-agent');
  assert.equal(here.code, 2, `${here.signal ?? ''} ${here.stderr}`);
  assert.match(here.stderr, /before the manifest of "photos" was complete/);
});

test('the agent runs only well-formed check requests of its own version, with no field it does not know', () => {
  const good = {
    version: CONTROL_VERSION,
    command: 'check',
    configPath: '/c.json',
    folder: 'photos',
    record: true,
    options: { verify: false, sizeOnly: false, timeoutMs: 10_000, mtimeToleranceMs: 'auto', mdns: true, interfaces: [] },
  };
  assert.deepEqual(parseRequest(JSON.stringify(good)), good);
  const bad: unknown[] = [
    'not json',
    null,
    { ...good, command: 'sync' },
    { ...good, version: CONTROL_VERSION - 1 },
    { ...good, version: CONTROL_VERSION + 1 },
    { ...good, extra: true },
    { ...good, options: { ...good.options, dryRun: true } },
    { ...good, configPath: 3 },
    { ...good, folder: ['photos'] },
    { ...good, record: 'yes' },
    { version: good.version, command: good.command, configPath: good.configPath, folder: good.folder, options: good.options },
    { ...good, options: { ...good.options, verify: 'yes' } },
    { ...good, options: { ...good.options, timeoutMs: -1 } },
    { ...good, options: { ...good.options, mtimeToleranceMs: 'soon' } },
    { ...good, options: { ...good.options, jobs: 0 } },
    { ...good, options: { ...good.options, interfaces: 'eth0' } },
  ];
  for (const b of bad) assert.equal(parseRequest(typeof b === 'string' ? b : JSON.stringify(b)), undefined, JSON.stringify(b));
});

test('an agent that cannot open its control socket goes on without it, and says why', async (t) => {
  const dataDir = await tempDir(t);
  // Something that is not a socket sits where the socket goes.
  await mkdir(path.join(dataDir, 'agent.sock'));
  await writeFile(path.join(dataDir, 'agent.sock', 'keep'), 'x');
  const warnings: string[] = [];
  const logger = { error: () => {}, info: () => {}, debug: () => {}, warn: (m: string) => void warnings.push(m) };
  const server = await startControlServer({ dataDir, logger, check: async () => [] });
  assert.equal(server, undefined);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /cannot open the control socket .*agent\.sock .*synker check on this machine will check by itself/);
});

test("a client that connects and says nothing does not hold the agent's stop", async (t) => {
  const dataDir = await tempDir(t);
  const logger = { error: () => {}, info: () => {}, debug: () => {}, warn: () => {} };
  const server = await startControlServer({ dataDir, logger, check: async () => [] });
  assert.ok(server);
  const net = await import('node:net');
  const silent = net.connect(server.path);
  await new Promise((resolve) => silent.once('connect', resolve));
  const closedBy = await Promise.race([
    server.close().then(() => 'closed'),
    new Promise((resolve) => setTimeout(() => resolve('timeout'), 5000)),
  ]);
  assert.equal(closedBy, 'closed');
  silent.destroy();
});

const aRequest: ControlCheckRequest = {
  version: CONTROL_VERSION,
  command: 'check',
  configPath: '/c.json',
  folder: null,
  record: false,
  options: { verify: false, sizeOnly: false, timeoutMs: 1000, mtimeToleranceMs: 'auto', mdns: false, interfaces: [] },
};

/** The least of a report the CLI takes: its differences (sent after it) and how many there are. */
const REPORT = { folderId: 'photos', summary: { differences: 0 }, differences: [] };
const HEAD = JSON.stringify({ report: REPORT });

test('a report of any size comes over the control socket whole, in lines of at most 1,000 differences', async (t) => {
  const dataDir = await tempDir(t);
  const { createLogger } = await import('../../src/base/log.js');
  const differences = Array.from({ length: 2500 }, (_, i) => ({ category: 'missing', path: `f${i}`, bytes: 0, failing: true }));
  const report = { folderId: 'photos', summary: { differences: differences.length }, differences } as unknown as CheckReport;
  const server = await startControlServer({ dataDir, logger: createLogger('test'), check: async () => [report, report] });
  assert.ok(server);
  t.after(() => server.close());
  assert.deepEqual(await checkThroughAgent(dataDir, aRequest), [report, report]);
  // On the wire: a head without differences, then lines of 1,000, 1,000 and 500.
  const net = await import('node:net');
  const socket = net.connect(server.path);
  socket.write(`${JSON.stringify(aRequest)}\n`);
  let text = '';
  for await (const chunk of socket) text += chunk;
  const lines = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown[]>)
    .filter((l) => !('alive' in l));
  assert.deepEqual(
    lines.map((l) => ('report' in l ? 'report' : 'differences' in l ? l.differences!.length : 'done')),
    ['report', 1000, 1000, 500, 'report', 1000, 1000, 500, 'done'],
  );
});

test('the CLI checks by itself when the agent answers what it does not understand', async (t) => {
  const dataDir = await tempDir(t);
  const net = await import('node:net');
  const request = aRequest;
  for (const answer of [
    '5\n',
    'not json\n',
    '{"refused":{"code":3}}\n',
    `${HEAD}\n`,
    // Differences with no report before them, a report without its differences, a report without a summary.
    '{"differences":[]}\n{"done":true}\n',
    `${HEAD.replace('"differences":0', '"differences":2')}\n{"differences":[{"path":"a"}]}\n{"done":true}\n`,
    '{"report":{"folderId":"photos","differences":[]}}\n{"done":true}\n',
    `${HEAD}\n{"done":true}\n`,
  ]) {
    const server = net.createServer((socket) => socket.once('data', () => socket.end(answer)));
    await new Promise<void>((resolve) => server.listen(controlSocketPath(dataDir)!, resolve));
    const reports = await checkThroughAgent(dataDir, request);
    await new Promise((resolve) => server.close(resolve));
    if (answer === `${HEAD}\n{"done":true}\n`) assert.deepEqual(reports, [REPORT], answer);
    else assert.equal(reports, undefined, answer);
  }
});

test('the CLI stops waiting for an agent that says nothing, and waits as long as one says it is still at it', async (t) => {
  const dataDir = await tempDir(t);
  const net = await import('node:net');
  // A suspended agent: the kernel accepts the connection, nobody answers.
  const accepted: import('node:net').Socket[] = [];
  const mute = net.createServer((socket) => void accepted.push(socket));
  await new Promise<void>((resolve) => mute.listen(controlSocketPath(dataDir)!, resolve));
  const started = Date.now();
  assert.equal(await checkThroughAgent(dataDir, aRequest, 300), undefined);
  assert.ok(Date.now() - started < 3000, 'gave up after the stall limit');
  for (const socket of accepted) socket.destroy();
  await new Promise((resolve) => mute.close(resolve));
  // A slow agent with a heartbeat: 1 s of work, silences of 100 ms, against a stall limit of 300 ms.
  const slow = net.createServer((socket) =>
    socket.once('data', () => {
      const beat = setInterval(() => socket.write('{"alive":true}\n'), 100);
      setTimeout(() => {
        clearInterval(beat);
        socket.end(`${HEAD}\n{"done":true}\n`);
      }, 1000);
    }),
  );
  await new Promise<void>((resolve) => slow.listen(controlSocketPath(dataDir)!, resolve));
  assert.deepEqual(await checkThroughAgent(dataDir, aRequest, 300), [REPORT]);
  await new Promise((resolve) => slow.close(resolve));
});

test('an agent that stops during a check waits for it to wind down, and its client checks by itself', async (t) => {
  const dataDir = await tempDir(t);
  const { createLogger } = await import('../../src/base/log.js');
  let wound = false;
  let began!: () => void;
  const begun = new Promise<void>((resolve) => (began = resolve));
  const server = await startControlServer({
    dataDir,
    logger: createLogger('test'),
    check: (_request, signal) =>
      new Promise<CheckReport[]>((resolve) => {
        began();
        // A check gives its lock and state back a little after it is told to stop.
        signal.addEventListener('abort', () =>
          setTimeout(() => {
            wound = true;
            resolve([{ folderId: 'photos' } as CheckReport]);
          }, 200),
        );
      }),
  });
  assert.ok(server);
  const answer = checkThroughAgent(dataDir, aRequest);
  await begun;
  await server.close();
  assert.equal(wound, true, 'close() returned only after the running check had wound down');
  assert.equal(await answer, undefined, 'a check cut short by the stop is no answer: the CLI checks by itself');
});
