import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { freePort, REFUSED_PORT } from '../harness/ports.js';
import { TestSmtpServer } from '../harness/smtp.js';
import { isolatedEnv, runSynker, SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

interface JsonFinding {
  check: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  message: string;
  fix?: string;
}
interface JsonReport {
  findings: JsonFinding[];
  problems: number;
  warnings: number;
}

/** A set-up made by `synker init`, with e-mail pointing at a local SMTP server. */
async function initialised(
  t: Parameters<typeof tempDir>[0],
  smtpPort: number,
  agentPort: number,
): Promise<{ home: string; env: NodeJS.ProcessEnv }> {
  const home = await tempDir(t);
  const folder = path.join(home, 'Pictures');
  await mkdir(folder);
  const env = isolatedEnv(home, { DOCTOR_SMTP_PASSWORD: 's3cret' });
  const init = await runSynker(
    ['init', '--yes', '--role', 'source', '--folder', `pictures=${folder}`, '--port', String(agentPort), '--name', 'anna'],
    { env },
  );
  assert.equal(init.code, 0, init.stderr);
  // A local relay: plain SMTP on 127.0.0.1 with a login (the config as a user would edit it).
  const configFile = path.join(home, 'synker/config/config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  config.smtp = {
    host: '127.0.0.1',
    port: smtpPort,
    starttls: 'never',
    user: 'anna',
    passwordEnv: 'DOCTOR_SMTP_PASSWORD',
    from: 'nas@example.test',
    to: ['anna@example.test'],
    clientName: 'nas.test',
    timeout: '5s',
  };
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  return { home, env };
}

function parse(stdout: string): JsonReport {
  return JSON.parse(stdout) as JsonReport;
}

function finding(report: JsonReport, check: string): JsonFinding {
  const found = report.findings.find((f) => f.check === check);
  assert.ok(found, `no ${check} finding in ${JSON.stringify(report.findings)}`);
  return found;
}

test('doctor on a healthy set-up: config, folder, identity, port and the SMTP login all pass', async (t) => {
  const smtp = await new TestSmtpServer().start({ users: { anna: 's3cret' } });
  t.after(() => smtp.stop());
  // doctor's port finding is about a port nothing holds: a released one is what it must call free.
  const { env } = await initialised(t, smtp.port, await freePort());
  const result = await runSynker(['doctor', '--no-multicast', '--json'], { env });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const report = parse(result.stdout);
  assert.equal(report.problems, 0, result.stdout);
  for (const check of ['config', 'folder', 'identity', 'port', 'smtp']) assert.equal(finding(report, check).status, 'ok', check);
  assert.match(finding(report, 'smtp').message, /login as anna accepted/);
  // Not trusting anyone yet is worth a warning with the next step, not a failure.
  assert.equal(finding(report, 'trust').status, 'warn');

  const text = await runSynker(['doctor', '--no-multicast'], { env });
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^ok {4}identity/m);
  assert.match(text.stdout, /0 problems, 1 warning\.\n$/);
});

test('doctor on a broken set-up reports each problem with a fix: SMTP down, port taken, identity unreadable, folder unmounted', {
  skip: setprivMissing(),
}, async (t) => {
  const blocker = net.createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => blocker.listen(0, resolve));
  t.after(() => blocker.close());
  const agentPort = (blocker.address() as net.AddressInfo).port;
  const closedSmtpPort = REFUSED_PORT;
  const { home, env } = await initialised(t, closedSmtpPort, agentPort);
  await chmod(path.join(home, 'synker/config/key.pem'), 0o000);
  // The folder's disk "is not mounted": the marker is gone.
  await rm(path.join(home, 'Pictures/.synker'), { recursive: true });

  // As root every file is readable: drop the capabilities that allow it (NOTES: setpriv recipe).
  const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      'setpriv',
      [
        '--bounding-set',
        '-dac_override,-dac_read_search',
        '--inh-caps',
        '-dac_override,-dac_read_search',
        '--',
        process.execPath,
        SYNKER_BIN,
        'doctor',
        '--no-multicast',
        '--json',
      ],
      { env },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const report = parse(result.stdout);

  const smtp = finding(report, 'smtp');
  assert.equal(smtp.status, 'fail');
  assert.match(smtp.message, new RegExp(`127\\.0\\.0\\.1:${closedSmtpPort} refused the connection`));
  assert.match(smtp.fix!, /smtp\.host and smtp\.port/);

  const port = finding(report, 'port');
  assert.equal(port.status, 'fail');
  assert.match(port.message, new RegExp(`TCP port ${agentPort} is in use by another program`));
  assert.match(port.fix!, /ss -ltnp/);

  const identity = report.findings.find((f) => f.check === 'identity' && f.status === 'fail');
  assert.match(identity!.message, /cannot read .*key\.pem: permission denied/);
  assert.match(identity!.fix!, /chmod 600/);

  const folder = report.findings.find((f) => f.check === 'folder' && f.status === 'fail');
  assert.match(folder!.message, /"pictures": .*Pictures has no \.synker\/folder\.json marker \(a disk that is not mounted\?\)/);

  assert.equal(report.problems, 4, JSON.stringify(report.findings, null, 1));
  for (const f of report.findings.filter((x) => x.status === 'fail'))
    assert.ok(f.fix && !f.fix.includes('\n'), `one-line fix for ${f.message}`);
});

test('doctor --no-multicast with no static address says it did not look for a peer, not that the peer was not found', async (t) => {
  const { home, env } = await initialised(t, REFUSED_PORT, REFUSED_PORT);
  const other = 'MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD';
  assert.equal((await runSynker(['trust', other, '--name', 'nas'], { env })).code, 0);
  const result = await runSynker(['doctor', '--no-multicast', '--json'], { env });
  const peer = finding(parse(result.stdout), 'peer');
  assert.equal(peer.status, 'skip', peer.message);
  assert.match(
    peer.message,
    /^"nas" \(MFZWI3D\): not looked for beyond this machine: the search on the network is off \(--no-multicast\) and the config lists no address/,
  );
  assert.doesNotMatch(peer.message, /not found/);

  // With a static address it is looked for there, and what happened there is said.
  const configFile = path.join(home, 'synker/config/config.json');
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  config.peers = [`127.0.0.1:${REFUSED_PORT}`];
  await writeFile(configFile, JSON.stringify(config, null, 2), { mode: 0o600 });
  const withPeer = finding(parse((await runSynker(['doctor', '--no-multicast', '--json'], { env })).stdout), 'peer');
  assert.equal(withPeer.status, 'fail');
  assert.match(withPeer.message, new RegExp(`127\\.0\\.0\\.1:${REFUSED_PORT}`));
});

test('doctor reports a config file it cannot parse, naming the line', async (t) => {
  const home = await tempDir(t);
  const env = isolatedEnv(home);
  await mkdir(path.join(home, 'synker/config'), { recursive: true });
  await writeFile(path.join(home, 'synker/config/config.json'), '{\n  "name": "x",\n  "port": "seven"\n}\n');
  const result = await runSynker(['doctor', '--no-multicast', '--json'], { env });
  assert.equal(result.code, 1);
  const config = finding(parse(result.stdout), 'config');
  assert.equal(config.status, 'fail');
  assert.match(config.message, /port/);
});

function setprivMissing(): string | false {
  if (process.getuid?.() !== 0) return 'needs root, to drop the capabilities that let root read any file (setpriv)';
  return spawnSync('setpriv', ['--version']).status === 0 ? false : 'setpriv (util-linux) is not installed';
}
