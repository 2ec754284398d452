/**
 * Liveness and memory with the server in its own process: a server frozen
 * with SIGSTOP mid-stream is detected within the documented deadline, and a
 * slow client makes the server wait instead of buffering.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connectToPeer, DEFAULT_TIMEOUTS } from '../../src/peer/index.js';
import { startChildAgent } from '../harness/child-agent.js';
import { identities } from '../harness/peers.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;

test('a server frozen mid-stream fails the client within the documented deadline', async (t) => {
  const { server, client } = await identities();
  const agent = await startChildAgent(t, { identity: server, trusted: [client.deviceId], entries: 20_000_000 });
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId });
  t.after(() => session.close());
  let count = 0;
  let frozenAt = 0;
  let lastEntryAt = 0;
  let failure: unknown;
  try {
    for await (const _ of session.requestManifest('photos')) {
      lastEntryAt = Date.now();
      if (++count === 50_000) {
        agent.child.kill('SIGSTOP');
        frozenAt = Date.now();
      }
    }
  } catch (err) {
    failure = err;
  }
  // The deadline runs from the last data received: what was already in the socket buffers still arrives.
  const elapsed = Date.now() - lastEntryAt;
  assert.ok(frozenAt > 0, 'the stream started');
  t.diagnostic(`failed ${Date.now() - frozenAt} ms after SIGSTOP, ${elapsed} ms after the last entry`);
  assert.equal((failure as { code?: string }).code, 'E_PEER_UNRESPONSIVE', String(failure));
  assert.match((failure as Error).message, /sent nothing for .*before the manifest of "photos" was complete/);
  // docs/protocol.md: idleTimeout plus one check period (idleTimeout / 10).
  const documented = DEFAULT_TIMEOUTS.idleTimeout * 1.1;
  assert.ok(
    elapsed <= documented + 5000 /* timer and scheduling slack on a loaded CI machine */,
    `detected after ${elapsed} ms, documented ${documented} ms`,
  );
  assert.ok(elapsed >= DEFAULT_TIMEOUTS.idleTimeout - 1000, `detected after ${elapsed} ms: too early to be the idle deadline`);
  agent.child.kill('SIGCONT');
});

test("backpressure: a client that sleeps per batch keeps the server's memory bounded", async (t) => {
  const { server, client } = await identities();
  // 300,000 entries with 300-byte names: ~110 MB on the wire, far more than the bound asserted below.
  const agent = await startChildAgent(
    t,
    { identity: server, trusted: [client.deviceId], entries: 300_000, padding: 300, sampleHeap: true },
    ['--expose-gc'],
  );
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId });
  t.after(() => session.close());
  // What the client holds, not the garbage it has yet to collect (how much of that waits depends on the machine's load).
  const live = (): number => {
    collectGarbage();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const clientBaseline = live();
  let clientPeak = 0;
  let count = 0;
  let bytes = 0;
  for await (const entry of session.requestManifest('photos')) {
    count++;
    bytes += entry.path.length;
    if (count % 250 === 0) {
      if (count % 5000 === 0) clientPeak = Math.max(clientPeak, live());
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  assert.equal(count, 300_000);
  assert.ok(bytes > 80 * MiB, `the stream carried ${Math.round(bytes / MiB)} MiB of names`);
  const stats = await agent.stats();
  const serverGrowth = stats.peakBytes - stats.baselineBytes;
  assert.ok(serverGrowth < 48 * MiB, `server heap + buffers grew by ${Math.round(serverGrowth / MiB)} MiB`);
  assert.ok(clientPeak - clientBaseline < 48 * MiB, `client heap + buffers grew by ${Math.round((clientPeak - clientBaseline) / MiB)} MiB`);
  t.diagnostic(
    `server grew ${(serverGrowth / MiB).toFixed(1)} MiB, client ${((clientPeak - clientBaseline) / MiB).toFixed(1)} MiB, server peak RSS ${(stats.peakRss / MiB).toFixed(0)} MiB`,
  );
});
