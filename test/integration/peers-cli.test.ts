/**
 * `synker peers --no-discovery`: static peers only, over loopback (no mDNS is
 * sent, so no namespace is needed), and the devices that tried to connect to
 * this machine's agent, however they found it.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { shortDeviceId } from '../../src/identity/device-id.js';
import { createIdentity } from '../../src/identity/identity.js';
import { AgentState } from '../../src/state/agent-state.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

test('synker peers --no-discovery asks only the static peers, and says in one line why a port is not an agent', async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  // A web server, not a synker agent: it answers the TLS hello with plain text.
  const http = net.createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => http.close());
  const port = (http.address() as net.AddressInfo).port;
  const result = await runSynker(['peers', '--no-discovery', '--peer', `127.0.0.1:${port}`, '--timeout', '2s'], { env });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stdout,
    new RegExp(
      `127\\.0\\.0\\.1:${port}\\s+-\\s+reachable\\s+the port answers, but it is not a synker agent \\(it does not speak TLS\\)\\n`,
    ),
  );
  assert.doesNotMatch(result.stdout, /SSL routines|\.c:\d+/);
  assert.match(result.stderr, new RegExp(`no agent answered at the static peers \\(127\\.0\\.0\\.1:${port}\\); discovery is off`));
  assert.doesNotMatch(result.stderr, /listening/);
  assert.doesNotMatch(result.stderr, /multicast|mDNS/, 'discovery is off: no multicast cause in the hint');
  assert.match(result.stderr, /firewall drops the agent's TCP port/);

  // No static peer at all: the hint says to give one (or to search), nothing about multicast.
  const none = await runSynker(['peers', '--no-discovery', '--timeout', '500ms'], { env });
  assert.equal(none.code, 1, none.stderr);
  assert.match(none.stderr, /there are none \(discovery is off; give --peer HOST:PORT\)/);
  assert.match(none.stderr, /hint: Give the address of the other machine's agent: synker peers --no-discovery --peer HOST:PORT/);
  assert.doesNotMatch(none.stderr, /multicast|mDNS|Likely causes/);
});

test("synker peers lists the untrusted devices that tried to connect to this machine's agent, also without mDNS", async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  const stranger = await createIdentity('stranger');
  const state = await AgentState.open(path.join(home, 'synker', 'data'));
  await state.recordPairingAttempt({ deviceId: stranger.deviceId, name: 'old-laptop', address: '192.168.1.33:50211' });
  await state.close();
  const human = await runSynker(['peers', '--no-discovery', '--timeout', '1s'], { env });
  assert.equal(human.code, 1, human.stderr);
  assert.match(human.stdout, /Untrusted devices that tried to connect to this machine's agent:\n/);
  assert.match(human.stdout, new RegExp(`old-laptop\\s+${shortDeviceId(stranger.deviceId)}\\s+192\\.168\\.1\\.33:50211\\s+last `));
  assert.match(human.stdout, /synker trust DEVICE-ID --name NAME/);
  const json = await runSynker(['peers', '--no-discovery', '--timeout', '1s', '--json'], { env });
  const parsed = JSON.parse(json.stdout) as { pairingAttempts: Array<{ deviceId: string; name: string }> };
  assert.deepEqual(
    parsed.pairingAttempts.map((a) => [a.deviceId, a.name]),
    [[stranger.deviceId, 'old-laptop']],
  );
  // Once trusted, it is no longer listed as waiting.
  assert.equal((await runSynker(['trust', stranger.deviceId, '--name', 'old'], { env })).code, 0);
  const after = await runSynker(['peers', '--no-discovery', '--timeout', '1s', '--json'], { env });
  assert.deepEqual((JSON.parse(after.stdout) as { pairingAttempts: unknown[] }).pairingAttempts, []);
});
