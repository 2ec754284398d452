/**
 * Manifest streaming between two agents on loopback: a 1,000,000-entry
 * generated manifest (the scan is measured by the scan benchmark) from an
 * agent process to a client process over wss. Reports entries/s and the peak
 * RSS of each process. Targets: >= 500,000 entries/s (issue #21; #3 asked
 * 300,000), < 250 MiB each (issue #3); each printed with "met" or "missed".
 * The "source alone" row is how fast the generator runs with nothing else,
 * the ceiling for the stream.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createIdentity } from '../src/identity/identity.js';
import type { AgentProcessStats } from '../test/programs/agent-process.js';
import { generateEntries } from '../test/harness/manifests.js';
import { LAUNCHER_NODE_ARGS } from './launcher-args.js';

const ENTRIES = Number(process.env.SYNKER_BENCH_ENTRIES ?? 1_000_000);
const MiB = 1024 * 1024;
const RATE_TARGET = 500_000;
/** Extra node flags for both processes, e.g. SYNKER_BENCH_NODE_ARGS='--cpu-prof' to profile them. */
const execArgv = [...LAUNCHER_NODE_ARGS, ...(process.env.SYNKER_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];

interface ClientResult {
  count: number;
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
  totalsCount: number;
}

async function streamOnce(): Promise<{ client: ClientResult; server: AgentProcessStats }> {
  const [server, client] = await Promise.all([createIdentity('bench-server'), createIdentity('bench-client')]);
  const agent = fork(fileURLToPath(new URL('../test/programs/agent-process.js', import.meta.url)), {
    env: {
      ...process.env,
      SYNKER_LOG: 'error',
      SYNKER_TEST_AGENT: JSON.stringify({ identity: server, trusted: [client.deviceId], entries: ENTRIES }),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv,
  });
  try {
    const [{ port }] = (await once(agent, 'message')) as [{ port: number }];
    const consumer = fork(fileURLToPath(new URL('./manifest-stream-client.js', import.meta.url)), {
      env: {
        ...process.env,
        SYNKER_LOG: 'error',
        SYNKER_BENCH_CLIENT: JSON.stringify({ port, identity: client, expectDeviceId: server.deviceId }),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv,
    });
    const [result] = (await once(consumer, 'message')) as [ClientResult];
    agent.send('stats');
    const [stats] = (await once(agent, 'message')) as [AgentProcessStats];
    if (result.count !== ENTRIES || result.totalsCount !== ENTRIES)
      throw new Error(`streamed ${result.count} entries, expected ${ENTRIES}`);
    return { client: result, server: stats };
  } finally {
    agent.send('stop');
    await once(agent, 'exit');
  }
}

export async function run(): Promise<void> {
  const started = performance.now();
  let generated = 0;
  for (const _ of generateEntries(ENTRIES)) generated++;
  const sourceAlone = generated / ((performance.now() - started) / 1000);

  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await streamOnce());
  runs.sort((a, b) => a.client.seconds - b.client.seconds);
  const median = runs[1]!;
  const rate = ENTRIES / median.client.seconds;
  /** ok undefined: a figure without a target. */
  const row = (name: string, value: string, target: string, ok?: boolean) =>
    process.stdout.write(
      `${name.padEnd(34)} ${value.padStart(14)}   ${target.padEnd(16)} ${ok === undefined ? '' : ok ? 'met' : 'missed'}\n`,
    );
  process.stdout.write(`${ENTRIES.toLocaleString('en')} entries, agent -> client over wss on 127.0.0.1, median of 3 runs\n`);
  row('entries/s (stream)', Math.round(rate).toLocaleString('en'), `>= ${RATE_TARGET.toLocaleString('en')}`, rate >= RATE_TARGET);
  row('seconds', median.client.seconds.toFixed(2), '');
  row(
    'peak RSS, agent (server)',
    `${(Math.max(...runs.map((r) => r.server.peakRss)) / MiB).toFixed(0)} MiB`,
    '< 250 MiB',
    runs.every((r) => r.server.peakRss < 250 * MiB),
  );
  row(
    'peak RSS, client',
    `${(Math.max(...runs.map((r) => r.client.peakRss)) / MiB).toFixed(0)} MiB`,
    '< 250 MiB',
    runs.every((r) => r.client.peakRss < 250 * MiB),
  );
  const perEntry = (seconds: number) => `${((seconds / ENTRIES) * 1e6).toFixed(2)} µs`;
  row('CPU per entry, agent (server)', perEntry(median.server.cpuSeconds), 'incl. generating');
  row('CPU per entry, client', perEntry(median.client.cpuSeconds), '');
  // What the slower side could carry with a core to itself: the rate on a quiet machine.
  const busiest = Math.max(median.server.cpuSeconds, median.client.cpuSeconds);
  row('entries/s per CPU-second, slower side', Math.round(ENTRIES / busiest).toLocaleString('en'), 'quiet-machine bound');
  row('entries/s (source alone)', Math.round(sourceAlone).toLocaleString('en'), 'ceiling');
  const load = os.loadavg()[0]!;
  process.stdout.write(
    `all runs (s): ${runs.map((r) => r.client.seconds.toFixed(2)).join(', ')}; load average during the run: ${load.toFixed(1)} on ${os.availableParallelism()} cores${load > os.availableParallelism() ? ' (a busy machine: entries/s is pessimistic; the CPU per entry is the steadier figure)' : ''}\n`,
  );
}
