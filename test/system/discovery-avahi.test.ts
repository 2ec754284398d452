/**
 * Interop with Avahi, an independent mDNS/DNS-SD implementation, between
 * namespaces this test creates: Avahi sees synker's service with its TXT
 * record, and synker peers lists an Avahi-published service as an unknown
 * agent. Skipped when not root; fails when Avahi is missing (CI installs it).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startAdvertiser } from '../harness/advertiser-process.js';
import { startAvahi } from '../harness/avahi.js';
import { netLab, netnsUnavailableReason, waitFor } from '../harness/netns.js';
import { SYNKER_BIN } from '../harness/synker-bin.js';

const skip = netnsUnavailableReason();

test('avahi-browse lists a synker agent with its TXT record; synker peers lists an avahi-published service as unknown', {
  skip,
}, async (t) => {
  const lab = await netLab(t);
  const agentNs = await lab.namespace('agent');
  const avahiNs = await lab.namespace('avahi');
  const link = await lab.link(agentNs, avahiNs, { a: '10.99.0.1/24', b: '10.99.0.2/24' });
  const avahi = await startAvahi(t, avahiNs, link.b);
  const home = await mkdtemp(path.join(os.tmpdir(), 'synker-avahi-home-'));
  t.after(() => rm(home, { recursive: true, force: true }));
  const env = { ...process.env, SYNKER_HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run') };
  const agent = await startAdvertiser(agentNs, ['--name', 'laptop', '--port', '22000']);

  // avahi-browse -r resolves, -p parsable, -t stops after the cache dump; ask until our answer is in.
  const resolved = await waitFor(
    'avahi-browse to resolve the synker service',
    async () => {
      const r = await avahiNs.run('avahi-browse', ['-rpt', '_synker._tcp'], { env: avahi.env, timeoutMs: 30_000 });
      return r.stdout.split('\n').find((l) => l.startsWith('=') && l.includes(agent.deviceId));
    },
    60_000,
    500,
  );
  // =;IFACE;IPv4;INSTANCE;_synker._tcp;local;HOST;ADDRESS;PORT;"txt" "txt"...
  const fields = resolved.split(';');
  // avahi-browse -p escapes characters as \DDD (decimal).
  assert.equal(
    fields[3]!.replace(/\\(\d{3})/g, (_, d: string) => String.fromCharCode(Number(d))),
    agent.instance,
  );
  assert.equal(fields[7], '10.99.0.1');
  assert.equal(fields[8], '22000');
  for (const txt of [`"id=${agent.deviceId}"`, '"pv=1"', '"name=laptop"', '"txtvers=1"'])
    assert.ok(fields[9]!.includes(txt), `${txt} missing in ${fields[9]}`);

  const publisher = avahiNs.spawn('avahi-publish', ['-s', 'nas-from-avahi', '_synker._tcp', '9999', 'foo=bar'], { env: avahi.env });
  let published = '';
  publisher.stdout!.on('data', (d: Buffer) => (published += d.toString()));
  publisher.stderr!.on('data', (d: Buffer) => (published += d.toString()));
  await waitFor(`avahi-publish to register (${published})`, () => (/Established under name/.test(published) ? true : undefined), 30_000);

  const listed = await waitFor(
    'synker peers to list the avahi-published service',
    async () => {
      const r = await agentNs.run(process.execPath, [SYNKER_BIN, 'peers', '--json', '--timeout', '2s'], { timeoutMs: 60_000, env });
      const json = JSON.parse(r.stdout || '{"agents":[]}') as {
        agents: Array<{
          name: string;
          deviceId: string | null;
          status: string;
          port: number;
          addresses: Array<{ address: string }>;
          problems: string[];
        }>;
      };
      return json.agents.find((a) => a.name === 'nas-from-avahi');
    },
    60_000,
    0,
  );
  assert.equal(listed.deviceId, null);
  assert.equal(listed.status, 'not a synker agent');
  assert.equal(listed.port, 9999);
  assert.ok(
    listed.addresses.some((a) => a.address === '10.99.0.2'),
    JSON.stringify(listed.addresses),
  );
  assert.ok(listed.problems.includes('no device ID (id=)'));

  const human = await agentNs.run(process.execPath, [SYNKER_BIN, 'peers', '--timeout', '2s'], { timeoutMs: 60_000, env });
  assert.match(human.stdout, /nas-from-avahi\s+-\s+not a synker agent/);
  assert.match(human.stdout, /note: "nas-from-avahi" advertises _synker._tcp but is not a synker agent: no device ID/);
});
