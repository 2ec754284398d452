/**
 * The README's quick start on one machine with no network at all: a
 * network namespace this test creates (named uniquely by test/harness/netns.ts,
 * label "twohomes") with only `lo` up. Two homes, plain `synker agent` in each
 * — no --port, no --interface, no --listen — as a user would start them:
 * each says it announces nowhere and why; the second steps off the default
 * port the first holds; `synker check` (handed to the backup's agent, and
 * in the CLI) finds the source through the runtime folder; `peers` lists
 * both at once; with the source stopped, "no interface to search on" is
 * said at once and its hint does not mention --interface, which nobody
 * gave. Skipped when not root.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { configureCliPair } from '../harness/cli-pair.js';
import { netLab, netnsUnavailableReason, stopProcess, waitFor, type Netns } from '../harness/netns.js';
import { SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const skip = netnsUnavailableReason();

function startPlainAgent(ns: Netns, env: NodeJS.ProcessEnv): { child: ChildProcess; log: () => string } {
  const child = ns.spawn(process.execPath, [SYNKER_BIN, 'agent', '--no-schedule'], { env });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  return { child, log: () => log };
}

test('two homes on a machine with only loopback: plain agents find each other and every command says why at once', { skip }, async (t) => {
  const lab = await netLab(t);
  const machine = await lab.namespace('twohomes');
  const dir = await tempDir(t, 'synker-two-homes-netns-');
  const pair = await configureCliPair(dir, { 'a.txt': 'alpha', 'sub/b.txt': 'beta' });
  const run = path.join(dir, 'run');
  const sourceEnv = { ...pair.sourceEnv, XDG_RUNTIME_DIR: run };
  const backupEnv = { ...pair.backupEnv, XDG_RUNTIME_DIR: run };

  const source = startPlainAgent(machine, sourceEnv);
  await waitFor('the source agent to start', () => (/on port \d+/.test(source.log()) ? true : undefined), 60_000);
  assert.match(source.log(), /on port 7780/);
  assert.match(
    source.log(),
    /mDNS announces nothing: no network interface is up with an IPv4 address and multicast \(loopback is searched only with --interface lo\); peers need this agent's address \(--peer ADDRESS:7780\); this user's other homes on this machine find it all the same/,
  );
  const backup = startPlainAgent(machine, backupEnv);
  await waitFor('the backup agent to start', () => (/on port \d+/.test(backup.log()) ? true : undefined), 60_000);
  assert.match(
    backup.log(),
    /port 7780 \(the config's\) is held by the agent of another home on this machine \(process \d+, data .*laptop/,
  );

  const cli = (args: string[], env = backupEnv) => machine.run(process.execPath, [SYNKER_BIN, ...args], { env, timeoutMs: 60_000 });
  for (const extra of [[], ['--no-agent']]) {
    const check = await cli(['--debug', 'check', 'photos', '--timeout', '30s', ...extra]);
    assert.equal(check.code, 0, `${check.stdout}\n${check.stderr}`);
    assert.match(check.stdout, /source +laptop \(\w+\) 127\.0\.0\.1:7780/);
    assert.match(check.stderr, extra.length === 0 ? /the agent ran the check/ : /^(?![\s\S]*the agent ran the check)/);
  }

  const started = Date.now();
  const peers = await cli(['peers', '--timeout', '30s']);
  assert.equal(peers.code, 0, peers.stderr);
  assert.match(peers.stdout, /2 agents on this machine/);
  assert.match(peers.stderr, /mDNS searched nowhere: no network interface is up/);
  assert.ok(Date.now() - started < 15_000, `peers waited ${Date.now() - started} ms for nothing`);

  await stopProcess(source.child);
  for (const extra of [[], ['--no-agent']]) {
    const at = Date.now();
    const check = await cli(['check', 'photos', '--timeout', '30s', ...extra]);
    assert.equal(check.code, 2, check.stderr);
    assert.match(
      check.stderr,
      /was not found on the network: no network interface to search on \(none is up with an IPv4 address and multicast, besides loopback\)/,
    );
    assert.match(check.stderr, /hint: Connect this machine to a network, or give the source's address: --peer host:port\./);
    assert.doesNotMatch(check.stderr, /--interface/);
    assert.ok(Date.now() - at < 15_000, `the check waited ${Date.now() - at} ms for nothing`);
  }
  const none = await cli(['peers', '--timeout', '30s'], { ...backupEnv, XDG_RUNTIME_DIR: path.join(dir, 'elsewhere') });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no agent found: no network interface to search on\n/);
  assert.doesNotMatch(none.stderr, /--interface/);
});
