/**
 * Liveness measured on progress, not pings (issue #19, item 8): a source
 * that stays connected and answers pings but whose scan or file read makes
 * no progress fails the client with E_PEER_STALLED within the stall
 * deadline, while a slow scan that says how far it got (the `progress`
 * message, counted up by the real scan's hash threads read by read) is not
 * cut. Servers that never announced `progress` are not held to it.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { scanningSource } from '../../src/agent/agent.js';
import { writeFolderMarker } from '../../src/config/folder-marker.js';
import type { Identity } from '../../src/identity/identity.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { connectToPeer, startAgentServer, type PeerSession } from '../../src/peer/index.js';
import type { SessionTimeouts } from '../../src/peer/timeouts.js';
import { MESSAGE_TYPES } from '../../src/protocol/index.js';
import { startChildAgent } from '../harness/child-agent.js';
import {
  identities,
  isFrameOfType,
  MemoryDirectory,
  rawClient,
  rawHello,
  type RawPeer,
  startRawServer,
  startTestAgent,
  type TestAgent,
} from '../harness/peers.js';
import { tempDir } from '../harness/tmp.js';

/** Short deadlines for both ends; pings every 100 ms, so the idle deadline never fires while the peer's loop runs. */
const FAST: Partial<SessionTimeouts> = { keepaliveInterval: 100, idleTimeout: 1000, stallTimeout: 1500, progressInterval: 100 };
/** A deadline for the test itself: today's code waits for ever. */
const GIVE_UP_MS = 15_000;

/** Wait for a condition the code under test brings about on its own time. */
async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const dir = (p: string): ManifestEntry => ({ path: p, type: 'dir', size: 0, mtime: 0, mode: 0o755 });

/** Iterate the manifest; the failure, or undefined when it completed. Fails the test if it neither ends nor fails in GIVE_UP_MS. */
async function outcome(session: PeerSession, onEntry: () => void = () => undefined): Promise<(Error & { code?: string }) | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${GIVE_UP_MS} ms`)), GIVE_UP_MS);
  });
  try {
    await Promise.race([
      (async () => {
        for await (const _ of session.requestManifest('photos')) onEntry();
      })(),
      giveUp,
    ]);
    return undefined;
  } catch (err) {
    if ((err as Error).message.startsWith('still waiting')) throw err;
    return err as Error & { code?: string };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A test agent with FAST deadlines trusting `client`, whose manifest of `photos` is `entries` while the scan
 * says it got as far as `progress()`; closed when the test ends.
 */
async function agentScanning(
  t: TestContext,
  server: Identity,
  client: Identity,
  entries: () => AsyncGenerator<ManifestEntry>,
  progress: () => { items: number; bytes: number },
): Promise<TestAgent> {
  const agent = await startTestAgent(server, {
    trust: [client.deviceId],
    timeouts: FAST,
    manifestSource: async () => ({ ignoreRules: [], entries: entries(), progress }),
  });
  t.after(() => agent.server.close());
  return agent;
}

/** A session with FAST deadlines, as `client`, with the agent on `port` that must be `server`; closed when the test ends. */
async function connectFast(t: TestContext, port: number, server: Identity, client: Identity): Promise<PeerSession> {
  const session = await connectToPeer({ host: '127.0.0.1', port, identity: client, expectDeviceId: server.deviceId, timeouts: FAST });
  t.after(() => session.close());
  return session;
}

/**
 * A raw source named `name` announcing `features`: it answers the hello, begins the manifest of the first request
 * (one frame: manifestBegin), then leaves the request number to `then`; closed when the test ends.
 */
async function rawSource(
  t: TestContext,
  server: Identity,
  name: string,
  features: string[],
  then: (peer: RawPeer, req: number) => void = () => undefined,
): Promise<{ port: number }> {
  const source = await startRawServer(server, (peer) => {
    void peer.waitFor(isFrameOfType(1)).then(async () => {
      peer.send(rawHello(server, { name, features }));
      const request = (await peer.waitFor(isFrameOfType(3))) as [number, number, { req: number }];
      const req = request[2].req;
      peer.send([1, 4, { req, folder: 'photos', role: 'source', ignore: [] }]);
      then(peer, req);
    });
  });
  t.after(() => source.close());
  return source;
}

/** Sends `frame(n)` for n = 0, 1, 2… every 50 ms until the peer is gone. */
function every50ms(peer: RawPeer, frame: (n: number) => unknown): void {
  let n = 0;
  const timer = setInterval(() => peer.send(frame(n++)), 50);
  void peer.closed.then(() => clearInterval(timer));
}

test('a source whose scan blocks while it answers pings fails the client with E_PEER_STALLED within the stall deadline', async (t) => {
  const { server, client } = await identities();
  // Two entries, then a scan stuck on its disk: the counts stop, the event loop (and so the pings) goes on.
  const agent = await agentScanning(
    t,
    server,
    client,
    async function* () {
      yield dir('a');
      yield dir('b');
      await new Promise(() => undefined);
    },
    () => ({ items: 2, bytes: 0 }),
  );
  const session = await connectFast(t, agent.port, server, client);
  const started = Date.now();
  const failure = await outcome(session);
  const elapsed = Date.now() - started;
  assert.equal(failure?.code, 'E_PEER_STALLED', String(failure));
  assert.match(failure!.message, /answers but has made no progress for .*before the manifest of "photos" was complete/);
  // stallTimeout plus one check period (idleTimeout / 10), and scheduling slack.
  assert.ok(elapsed >= FAST.stallTimeout! - 100, `failed after ${elapsed} ms: too early`);
  assert.ok(elapsed <= FAST.stallTimeout! + FAST.idleTimeout! / 10 + 1500, `failed after ${elapsed} ms`);
  // The agent was told why (the error frame comes before the close), and logged it.
  await until(() => agent.server.connections === 0);
  assert.ok(
    agent.log.lines.some((l) => /ended the session: E_PEER_STALLED/.test(l)),
    agent.log.lines.join('\n'),
  );
});

test('a slow scan that says how far it got is not cut, however long no entry comes', async (t) => {
  const { server, client } = await identities();
  let bytes = 0;
  // One entry, then three stall deadlines of hashing one large file (bytes counting up), then the rest.
  const agent = await agentScanning(
    t,
    server,
    client,
    async function* () {
      yield dir('a');
      const until = Date.now() + 3 * FAST.stallTimeout!;
      while (Date.now() < until) {
        bytes += 64 * 1024;
        await new Promise((r) => setTimeout(r, 20));
      }
      yield dir('b');
    },
    () => ({ items: 1, bytes }),
  );
  const session = await connectFast(t, agent.port, server, client);
  let entries = 0;
  const failure = await outcome(session, () => entries++);
  assert.equal(failure, undefined, String(failure));
  assert.equal(entries, 2);
});

test('a source that repeats the same progress counts, or leaves a file request unanswered, is stalled', async (t) => {
  const { server, client } = await identities();
  let requests = 0;
  const liar = await rawSource(t, server, 'liar', ['file-data', 'progress'], (peer, req) => {
    requests++;
    // The same counts over and over: frames, but no progress.
    every50ms(peer, () => [1, MESSAGE_TYPES.progress, { req, items: 5, bytes: 5 }]);
  });
  const session = await connectFast(t, liar.port, server, client);
  assert.equal((await outcome(session))?.code, 'E_PEER_STALLED');
  assert.equal(requests, 1);

  // Errors for requests that are not running: frames, but no progress either.
  const chatty = await rawSource(t, server, 'chatty', ['file-data', 'progress'], (peer) =>
    every50ms(peer, (n) => [1, 2, { req: 1000 + n, code: 'E_CANCELLED', message: 'old news' }]),
  );
  const chatter = await connectFast(t, chatty.port, server, client);
  assert.equal((await outcome(chatter))?.code, 'E_PEER_STALLED');

  // A file request the source never answers (its read blocks on a dead disk).
  const mute = await startRawServer(server, (peer) => {
    void peer.waitFor(isFrameOfType(1)).then(() => peer.send(rawHello(server, { name: 'mute', features: ['file-data', 'progress'] })));
  });
  t.after(() => mute.close());
  const files = await connectFast(t, mute.port, server, client);
  const started = Date.now();
  const failure = await Promise.race([
    files.requestFile({ folder: 'photos', path: 'a.mov', hash: 'ab'.repeat(32), size: 10, offset: 0, onData: async () => undefined }).then(
      () => undefined,
      (err: Error & { code?: string }) => err,
    ),
    new Promise<Error>((resolve) => setTimeout(() => resolve(new Error(`still waiting after ${GIVE_UP_MS} ms`)), GIVE_UP_MS).unref()),
  ]);
  assert.equal((failure as { code?: string } | undefined)?.code, 'E_PEER_STALLED', String(failure));
  assert.ok(Date.now() - started < FAST.stallTimeout! + 1500);
});

test('a source that never announced progress is held to the stall deadline all the same: leaving the word out does not hang a check', async (t) => {
  const { server, client } = await identities();
  // The manifest begins, then nothing (the ws library still answers pings).
  const silent = await rawSource(t, server, 'silent', ['file-data']);
  const session = await connectFast(t, silent.port, server, client);
  const started = Date.now();
  const failure = await outcome(session);
  assert.equal((failure as { code?: string } | undefined)?.code, 'E_PEER_STALLED', String(failure));
  assert.ok(Date.now() - started < FAST.stallTimeout! + 1500);
});

test("the real scan tells how far its hash threads read within one large file, before the file's entry is ready", async (t) => {
  const { server, client } = await identities();
  const root = await tempDir(t);
  await writeFolderMarker(root, 'photos');
  // 96 MiB: hashed in 64 KiB reads over several progress intervals even on a fast machine.
  await writeFile(path.join(root, 'video.mov'), Buffer.alloc(96 * 1024 * 1024, 7));
  const directory = new MemoryDirectory();
  directory.trustedDevices = [{ deviceId: client.deviceId }];
  directory.folderList = [{ id: 'photos', path: root, role: 'source', shareWith: [client.deviceId] }];
  const agent = await startAgentServer({
    identity: server,
    directory,
    host: '127.0.0.1',
    port: 0,
    timeouts: { ...FAST, progressInterval: 20 },
    manifestSource: scanningSource({ cacheDir: await tempDir(t), jobs: 1 }),
  });
  t.after(() => agent.close());
  const peer = await rawClient(agent.port, client);
  peer.send(rawHello(client, { features: ['file-data', 'file-end-unhashed', 'progress'] }));
  await peer.waitFor(isFrameOfType(1));
  peer.send([1, 3, { req: 1, folder: 'photos' }]);
  await peer.waitFor(isFrameOfType(6), GIVE_UP_MS);
  const types = peer.frames.map((f) => (f as [number, number])[1]);
  const progress = peer.frames
    .filter(isFrameOfType(MESSAGE_TYPES.progress))
    .map((f) => (f as [number, number, { bytes: number }])[2].bytes);
  t.diagnostic(`${progress.length} progress messages before the entries: ${progress.join(', ')} bytes`);
  // At least one told of a part of the file read, before the batch with its entry.
  assert.ok(
    progress.some((b) => b > 0 && b < 96 * 1024 * 1024),
    `progress: ${progress.join(', ')}`,
  );
  assert.ok(types.indexOf(MESSAGE_TYPES.progress) < types.indexOf(MESSAGE_TYPES.manifestEntries), `frames: ${types.join(', ')}`);
  // Counts only grow.
  assert.deepEqual(
    progress,
    [...progress].sort((a, b) => a - b),
  );
});

test('an agent in its own process whose manifest stops mid-stream, answering pings, is detected as stalled, not as unresponsive', async (t) => {
  const { server, client } = await identities();
  // The idle deadline is shorter than the stall deadline: only the pings keep the session alive until the stall is seen.
  const timeouts = { keepaliveInterval: 300, idleTimeout: 1500, stallTimeout: 4000, progressInterval: 500 };
  const agent = await startChildAgent(t, { identity: server, trusted: [client.deviceId], entries: 5000, stallAfter: 3000, timeouts });
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId, timeouts });
  t.after(() => session.close());
  let last = Date.now();
  let count = 0;
  const failure = await outcome(session, () => {
    count++;
    last = Date.now();
  });
  const elapsed = Date.now() - last;
  t.diagnostic(`stalled after ${count} entries, ${elapsed} ms without progress`);
  assert.equal(failure?.code, 'E_PEER_STALLED', String(failure));
  assert.equal(count, 3000);
  // docs/protocol.md: stallTimeout plus one check period (idleTimeout / 10).
  const documented = timeouts.stallTimeout + timeouts.idleTimeout / 10;
  assert.ok(elapsed >= timeouts.stallTimeout - 500, `${elapsed} ms`);
  assert.ok(elapsed <= documented + 3000 /* scheduling slack on a loaded machine */, `${elapsed} ms, documented ${documented} ms`);
});
