/**
 * synker at scale (issue #21), each figure against its target:
 *
 * - a synthetic manifest of 10,000,000 entries (SYNKER_BENCH_SCALE_ENTRIES)
 *   streamed from an agent process to a client process over wss and diffed
 *   there, as it arrives, against a copy with a few changes (no files on
 *   disk): entries/s, differences found, peak RSS of each process;
 * - the million-file tree (bench/million-tree.ts: 1,000 folders × 1,000
 *   files of a few bytes, a copy with 4 changes), checked by `synker check
 *   --no-agent` against a real source agent, cold (empty hash caches and
 *   verified store) and warm; its 100,000-file sibling of the same shape is
 *   the anchor of the time ratio, in the same run. Peak RSS of the CLI and of
 *   the source agent (the kernel's high-water mark, VmHWM, read every 50 ms),
 *   split into anonymous memory and file-backed pages (LMDB's memory map and
 *   the node binary: clean pages the kernel drops when memory is short); the
 *   hash cache and verified store on disk, per file.
 *
 * Trees: SYNKER_BENCH_TREES or bench/.trees (about 8.7 GiB for both pairs on ext4);
 * SYNKER_BENCH_SCALE=synthetic or =tree runs one part alone; SYNKER_BENCH_APP=DIR
 * runs the tree part with the synker built in DIR (to compare builds). Linux only for the
 * memory split (it reads /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIdentity } from '../src/identity/identity.js';
import type { CheckReport } from '../src/report/model.js';
import type { AgentProcessStats } from '../test/programs/agent-process.js';
import { AgentProcess, writeCheckHomes } from './check-homes.js';
import { LAUNCHER_NODE_ARGS } from './launcher-args.js';
import { ensureMillionTree, type MillionTree } from './million-tree.js';
import { treesDir } from './trees.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** SYNKER_BENCH_APP=<another built checkout> measures that one's CLI and agent (an old build, to compare). */
const SYNKER = path.resolve(process.env.SYNKER_BENCH_APP ?? path.resolve(here, '../..'), 'bin/synker.js');
const ENTRIES = Number(process.env.SYNKER_BENCH_SCALE_ENTRIES ?? 10_000_000);
const MiB = 1024 * 1024;
const RSS_TARGET = 300 * MiB;
const BYTES_PER_FILE_TARGET = 200;
const TIME_RATIO_TARGET = 12;

const row = (name: string, value: string, target: string, ok?: boolean) =>
  process.stdout.write(
    `  ${name.padEnd(46)} ${value.padStart(16)}   ${target.padEnd(22)} ${ok === undefined ? '' : ok ? 'met' : 'missed'}\n`,
  );
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

interface DiffClientResult {
  sourceCount: number;
  backupCount: number;
  differences: number;
  expected: number;
  unreadable: number;
  seconds: number;
  cpuSeconds: number;
  peakRss: number;
}

async function synthetic(): Promise<void> {
  process.stdout.write(
    `\n${ENTRIES.toLocaleString('en')}-entry synthetic manifest: agent -> client over wss on 127.0.0.1, diffed as it arrives\n`,
  );
  const [server, client] = await Promise.all([createIdentity('bench-server'), createIdentity('bench-client')]);
  const execArgv = [...LAUNCHER_NODE_ARGS];
  const agent = fork(
    '../test/programs/agent-process.js',
    { identity: server, trusted: [client.deviceId], entries: ENTRIES },
    'SYNKER_TEST_AGENT',
    execArgv,
  );
  try {
    const [{ port }] = (await once(agent, 'message')) as [{ port: number }];
    const consumer = fork(
      './manifest-diff-client.js',
      { port, identity: client, expectDeviceId: server.deviceId, entries: ENTRIES },
      'SYNKER_BENCH_CLIENT',
      execArgv,
    );
    const [result] = (await once(consumer, 'message')) as [DiffClientResult];
    agent.send('stats');
    const [stats] = (await once(agent, 'message')) as [AgentProcessStats];
    const rate = result.sourceCount / result.seconds;
    row(
      'entries streamed and diffed',
      result.sourceCount.toLocaleString('en'),
      `${ENTRIES.toLocaleString('en')}`,
      result.sourceCount === ENTRIES,
    );
    const expected = result.expected + result.unreadable;
    row(
      'differences found',
      String(result.differences),
      `${result.expected} made + ${result.unreadable} unreadable`,
      result.differences === expected,
    );
    row('entries/s (stream + diff)', Math.round(rate).toLocaleString('en'), '', undefined);
    row('seconds', result.seconds.toFixed(1), '', undefined);
    row('peak RSS, agent (server)', mib(stats.peakRss), '< 300 MiB', stats.peakRss < RSS_TARGET);
    row('peak RSS, client (stream + diff)', mib(result.peakRss), '< 300 MiB', result.peakRss < RSS_TARGET);
  } finally {
    agent.send('stop');
    await once(agent, 'exit');
  }
}

function fork(script: string, config: unknown, envName: string, execArgv: string[]): ChildProcess {
  return spawn(process.execPath, [...execArgv, fileURLToPath(new URL(script, import.meta.url))], {
    env: { ...process.env, SYNKER_LOG: 'error', [envName]: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Peak memory of a running process, from /proc (Linux): VmHWM and the largest anonymous and file-backed parts seen. */
class MemoryWatch {
  peak = { hwm: 0, anon: 0, file: 0 };
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 50);
  }
  sample(): void {
    let status: string;
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    } catch {
      return;
    }
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    this.peak.hwm = Math.max(this.peak.hwm, kib('VmHWM'));
    this.peak.anon = Math.max(this.peak.anon, kib('RssAnon'));
    this.peak.file = Math.max(this.peak.file, kib('RssFile'));
  }
  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

interface CheckRun {
  seconds: number;
  cli: MemoryWatch['peak'];
  agent: MemoryWatch['peak'];
  report: CheckReport;
}

async function runCheck(backupHome: string, folderId: string, agent: AgentProcess): Promise<CheckRun> {
  const agentWatch = new MemoryWatch(agent.child!.pid!);
  const started = performance.now();
  const child = spawn(process.execPath, [SYNKER, 'check', folderId, '--no-agent', '--json', '--timeout', '300s'], {
    env: { ...process.env, SYNKER_HOME: backupHome },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const watch = new MemoryWatch(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  const seconds = (performance.now() - started) / 1000;
  watch.stop();
  agentWatch.stop();
  const line = stdout.split('\n').find((l) => l.startsWith('{'));
  if ((code !== 0 && code !== 1) || line === undefined) throw new Error(`synker check failed (${String(code)}):\n${stderr.slice(-2000)}`);
  return { seconds, cli: watch.peak, agent: agentWatch.peak, report: JSON.parse(line) as CheckReport };
}

/** Bytes on disk of the LMDB or SQLite files under dir (hash caches, agent state). */
function storeBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.(mdb|lmdb|sqlite)(-wal)?$/.test(entry.name)) continue;
    total += statSync(path.join(entry.parentPath, entry.name)).blocks * 512;
  }
  return total;
}

interface TreeRuns {
  cold: CheckRun;
  warm: CheckRun;
  sourceBytes: number;
  backupBytes: number;
}

async function checkTree(tree: MillionTree): Promise<TreeRuns> {
  const folderId = `bench-${tree.name}`;
  const work = mkdtempSync(path.join(os.tmpdir(), 'synker-scale-bench-'));
  const sourceHome = path.join(work, 'source-home');
  const backupHome = path.join(work, 'backup-home');
  try {
    return await checkTreeIn(tree, folderId, sourceHome, backupHome);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function checkTreeIn(tree: MillionTree, folderId: string, sourceHome: string, backupHome: string): Promise<TreeRuns> {
  const homes = await writeCheckHomes({ folderId, sourceRoot: tree.root, backupRoot: tree.mutated, sourceHome, backupHome });
  // Restarted for each measurement, so its VmHWM is that run's.
  const agent = new AgentProcess(SYNKER, sourceHome);
  try {
    const checkAfterRestart = async (): Promise<CheckRun> => {
      await agent.stop();
      await agent.start();
      await homes.writeBackupConfig(agent.port);
      return runCheck(backupHome, folderId, agent);
    };
    const cold = await checkAfterRestart();
    const warm = await checkAfterRestart();
    for (const run of [cold, warm]) {
      const flagged = new Set(run.report.differences.map((d) => d.path));
      const missed = Object.values(tree.changes).filter((p) => !flagged.has(p));
      if (missed.length > 0) throw new Error(`the check of ${tree.name} missed ${missed.join(', ')}`);
    }
    return { cold, warm, sourceBytes: storeBytes(sourceHome), backupBytes: storeBytes(backupHome) };
  } finally {
    await agent.stop();
  }
}

async function millionFiles(): Promise<void> {
  const dir = treesDir();
  const million = await ensureMillionTree(dir);
  const hundredk = await ensureMillionTree(dir, undefined, 100);
  process.stdout.write(
    `\nmillion-file tree (${million.root}): check --no-agent, source agent on 127.0.0.1, all 4 changes found in every run\n`,
  );
  const small = await checkTree(hundredk);
  const big = await checkTree(million);
  for (const kind of ['cold', 'warm'] as const) {
    const ratio = big[kind].seconds / small[kind].seconds;
    row(
      `${kind}: seconds (100,000 files: ${small[kind].seconds.toFixed(1)} s)`,
      big[kind].seconds.toFixed(1),
      `<= ${TIME_RATIO_TARGET}x 100k`,
      ratio <= TIME_RATIO_TARGET,
    );
    row(`${kind}: ratio to the 100,000-file tree`, `${ratio.toFixed(1)}x`, '', undefined);
    const { cli, agent } = big[kind];
    row(`${kind}: peak RSS, CLI`, mib(cli.hwm), '< 300 MiB', cli.hwm < RSS_TARGET);
    row(`${kind}:   of which anonymous, at most`, mib(cli.anon), '', undefined);
    row(`${kind}:   file-backed (LMDB map, node), at most`, mib(cli.file), 'droppable', undefined);
    row(`${kind}: peak RSS, source agent`, mib(agent.hwm), '< 300 MiB', agent.hwm < RSS_TARGET);
    row(`${kind}:   of which anonymous, at most`, mib(agent.anon), '', undefined);
    row(`${kind}:   file-backed (LMDB map, node), at most`, mib(agent.file), 'droppable', undefined);
  }
  const perFile = (bytes: number) => bytes / million.files;
  row(
    'stores on disk per file, source',
    `${perFile(big.sourceBytes).toFixed(0)} B`,
    `<= ${BYTES_PER_FILE_TARGET} B`,
    perFile(big.sourceBytes) <= BYTES_PER_FILE_TARGET,
  );
  row(
    'stores on disk per file, backup',
    `${perFile(big.backupBytes).toFixed(0)} B`,
    `<= ${BYTES_PER_FILE_TARGET} B`,
    perFile(big.backupBytes) <= BYTES_PER_FILE_TARGET,
  );
}

export async function run(): Promise<void> {
  const only = process.env.SYNKER_BENCH_SCALE;
  if (only !== 'tree') await synthetic();
  if (only !== 'synthetic') await millionFiles();
  const load = os.loadavg()[0]!;
  process.stdout.write(`  load average during the run: ${load.toFixed(1)} on ${os.availableParallelism()} cores\n`);
}
