/**
 * Bounded work for what peers send (issue #19, items 6 and 11): a device
 * nobody trusts gets no decode beyond a small hello, a refused frame costs
 * the agent little and the same whatever it holds, the agent's log quotes a
 * few dozen characters of it at most and one line a minute per address, and
 * no text a peer chose (names, error messages, hints) reaches a log or a
 * message raw.
 */
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { test } from 'node:test';
import { connectToPeer } from '../../src/peer/index.js';
import { HANDSHAKE_FRAME_BYTES } from '../../src/protocol/index.js';
import { identities, isFrameOfType, rawClient, rawHello, startRawServer, startTestAgent, type RawPeer } from '../harness/peers.js';

const MiB = 1024 * 1024;
const ERROR = 2;
/** Raw control characters (C0, DEL, C1) and bidirectional overrides: none may reach a log or a message. */
const RAW = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const HOSTILE_NAME = 'evil\u001b]0;owned\u0007\n\u202egpj.exe';
const HOSTILE_TEXT = 'fine\nerror: backup complete, 0 files differ\u001b[2J\u009b31m';

/** A msgpack ext 0x42 (msgpackr's BigInt) of `bytes` bytes: msgpackr turns it into a number of ~2.4 digits per byte. */
function bigIntFrame(bytes: number): Buffer {
  const head = Buffer.alloc(6);
  head[0] = 0xc9;
  head.writeUInt32BE(bytes, 1);
  head[5] = 0x42;
  return Buffer.concat([head, Buffer.alloc(bytes, 0x7f)]);
}

test('a 1 MiB msgpack BigInt from an untrusted device costs the agent a constant refusal and one log line a minute', async (t) => {
  const { server, client, stranger } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId] });
  t.after(() => agent.server.close());
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const frame = bigIntFrame(MiB - 64);
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const peer = await rawClient(agent.port, stranger);
    const started = performance.now();
    peer.sendBytes(frame);
    const error = (await peer.waitFor(isFrameOfType(ERROR))) as [number, number, { code: string; message: string }];
    await peer.closed;
    times.push(performance.now() - started);
    // Before the hello only a hello or an error is decoded, and neither is over a few KiB.
    assert.equal(error[2].code, 'E_FRAME_TOO_LARGE');
    assert.match(error[2].message, new RegExp(`before the handshake.*at most ${HANDSHAKE_FRAME_BYTES} bytes`));
  }
  delay.disable();
  const logBytes = agent.log.lines.join('\n').length;
  t.diagnostic(
    `refusals took ${times.map((ms) => ms.toFixed(0)).join(', ')} ms; longest event-loop stall ${(delay.max / 1e6).toFixed(0)} ms; ${agent.log.lines.length} log lines, ${logBytes} bytes`,
  );
  // Before: 1.1-1.3 s of the agent's main thread and 2.5 MB of log per frame.
  assert.ok(delay.max / 1e6 < 250, `the agent's event loop stalled ${(delay.max / 1e6).toFixed(0)} ms`);
  assert.ok(logBytes < 1000, `${logBytes} bytes of log for 8 refused frames`);
  assert.equal(agent.log.lines.filter((l) => l.includes('broke the protocol')).length, 1, agent.log.lines.join('\n'));
  // The seven left out are counted when the agent stops.
  await agent.server.close();
  assert.ok(
    agent.log.lines.some((l) => /^warn 7 more in the last \d+ s like: closing the session: 127\.0\.0\.1 broke the protocol/.test(l)),
    agent.log.lines.join('\n'),
  );
});

test('a trusted peer gets full frames, still shape-checked: a 1 MiB BigInt is refused at once with a short message', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId] });
  t.after(() => agent.server.close());
  const peer = await rawClient(agent.port, client);
  peer.send(rawHello(client));
  await peer.waitFor(isFrameOfType(1));
  const started = performance.now();
  peer.sendBytes(bigIntFrame(MiB - 64));
  const error = (await peer.waitFor(isFrameOfType(ERROR))) as [number, number, { code: string; message: string }];
  const ms = performance.now() - started;
  assert.equal(error[2].code, 'E_MALFORMED');
  assert.match(error[2].message, /extension type/);
  assert.ok(error[2].message.length < 300, `${error[2].message.length} characters`);
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
  assert.ok(agent.log.lines.join('\n').length < 1000);
});

test('frames before the hello: an unknown type or anything but a hello or an error ends the connection at the first one', async (t) => {
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId] });
  t.after(() => agent.server.close());
  const peer = await rawClient(agent.port, client);
  for (let i = 0; i < 200; i++) peer.send([1, 40 + (i % 20), { req: i }]);
  peer.send(rawHello(client));
  const error = (await peer.waitFor(isFrameOfType(ERROR))) as [number, number, { code: string; message: string; req?: number }];
  assert.equal(error[2].code, 'E_UNEXPECTED_MESSAGE');
  assert.equal(error[2].req, undefined);
  assert.match(error[2].message, /unknown type 40 before hello/);
  await peer.closed;
  // One error frame and nothing else: no E_UNSUPPORTED answers, no hello.
  assert.equal(peer.frames.length, 1, JSON.stringify(peer.frames));
});

test("names and error texts a peer chose reach the agent's log escaped, on one line", async (t) => {
  const { server, client, stranger } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId] });
  t.after(() => agent.server.close());
  // An untrusted device with a hostile name; another version with a hostile name and software; an error as first frame.
  const untrusted = await rawClient(agent.port, stranger);
  untrusted.send(rawHello(stranger, { name: HOSTILE_NAME }));
  await untrusted.closed;
  const future = await rawClient(agent.port, client);
  future.send(rawHello(client, { name: HOSTILE_NAME, software: `synker 9\n${HOSTILE_TEXT}` }, 2));
  await future.closed;
  const quitter = await rawClient(agent.port, stranger);
  quitter.send([1, ERROR, { code: 'E_X', message: HOSTILE_TEXT.repeat(20) }]);
  await quitter.closed;
  // A trusted client with a hostile name asks for a file by a hostile name (refused, and logged), then ends the session by its error.
  const trusted = await rawClient(agent.port, client);
  trusted.send(rawHello(client, { name: HOSTILE_NAME }));
  await trusted.waitFor(isFrameOfType(1));
  trusted.send([1, 3, { req: 1, folder: 'photos', files: true }]);
  await trusted.waitFor(isFrameOfType(6));
  trusted.send([1, 16, { req: 2, folder: 'photos', path: `a${HOSTILE_TEXT}`, hash: Buffer.alloc(32), size: 1, offset: 0 }]);
  await trusted.waitFor((f) => isFrameOfType(ERROR)(f) && (f as [number, number, { req?: number }])[2].req === 2);
  trusted.send([1, ERROR, { code: 'E_X', message: HOSTILE_TEXT }]);
  await trusted.closed;
  await new Promise((resolve) => setImmediate(resolve));
  const lines = agent.log.lines;
  assert.ok(
    lines.some((l) => l.includes('refused evil\\u{1b}]0;owned\\u{7}\\u{a}\\u{202e}gpj.exe at 127.0.0.1')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.includes('ended the session: E_X "fine\\u{a}error: backup complete')),
    lines.join('\n'),
  );
  assert.ok(
    lines.some((l) => l.includes('refused photos/afine\\u{a}error: backup complete')),
    lines.join('\n'),
  );
  for (const line of lines) {
    assert.doesNotMatch(line, RAW, JSON.stringify(line));
    // The peer's text is quoted in a few dozen characters, whatever its length.
    assert.ok(line.length < 400, `${line.length} characters: ${line.slice(0, 200)}`);
  }
  // The attempt is recorded with the name it announced (`synker peers` and `synker trust` escape it when they show it).
  assert.equal(agent.attempts[0]?.name, HOSTILE_NAME);
});

test("a hostile source's name, error message and hint reach the CLI escaped: no forged line, no escape sequence", async (t) => {
  const { server, client } = await identities();
  const cases: Array<[string, (peer: RawPeer) => void]> = [
    ['an error for the session', (p) => p.send([1, ERROR, { code: 'E_FOLDER_UNAVAILABLE', message: HOSTILE_TEXT, hint: HOSTILE_TEXT }])],
    [
      'an error for the request',
      (p) => p.send([1, ERROR, { req: 1, code: 'E_FOLDER_UNAVAILABLE', message: HOSTILE_TEXT, hint: HOSTILE_TEXT }]),
    ],
    ['a close with a reason', (p) => p.ws.close(4000, 'bye\nerror: backup complete\u001b[2J')],
  ];
  for (const [name, answer] of cases) {
    const evil = await startRawServer(server, (peer) => {
      void peer.waitFor(isFrameOfType(1)).then(async () => {
        peer.send(rawHello(server, { name: HOSTILE_NAME, features: ['file-data'] }));
        await peer.waitFor(isFrameOfType(3)).catch(() => undefined);
        answer(peer);
      });
    });
    t.after(() => evil.close());
    const session = await connectToPeer({ host: '127.0.0.1', port: evil.port, identity: client, expectDeviceId: server.deviceId });
    assert.doesNotMatch(session.remote.name, RAW, name);
    assert.equal(session.remote.name, 'evil\\u{1b}]0;owned\\u{7}\\u{a}\\u{202e}gpj.exe');
    let failure: (Error & { code?: string; hint?: string }) | undefined;
    try {
      for await (const _ of session.requestManifest('photos'));
    } catch (err) {
      failure = err as Error;
    }
    assert.equal(failure?.code, name === 'a close with a reason' ? 'E_PEER_CLOSED' : 'E_FOLDER_UNAVAILABLE', name);
    assert.doesNotMatch(failure!.message, RAW, `${name}: ${JSON.stringify(failure!.message)}`);
    assert.doesNotMatch(failure!.hint ?? '', RAW, `${name}: ${JSON.stringify(failure!.hint)}`);
    assert.match(failure!.message, /\\u\{a\}error: backup complete/, name);
    await session.close();
  }
});

test("a file transfer's protocol errors name the file escaped: a line break in a source's file name forges no line", async (t) => {
  const { server, client } = await identities();
  const evil = await startRawServer(server, (peer) => {
    void peer.waitFor(isFrameOfType(1)).then(async () => {
      peer.send(rawHello(server, { name: 'src', features: ['file-data'] }));
      const request = (await peer.waitFor(isFrameOfType(16))) as [number, number, { req: number }];
      // A chunk at the wrong offset.
      peer.send([1, 17, { req: request[2].req, offset: 5, data: Buffer.from('x') }]);
    });
  });
  t.after(() => evil.close());
  const session = await connectToPeer({ host: '127.0.0.1', port: evil.port, identity: client, expectDeviceId: server.deviceId });
  t.after(() => session.close());
  const failure = await session
    .requestFile({
      folder: 'photos',
      path: 'a\nerror: forged\u001b[2J',
      hash: 'ab'.repeat(32),
      size: 10,
      offset: 0,
      onData: async () => undefined,
    })
    .then(
      () => undefined,
      (err: Error & { code?: string }) => err,
    );
  assert.equal(failure?.code, 'E_MALFORMED');
  assert.match(failure!.message, /sent a\\u\{a\}error: forged\\u\{1b\}\[2J bytes at offset 5/);
  assert.doesNotMatch(failure!.message, RAW);
});
