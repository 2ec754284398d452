/**
 * Scan benchmark (`npm run bench -- scan`). On the trees of bench/trees.ts
 * (photos: 1,000 x 2 MiB; small: 100,000 x 1-16 KiB), measured in the same
 * run, median of SYNKER_BENCH_RUNS (default 5) runs each:
 *
 * - cold (empty hash cache, page cache warm): `synker scan --json` against a
 *   minimal Node walker hashing in 2 worker threads (bench/baseline-hash.ts)
 *   and `find | xargs -0 -P2 openssl dgst -sha256`;
 * - warm (hash cache present): against `find -printf` (the metadata floor)
 *   and `rsync -an` from the tree to its mutated copy;
 * - peak RSS of synker (GNU time's %M);
 * - SYNKER_BENCH_DROP_CACHES=1 (root): page cache dropped before each run,
 *   synker scanning both trees (two processes, as source and backup would)
 *   against `rsync -anc` between them.
 *
 * Other processes may load the CPU at the same time: medians, and the load
 * average is printed. SYNKER_BENCH_ONLY=photos|small runs one tree.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTree, type BenchTree, type TreeName } from './trees.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SYNKER = path.resolve(here, '../../bin/synker.js');
const BASELINE = path.join(here, 'baseline-hash.js');
const RUNS = Number(process.env.SYNKER_BENCH_RUNS ?? 5);
const DROP_CACHES = process.env.SYNKER_BENCH_DROP_CACHES === '1';

interface Sample {
  seconds: number;
  rssKiB: number;
  /** For synker: the scan's own time from its summary line (start-up of the CLI excluded). */
  scanSeconds: number;
}

/** Run a shell command under GNU time; wall time from here, peak RSS from time. */
function measure(command: string, before?: () => void): Sample {
  before?.();
  const rssFile = path.join(os.tmpdir(), `synker-bench-rss-${process.pid}`);
  const start = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', '-o', rssFile, 'sh', '-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = (performance.now() - start) / 1000;
  if (result.status !== 0) throw new Error(`benchmark command failed (${String(result.status)}): ${command}\n${result.stderr.toString()}`);
  const rssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
  rmSync(rssFile, { force: true });
  const summary = /^scan: .*; ([\d.]+) s, /m.exec(result.stderr.toString());
  return { seconds, rssKiB, scanSeconds: summary ? Number(summary[1]) : NaN };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Run the commands round-robin, RUNS rounds: a burst of load from other
 * processes then hits every command alike. Medians of the wall times, the
 * highest peak RSS.
 */
function interleaved(commands: Array<{ command: string; before?: () => void }>): Sample[] {
  const samples: Sample[][] = commands.map(() => []);
  for (let round = 0; round < RUNS; round++) {
    commands.forEach(({ command, before }, i) => {
      samples[i]!.push(measure(command, before));
    });
  }
  return samples.map((list) => ({
    seconds: median(list.map((s) => s.seconds)),
    rssKiB: Math.max(...list.map((s) => s.rssKiB)),
    scanSeconds: median(list.map((s) => s.scanSeconds)),
  }));
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function dropCaches(): void {
  spawnSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

function row(label: string, seconds: number, note = ''): void {
  process.stdout.write(`  ${label.padEnd(46)} ${seconds.toFixed(3).padStart(8)} s  ${note}\n`);
}

function verdict(ok: boolean): string {
  return ok ? 'ok' : 'MISSED';
}

function benchTree(tree: BenchTree): number {
  process.stdout.write(`\n${tree.name}: ${tree.files} files, ${(tree.bytes / 1e6).toFixed(0)} MB (${tree.root})\n`);
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'synker-bench-cache-'));
  try {
    const scan = `node ${q(SYNKER)} scan ${q(tree.root)} --json --cache-dir ${q(cacheDir)} > /dev/null`;
    const emptyCache = (): void => rmSync(path.join(cacheDir, 'hash-cache'), { recursive: true, force: true });
    // One untimed pass so that the page cache holds the tree.
    measure(`find ${q(tree.root)} -type f -print0 | xargs -0 cat > /dev/null`);

    const [cold, baseline, openssl] = interleaved([
      { command: scan, before: emptyCache },
      { command: `node ${q(BASELINE)} ${q(tree.root)} 2 > /dev/null` },
      { command: `find ${q(tree.root)} -type f -print0 | xargs -0 -P2 -n 256 openssl dgst -sha256 > /dev/null` },
    ]) as [Sample, Sample, Sample];
    measure(scan, emptyCache); // leaves a full cache for the warm runs
    const [warm, find, rsync, startup] = interleaved([
      { command: scan },
      { command: `find ${q(tree.root)} -printf '%P %s %T@ %m\\n' > /dev/null` },
      { command: `rsync -an --delete ${q(`${tree.root}/`)} ${q(`${tree.mutated}/`)}` },
      { command: `node ${q(SYNKER)} --version > /dev/null` },
    ]) as [Sample, Sample, Sample, Sample];

    const ratio = (a: number, b: number): string => (a / b).toFixed(2);
    process.stdout.write(
      `  median of ${RUNS} interleaved runs; cold = empty hash cache, page cache warm; synker with its defaults (--jobs = cores)\n`,
    );
    process.stdout.write(
      `  synker: wall time of the CLI process [in brackets: the scan's own time from its summary line, CLI start-up excluded]\n`,
    );
    row('CLI start-up alone: synker --version', startup.seconds);
    row('cold: synker scan', cold.seconds, `[${cold.scanSeconds.toFixed(3)} s]`);
    row(
      'cold: Node baseline (walk + 2 hash workers)',
      baseline.seconds,
      `synker/baseline ${ratio(cold.seconds, baseline.seconds)} [${ratio(cold.scanSeconds, baseline.seconds)}]`,
    );
    row(
      'cold: find | xargs -0 -P2 openssl dgst -sha256',
      openssl.seconds,
      `synker/openssl ${ratio(cold.seconds, openssl.seconds)} [${ratio(cold.scanSeconds, openssl.seconds)}]`,
    );
    row(
      'warm: synker scan (hash cache present)',
      warm.seconds,
      `[${warm.scanSeconds.toFixed(3)} s] cold/warm ${ratio(cold.seconds, warm.seconds)}x [${ratio(cold.scanSeconds, warm.scanSeconds)}x]`,
    );
    row(
      'warm: find -printf (metadata floor)',
      find.seconds,
      `synker/find ${ratio(warm.seconds, find.seconds)} [${ratio(warm.scanSeconds, find.seconds)}]`,
    );
    row(
      'warm: rsync -an tree -> mutated copy',
      rsync.seconds,
      `synker/rsync ${ratio(warm.seconds, rsync.seconds)} [${ratio(warm.scanSeconds, rsync.seconds)}]`,
    );
    process.stdout.write(
      `  target cold <= 1.15x baseline: ${verdict(cold.seconds <= 1.15 * baseline.seconds)} [${verdict(cold.scanSeconds <= 1.15 * baseline.seconds)}]\n`,
    );
    if (tree.name === 'small') {
      process.stdout.write(
        `  target warm small <= 2x find: ${verdict(warm.seconds <= 2 * find.seconds)} [${verdict(warm.scanSeconds <= 2 * find.seconds)}]\n`,
      );
    } else {
      process.stdout.write(
        `  target warm photos >= 15x faster than cold: ${verdict(cold.seconds >= 15 * warm.seconds)} [${verdict(cold.scanSeconds >= 15 * warm.scanSeconds)}]\n`,
      );
    }
    const rss = Math.max(cold.rssKiB, warm.rssKiB);
    process.stdout.write(`  peak RSS of synker scan: ${(rss / 1024).toFixed(0)} MiB (target < 200 MiB: ${verdict(rss < 200 * 1024)})\n`);

    if (DROP_CACHES) {
      const both = (dir: string): string => `node ${q(SYNKER)} scan ${q(dir)} --json --no-cache > /dev/null`;
      const [synkerCold, rsyncC] = interleaved([
        { command: `${both(tree.root)} & ${both(tree.mutated)} & wait`, before: dropCaches },
        { command: `rsync -anc --delete ${q(`${tree.root}/`)} ${q(`${tree.mutated}/`)}`, before: dropCaches },
      ]) as [Sample, Sample];
      row('page cache dropped: synker scan, both trees', synkerCold.seconds, '(two processes at once, --no-cache)');
      row(
        'page cache dropped: rsync -anc',
        rsyncC.seconds,
        `synker/rsync ${(synkerCold.seconds / rsyncC.seconds).toFixed(2)}` +
          (tree.name === 'small' ? ` (target < 0.5: ${verdict(synkerCold.seconds < 0.5 * rsyncC.seconds)})` : ''),
      );
    }
    return rss;
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const only = process.env.SYNKER_BENCH_ONLY;
  const names: TreeName[] = only === 'photos' || only === 'small' ? [only] : ['photos', 'small'];
  const trees = names.map((name) => ensureTree(name));
  process.stdout.write(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (${os.availableParallelism()} cores, shared)\n`,
  );
  if (!DROP_CACHES) process.stdout.write('page-cache-cold runs skipped: set SYNKER_BENCH_DROP_CACHES=1 (root) to run them\n');
  for (const tree of trees) benchTree(tree);
  process.stdout.write(
    `\nload average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
}
