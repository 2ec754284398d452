/**
 * What the real `synker agent` announces over mDNS, between network
 * namespaces this test creates: with --listen, only the address it listens
 * on; after its config's name is edited, the new name without a restart.
 * Skipped when not root.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { ConfigStore } from '../../src/config/config-store.js';
import { loadOrCreateIdentity } from '../../src/identity/identity.js';
import { startAdvertiser } from '../harness/advertiser-process.js';
import { netLab, netnsUnavailableReason, waitFor, type Netns } from '../harness/netns.js';
import { SYNKER_BIN } from '../harness/synker-bin.js';

const skip = netnsUnavailableReason();

interface PeersJson {
  agents: Array<{
    name: string;
    deviceId: string | null;
    instance: string;
    addresses: Array<{ address: string; interface: string | null }>;
  }>;
}

/** A synker home named `name`, and its device ID. */
async function agentHome(t: TestContext, name: string): Promise<{ home: string; deviceId: string }> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'synker-disc-agent-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const { identity } = await loadOrCreateIdentity(path.join(home, 'config'));
  await setName(home, name);
  return { home, deviceId: identity.deviceId };
}

async function setName(home: string, name: string): Promise<void> {
  const store = await ConfigStore.open(path.join(home, 'config', 'config.json'));
  await store.update((config) => {
    config.name = name;
  });
  await store.close();
}

/** `synker agent` in `ns`; resolves once it has started, with a live view of its log. */
async function startAgent(ns: Netns, home: string, args: string[]): Promise<() => string> {
  const child = ns.spawn(process.execPath, [SYNKER_BIN, 'agent', '--port', '0', '--no-schedule', ...args], {
    env: { ...process.env, SYNKER_HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run') },
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await waitFor(`synker agent to start (${log})`, () => (/on port \d+/.test(log) ? true : undefined), 60_000);
  return () => log;
}

async function peers(t: TestContext, ns: Netns, timeout: string): Promise<{ code: number | null; json: PeersJson }> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'synker-disc-cli-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const r = await ns.run(process.execPath, [SYNKER_BIN, 'peers', '--json', '--timeout', timeout], {
    timeoutMs: 60_000,
    env: { ...process.env, SYNKER_HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run') },
  });
  return { code: r.code, json: JSON.parse(r.stdout || '{"agents":[]}') as PeersJson };
}

test('synker agent --listen ADDRESS announces that address only, on the interface that has it', { skip }, async (t) => {
  const lab = await netLab(t);
  const agentNs = await lab.namespace('agent');
  const left = await lab.namespace('left');
  const right = await lab.namespace('right');
  await lab.link(agentNs, left, { a: '10.95.1.1/24', b: '10.95.1.2/24' });
  const r = await lab.link(agentNs, right, { a: '10.95.2.1/24', b: '10.95.2.2/24' });
  const { home, deviceId } = await agentHome(t, 'alpha');

  const log = await startAgent(agentNs, home, ['--listen', '10.95.2.1']);
  assert.match(log(), new RegExp(`mDNS announces 10\\.95\\.2\\.1 only \\(--listen\\), on ${r.a}\\n`));
  const found = await waitFor(
    'synker peers on the right link to list the agent',
    async () => (await peers(t, right, '2s')).json.agents.find((a) => a.deviceId === deviceId),
    60_000,
    0,
  );
  // Not the IPv6 link-local address of that link either: the agent does not listen there.
  assert.deepEqual(
    found.addresses.map((a) => [a.address, a.interface]),
    [['10.95.2.1', r.b]],
  );

  const fromLeft = await peers(t, left, '3s');
  assert.deepEqual(fromLeft.json.agents, [], 'announced on the left link, where it does not listen');
  assert.equal(fromLeft.code, 1);
});

test('synker agent --listen an address on no interface discovery runs on announces nothing, and says so', { skip }, async (t) => {
  const lab = await netLab(t);
  const agentNs = await lab.namespace('agent');
  const cliNs = await lab.namespace('cli');
  await lab.link(agentNs, cliNs, { a: '10.95.3.1/24', b: '10.95.3.2/24' });
  const { home } = await agentHome(t, 'alpha');

  const log = await startAgent(agentNs, home, ['--listen', '127.0.0.1']);
  assert.match(
    log(),
    /mDNS announces nothing: 127\.0\.0\.1 \(--listen\) is on no interface discovery runs on \(loopback only with --interface lo\); peers need this agent's address \(--peer 127\.0\.0\.1:\d+\)/,
  );
  const seen = await peers(t, cliNs, '3s');
  assert.deepEqual(seen.json.agents, []);
});

test('a running agent whose config name is edited is announced under the new name, without a restart', { skip }, async (t) => {
  const lab = await netLab(t);
  const agentNs = await lab.namespace('agent');
  const cliNs = await lab.namespace('cli');
  await lab.link(agentNs, cliNs, { a: '10.95.4.1/24', b: '10.95.4.2/24' });
  const { home, deviceId } = await agentHome(t, 'alpha');
  const watcher = await startAdvertiser(cliNs, ['--name', 'watcher', '--browse']);

  const log = await startAgent(agentNs, home, []);
  await watcher.waitForEvent(
    'the agent to appear as "alpha"',
    (e) => e.deviceId === deviceId && e.name === 'alpha' && e.event !== 'removed',
    60_000,
  );
  await setName(home, 'alpha-new');
  await watcher.waitForEvent(
    'the agent to be seen as "alpha-new"',
    (e) => e.deviceId === deviceId && e.name === 'alpha-new' && e.event !== 'removed',
    30_000,
  );
  assert.match(log(), /renamed: announcing "alpha-new \(\w+\)" \(and a goodbye for "alpha \(\w+\)"\)/);

  // A browser started afresh hears the new instance only.
  const fresh = await waitFor(
    'synker peers to list the agent',
    async () => {
      const listed = (await peers(t, cliNs, '2s')).json.agents.filter((a) => a.deviceId === deviceId);
      return listed.length > 0 ? listed : undefined;
    },
    60_000,
    0,
  );
  assert.deepEqual(
    fresh.map((a) => [a.name, a.instance.replace(/ \(\w+\)\..*/, '')]),
    [['alpha-new', 'alpha-new']],
  );
});
