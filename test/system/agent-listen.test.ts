/** `synker agent --listen ADDRESS`: one local address only, and clear errors for the wrong ones and for a port in use. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { collect } from '../harness/netns.js';
import { isolatedEnv, runSynker, SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

test('synker agent --listen 127.0.0.1 listens there only and stops cleanly', async (t) => {
  const env = isolatedEnv(await tempDir(t));
  const child = spawn(process.execPath, [SYNKER_BIN, 'agent', '--listen', '127.0.0.1', '--port', '0', '--no-discovery', '--no-schedule'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  let stopped = false;
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!stopped && /on port \d+/.test(stderr)) {
      // Right after the ready line: the agent must already be listening for it.
      stopped = true;
      child.kill('SIGTERM');
    }
  });
  const result = await collect(child, 30_000);
  assert.equal(result.code, 0, stderr);
  assert.match(stderr, /listening on 127\.0\.0\.1:\d+ \(wss, TLS 1\.3\)/);
  assert.match(stderr, /SIGTERM: stopping[\s\S]*stopped/);
});

test('synker agent --listen refuses a name and an address this machine does not have, with a hint', async (t) => {
  const env = isolatedEnv(await tempDir(t));
  const name = await runSynker(['agent', '--listen', 'localhost', '--port', '0', '--no-discovery', '--no-schedule'], { env });
  assert.equal(name.code, 2);
  assert.match(name.stderr, /error: --listen must be an IP address of this machine, got "localhost"\nhint: /);
  // TEST-NET-3 (RFC 5737): never assigned to a machine; binding it fails with EADDRNOTAVAIL, nothing is sent.
  const foreign = await runSynker(['agent', '--listen', '203.0.113.7', '--port', '0', '--no-discovery', '--no-schedule'], { env });
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /error: --listen 203\.0\.113\.7: no interface of this machine has that address\nhint: /);
});

test('synker agent on a port another program holds says so, with a hint, instead of an internal error', async (t) => {
  const env = isolatedEnv(await tempDir(t));
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as AddressInfo).port;
  const result = await runSynker(['agent', '--listen', '127.0.0.1', '--port', String(port), '--no-discovery', '--no-schedule'], { env });
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`error: cannot listen: address already in use 127\\.0\\.0\\.1:${port}\nhint: Another program`));
  assert.doesNotMatch(result.stderr, /internal error/);
});
