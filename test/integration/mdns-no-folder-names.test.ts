/**
 * "mDNS never announces folder names" (docs/discovery.md): a real `synker agent` with configured
 * folders announces itself on the loopback interface only (`--interface lo --listen 127.0.0.1`,
 * so nothing is multicast out of the machine), is asked for its service by a PTR query, and every
 * byte it multicasts meanwhile is captured by a UDP socket that joined the mDNS group on lo. The
 * capture must hold the agent's announcement (so the test sees what it should) and none of the
 * folders' IDs, paths or path components, in any letter case.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdirSync } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import * as dnsPacket from 'dns-packet';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const GROUP = '224.0.0.251';

test('a real agent with configured folders multicasts none of their names or paths', {
  skip: process.platform !== 'linux' && 'mDNS on the loopback interface (Linux)',
}, async (t) => {
  const dir = await tempDir(t);
  const pair = await configureCliPair(dir, { 'a.txt': 'alpha' });
  const secretRoot = path.join(dir, 'Medical Scans Zq7');
  mkdirSync(secretRoot);
  const added = await runSynker(['folder', 'add', 'tax-returns-xj4', secretRoot, '--role', 'source', '--share', 'nas'], {
    env: pair.sourceEnv,
  });
  assert.equal(added.code, 0, added.stderr);
  const backupRoot = path.join(dir, 'Vault Copy Bk9');
  mkdirSync(backupRoot);
  const asBackup = await runSynker(['folder', 'add', 'vault-bk9', backupRoot, '--role', 'backup', '--share', 'nas'], {
    env: pair.sourceEnv,
  });
  assert.equal(asBackup.code, 0, asBackup.stderr);

  const packets: Buffer[] = [];
  const capture = createSocket({ type: 'udp4', reuseAddr: true });
  t.after(() => capture.close());
  capture.on('message', (msg) => packets.push(Buffer.from(msg)));
  capture.bind(5353, '0.0.0.0');
  await once(capture, 'listening');
  capture.addMembership(GROUP, '127.0.0.1');
  capture.setMulticastInterface('127.0.0.1');
  capture.setMulticastLoopback(true);

  const agent = await startCliAgent(t, pair.sourceEnv, [], ['--listen', '127.0.0.1', '--interface', 'lo']);
  // A response (QR bit set) naming the service: the agent's announcement or answer, not our query.
  const announced = (): boolean => packets.some((p) => p.length > 2 && (p[2]! & 0x80) !== 0 && p.includes(Buffer.from('_synker')));
  // Only while the test runs: the agent killed when the test ends is no failure (nor an unhandled rejection).
  let testing = true;
  t.after(() => {
    testing = false;
  });
  const exited = once(agent.process, 'exit').then(() => {
    if (testing) assert.fail(`the agent exited: ${agent.log()}`);
  });
  const query = dnsPacket.encode({ type: 'query', id: 0, questions: [{ type: 'PTR', name: '_synker._tcp.local' }] });
  // Ask again on every packet until the agent's answer is among them (no fixed wait).
  capture.send(query, 5353, GROUP);
  while (!announced()) {
    await Promise.race([once(capture, 'message'), exited]);
    if (!announced()) capture.send(query, 5353, GROUP);
  }

  assert.match(agent.log(), /mDNS announces 127\.0\.0\.1 only \(--listen\), on lo/);
  const all = Buffer.concat(packets).toString('latin1').toLowerCase();
  const secrets = new Set<string>();
  for (const folder of [
    { id: 'photos', root: pair.sourceRoot },
    { id: 'tax-returns-xj4', root: secretRoot },
    { id: 'vault-bk9', root: backupRoot },
  ]) {
    secrets.add(folder.id);
    secrets.add(folder.root);
    for (const part of folder.root.split('/')) if (part.length >= 4) secrets.add(part);
  }
  for (const secret of secrets) {
    assert.ok(!all.includes(Buffer.from(secret.toLowerCase(), 'utf8').toString('latin1')), `"${secret}" was multicast`);
  }
});
