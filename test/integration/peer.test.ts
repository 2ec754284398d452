import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shortDeviceId } from '../../src/identity/device-id.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { PeerFinder } from '../../src/discovery/candidates.js';
import { dialDevice } from '../harness/dial.js';
import { StaticPeers } from '../../src/discovery/static-peers.js';
import { WrongDeviceError } from '../../src/peer/errors.js';
import { connectToPeer, type PeerError, type PeerSession } from '../../src/peer/index.js';
import { generateEntries } from '../harness/manifests.js';
import { identities, startTestAgent } from '../harness/peers.js';
import { waitFor } from '../harness/netns.js';

async function collect(iterable: AsyncIterable<ManifestEntry>): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<PeerError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error && 'code' in err, `expected a synker error, got ${String(err)}`);
    return err as PeerError;
  }
  assert.fail('expected a failure');
}

test('a trusted pair streams a 50,000-entry manifest equal to the source', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId], entries: () => generateEntries(50_000) });
  t.after(() => agent.server.close());
  const session = await connectToPeer({
    host: '127.0.0.1',
    port: agent.port,
    identity: client,
    expectDeviceId: server.deviceId,
    name: 'laptop',
  });
  t.after(() => session.close());
  assert.equal(session.remote.name, 'nas');
  assert.equal(session.remote.deviceId, server.deviceId);
  const manifest = session.requestManifest('photos');
  const received = await collect(manifest);
  assert.deepEqual(received, [...generateEntries(50_000)]);
  assert.deepEqual(await manifest.info, { folder: 'photos', role: 'source', ignoreRules: ['*.tmp', '/cache/'], modes: true });
  const totals = await manifest.totals;
  assert.equal(totals.count, 50_000);
  assert.equal(totals.dirs, 50);
  // The session stays usable for the next request.
  assert.equal((await collect(session.requestManifest('photos'))).length, 50_000);
});

test('an untrusted device gets the documented error naming the fix, and no entry', async (t) => {
  const { server, stranger } = await identities();
  const agent = await startTestAgent(server, { trust: [], shareWith: [stranger.deviceId], entries: () => generateEntries(10) });
  t.after(() => agent.server.close());
  const err = await rejection(
    connectToPeer({ host: '127.0.0.1', port: agent.port, identity: stranger, expectDeviceId: server.deviceId, name: 'intruder' }),
  );
  assert.equal(err.code, 'E_UNTRUSTED');
  assert.equal((err as PeerError).remote, true);
  const formatted = stranger.deviceId.match(/.{7}/g)!.join('-');
  assert.match(err.message, new RegExp(`run \`synker trust ${formatted}\` on nas`));
  assert.match(err.hint ?? '', /synker trust/);
  assert.equal(agent.attempts.length, 1);
  assert.equal(agent.attempts[0]!.deviceId, stranger.deviceId);
  assert.equal(agent.attempts[0]!.name, 'intruder');
  assert.equal(agent.attempts[0]!.address, '127.0.0.1');
  // Trust is read live: once trusted, the same device gets in without a restart.
  agent.directory.trustedDevices.push({ deviceId: stranger.deviceId });
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: stranger, expectDeviceId: server.deviceId });
  assert.equal((await collect(session.requestManifest('photos'))).length, 10);
  await session.close();
});

test('a client expecting another device ID aborts before sending anything', async (t) => {
  const { server, client, stranger } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId] });
  t.after(() => agent.server.close());
  const err = await rejection(connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: stranger.deviceId }));
  assert.equal(err.code, 'E_WRONG_DEVICE');
  assert.match(err.message, /not of the expected device/);
  assert.ok(err instanceof WrongDeviceError);
  assert.equal(err.presentedDeviceId, server.deviceId);
  // The server never saw a hello: trust was never looked up, up to the moment the server let go of the connection.
  await waitFor('the server to close the connection', () => (agent.server.connections === 0 ? true : undefined), 10_000, 5);
  assert.equal(agent.directory.trustedLookups, 0);
});

test('a static address that answers as another device is remembered as that device', async (t) => {
  const { server, client, stranger } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId] });
  t.after(() => agent.server.close());
  const statics = new StaticPeers([`127.0.0.1:${agent.port}`]);
  const finder = new PeerFinder([statics]);
  const err = await rejection(dialDevice({ deviceId: stranger.deviceId, identity: client, finder, statics, waitMs: 100 }));
  assert.match(err.message, /not of the expected device/);
  assert.equal(statics.deviceAt(statics.peers[0]!), server.deviceId);
  // Looking for the stranger again skips that address; the device that is there still finds it.
  assert.deepEqual(statics.candidates(stranger.deviceId), []);
  const { session } = await dialDevice({ deviceId: server.deviceId, identity: client, finder, statics });
  await session.close();
});

test('a folder not shared with the device answers exactly like a missing one', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId] });
  t.after(() => agent.server.close());
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId });
  t.after(() => session.close());
  const unshared = await rejection(collect(session.requestManifest('private')));
  const missing = await rejection(collect(session.requestManifest('nothing-here')));
  assert.equal(unshared.code, 'E_FOLDER_NOT_FOUND');
  assert.equal(missing.code, 'E_FOLDER_NOT_FOUND');
  assert.equal(unshared.message.replace('private', 'X'), missing.message.replace('nothing-here', 'X'));
  assert.equal(unshared.hint!.replace('private', 'X'), missing.hint!.replace('nothing-here', 'X'));
  // The command that shares an existing folder, naming this device.
  assert.equal(
    unshared.hint,
    `Check the folder ID; to share the folder with this device, run \`synker folder share private ${shortDeviceId(client.deviceId)}\` on nas.`,
  );
  await rejection(session.requestManifest('private').info);
});

test('breaking out of a manifest cancels it and the session goes on', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId], entries: () => generateEntries(200_000) });
  t.after(() => agent.server.close());
  const session: PeerSession = await connectToPeer({
    host: '127.0.0.1',
    port: agent.port,
    identity: client,
    expectDeviceId: server.deviceId,
  });
  t.after(() => session.close());
  let seen = 0;
  for await (const _ of session.requestManifest('photos')) if (++seen === 1500) break;
  assert.equal(seen, 1500);
  const next = session.requestManifest('photos');
  let count = 0;
  for await (const _ of next) count++;
  assert.equal(count, 200_000);
});

test('a source failure reaches the client as an error for that request', async (t) => {
  const { server, client } = await identities();
  const { SynkerError } = await import('../../src/base/errors.js');
  const agent = await startTestAgent(server, {
    trust: [client.deviceId],
    manifestSource: async () => {
      throw new SynkerError('E_FOLDER_UNAVAILABLE', 'the folder marker /srv/photos/.synker/folder.json is missing (unmounted disk?)', {
        hint: 'Mount the disk.',
      });
    },
  });
  t.after(() => agent.server.close());
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId });
  t.after(() => session.close());
  const err = await rejection(collect(session.requestManifest('photos')));
  assert.equal(err.code, 'E_FOLDER_UNAVAILABLE');
  assert.match(err.message, /marker/);
  assert.equal(err.hint, 'Mount the disk.');
});

test('an unreachable agent is a clear connection error', async () => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, {});
  const port = agent.port;
  await agent.server.close();
  const err = await rejection(connectToPeer({ host: '127.0.0.1', port, identity: client, expectDeviceId: server.deviceId }));
  assert.equal(err.code, 'E_CONNECT');
  assert.match(err.message, /refused/);
});

test("the caller's signal aborts a running manifest", async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId], entries: () => generateEntries(1_000_000) });
  t.after(() => agent.server.close());
  const controller = new AbortController();
  const session = await connectToPeer({
    host: '127.0.0.1',
    port: agent.port,
    identity: client,
    expectDeviceId: server.deviceId,
    signal: controller.signal,
  });
  let seen = 0;
  const err = await rejection(
    (async () => {
      for await (const _ of session.requestManifest('photos')) if (++seen === 2000) controller.abort(new Error('user pressed Ctrl-C'));
    })(),
  );
  assert.equal(err.code, 'E_ABORTED');
  assert.ok(seen < 1_000_000);
  assert.equal(await session.ended.then((e) => e?.code), 'E_ABORTED');
});

test("a trusted pair streams a real 50,000-entry scan equal to the server's own scan", async (t) => {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const path = await import('node:path');
  const { tempDir } = await import('../harness/tmp.js');
  const { scanningSource } = await import('../../src/agent/agent.js');
  const { scanFolder } = await import('../../src/scan/index.js');
  const { writeFolderMarker } = await import('../../src/config/folder-marker.js');
  const { server, client } = await identities();
  const root = await tempDir(t);
  const cache = await tempDir(t);
  for (let d = 0; d < 50; d++) {
    const dir = path.join(root, `dir-${String(d).padStart(2, '0')}`);
    mkdirSync(dir);
    for (let f = 0; f < 999; f++) writeFileSync(path.join(dir, `file-${f}.txt`), `${d}/${f}`);
  }
  await writeFolderMarker(root, 'photos');
  const agent = await startTestAgent(server, { trust: [client.deviceId], manifestSource: scanningSource({ cacheDir: cache }) });
  agent.directory.folderList = [{ id: 'photos', path: root, role: 'source', shareWith: [client.deviceId] }];
  t.after(() => agent.server.close());
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId });
  t.after(() => session.close());
  const received = await collect(session.requestManifest('photos'));
  const local = await collect(scanFolder(root, { cache: false }));
  assert.ok(received.length >= 50_000, String(received.length));
  assert.deepEqual(received, local);
});
