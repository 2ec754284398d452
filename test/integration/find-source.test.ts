/**
 * Why no source was found, when a folder is shared with several devices:
 * the source stopped while another backup of the same folder answers, an
 * address that another trusted device answers at, a malformed --peer, and a
 * LAN search that had no interface to search on. Real agents over loopback.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { findSource, type SourceAddress, type SourceLocator } from '../../src/check/find-source.js';
import { staticLocator } from '../harness/peer-address.js';
import { shortDeviceId } from '../../src/identity/device-id.js';
import { writeFolderMarker } from '../../src/config/folder-marker.js';
import { createIdentity, type Identity } from '../../src/identity/identity.js';
import type { FolderConfig, SynkerConfig } from '../../src/config/types.js';
import { DiscoveryLocator } from '../../src/discovery/locator.js';
import { SynkerError } from '../../src/base/errors.js';
import { scanningSource } from '../../src/agent/agent.js';
import { startAgentServer } from '../../src/peer/index.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

interface Trio {
  /** The source, whose agent is stopped: nothing answers for it. */
  alpha: Identity;
  /** This machine, a backup. */
  beta: Identity;
  /** Another backup of the same folder, whose agent runs. */
  gamma: Identity;
  gammaAddress: string;
  config: SynkerConfig;
  folder: FolderConfig;
}

async function trio(t: TestContext): Promise<Trio> {
  const dir = await tempDir(t, 'synker-find-source-');
  const [alpha, beta, gamma] = await Promise.all([createIdentity('alpha'), createIdentity('beta'), createIdentity('gamma')]);
  const gammaRoot = path.join(dir, 'gamma');
  await mkdir(gammaRoot);
  await writeFolderMarker(gammaRoot, 'pics');
  const server = await startAgentServer({
    identity: gamma,
    host: '127.0.0.1',
    port: 0,
    directory: {
      agentName: () => 'gamma',
      trusted: (id) => (id === beta.deviceId ? { deviceId: id, name: 'beta' } : undefined),
      folders: () => [{ id: 'pics', path: gammaRoot, role: 'backup', shareWith: [beta.deviceId, alpha.deviceId] }],
    },
    manifestSource: scanningSource({ cacheDir: path.join(dir, 'cache'), jobs: 1 }),
  });
  t.after(() => server.close());
  const folder: FolderConfig = { id: 'pics', path: path.join(dir, 'beta'), role: 'backup', shareWith: [alpha.deviceId, gamma.deviceId] };
  const config: SynkerConfig = {
    version: 1,
    name: 'beta',
    port: 7781,
    folders: [folder],
    trusted: [
      { deviceId: alpha.deviceId, name: 'alpha' },
      { deviceId: gamma.deviceId, name: 'gamma' },
    ],
    peers: [],
  };
  return { alpha, beta, gamma, gammaAddress: `127.0.0.1:${server.port}`, config, folder };
}

async function failure(promise: Promise<unknown>): Promise<SynkerError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof SynkerError, String(err));
    return err;
  }
  assert.fail('expected no source to be found');
}

function find(x: Trio, locator: SourceLocator, peer?: string) {
  return findSource({ config: x.config, folder: x.folder, identity: x.beta, locator, peer, timeoutMs: 2000 });
}

const name = (label: string, id: Identity): string => `${label} \\(${shortDeviceId(id.deviceId)}\\)`;

test('source offline, another backup answering (on the LAN): the source was not found, and the backup is mentioned', async (t) => {
  const x = await trio(t);
  // What mDNS gives: gamma's address for gamma, nothing for alpha.
  const lan: SourceLocator = {
    searchesLan: true,
    async *addresses(deviceId): AsyncGenerator<SourceAddress> {
      if (deviceId === x.gamma.deviceId) yield { host: '127.0.0.1', port: Number(x.gammaAddress.split(':')[1]), via: 'mdns' };
    },
  };
  const err = await failure(find(x, lan));
  assert.equal(err.code, 'E_SOURCE_NOT_FOUND');
  assert.match(
    err.message,
    new RegExp(
      `^the source of folder "pics" \\(${name('alpha', x.alpha)}\\) was not found on the network; ${name('gamma', x.gamma)} holds it as a backup$`,
    ),
  );
  assert.match(err.hint!, /synker agent runs there/);
});

test("source offline, the static peers list only another backup: not found, gamma's address is not an attempt on alpha", async (t) => {
  const x = await trio(t);
  const err = await failure(find(x, staticLocator([x.gammaAddress])));
  assert.equal(err.code, 'E_SOURCE_NOT_FOUND');
  assert.match(
    err.message,
    new RegExp(
      `\\(${name('alpha', x.alpha)}\\) was not found at any address in the config \\(discovery is off\\); ${name('gamma', x.gamma)} holds it as a backup$`,
    ),
  );
  assert.doesNotMatch(err.message, /certificate/);
});

test("--peer at another trusted device's address: the mismatch names both devices as trusted", async (t) => {
  const x = await trio(t);
  const err = await failure(find(x, staticLocator([]), x.gammaAddress));
  assert.equal(err.code, 'E_SOURCE_UNREACHABLE');
  assert.match(
    err.message,
    new RegExp(
      `^cannot reach the source of folder "pics": ${x.gammaAddress} \\(--peer\\): presented the certificate of ${name('gamma', x.gamma)}, not of ${name('alpha', x.alpha)}; ${name('gamma', x.gamma)} holds it as a backup$`,
    ),
  );
  assert.match(err.hint!, /Another machine answers at that address/);
});

test('every device holds the folder as a backup: E_CHECK_NO_SOURCE, "holds" for one device', async (t) => {
  const x = await trio(t);
  x.folder.shareWith = [x.gamma.deviceId];
  const err = await failure(find(x, staticLocator([x.gammaAddress])));
  assert.equal(err.code, 'E_CHECK_NO_SOURCE');
  assert.match(
    err.message,
    new RegExp(`^no device serves folder "pics" as its source \\(${name('gamma', x.gamma)} holds it as a backup\\)$`),
  );
});

test('--peer with a colon but no port is a malformed address, not a device name', async (t) => {
  const x = await trio(t);
  for (const peer of ['10.88.8.101:', 'nas.local:', '10.88.8.101:http', '[fd00::5]:']) {
    const err = await failure(find(x, staticLocator([]), peer));
    assert.equal(err.code, 'E_CHECK_PEER', peer);
    assert.match(err.message, new RegExp(`^--peer ${peer.replace(/[[\]]/g, '\\$&')}: `), peer);
    assert.match(err.hint!, /host:port/, peer);
  }
  const missing = await failure(find(x, staticLocator([]), '10.88.8.101:'));
  assert.match(missing.message, /the port is missing after ":"/);
  // Names still work, and an unknown one is still said to be unknown.
  assert.equal((await failure(find(x, staticLocator([]), 'delta'))).code, 'E_UNKNOWN_DEVICE');
  assert.equal((await failure(find(x, staticLocator([x.gammaAddress]), 'gamma'))).code, 'E_CHECK_NO_SOURCE');
});

test('a LAN search on an interface that does not exist says so, instead of "not on the network"', async (t) => {
  const x = await trio(t);
  // A name no machine has: no socket is opened, nothing is sent.
  const locator = new DiscoveryLocator({ mdns: true, interfaces: ['synkertypo0'] });
  t.after(() => locator.close());
  const err = await failure(findSource({ config: x.config, folder: x.folder, identity: x.beta, locator, timeoutMs: 300 }));
  assert.equal(err.code, 'E_SOURCE_NOT_FOUND');
  assert.match(
    err.message,
    /was not found on the network: no network interface to search on \(synkertypo0 is not up with an IPv4 address\)$/,
  );
  assert.match(err.hint!, /Check the --interface name/);
});

test('`synker check --interface TYPO` says the interface is not up, whether the agent or the CLI does the check', async (t) => {
  const dir = await tempDir(t, 'synker-find-source-cli-');
  const { backupEnv } = await configureCliPair(dir, { 'a.txt': 'alpha' });
  await startCliAgent(t, backupEnv);
  for (const extra of [[], ['--no-agent']]) {
    const r = await runSynker(['--debug', 'check', 'photos', '--interface', 'synkertypo0', '--timeout', '500ms', ...extra], {
      env: backupEnv,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, extra.length === 0 ? /the agent ran the check/ : /^(?![\s\S]*the agent ran the check)/);
    assert.match(
      r.stderr,
      /error: the source of folder "photos" \(laptop \(\w+\)\) was not found on the network: no network interface to search on \(synkertypo0 is not up with an IPv4 address\)\n/,
    );
    assert.match(r.stderr, /hint: Check the --interface name/);
  }
});

test('a source that was reached, then refused or failed, is not called unreachable and gets no firewall hint', async (t) => {
  const x = await trio(t);
  x.folder.shareWith = [x.alpha.deviceId];
  let trustBeta = true;
  const alpha = await startAgentServer({
    identity: x.alpha,
    host: '127.0.0.1',
    port: 0,
    logger: { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined },
    directory: {
      agentName: () => 'alpha',
      trusted: (id) => (trustBeta && id === x.beta.deviceId ? { deviceId: id, name: 'beta' } : undefined),
      folders: () => [{ id: 'pics', path: '/srv/pics', role: 'source', shareWith: [x.beta.deviceId] }],
    },
    // The scan breaks before the manifest starts (a bug on the source): E_INTERNAL, without a hint.
    manifestSource: async () => {
      throw new Error('disk on fire');
    },
  });
  t.after(() => alpha.close());
  const where = `127.0.0.1:${alpha.port}`;

  const failed = await failure(find(x, staticLocator([]), where));
  assert.equal(failed.code, 'E_SOURCE_FAILED');
  assert.match(
    failed.message,
    new RegExp(
      `^the source of folder "pics" answered but did not serve it: ${where} \\(--peer\\): alpha failed while reading folder "pics"`,
    ),
  );
  assert.doesNotMatch(failed.hint!, /firewall|--timeout/);
  assert.match(failed.hint!, /log of synker agent on alpha/);

  // A refusal before the hellos are exchanged: reached too, and the source's own hint is kept.
  trustBeta = false;
  const refused = await failure(find(x, staticLocator([]), where));
  assert.equal(refused.code, 'E_SOURCE_FAILED');
  assert.match(refused.message, /answered but did not serve it: .*alpha does not trust this device/);
  assert.match(refused.hint!, /^To allow this device, run `synker trust [A-Z0-9-]+` on alpha\.$/);

  // Nothing listening: still unreachable, with the firewall hint.
  await alpha.close();
  const unreachable = await failure(find(x, staticLocator([]), where));
  assert.equal(unreachable.code, 'E_SOURCE_UNREACHABLE');
});

test('an address shared by two candidate devices is tried once: one connection tells which device answers', async (t) => {
  const x = await trio(t);
  // Nothing listens there: refused, and it would be refused for gamma too.
  const closed = await startAgentServer({
    identity: x.alpha,
    host: '127.0.0.1',
    port: 0,
    directory: { agentName: () => 'alpha', trusted: () => undefined, folders: () => [] },
    manifestSource: async () => assert.fail('not asked'),
  });
  const where = `127.0.0.1:${closed.port}`;
  await closed.close();
  for (const [locator, peer, via] of [
    [staticLocator([]), where, '--peer'],
    [staticLocator([where]), undefined, 'config'],
  ] as const) {
    const err = await failure(find(x, locator, peer));
    assert.equal(err.code, 'E_SOURCE_UNREACHABLE', via);
    assert.equal(err.message.split(`${where} (${via})`).length - 1, 1, `${via}: ${err.message}`);
  }
});

test('--peer at a backup while the source is shared too: the source is named as not tried, with the --peer to give', async (t) => {
  const x = await trio(t);
  x.folder.shareWith = [x.gamma.deviceId, x.alpha.deviceId];
  const err = await failure(find(x, staticLocator([]), x.gammaAddress));
  assert.equal(err.code, 'E_SOURCE_NOT_FOUND');
  assert.match(
    err.message,
    new RegExp(
      `^the source of folder "pics" \\(${name('alpha', x.alpha)}\\) was not tried: ${x.gammaAddress} \\(--peer\\) is another device; ${name('gamma', x.gamma)} holds it as a backup$`,
    ),
  );
  assert.match(err.hint!, /^Point --peer at the source: --peer alpha \(its name\)/);
  assert.doesNotMatch(err.hint!, /--role source/);
});
