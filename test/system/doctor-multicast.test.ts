import path from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { netLab, netnsUnavailableReason, stopProcess, waitFor } from '../harness/netns.js';
import { SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const RESPONDER = fileURLToPath(new URL('../programs/mdns-responder.js', import.meta.url));
const skip = netnsUnavailableReason() ?? false;

interface JsonFinding {
  check: string;
  status: string;
  message: string;
  fix?: string;
}

async function doctorMulticast(
  ns: {
    run: (cmd: string, args: string[], o: { env: NodeJS.ProcessEnv }) => Promise<{ code: number | null; stdout: string; stderr: string }>;
  },
  home: string,
): Promise<JsonFinding[]> {
  const result = await ns.run(process.execPath, [SYNKER_BIN, 'doctor', '--json', '--listen', '1500ms'], {
    env: { ...process.env, SYNKER_HOME: home, XDG_RUNTIME_DIR: path.join(home, 'run') },
  });
  assert.ok(result.code === 0 || result.code === 1, `doctor exited ${result.code}: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { findings: JsonFinding[] }).findings.filter((f) => f.check === 'multicast');
}

test("doctor hears another host's mDNS traffic across a link, and says so when only its own comes back", { skip }, async (t) => {
  const home = await tempDir(t);
  const lab = await netLab(t);
  const here = await lab.namespace('doctor');
  const there = await lab.namespace('printer');
  const link = await lab.link(here, there, { a: '10.77.0.1/24', b: '10.77.0.2/24' });

  const responder = there.spawn(process.execPath, [RESPONDER, '10.77.0.2']);
  let ready = '';
  responder.stdout!.on('data', (d: Buffer) => (ready += d.toString()));
  await waitFor('the responder', () => (ready.includes('ready') ? true : undefined), 10_000);

  const heard = await doctorMulticast(here, home);
  assert.equal(heard.length, 1, JSON.stringify(heard));
  assert.equal(heard[0]!.status, 'ok', heard[0]!.message);
  assert.match(heard[0]!.message, new RegExp(`^${link.a} \\(10\\.77\\.0\\.1\\): hears other hosts' mDNS traffic \\(10\\.77\\.0\\.2\\)`));

  // The other host goes quiet: only our own looped-back query comes back, which proves nothing.
  await stopProcess(responder);
  const alone = await doctorMulticast(here, home);
  assert.equal(alone[0]!.status, 'warn');
  assert.match(alone[0]!.message, /heard only our own packets in 1\.5 s, nothing from any other host/);
  assert.match(alone[0]!.fix!, /client isolation|UDP 5353/);
});

test('doctor on a machine with only loopback says multicast cannot reach anyone', { skip }, async (t) => {
  const home = await tempDir(t);
  const lab = await netLab(t);
  const lonely = await lab.namespace('lonely');
  const findings = await doctorMulticast(lonely, home);
  assert.equal(findings[0]!.status, 'fail');
  assert.match(findings[0]!.message, /only loopback/);
  assert.match(findings[0]!.fix!, /--peer host:port/);
});
