/**
 * CLI start-up: the time from starting `node bin/synker.js ...` to the first
 * byte on stdout, median of SYNKER_BENCH_STARTUP_RUNS (default 15) runs taken
 * in turn, in a home of its own with no agent. Target (issue #21): <= 150 ms
 * for `synker --version` and `synker status`. The help rows and a bare
 * `node -e` (Node's own floor on this machine) are figures without a target.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SYNKER = fileURLToPath(new URL('../../bin/synker.js', import.meta.url));
const RUNS = Number(process.env.SYNKER_BENCH_STARTUP_RUNS ?? 15);
const TARGET_MS = 150;

/** Milliseconds from spawn to the first stdout byte. */
function firstByte(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let at: number | undefined;
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.once('data', () => (at ??= performance.now() - started));
    child.stdout.resume();
    child.once('error', reject);
    child.once('close', () => (at === undefined ? reject(new Error(`${args.join(' ')} printed nothing`)) : resolve(at)));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function run(): Promise<void> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'synker-startup-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    SYNKER_HOME: path.join(home, 'synker'),
    XDG_RUNTIME_DIR: path.join(home, 'run'),
  };
  const cases: Array<{ name: string; args: string[]; target: boolean }> = [
    { name: 'node -e (floor)', args: ['-e', 'process.stdout.write("x")'], target: false },
    { name: 'synker --version', args: [SYNKER, '--version'], target: true },
    { name: 'synker status (no agent)', args: [SYNKER, 'status'], target: true },
    { name: 'synker check --help', args: [SYNKER, 'check', '--help'], target: false },
    { name: 'synker --help', args: [SYNKER, '--help'], target: false },
  ];
  const samples = cases.map(() => [] as number[]);
  try {
    // In turn, so a burst of load on the machine weighs on every case alike.
    for (let i = 0; i < RUNS; i++) for (const [k, c] of cases.entries()) samples[k]!.push(await firstByte(c.args, env));
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
  process.stdout.write(`time to first byte on stdout, median of ${RUNS} runs in turn\n`);
  for (const [k, c] of cases.entries()) {
    const ms = median(samples[k]!);
    const verdict = c.target ? `<= ${TARGET_MS} ms   ${ms <= TARGET_MS ? 'met' : 'missed'}` : '';
    process.stdout.write(`  ${c.name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms   ${verdict}\n`);
  }
  process.stdout.write(`  load average: ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores\n`);
}
