/**
 * Store benchmark (`npm run bench -- store`): the sqlite and lmdb backends
 * of the stores (docs/store.md) side by side on synker's two heavy
 * workloads, to choose the default:
 *
 * - the hash cache: SYNKER_BENCH_STORE_ENTRIES paths (default 100,000)
 *   stored as a first scan does (cold), then looked up in manifest order as
 *   a warm check does;
 * - the agent state's verified records: the same paths recorded by a check
 *   against an empty set (cold: all written), then again (warm: all read);
 * - bytes on disk per entry, and each run's peak RSS.
 *
 * Each backend runs in its own child process (SYNKER_STORE set), the two
 * alternating for SYNKER_BENCH_RUNS rounds (default 3); medians are shown.
 * sqlite needs Node.js >= 22.13: on Node 20 only lmdb runs. Run it on a quiet
 * machine: other processes' load shows in the figures (the load average is
 * printed).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSqlite } from '../src/state/sqlite-module.js';
import type { KvBackend } from '../src/state/kv.js';
import type { StoreRun } from './store-worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(here, 'store-worker.js');
const ENTRIES = Number(process.env.SYNKER_BENCH_STORE_ENTRIES ?? 100_000);
const RUNS = Number(process.env.SYNKER_BENCH_RUNS ?? 3);

function runOnce(backend: KvBackend): StoreRun {
  const dir = mkdtempSync(path.join(os.tmpdir(), `synker-bench-store-${backend}-`));
  try {
    const result = spawnSync(process.execPath, [...process.execArgv, WORKER, backend, String(ENTRIES), dir], {
      env: { ...process.env, SYNKER_STORE: backend },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (result.status !== 0)
      throw new Error(`store benchmark (${backend}) failed (${String(result.status ?? result.signal)}):\n${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').pop()!) as StoreRun;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export async function run(): Promise<void> {
  const backends: KvBackend[] = loadSqlite() === undefined ? ['lmdb'] : ['lmdb', 'sqlite'];
  const runs = new Map<KvBackend, StoreRun[]>(backends.map((b) => [b, []]));
  for (let round = 0; round < RUNS; round++) {
    // Alternate which goes first, so a burst of outside load does not always hit the same one.
    for (const backend of round % 2 === 0 ? backends : [...backends].reverse()) runs.get(backend)!.push(runOnce(backend));
  }
  const stat = (backend: KvBackend, pick: (r: StoreRun) => number): number | undefined => {
    const list = runs.get(backend);
    return list === undefined ? undefined : median(list.map(pick));
  };
  const rows: Array<[string, (r: StoreRun) => number, (v: number) => string]> = [
    ['hash cache, cold (store all)', (r) => r.cacheCold, (v) => `${v.toFixed(3)} s`],
    ['hash cache, warm (look all up)', (r) => r.cacheWarm, (v) => `${v.toFixed(3)} s`],
    ['verified, cold (record all)', (r) => r.verifiedCold, (v) => `${v.toFixed(3)} s`],
    ['verified, warm (read all)', (r) => r.verifiedWarm, (v) => `${v.toFixed(3)} s`],
    ['hash cache on disk / entry', (r) => r.cacheBytes / r.entries, (v) => `${v.toFixed(0)} B`],
    ['agent state on disk / entry', (r) => r.stateBytes / r.entries, (v) => `${v.toFixed(0)} B`],
    ['peak RSS', (r) => r.peakRssKiB / 1024, (v) => `${v.toFixed(0)} MiB`],
  ];
  process.stdout.write(
    `${ENTRIES.toLocaleString('en')} entries, Node.js ${process.version}, median of ${RUNS} run(s); load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const width = 32;
  process.stdout.write(`${'workload'.padEnd(width)}${'lmdb'.padStart(12)}${'sqlite'.padStart(12)}${'sqlite/lmdb'.padStart(13)}\n`);
  for (const [label, pick, format] of rows) {
    const lmdb = stat('lmdb', pick);
    const sqlite = stat('sqlite', pick);
    const ratio = lmdb !== undefined && sqlite !== undefined && lmdb > 0 ? `${(sqlite / lmdb).toFixed(2)}x` : '-';
    process.stdout.write(
      `${label.padEnd(width)}${(lmdb === undefined ? '-' : format(lmdb)).padStart(12)}${(sqlite === undefined ? 'n/a' : format(sqlite)).padStart(12)}${ratio.padStart(13)}\n`,
    );
  }
  if (!backends.includes('sqlite')) process.stdout.write(`sqlite: n/a (node:sqlite needs Node.js >= 22.13; this is ${process.version})\n`);
}
