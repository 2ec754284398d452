/**
 * Discovery over real mDNS between network namespaces this test creates
 * (veth pairs; nothing reaches the machine's own interfaces). Skipped when
 * not root. Generous timeouts, no timing assertions.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { shortDeviceId } from '../../src/identity/device-id.js';
import { loadOrCreateIdentity } from '../../src/identity/identity.js';
import { startAdvertiser } from '../harness/advertiser-process.js';
import { netLab, netnsUnavailableReason, stopProcess, waitFor, type Netns } from '../harness/netns.js';
import { announcedAddresses, readPcap } from '../harness/pcap.js';
import { FETCH_FIXTURE, SERVE_FIXTURE, SYNKER_BIN } from '../harness/synker-bin.js';
import { runSynker } from '../harness/synker-cli.js';
import { AgentState } from '../../src/state/agent-state.js';
import { ConfigStore } from '../../src/config/config-store.js';

const skip = netnsUnavailableReason();

interface PeersJson {
  interfaces: string[];
  agents: Array<{
    name: string;
    deviceId: string | null;
    status: string;
    port: number;
    addresses: Array<{ address: string; family: number; interface: string | null }>;
  }>;
  staticPeers: Array<{ address: string; reachable: boolean; deviceId: string | null; status: string | null; error: string | null }>;
}

// The CLI's config, identity and state live here, never in the real user's folders.
const sharedHome = await mkdtemp(path.join(os.tmpdir(), 'synker-peers-home-'));
after(() => rm(sharedHome, { recursive: true, force: true }));

async function peersAt(home: string, ns: Netns, ...args: string[]) {
  const result = await ns.run(process.execPath, [SYNKER_BIN, 'peers', ...args], {
    timeoutMs: 60_000,
    env: { ...process.env, SYNKER_HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run') },
  });
  return { ...result, json: args.includes('--json') && result.stdout ? (JSON.parse(result.stdout) as PeersJson) : undefined };
}

function peers(ns: Netns, ...args: string[]) {
  return peersAt(sharedHome, ns, ...args);
}

/** `synker peers --json` until it lists `deviceId` (an mDNS packet can be lost; the test does not time anything). */
async function peersUntilListed(ns: Netns, deviceId: string, ...args: string[]) {
  return waitFor(
    `synker peers to list ${deviceId}`,
    async () => {
      const r = await peers(ns, '--json', '--timeout', '2s', ...args);
      return r.json?.agents.some((a) => a.deviceId === deviceId) ? r : undefined;
    },
    60_000,
    0,
  );
}

test('synker peers in one namespace lists the agent advertising in another, with its device ID', { skip }, async (t) => {
  const lab = await netLab(t);
  const agentNs = await lab.namespace('agent');
  const cliNs = await lab.namespace('cli');
  const link = await lab.link(agentNs, cliNs, { a: '10.99.0.1/24', b: '10.99.0.2/24' });
  const agent = await startAdvertiser(agentNs, ['--name', 'laptop', '--port', '22000']);

  const { json, code } = await peersUntilListed(cliNs, agent.deviceId);
  assert.equal(code, 0);
  const found = json!.agents.find((a) => a.deviceId === agent.deviceId)!;
  assert.equal(found.name, 'laptop');
  assert.equal(found.port, 22000);
  assert.equal(found.status, 'not trusted');
  assert.deepEqual(json!.interfaces, [link.b]);
  assert.ok(
    found.addresses.some((a) => a.address === '10.99.0.1' && a.interface === link.b),
    JSON.stringify(found.addresses),
  );
  // IPv6 link-local address of the agent's end of the link, seen on our end.
  const agentV6 = (await agentNs.addresses(link.a)).find((a) => a.startsWith('fe80'));
  if (agentV6) assert.ok(found.addresses.some((a) => a.address === agentV6 && a.interface === link.b));

  const human = await peers(cliNs, '--timeout', '2s');
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`laptop\\s+${shortDeviceId(agent.deviceId)}\\s+not trusted\\s+10\\.99\\.0\\.1 \\(${link.b}\\)`));

  // Status from this device's config and agent state: trusted (by the name given), wants to pair, this device.
  const home = await mkdtemp(path.join(os.tmpdir(), 'synker-peers-trust-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const own = (await loadOrCreateIdentity(path.join(home, 'config'))).identity;
  const trust = await runSynker(['trust', agent.deviceId, '--name', 'lap'], {
    env: { ...process.env, SYNKER_HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run') },
  });
  assert.equal(trust.code, 0, trust.stderr);
  const asker = await startAdvertiser(agentNs, ['--name', 'asker']);
  const state = await AgentState.open(path.join(home, 'data'));
  await state.recordPairingAttempt({ deviceId: asker.deviceId, name: 'asker', address: '10.99.0.1:40000' });
  await state.close();
  await startAdvertiser(agentNs, ['--name', 'me', '--device-id', own.deviceId]);
  const statuses = await waitFor(
    'all three agents listed',
    async () => {
      const r = await peersAt(home, cliNs, '--json', '--timeout', '2s');
      const byId = new Map(r.json?.agents.map((a) => [a.deviceId, a.status]));
      return byId.size >= 3 ? byId : undefined;
    },
    60_000,
    0,
  );
  assert.equal(statuses.get(agent.deviceId), 'trusted as "lap"');
  assert.equal(statuses.get(asker.deviceId), 'wants to pair');
  assert.equal(statuses.get(own.deviceId), 'this device');
});

test('nothing found: exit 1 with the likely causes and the --peer fallback; static peers are checked', { skip }, async (t) => {
  const lab = await netLab(t);
  const a = await lab.namespace('quiet');
  const b = await lab.namespace('cli');
  await lab.link(a, b, { a: '10.99.0.1/24', b: '10.99.0.2/24' });

  const none = await peers(b, '--timeout', '1s');
  assert.equal(none.code, 1);
  assert.equal(none.stdout, '');
  for (const cause of [
    /no agent found after listening/,
    /multicast/,
    /isolates its clients/,
    /UDP port 5353/,
    /TCP port/,
    /--peer HOST:PORT/,
  ])
    assert.match(none.stderr, cause);

  const closed = await peers(b, '--timeout', '1s', '--json', '--peer', '10.99.0.1:9');
  assert.equal(closed.code, 1);
  assert.deepEqual(closed.json!.staticPeers, [
    {
      address: '10.99.0.1:9',
      host: '10.99.0.1',
      port: 9,
      reachable: false,
      deviceId: null,
      status: null,
      error: 'connection refused (nothing listens on that port)',
    },
  ]);

  // Something answers on the port, but it is not a synker agent: still nothing found.
  const listener = a.spawn(process.execPath, [
    '-e',
    "require('net').createServer(s=>s.end()).listen(22000,'10.99.0.1',()=>console.log('up'))",
  ]);
  await waitFor('a TCP listener', () => new Promise<true | undefined>((r) => listener.stdout!.once('data', () => r(true))), 20_000);
  const other = await peers(b, '--timeout', '1s', '--peer', '10.99.0.1:22000');
  assert.equal(other.code, 1, other.stderr);
  assert.match(other.stdout, /Static peers:\n\s+10\.99\.0\.1:22000\s+-\s+reachable\s+.*not a synker agent/);

  const badFlag = await peers(b, '--timeout', 'soon');
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /"soon" is not a duration/);
  const badPeer = await peers(b, '--timeout', '1s', '--peer', 'nas.local:http');
  assert.equal(badPeer.code, 2);
  assert.match(badPeer.stderr, /"http" is not a port number/);
});

test('the live table follows an agent: found, found again at its new address, gone on goodbye', { skip }, async (t) => {
  const lab = await netLab(t);
  const agentNs = await lab.namespace('agent');
  const watchNs = await lab.namespace('watch');
  const link = await lab.link(agentNs, watchNs, { a: '10.99.0.1/24', b: '10.99.0.2/24' });
  const watcher = await startAdvertiser(watchNs, ['--name', 'watcher', '--browse']);
  const agent = await startAdvertiser(agentNs, ['--name', 'mover', '--poll-ms', '300']);

  await watcher.waitForEvent('the agent to appear', (e) => e.deviceId === agent.deviceId && e.addresses.includes('10.99.0.1'));
  await agentNs.ip('addr', 'del', '10.99.0.1/24', 'dev', link.a);
  await agentNs.ip('addr', 'add', '10.99.0.11/24', 'dev', link.a);
  const moved = await watcher.waitForEvent(
    'the agent at its new address',
    (e) => e.event === 'updated' && e.deviceId === agent.deviceId && e.addresses.includes('10.99.0.11'),
  );
  assert.ok(!moved.addresses.includes('10.99.0.1'), `old address kept: ${moved.addresses.join(', ')}`);

  const { json } = await peersUntilListed(watchNs, agent.deviceId);
  const listed = json!.agents.find((a) => a.deviceId === agent.deviceId)!;
  assert.ok(listed.addresses.some((a) => a.address === '10.99.0.11'));
  assert.ok(!listed.addresses.some((a) => a.address === '10.99.0.1'));

  await agent.stop();
  await watcher.waitForEvent('the goodbye to remove the agent', (e) => e.event === 'removed' && e.deviceId === agent.deviceId);
  // Its own announcements come back to it (multicast loopback) but never into its table.
  assert.deepEqual(
    watcher.events.filter((e) => e.deviceId === watcher.deviceId),
    [],
  );
});

test('multi-homed: found from both links, and each link carries only its own addresses', { skip }, async (t) => {
  const lab = await netLab(t);
  const home = await lab.namespace('multi');
  const left = await lab.namespace('left');
  const right = await lab.namespace('right');
  const l = await lab.link(home, left, { a: '10.91.1.1/24', b: '10.91.1.2/24', aExtra: ['fd91:1::1/64'] });
  const r = await lab.link(home, right, { a: '10.91.2.1/24', b: '10.91.2.2/24', aExtra: ['fd91:2::1/64'] });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'synker-pcap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));

  const captures = [];
  for (const [ns, ifname, file] of [
    [left, l.b, 'left.pcap'],
    [right, r.b, 'right.pcap'],
  ] as const) {
    const dump = ns.spawn('tcpdump', ['-i', ifname, '-U', '-n', '-w', path.join(dir, file), 'udp', 'port', '5353']);
    let err = '';
    dump.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor(`tcpdump on ${ifname}`, () => (/listening on/.test(err) ? true : undefined), 20_000);
    captures.push({ dump, file: path.join(dir, file) });
  }

  const agent = await startAdvertiser(home, ['--name', 'multi']);
  const leftAddrs = await home.addresses(l.a);
  const rightAddrs = await home.addresses(r.a);
  for (const [ns, own, other, ownV4] of [
    [left, leftAddrs, rightAddrs, '10.91.1.1'],
    [right, rightAddrs, leftAddrs, '10.91.2.1'],
  ] as const) {
    const { json } = await peersUntilListed(ns, agent.deviceId);
    const seen = json!.agents.find((a) => a.deviceId === agent.deviceId)!.addresses.map((a) => a.address);
    assert.ok(seen.includes(ownV4), `${ownV4} missing from ${seen.join(', ')}`);
    assert.deepEqual(
      seen.filter((a) => other.includes(a)),
      [],
      `addresses of the other link leaked: ${seen.join(', ')}`,
    );
    assert.ok(seen.every((a) => own.includes(a)));
  }
  await agent.stop();
  for (const c of captures) await stopProcess(c.dump);

  for (const [file, own, other, ownV4] of [
    [captures[0]!.file, leftAddrs, rightAddrs, '10.91.1.1'],
    [captures[1]!.file, rightAddrs, leftAddrs, '10.91.2.1'],
  ] as const) {
    const answers = (await readPcap(file)).filter((p) => p.dns?.type === 'response' && p.source === ownV4);
    assert.ok(answers.length > 0, `no answer from the agent captured in ${file}`);
    const carried = new Set(answers.flatMap(announcedAddresses));
    assert.ok(carried.has(ownV4));
    for (const a of carried) {
      assert.ok(own.includes(a), `${file}: ${a} is not an address of this link`);
      assert.ok(!other.includes(a), `${file}: ${a} belongs to the other link`);
    }
  }
});

test('end to end: a manifest fetched across namespaces by device ID alone, no address given anywhere', { skip }, async (t) => {
  const lab = await netLab(t);
  const sourceNs = await lab.namespace('source');
  const backupNs = await lab.namespace('backup');
  await lab.link(sourceNs, backupNs, { a: '10.99.0.1/24', b: '10.99.0.2/24' });
  const home = await mkdtemp(path.join(os.tmpdir(), 'synker-e2e-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const folder = path.join(home, 'photos');
  await mkdir(path.join(folder, '2024'), { recursive: true });
  await writeFile(path.join(folder, '2024', 'a.jpg'), 'pixels');
  await writeFile(path.join(folder, 'notes.txt'), 'hello');
  // Identities are made here (no network) so each side can be told the other's device ID.
  const source = (await loadOrCreateIdentity(path.join(home, 'source-id'))).identity;
  const backup = (await loadOrCreateIdentity(path.join(home, 'backup-id'))).identity;

  const server = sourceNs.spawn(process.execPath, [
    SERVE_FIXTURE,
    '--identity',
    path.join(home, 'source-id'),
    '--folder',
    folder,
    '--folder-id',
    'photos',
    '--trust',
    backup.deviceId,
  ]);
  let serverOut = '';
  let serverErr = '';
  server.stdout!.on('data', (d: Buffer) => (serverOut += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (serverErr += d.toString()));
  await waitFor(`the source agent to listen (${serverErr})`, () => (serverOut.includes(source.deviceId) ? true : undefined), 30_000);

  const port = (JSON.parse(serverOut.split('\n')[0]!) as { port: number }).port;
  // Given its address, synker peers tells who answers there (from its TLS certificate).
  const statik = await peers(backupNs, '--timeout', '1s', '--json', '--peer', `10.99.0.1:${port}`);
  assert.equal(statik.code, 0, statik.stderr);
  assert.equal(statik.json!.staticPeers[0]!.deviceId, source.deviceId);
  // The same from `peers` in the config.
  const configured = path.join(home, 'cli-home');
  const store = await ConfigStore.open(path.join(configured, 'config', 'config.json'));
  await store.update((config) => {
    config.peers.push(`10.99.0.1:${port}`);
  });
  await store.close();
  const fromConfig = await peersAt(configured, backupNs, '--timeout', '1s', '--json');
  assert.equal(fromConfig.code, 0, fromConfig.stderr);
  assert.deepEqual(
    fromConfig.json!.staticPeers.map((p) => [p.address, p.deviceId]),
    [[`10.99.0.1:${port}`, source.deviceId]],
  );

  // Both ways of connecting by device ID: dialDevice() over a PeerFinder, and the locator `synker check` uses.
  for (const mode of [[], ['--locator']]) {
    const fetched = await backupNs.run(
      process.execPath,
      [FETCH_FIXTURE, '--identity', path.join(home, 'backup-id'), '--device', source.deviceId, '--folder-id', 'photos', ...mode],
      { timeoutMs: 60_000 },
    );
    assert.equal(fetched.code, 0, fetched.stderr);
    const result = JSON.parse(fetched.stdout) as {
      via: { host: string; source: string };
      entries: Array<{ path: string; type: string; size: number; hash?: string }>;
    };
    assert.deepEqual(result.via.host, '10.99.0.1');
    assert.equal(result.via.source, 'mdns');
    assert.deepEqual(
      result.entries.map((e) => [e.path, e.type]),
      [
        ['2024', 'dir'],
        ['2024/a.jpg', 'file'],
        ['notes.txt', 'file'],
      ],
    );
    assert.equal(result.entries.find((e) => e.path === 'notes.txt')!.hash, createHash('sha256').update('hello').digest('hex'));
  }
});

test('interfaces that appear later are used without a restart; --interface restricts; a vanished one is dropped', { skip }, async (t) => {
  const lab = await netLab(t);
  const home = await lab.namespace('late');
  const left = await lab.namespace('left');
  const right = await lab.namespace('right');
  const wanted = lab.linkNames();
  // Started with no network at all, restricted to an interface that does not exist yet.
  const agent = await startAdvertiser(home, ['--name', 'late', '--poll-ms', '300', '--interface', wanted.a]);
  assert.match(agent.stderr(), new RegExp(`interface ${wanted.a} is not up`));
  await lab.link(home, left, { a: '10.92.1.1/24', b: '10.92.1.2/24', names: wanted });
  await lab.link(home, right, { a: '10.92.2.1/24', b: '10.92.2.2/24' });

  const { json } = await peersUntilListed(left, agent.deviceId).catch((err: Error) => {
    throw new Error(`${err.message}; agent log: ${agent.stderr()}`);
  });
  assert.deepEqual(
    json!.agents
      .find((a) => a.deviceId === agent.deviceId)!
      .addresses.filter((a) => a.family === 4)
      .map((a) => a.address),
    ['10.92.1.1'],
  );
  const fromRight = await peers(right, '--json', '--timeout', '3s');
  assert.equal(fromRight.code, 1, 'the agent must not answer on an interface --interface left out');
  assert.deepEqual(fromRight.json!.agents, []);

  await home.ip('link', 'del', wanted.a);
  await waitFor(
    'the agent to drop the vanished interface',
    () => (/interface \S+ is gone/.test(agent.stderr()) ? true : undefined),
    30_000,
  );
});

test('end to end with the real agent: synker agent in one namespace, found and asked for a manifest by device ID from another, then synker sync with no address configured', {
  skip,
}, async (t) => {
  const lab = await netLab(t);
  const sourceNs = await lab.namespace('source');
  const backupNs = await lab.namespace('backup');
  const link = await lab.link(sourceNs, backupNs, { a: '10.99.0.1/24', b: '10.99.0.2/24' });
  const root = await mkdtemp(path.join(os.tmpdir(), 'synker-e2e-agent-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const srcHome = path.join(root, 'source-home');
  const bkHome = path.join(root, 'backup-home');
  const srcEnv = { ...process.env, SYNKER_HOME: srcHome, XDG_RUNTIME_DIR: path.join(srcHome, 'run') };
  const source = (await loadOrCreateIdentity(path.join(srcHome, 'config'))).identity;
  const backup = (await loadOrCreateIdentity(path.join(bkHome, 'config'))).identity;
  const folder = path.join(root, 'photos');
  await mkdir(folder);
  await writeFile(path.join(folder, 'a.jpg'), 'pixels');
  for (const args of [
    ['trust', backup.deviceId, '--name', 'backup'],
    ['folder', 'add', 'photos', folder, '--role', 'source', '--share', 'backup'],
  ]) {
    const r = await runSynker(args, { env: srcEnv });
    assert.equal(r.code, 0, `synker ${args.join(' ')}: ${r.stderr}`);
  }
  const trust = await runSynker(['trust', source.deviceId, '--name', 'source'], {
    env: { ...process.env, SYNKER_HOME: bkHome, XDG_RUNTIME_DIR: path.join(bkHome, 'run') },
  });
  assert.equal(trust.code, 0, trust.stderr);

  const agent = sourceNs.spawn(process.execPath, [SYNKER_BIN, 'agent', '--port', '0', '--no-schedule', '--interface', link.a], {
    env: srcEnv,
  });
  let agentLog = '';
  agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
  await waitFor(`synker agent to start (${agentLog})`, () => (/on port \d+/.test(agentLog) ? true : undefined), 60_000);

  const listed = await waitFor(
    'synker peers to list the agent as trusted',
    async () => {
      const r = await peersAt(bkHome, backupNs, '--json', '--timeout', '2s');
      return r.json?.agents.find((a) => a.deviceId === source.deviceId);
    },
    60_000,
    0,
  );
  assert.equal(listed.status, 'trusted as "source"');

  const fetched = await backupNs.run(
    process.execPath,
    [FETCH_FIXTURE, '--identity', path.join(bkHome, 'config'), '--device', source.deviceId, '--folder-id', 'photos', '--locator'],
    { timeoutMs: 60_000 },
  );
  assert.equal(fetched.code, 0, `${fetched.stderr}\nagent: ${agentLog}`);
  const result = JSON.parse(fetched.stdout) as {
    via: { host: string; source: string };
    entries: Array<{ path: string; type: string; hash?: string }>;
  };
  assert.equal(result.via.host, '10.99.0.1');
  assert.equal(result.via.source, 'mdns');
  assert.deepEqual(
    result.entries.filter((e) => e.type === 'file').map((e) => [e.path, e.hash]),
    [['a.jpg', createHash('sha256').update('pixels').digest('hex')]],
  );

  // synker sync finds the source the same way: no address in the backup's config, mDNS on the link only.
  const bkEnv = { ...process.env, SYNKER_HOME: bkHome, XDG_RUNTIME_DIR: path.join(bkHome, 'run'), SYNKER_LOG: 'warn' };
  const copy = path.join(root, 'photos-backup');
  await mkdir(copy);
  const added = await runSynker(['folder', 'add', 'photos', copy, '--role', 'backup', '--share', 'source'], { env: bkEnv });
  assert.equal(added.code, 0, added.stderr);
  const synced = await backupNs.run(process.execPath, [SYNKER_BIN, 'sync', 'photos', '--interface', link.b, '--json'], {
    env: bkEnv,
    timeoutMs: 60_000,
  });
  assert.equal(synced.code, 0, `${synced.stdout}\n${synced.stderr}\nagent: ${agentLog}`);
  const sync = JSON.parse(synced.stdout) as { check: { source: { location: string }; sync: { fixed: { pulledFiles: number } } } };
  assert.match(sync.check.source.location, /^10\.99\.0\.1:\d+$/);
  assert.equal(sync.check.sync.fixed.pulledFiles, 1);
  assert.equal(await readFile(path.join(copy, 'a.jpg'), 'utf8'), 'pixels');
});
