/**
 * `synker demo` (what `npm start` runs after the build), timed whole: from
 * starting the CLI to its exit, with the time of each step as the demo
 * itself prints it. Target: under 15 s on the 2-core reference machine.
 * Runs in a network namespace with only loopback when root (mDNS can then
 * reach nothing else even in principle); otherwise on this machine, where
 * the demo keeps mDNS on the loopback interface by itself. There is no
 * other tool to compare with: the demo is synker's own first-run path.
 * Env: SYNKER_BENCH_RUNS (default 3).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { collect, NetLab, netnsUnavailableReason, removeStaleNamespaces, type RunResult } from '../test/harness/netns.js';
import { SYNKER_BIN } from '../test/harness/synker-bin.js';

const RUNS = Number(process.env.SYNKER_BENCH_RUNS ?? 3);
const TARGET_S = 15;
const RUN_TIMEOUT_MS = 300_000;

interface Timed {
  wallS: number;
  phases: Array<[string, number]>;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The demo's own "Done in X s (step Y s, ...)" line. */
function phasesOf(stdout: string): Array<[string, number]> {
  const line = /^Done in [\d.]+ s \((.*)\)\.$/m.exec(stdout);
  if (!line) throw new Error(`the demo printed no timing line:\n${stdout}`);
  return line[1]!.split(', ').map((part) => {
    const m = /^(.*) ([\d.]+) s$/.exec(part)!;
    return [m[1]!, Number(m[2])];
  });
}

async function runOnce(work: string, lab: NetLab | undefined, i: number): Promise<Timed> {
  const dir = path.join(work, `demo-${i}`);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: work, SYNKER_HOME: path.join(work, 'unused-home'), NO_COLOR: '1' };
  delete env.SYNKER_LOG;
  const args = [SYNKER_BIN, 'demo', '--dir', dir];
  let result: RunResult;
  const started = performance.now();
  if (lab) {
    const ns = await lab.namespace(`demo${i}`);
    result = await ns.run(process.execPath, args, { env, cwd: work, timeoutMs: RUN_TIMEOUT_MS });
  } else {
    result = await collect(spawn(process.execPath, args, { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] }), RUN_TIMEOUT_MS);
  }
  const wallS = (performance.now() - started) / 1000;
  if (result.code !== 0) throw new Error(`synker demo failed (exit ${result.code ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  if (/note: multicast does not work/.test(result.stdout))
    process.stdout.write(`run ${i + 1}: mDNS did not work on loopback; the demo used the loopback address\n`);
  return { wallS, phases: phasesOf(result.stdout) };
}

export async function run(): Promise<void> {
  const noNetns = netnsUnavailableReason();
  const work = await mkdtemp(path.join(os.tmpdir(), 'synker-bench-demo-'));
  let lab: NetLab | undefined;
  if (!noNetns) {
    removeStaleNamespaces();
    lab = new NetLab();
  }
  try {
    process.stdout.write(
      `load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (${os.availableParallelism()} cores, shared)\n`,
    );
    process.stdout.write(
      `where: ${lab ? 'a network namespace with only loopback (one per run)' : `this machine, mDNS on loopback only (${noNetns})`}\n`,
    );
    process.stdout.write(`command: node bin/synker.js demo --dir DIR (CLI start to exit; the demo's own step times)\n\n`);
    const runs: Timed[] = [];
    for (let i = 0; i < RUNS; i++) {
      const timed = await runOnce(work, lab, i);
      runs.push(timed);
      process.stdout.write(
        `run ${i + 1}: ${timed.wallS.toFixed(2)} s  (${timed.phases.map(([name, s]) => `${name} ${s.toFixed(1)}`).join(', ')})\n`,
      );
    }
    const names = runs[0]!.phases.map(([name]) => name);
    process.stdout.write('\n| step | median (s) |\n|---|---|\n');
    for (const name of names) {
      process.stdout.write(`| ${name} | ${median(runs.map((r) => r.phases.find(([n]) => n === name)?.[1] ?? NaN)).toFixed(1)} |\n`);
    }
    const wall = median(runs.map((r) => r.wallS));
    process.stdout.write(`| **whole demo, CLI start to exit** | **${wall.toFixed(2)}** |\n`);
    process.stdout.write(
      `\ntarget < ${TARGET_S} s: ${wall < TARGET_S ? 'met' : 'NOT met'} (median of ${RUNS}; range ${Math.min(...runs.map((r) => r.wallS)).toFixed(2)}–${Math.max(...runs.map((r) => r.wallS)).toFixed(2)} s)\n`,
    );
    process.stdout.write(
      `load average at end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
  } finally {
    await lab?.dispose();
    await rm(work, { recursive: true, force: true });
  }
}
