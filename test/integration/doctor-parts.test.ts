import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { loadOrCreateIdentity } from '../../src/identity/identity.js';
import { checkIdentity } from '../../src/doctor/identity-check.js';
import { checkAgentPort } from '../../src/doctor/port-check.js';
import { tempDir } from '../harness/tmp.js';

test('doctor identity: healthy, then too open, then half missing, then a key of another certificate', async (t) => {
  const dir = await tempDir(t);
  let findings = await checkIdentity(dir);
  assert.equal(findings[0]?.status, 'fail');
  assert.match(findings[0]!.fix!, /synker init/);

  const { identity } = await loadOrCreateIdentity(dir, 'laptop');
  findings = await checkIdentity(dir);
  assert.deepEqual(
    findings.map((f) => f.status),
    ['ok'],
  );

  await chmod(path.join(dir, 'key.pem'), 0o644);
  findings = await checkIdentity(dir);
  const open = findings.find((f) => f.status === 'fail');
  assert.match(open!.message, /key\.pem \(the private key\) can be read by other users: mode 644/);
  assert.equal(open!.fix, `Run: chmod 600 '${path.join(dir, 'key.pem')}'`);
  await chmod(path.join(dir, 'key.pem'), 0o600);

  const other = await tempDir(t);
  await loadOrCreateIdentity(other, 'other');
  await writeFile(path.join(dir, 'cert.pem'), await readFile(path.join(other, 'cert.pem')));
  findings = await checkIdentity(dir);
  assert.match(findings.find((f) => f.status === 'fail')!.message, /does not belong to/);
  assert.ok(identity.deviceId);
});

test('doctor identity: an unreadable key is reported with the command that fixes it', { skip: setprivMissing() }, async (t) => {
  const dir = await tempDir(t);
  await loadOrCreateIdentity(dir, 'laptop');
  await chmod(path.join(dir, 'key.pem'), 0o000);
  // Root reads everything: drop the capabilities that let it, keeping uid 0 (NOTES: setpriv recipe).
  const script = `import('${path.resolve('dist/src/doctor/identity-check.js')}').then(async (m) => console.log(JSON.stringify(await m.checkIdentity(${JSON.stringify(dir)}))))`;
  const run = spawnSync(
    'setpriv',
    [
      '--bounding-set',
      '-dac_override,-dac_read_search',
      '--inh-caps',
      '-dac_override,-dac_read_search',
      '--',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  const findings = JSON.parse(run.stdout) as Array<{ status: string; message: string; fix?: string }>;
  const problem = findings.find((f) => f.status === 'fail');
  assert.match(problem!.message, /cannot read .*key\.pem: permission denied/);
  assert.match(problem!.fix!, /chmod 600/);
});

test('doctor port: free, then taken by another program', async (t) => {
  // Another program: accepts connections and says nothing (reading, so it notices when we hang up).
  const blocker = net.createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => blocker.listen(0, resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  t.after(() => (blocker.listening ? blocker.close() : undefined));
  const taken = await checkAgentPort({ port });
  assert.equal(taken.status, 'fail');
  assert.match(taken.message, new RegExp(`TCP port ${port} is in use by another program`));
  assert.match(taken.fix!, /ss -ltnp/);
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  const free = await checkAgentPort({ port });
  assert.equal(free.status, 'ok');
  assert.match(free.message, /is free/);
  // Free, while this machine's agent answers on its control socket: it runs on another port.
  const elsewhere = await checkAgentPort({ port, agentRunning: true });
  assert.equal(elsewhere.status, 'warn');
  assert.match(elsewhere.message, new RegExp(`this machine's agent runs, but not on TCP port ${port}, the config's "port"`));
  assert.match(elsewhere.fix!, /without --port/);
});

test('doctor multicast on the loopback interface says what loopback can and cannot do, and sends nothing', async () => {
  const { checkMulticast } = await import('../../src/doctor/multicast-check.js');
  const loopback = Object.entries((await import('node:os')).default.networkInterfaces()).find(([, addrs]) =>
    (addrs ?? []).some((a) => a.internal),
  )?.[0];
  assert.ok(loopback, 'this machine has a loopback interface');
  const findings = await checkMulticast(100, [loopback]);
  assert.deepEqual(
    findings.map((f) => f.status),
    ['skip'],
  );
  assert.match(
    findings[0]!.message,
    new RegExp(
      `${loopback} is the loopback interface: agents on this machine can find each other there, but no other host can be heard on it`,
    ),
  );
});

function setprivMissing(): string | false {
  if (process.getuid?.() !== 0) return 'runs as root with capabilities dropped (setpriv); not root here';
  return spawnSync('setpriv', ['--version']).status === 0 ? false : 'setpriv (util-linux) is not installed';
}

test("doctor's and peers' probes of a running agent close politely: the agent logs no failed TLS handshake", async (t) => {
  const { identities, startTestAgent } = await import('../harness/peers.js');
  const { probeStaticPeer } = await import('../../src/discovery/survey.js');
  const { connectToPeer } = await import('../../src/peer/index.js');
  const { waitFor } = await import('../harness/netns.js');
  const { server, client } = await identities();
  const agent = await startTestAgent(server, { trust: [client.deviceId] });
  t.after(() => agent.server.close());

  const port = await checkAgentPort({ port: agent.port, deviceId: server.deviceId });
  assert.equal(port.status, 'ok', port.message);
  const probed = await probeStaticPeer({ text: `127.0.0.1:${agent.port}`, host: '127.0.0.1', port: agent.port }, 5000);
  assert.equal(probed.deviceId, server.deviceId, probed.error);

  // The agent has let go of both probes' sockets, and has served a real session after them.
  await waitFor('the agent to close the probes', () => (agent.server.connections === 0 ? true : undefined), 10_000, 5);
  const session = await connectToPeer({ host: '127.0.0.1', port: agent.port, identity: client, expectDeviceId: server.deviceId });
  await session.close();
  await waitFor('the agent to close the session', () => (agent.server.connections === 0 ? true : undefined), 10_000, 5);
  assert.deepEqual(
    agent.log.lines.filter((l) => l.startsWith('warn') || l.startsWith('error')),
    [],
  );
});
