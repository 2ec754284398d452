/**
 * `synker agent` as a user runs it: a real process with a real config,
 * identity, state and scan, talked to over wss with the client API.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { formatDeviceId } from '../../src/identity/device-id.js';
import { createIdentity, loadOrCreateIdentity, type Identity } from '../../src/identity/identity.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { connectToPeer, type PeerSession } from '../../src/peer/index.js';
import { scanFolder } from '../../src/scan/index.js';
import { AgentState } from '../../src/state/agent-state.js';
import { isolatedEnv, runSynker, SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

interface RunningAgent {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startAgentProcess(t: TestContext, env: NodeJS.ProcessEnv, args: string[]): Promise<RunningAgent> {
  const child = spawn(process.execPath, [SYNKER_BIN, 'agent', '--port', '0', '--no-discovery', '--no-schedule', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not start: ${stderr}`)), 20_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const match = /on port (\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exit.then(() => reject(new Error(`the agent exited: ${stderr}`)));
  });
  return { child, port, stderr: () => stderr, exit };
}

async function collect(iterable: AsyncIterable<ManifestEntry>): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

/** Retry until the running agent has picked up a config change (it watches the file). */
async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test('synker agent serves a real scan to a trusted device, records strangers, applies trust live and stops cleanly', async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  const folder = path.join(home, 'photos');
  mkdirSync(path.join(folder, '2024', 'summer'), { recursive: true });
  for (let i = 0; i < 120; i++) writeFileSync(path.join(folder, '2024', 'summer', `img-${i}.jpg`), `picture ${i}`);
  writeFileSync(path.join(folder, 'notes.txt'), 'hello');
  writeFileSync(path.join(folder, 'scratch.tmp'), 'ignored');
  writeFileSync(path.join(folder, '.synkerignore'), '*.tmp\n');
  symlinkSync('notes.txt', path.join(folder, 'latest'));
  const added = await runSynker(['folder', 'add', 'photos', folder, '--role', 'source'], { env });
  assert.equal(added.code, 0, added.stderr);

  const agent = await startAgentProcess(t, env, ['--name', 'nas']);
  const server: Identity = (await loadOrCreateIdentity(path.join(home, 'synker', 'config'))).identity;
  const client = await createIdentity('laptop');
  const connect = (): Promise<PeerSession> =>
    connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId, name: 'laptop' });

  // A stranger: the documented refusal naming the fix, and a recorded pairing attempt.
  await assert.rejects(connect(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'E_UNTRUSTED');
    assert.ok(err.message.includes(`run \`synker trust ${formatDeviceId(client.deviceId)}\` on nas`), err.message);
    return true;
  });
  const state = await AgentState.open(path.join(home, 'synker', 'data'));
  const attempts = await eventually(async () => {
    const found = state.pairingAttempts().filter((a) => a.deviceId === client.deviceId);
    assert.equal(found.length, 1);
    return found;
  });
  assert.equal(attempts[0]!.name, 'laptop');
  await state.close();

  // Trusted and shared, without restarting the agent.
  assert.equal((await runSynker(['trust', client.deviceId], { env })).code, 0);
  assert.equal((await runSynker(['folder', 'share', 'photos', client.deviceId], { env })).code, 0);
  const session = await eventually(async () => {
    const s = await connect();
    try {
      await s.requestManifest('photos').info;
      return s;
    } catch (err) {
      await s.close();
      throw err;
    }
  });
  const manifest = session.requestManifest('photos');
  const received = await collect(manifest);
  const local = await collect(scanFolder(folder, { cache: false }));
  assert.deepEqual(received, local);
  assert.equal(received.length, 125); // 2 dirs, 120 pictures, notes.txt, .synkerignore, the symlink
  assert.ok(!received.some((e) => e.path === 'scratch.tmp'));
  assert.deepEqual((await manifest.info).ignoreRules, ['*.tmp', '']);

  // An unmounted disk (the marker is gone) is reported, never served as an empty folder.
  rmSync(path.join(folder, '.synker'), { recursive: true });
  await assert.rejects(collect(session.requestManifest('photos')), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'E_FOLDER_ABSENT');
    return true;
  });
  await session.close();

  agent.child.kill('SIGTERM');
  const exit = await agent.exit;
  assert.deepEqual(exit, { code: 0, signal: null }, agent.stderr());
  assert.match(agent.stderr(), /SIGTERM: stopping/);
  assert.match(agent.stderr(), /stopped/);
});

test('synker agent refuses a bad --port', async (t) => {
  const home = await tempDir(t);
  const result = await runSynker(['agent', '--port', 'http', '--no-discovery', '--no-schedule'], { env: isolatedEnv(home) });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--port must be a number/);
});

test('synker agent refuses a --name its peers would refuse, before it starts', async (t) => {
  const home = await tempDir(t);
  for (const [name, why] of [
    ['a'.repeat(200), /--name must be at most 63 bytes \(UTF-8\), found 200/],
    ['nas\nevil', /--name must not contain control characters/],
    [' ', /--name must be a non-empty string/],
  ] as const) {
    const result = await runSynker(['agent', '--name', name, '--no-discovery', '--no-schedule', '--port', '0'], { env: isolatedEnv(home) });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, why);
  }
});
