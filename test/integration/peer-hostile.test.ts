/**
 * Hostile peers built from raw msgpackr (the project's encoder refuses to
 * emit bad frames): the attacked side reports a clear error, and the agent
 * keeps serving a good client afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import type { Identity } from '../../src/identity/identity.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { connectToPeer } from '../../src/peer/index.js';
import { toWireEntry, UNREAD_ANSWERS_LIMIT_BYTES, WS_PATH } from '../../src/protocol/index.js';
import { generateEntries } from '../harness/manifests.js';
import {
  identities,
  isFrameOfType,
  rawClient,
  rawHello,
  startRawServer,
  startTestAgent,
  type RawPeer,
  type TestAgent,
} from '../harness/peers.js';
import { waitFor } from '../harness/netns.js';

const ERROR = 2;

async function failure(promise: Promise<unknown>): Promise<Error & { code: string; hint?: string }> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error && typeof (err as { code?: unknown }).code === 'string', `expected a synker error, got ${String(err)}`);
    return err as Error & { code: string };
  }
  assert.fail('expected a failure');
}

async function collect(iterable: AsyncIterable<ManifestEntry>): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

/** The error frame a raw peer received, as [code, message]. */
async function errorFrame(peer: RawPeer): Promise<{ code: string; message: string; req?: number }> {
  const frame = (await peer.waitFor(isFrameOfType(ERROR))) as [number, number, { code: string; message: string; req?: number }];
  return frame[2];
}

async function goodClientStillServed(agent: TestAgent, client: Identity, server: Identity): Promise<void> {
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId });
  assert.equal((await collect(session.requestManifest('photos'))).length, 3000);
  await session.close();
}

test('hostile clients get a clear error and the agent keeps serving', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, {
    trust: [client.deviceId],
    entries: () => generateEntries(3000),
    timeouts: { handshakeTimeout: 600 },
  });
  t.after(() => agent.server.close());

  const cases: Array<{ name: string; act: (peer: RawPeer) => void; code: string; match?: RegExp }> = [
    { name: 'random bytes', act: (p) => p.sendBytes(Buffer.from('9f3c00ffe1d2c3b4a5968778695a4b3c2d1e0f', 'hex')), code: 'E_MALFORMED' },
    { name: 'msgpack of the wrong shape', act: (p) => p.send({ hello: 'there' }), code: 'E_MALFORMED' },
    {
      name: 'a hello with wrong field types',
      act: (p) => p.send([1, 1, { name: 42, deviceId: client.deviceId, software: 'x' }]),
      code: 'E_MALFORMED',
    },
    { name: 'a text message', act: (p) => p.ws.send('hello'), code: 'E_MALFORMED' },
    {
      name: 'a request before hello',
      act: (p) => p.send([1, 3, { req: 1, folder: 'photos' }]),
      code: 'E_UNEXPECTED_MESSAGE',
      match: /^unexpected message: manifest-request before hello$/,
    },
    {
      name: 'a hello of another version',
      act: (p) => p.send(rawHello(client, { software: 'synker 9.0.0' }, 2)),
      code: 'E_VERSION',
      match: /protocol version 1.*synker 9\.0\.0.*version 2/,
    },
    {
      name: "a hello whose device ID is not the certificate's",
      act: (p) => p.send(rawHello(client, { deviceId: server.deviceId })),
      code: 'E_DEVICE_MISMATCH',
    },
    {
      name: 'entries sent by a client',
      act: (p) => {
        p.send(rawHello(client));
        p.send([1, 5, { req: 1, entries: [toWireEntry({ path: 'a', type: 'dir', size: 0, mtime: 0, mode: 0 })] }]);
      },
      code: 'E_UNEXPECTED_MESSAGE',
    },
    { name: 'a client that completes TLS and sends nothing', act: () => undefined, code: 'E_HANDSHAKE_TIMEOUT' },
  ];
  for (const c of cases) {
    const peer = await rawClient(agent.port, client);
    c.act(peer);
    const error = await errorFrame(peer);
    assert.equal(error.code, c.code, c.name);
    assert.equal(error.req, undefined, c.name);
    if (c.match) assert.match(error.message, c.match, c.name);
    const closed = await peer.closed;
    assert.ok(closed.reason.length <= 123, c.name);
  }
  assert.ok(
    agent.log.lines.some((l) => /protocol version 1.*sent version 2/.test(l)),
    'the agent logs both versions',
  );

  // An oversized frame: refused by the WebSocket layer (close 1009), logged by the agent.
  const big = await rawClient(agent.port, client);
  big.send(rawHello(client));
  await big.waitFor(isFrameOfType(1));
  big.sendBytes(Buffer.alloc(2 * 1024 * 1024));
  assert.equal((await big.closed).code, 1009);
  assert.ok(agent.log.lines.some((l) => /larger than the protocol's limit/.test(l)));

  // Unknown types are answered (E_UNSUPPORTED) without ending the session.
  const probe = await rawClient(agent.port, client);
  probe.send(rawHello(client));
  await probe.waitFor(isFrameOfType(1));
  probe.send([1, 40, { req: 5, folder: 'photos', path: 'x', offset: 0 }]);
  probe.send([1, 41, {}]);
  const unsupported = await errorFrame(probe);
  assert.deepEqual([unsupported.code, unsupported.req], ['E_UNSUPPORTED', 5]);
  probe.send([1, 3, { req: 6, folder: 'photos' }]);
  await probe.waitFor((f) => Array.isArray(f) && f[1] === 6);
  probe.ws.close();

  await goodClientStillServed(agent, client, server);
});

test('a client without a certificate is refused with a message', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId], entries: () => generateEntries(3000) });
  t.after(() => agent.server.close());
  const ws = new WebSocket(`wss://127.0.0.1:${agent.port}${WS_PATH}`, { rejectUnauthorized: false });
  const frames: Buffer[] = [];
  ws.on('message', (d: Buffer) => frames.push(d));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('error', () => undefined);
  assert.equal(await closed, 1008);
  const { rawDecode } = await import('../harness/peers.js');
  const frame = rawDecode(frames[0]!) as [number, number, { code: string }];
  assert.equal(frame[2].code, 'E_NO_CERTIFICATE');
  await goodClientStillServed(agent, client, server);
});

test("a trusted client that sends requests and never reads the answers is closed, the agent's memory bounded", async (t) => {
  const { server, client } = await identities();
  // Nothing is shared with the client: every request gets an E_FOLDER_NOT_FOUND answer, sent without pacing.
  const agent = await startTestAgent(server, { trust: [client.deviceId], shareWith: [], entries: () => generateEntries(3000) });
  t.after(() => agent.server.close());
  // The agent runs in this process: record how much its sockets hold unsent each time it sends.
  let mostQueued = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket & { _isServer?: boolean }, ...args: unknown[]) {
    if (this._isServer === true) mostQueued = Math.max(mostQueued, this.bufferedAmount);
    (send as (...a: unknown[]) => void).apply(this, args);
  } as WebSocket['send'];
  t.after(() => (WebSocket.prototype.send = send));

  const folder = `no-such-folder-${'x'.repeat(200)}`;
  const requests: Array<[string, (req: number) => unknown[]]> = [
    ['manifest-request', (req) => [1, 3, { req, folder }]],
    ['file-request', (req) => [1, 16, { req, folder, path: 'x', hash: Buffer.alloc(32), size: 1, offset: 0 }]],
  ];
  for (const [name, request] of requests) {
    mostQueued = 0;
    agent.log.lines = [];
    const flooder = await rawClient(agent.port, client);
    flooder.send(rawHello(client));
    await flooder.waitFor(isFrameOfType(1));
    flooder.ws.pause();
    let over = false;
    void flooder.closed.then(() => (over = true));
    let sent = 0;
    const started = Date.now();
    while (!over && Date.now() - started < 20_000) {
      for (let i = 0; i < 1000; i++) flooder.send(request(sent++));
      // Our own send buffer must not grow either: wait for it to drain (the agent reads everything).
      while (!over && flooder.ws.bufferedAmount > 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(over, `${name}: the agent still holds the session after ${sent} requests`);
    // The cap counts frame bodies; the socket also holds their few header bytes.
    assert.ok(mostQueued <= UNREAD_ANSWERS_LIMIT_BYTES * 1.05, `${name}: the agent queued ${mostQueued} bytes for the flooder`);
    // Logged once; the same again from the same address within the minute is only counted (quiet-log.ts).
    const logged = agent.log.lines.filter((l) =>
      /warn closing the session: raw \(127\.0\.0\.1\) sends requests without reading the answers/.test(l),
    ).length;
    assert.equal(logged, name === 'manifest-request' ? 1 : 0, `${name}: ${agent.log.lines.slice(-3).join('; ')}`);
  }
  WebSocket.prototype.send = send;
  agent.directory.folderList[0]!.shareWith = [client.deviceId];
  await goodClientStillServed(agent, client, server);
});

/** A hostile server: a valid hello, then `script` answers the manifest request. */
async function hostileServer(
  identity: Identity,
  script: (peer: RawPeer, req: number) => void,
  hello: (identity: Identity) => unknown = (id) => rawHello(id, { name: 'evil' }),
) {
  const received: RawPeer[] = [];
  const raw = await startRawServer(identity, (peer) => {
    received.push(peer);
    void peer.waitFor(isFrameOfType(1)).then(async () => {
      peer.send(hello(identity));
      const request = (await peer.waitFor(isFrameOfType(3)).catch(() => undefined)) as [number, number, { req: number }] | undefined;
      if (request) script(peer, request[2].req);
    });
  });
  return { ...raw, received };
}

const dir = (path: string) => [path, 1, 0, 0, 0o755];
const begin = (req: number) => [1, 4, { req, folder: 'photos', role: 'source', ignore: [] }];
const end = (req: number, count: number) => [1, 6, { req, count, files: 0, dirs: count, symlinks: 0, errors: 0, bytes: 0 }];

test('hostile servers: the client refuses bad manifests and never yields a truncated one', async (t) => {
  const { server, client } = await identities();
  const cases: Array<{ name: string; script: (peer: RawPeer, req: number) => void; code: string; match?: RegExp }> = [
    {
      name: '../../etc/passwd',
      script: (p, r) => (p.send(begin(r)), p.send([1, 5, { req: r, entries: [dir('a'), dir('../../etc/passwd')] }])),
      code: 'E_BAD_PATH',
      match: /\.\.\/\.\.\/etc\/passwd/,
    },
    {
      name: 'an absolute path',
      script: (p, r) => (p.send(begin(r)), p.send([1, 5, { req: r, entries: [dir('/etc/passwd')] }])),
      code: 'E_BAD_PATH',
      match: /absolute/,
    },
    {
      name: 'a NUL in a path',
      script: (p, r) => (p.send(begin(r)), p.send([1, 5, { req: r, entries: [dir('a\0b')] }])),
      code: 'E_BAD_PATH',
    },
    {
      name: 'a non-NFC key',
      script: (p, r) => (p.send(begin(r)), p.send([1, 5, { req: r, entries: [dir('cafe\u0301')] }])),
      code: 'E_BAD_PATH',
      match: /NFC/,
    },
    {
      name: 'out-of-order entries',
      script: (p, r) => (
        p.send(begin(r)), p.send([1, 5, { req: r, entries: [dir('b')] }]), p.send([1, 5, { req: r, entries: [dir('a')] }])
      ),
      code: 'E_ORDER',
    },
    {
      name: 'a repeated entry',
      script: (p, r) => (p.send(begin(r)), p.send([1, 5, { req: r, entries: [dir('a'), dir('a')] }])),
      code: 'E_ORDER',
    },
    {
      name: 'totals that do not match',
      script: (p, r) => (p.send(begin(r)), p.send([1, 5, { req: r, entries: [dir('a')] }]), p.send(end(r, 2))),
      code: 'E_TOTALS_MISMATCH',
    },
    {
      name: 'a close before the end marker',
      script: (p, r) => (p.send(begin(r)), p.send([1, 5, { req: r, entries: [dir('a')] }]), setTimeout(() => p.ws.close(1000), 50)),
      code: 'E_PEER_CLOSED',
    },
    {
      name: 'entries before the manifest starts',
      script: (p, r) => p.send([1, 5, { req: r, entries: [dir('a')] }]),
      code: 'E_UNEXPECTED_MESSAGE',
    },
    {
      name: 'entries for another request',
      script: (p, r) => (p.send(begin(r)), p.send([1, 5, { req: r + 1, entries: [dir('a')] }])),
      code: 'E_UNEXPECTED_MESSAGE',
    },
    { name: 'random bytes', script: (p) => p.sendBytes(Buffer.from('c1c1c1c1', 'hex')), code: 'E_MALFORMED' },
    { name: 'a frame of the wrong shape', script: (p) => p.send([1, 5]), code: 'E_MALFORMED' },
    { name: 'an oversized frame', script: (p) => p.sendBytes(Buffer.alloc(1024 * 1024 + 1)), code: 'E_FRAME_TOO_LARGE' },
    {
      name: 'a batch over the cap',
      script: (p, r) => (
        p.send(begin(r)), p.send([1, 5, { req: r, entries: Array.from({ length: 1001 }, (_, i) => dir(`d${String(i).padStart(5, '0')}`)) }])
      ),
      code: 'E_LIMIT',
    },
  ];
  for (const c of cases) {
    const evil = await hostileServer(server, c.script);
    const session = await connectToPeer({ host: '127.0.0.1', port: evil.port, identity: client, expectDeviceId: server.deviceId });
    const seen: ManifestEntry[] = [];
    const err = await failure(
      (async () => {
        for await (const entry of session.requestManifest('photos')) seen.push(entry);
      })(),
    );
    assert.equal(err.code, c.code, `${c.name}: ${err.message}`);
    if (process.env.SHOW) console.log(c.name, '->', err.message);
    if (c.match) assert.match(err.message, c.match, c.name);
    assert.ok(
      seen.every((e) => !e.path.includes('..') && !e.path.startsWith('/')),
      c.name,
    );
    if (c.code !== 'E_PEER_CLOSED' && c.code !== 'E_FRAME_TOO_LARGE') {
      // The client told the hostile server why, before closing.
      const told = await errorFrame(evil.received[0]!);
      assert.equal(told.code, c.code, c.name);
    }
    await session.close();
    await evil.close();
  }

  // Unknown types without a req are ignored: the manifest still arrives whole.
  const chatty = await hostileServer(server, (p, r) => {
    p.send(begin(r));
    p.send([1, 40, { junk: true }]);
    p.send([1, 5, { req: r, entries: [dir('a'), dir('b')] }]);
    p.send(end(r, 2));
  });
  t.after(() => chatty.close());
  const session = await connectToPeer({ host: '127.0.0.1', port: chatty.port, identity: client, expectDeviceId: server.deviceId });
  assert.deepEqual(
    (await collect(session.requestManifest('photos'))).map((e) => e.path),
    ['a', 'b'],
  );
  await session.close();
});

test("hostile server hellos: another version (both versions named), a device ID that is not the certificate's", async () => {
  const { server, client, stranger } = await identities();
  const future = await hostileServer(
    server,
    () => undefined,
    (id) => rawHello(id, { name: 'future', software: 'synker 9.0.0' }, 2),
  );
  const err = await failure(connectToPeer({ host: '127.0.0.1', port: future.port, identity: client, expectDeviceId: server.deviceId }));
  assert.equal(err.code, 'E_VERSION');
  assert.match(err.message, /synker 9\.0\.0.*version 2.*version 1/);
  const told = await errorFrame(future.received[0]!);
  assert.equal(told.code, 'E_VERSION');
  assert.match(told.message, /version 2.*version 1/);
  await future.close();

  const liar = await hostileServer(
    server,
    () => undefined,
    () => rawHello(stranger),
  );
  const mismatch = await failure(connectToPeer({ host: '127.0.0.1', port: liar.port, identity: client, expectDeviceId: server.deviceId }));
  assert.equal(mismatch.code, 'E_DEVICE_MISMATCH');
  await liar.close();

  const silent = await startRawServer(server, () => undefined);
  const started = Date.now();
  const timeout = await failure(
    connectToPeer({
      host: '127.0.0.1',
      port: silent.port,
      identity: client,
      expectDeviceId: server.deviceId,
      timeouts: { handshakeTimeout: 500 },
    }),
  );
  assert.equal(timeout.code, 'E_HANDSHAKE_TIMEOUT');
  assert.ok(Date.now() - started < 2000);
  await silent.close();
});

test('connection caps: per address, refused attempts logged once', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, {
    trust: [client.deviceId],
    entries: () => generateEntries(3000),
    caps: { maxSessionsPerAddress: 2 },
  });
  t.after(() => agent.server.close());
  const held = [await rawClient(agent.port, client), await rawClient(agent.port, client)];
  for (let i = 0; i < 5; i++) {
    const err = await failure(connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId }));
    assert.equal(err.code, 'E_CONNECT');
  }
  assert.equal(agent.log.lines.filter((l) => l.includes('refused a connection from 127.0.0.1')).length, 1);
  // A connection refused at accept is not also a failed TLS handshake.
  assert.deepEqual(
    agent.log.lines.filter((l) => l.includes('TLS handshake')),
    [],
  );
  for (const peer of held) {
    peer.ws.close();
    await peer.closed;
  }
  // The agent has let go of every one of them (its side of each close handled), so there is room again.
  await waitFor('the agent to free its connections', () => (agent.server.connections === 0 ? true : undefined), 10_000, 5);
  await goodClientStillServed(agent, client, server);
  // The refusals left out are counted, at the latest when the agent stops.
  await agent.server.close();
  assert.equal(
    agent.log.lines.filter((l) => /^warn refused 4 more connections from 127\.0\.0\.1 in the last \d+ s$/.test(l)).length,
    1,
    agent.log.lines.join('\n'),
  );
});

test('a failed TLS handshake is logged with the address it came from', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId], timeouts: { handshakeTimeout: 300 } });
  t.after(() => agent.server.close());
  const net = await import('node:net');
  // Connects, then says nothing: the TLS handshake times out.
  const silent = net.connect(agent.port, '127.0.0.1');
  silent.on('error', () => undefined);
  await new Promise((resolve) => silent.on('close', resolve));
  await waitFor(
    'the failed handshake to be logged',
    () => (agent.log.lines.some((l) => l.includes('TLS handshake')) ? true : undefined),
    10_000,
    5,
  );
  assert.deepEqual(
    agent.log.lines.filter((l) => l.includes('TLS handshake')),
    ['warn TLS handshake with 127.0.0.1 failed: TLS handshake timeout'],
  );
});

test('TLS below 1.3 is refused, and an untrusted device gets one error frame and nothing else', async (t) => {
  const { server, client, stranger } = await identities();
  const agent = await startTestAgent(server, {
    trust: [client.deviceId],
    shareWith: [client.deviceId, stranger.deviceId],
    entries: () => generateEntries(3000),
  });
  t.after(() => agent.server.close());
  const tls = await import('node:tls');
  const refused = await new Promise<Error>((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: agent.port,
      maxVersion: 'TLSv1.2',
      rejectUnauthorized: false,
      cert: client.certPem,
      key: client.keyPem,
    });
    socket.on('secureConnect', () => resolve(new Error(`negotiated ${socket.getProtocol()}`)));
    socket.on('error', resolve);
  });
  assert.match(refused.message, /protocol version|version/i);
  assert.doesNotMatch(refused.message, /negotiated/);

  const intruder = await rawClient(agent.port, stranger);
  intruder.send(rawHello(stranger, { name: 'intruder' }));
  intruder.send([1, 3, { req: 1, folder: 'photos' }]);
  const closed = await intruder.closed;
  assert.equal(closed.code, 1008);
  assert.equal(intruder.frames.length, 1, JSON.stringify(intruder.frames));
  const [version, type, body] = intruder.frames[0] as [number, number, { code: string; message: string; hint: string }];
  assert.deepEqual([version, type, body.code], [1, ERROR, 'E_UNTRUSTED']);
  assert.match(body.hint, /synker trust/);
  await goodClientStillServed(agent, client, server);
});

test('the source picks AES-128-GCM, whatever order the client lists its suites in, and still serves a client offering only AES-256', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId], entries: () => generateEntries(3000) });
  t.after(() => agent.server.close());
  const tls = await import('node:tls');
  const { TLS_SETTINGS } = await import('../../src/identity/tls.js');
  const negotiated = (extra: Record<string, unknown>): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: agent.port,
        rejectUnauthorized: false,
        cert: client.certPem,
        key: client.keyPem,
        ...extra,
      });
      socket.on('secureConnect', () => {
        resolve(socket.getCipher().standardName);
        socket.destroy();
      });
      socket.on('error', reject);
    });
  assert.equal(await negotiated({ ...TLS_SETTINGS }), 'TLS_AES_128_GCM_SHA256');
  // Node's default list (an older synker) puts AES-256 first: the server's preference wins.
  assert.match(tls.DEFAULT_CIPHERS, /^TLS_AES_256_GCM_SHA384/);
  assert.equal(await negotiated({ minVersion: 'TLSv1.3' }), 'TLS_AES_128_GCM_SHA256');
  assert.equal(await negotiated({ minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' }), 'TLS_AES_256_GCM_SHA384');
  await goodClientStillServed(agent, client, server);
});
