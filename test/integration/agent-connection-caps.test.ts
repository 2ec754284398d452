/**
 * The default connection caps of a real `synker agent` (docs/protocol.md section 5): at most 4
 * concurrent connections per remote address and 32 in all; one more is closed right after the
 * TCP accept, before TLS, and the refusal is logged. Raw TCP connections from loopback addresses
 * (all of 127.0.0.0/8 is on lo on Linux) hold their place by saying nothing: the handshake
 * timeout (10 s) is far longer than the test.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { tempDir } from '../harness/tmp.js';

interface Held {
  socket: Socket;
  closed: boolean;
}

async function open(t: TestContext, port: number, from: string): Promise<Held> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from });
  t.after(() => socket.destroy());
  const held: Held = { socket, closed: false };
  socket.on('close', () => (held.closed = true));
  socket.on('error', () => undefined); // a reset by the agent is a close too
  await once(socket, 'connect');
  return held;
}

test('a real agent takes 4 connections per address and 32 in all by default; one more is closed at once and logged', {
  skip: process.platform !== 'linux' && 'needs 127.0.0.0/8 on lo (Linux)',
}, async (t) => {
  const dir = await tempDir(t);
  const pair = await configureCliPair(dir, { 'a.txt': 'alpha' });
  const agent = await startCliAgent(t, pair.sourceEnv);

  // Per address: four held, the fifth closed.
  const first = [];
  for (let i = 0; i < 4; i++) first.push(await open(t, agent.port, '127.0.0.2'));
  const fifth = await open(t, agent.port, '127.0.0.2');
  if (!fifth.closed) await once(fifth.socket, 'close');
  assert.deepEqual(
    first.map((h) => h.closed),
    [false, false, false, false],
    'the first four from the address are held',
  );

  // In all: seven more addresses fill 32 (8 x 4), and a ninth address's first connection is closed.
  const rest = [];
  for (let a = 3; a <= 9; a++) for (let i = 0; i < 4; i++) rest.push(await open(t, agent.port, `127.0.0.${a}`));
  const over = await open(t, agent.port, '127.0.0.10');
  if (!over.closed) await once(over.socket, 'close');
  assert.equal([...first, ...rest].filter((h) => !h.closed).length, 32, 'all 32 under the cap are held');

  // Each refusal is logged (the first per address at once); the line may reach the pipe after the close.
  const stderr = agent.process.stderr;
  for (const line of [/127\.0\.0\.2 already has 4 connections \(limit 4\)/, /already has 32 connections \(limit 32\)/]) {
    while (!line.test(agent.log())) await once(stderr, 'data');
  }
});
