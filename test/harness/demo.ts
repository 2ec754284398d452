/**
 * Running `synker demo` through the real CLI inside a test namespace, and
 * looking at what it left behind.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Netns } from './netns.js';
import { SYNKER_BIN } from './synker-cli.js';

/** Generous: the demo takes seconds alone, much longer on a loaded 2-core machine. */
export const DEMO_TIMEOUT_MS = 240_000;

export function demoEnv(work: string): NodeJS.ProcessEnv {
  // Its own SYNKER_HOME is never used (each demo side has its own), but make sure nothing could touch the user's.
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: work, SYNKER_HOME: path.join(work, 'unused-home'), NO_COLOR: '1' };
  delete env.SYNKER_LOG;
  return env;
}

export function runDemoIn(ns: Netns, work: string, dir = path.join(work, 'demo')) {
  return ns.run(process.execPath, [SYNKER_BIN, 'demo', '--dir', dir], { env: demoEnv(work), cwd: work, timeoutMs: DEMO_TIMEOUT_MS });
}

export function spawnDemoIn(ns: Netns, work: string): ChildProcess {
  return ns.spawn(process.execPath, [SYNKER_BIN, 'demo', '--dir', path.join(work, 'demo')], { env: demoEnv(work), cwd: work });
}

/** Processes still running in the namespace (the demo's children would show here). */
export function processesIn(ns: Netns): string[] {
  const pids = spawnSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
  return pids.map((pid) => {
    try {
      return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`;
    } catch {
      return `${pid}: (exited)`;
    }
  });
}

/**
 * Drops every mDNS packet sent inside the namespace (nftables), so multicast
 * "does not work" there: what a machine with a strict firewall looks like.
 */
export function blockMdns(ns: Netns): void {
  const rules =
    'table inet synker_test_no_mdns {\n  chain out {\n    type filter hook output priority 0;\n    udp dport 5353 drop\n  }\n}\n';
  const r = spawnSync('ip', ['netns', 'exec', ns.name, 'nft', '-f', '-'], { input: rules, encoding: 'utf8' });
  if (r.error || r.status !== 0)
    throw new Error(`nft could not block mDNS in ${ns.name} (apt-get install nftables; .ci/run does): ${r.error?.message ?? r.stderr}`);
}
