/**
 * Whole-folder grouping benchmark (`npm run bench -- whole-folders`): what
 * telling folders missing with everything in them as one item costs the
 * report (src/report/whole-folders.ts), at a million differences:
 *
 * - flat: 1,000 folders of 1,000 files missing (1,001,000 differences);
 * - deep: 1,000,000 differences in a chain of 100 nested folders of 9,999
 *   files each (the stack is 100 deep at the bottom; paths of 200 characters
 *   down there);
 * - spoilt: the flat case with one file of each folder moved out, so no
 *   folder is whole and every file stays its own item.
 *
 * For each: the grouping alone (`wholeFolders`, `listedDifferences`), then
 * the terminal report and the page's last report built from it (median of
 * SYNKER_BENCH_WHOLE_RUNS runs, default 5), and the heap it kept. Timings
 * want a quiet machine (the load average is printed).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Difference } from '../src/diff/index.js';
import { summarize, type CheckReport, REPORT_SCHEMA, REPORT_VERSION } from '../src/report/model.js';
import { renderTerminal } from '../src/report/terminal.js';
import { listedDifferences, wholeFolders } from '../src/report/whole-folders.js';
import { summarizeReport } from '../src/schedule/check-process.js';
import { lastReportOf } from '../src/schedule/last-report.js';

const RUNS = Number(process.env.SYNKER_BENCH_WHOLE_RUNS ?? 5);

function missing(path: string, type: 'file' | 'dir', bytes = 0): Difference {
  return { category: 'missing', path, source: { type, size: bytes, mtime: 0, mode: 0o644 }, bytes, failing: true };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function flat(moveOne: boolean): Difference[] {
  const out: Difference[] = [];
  for (let f = 0; f < 1_000; f++) {
    const folder = `albums/${pad(f, 4)}`;
    out.push(missing(folder, 'dir'));
    for (let i = 0; i < 1_000; i++) {
      const d = missing(`${folder}/IMG_${pad(i, 4)}.jpg`, 'file', 2_000_000);
      if (moveOne && i === 0) {
        d.category = 'moved';
        d.newPath = `elsewhere/${pad(f, 4)}.jpg`;
      }
      out.push(d);
    }
  }
  return out;
}

function deep(): Difference[] {
  // Manifest order: each folder's sub-folder `a` and all below it, then its own files (`a` sorts before `f…`).
  const out: Difference[] = [];
  const chain: string[] = [];
  let p = 'a';
  for (let level = 0; level < 100; level++) {
    chain.push(p);
    p = `${p}/a`;
  }
  for (const folder of chain) out.push(missing(folder, 'dir'));
  for (let level = chain.length - 1; level >= 0; level--)
    for (let i = 0; i < 9_999; i++) out.push(missing(`${chain[level]}/f${pad(i, 4)}`, 'file', 1_000));
  return out;
}

function reportOf(differences: Difference[]): CheckReport {
  return {
    schema: REPORT_SCHEMA,
    version: REPORT_VERSION,
    synkerVersion: 'bench',
    folderId: 'photos',
    startedAt: new Date(0).toISOString(),
    finishedAt: new Date(1000).toISOString(),
    source: { name: 'laptop', deviceId: null, role: 'source', location: null, scan: null, totals: null },
    backup: { name: 'nas', deviceId: null, role: 'backup', location: null, scan: null, totals: null },
    settings: null,
    complete: false,
    exitCode: 1,
    summary: summarize(differences, 0),
    differences,
    error: null,
    sync: null,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timed(fn: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

export async function run(): Promise<void> {
  process.stdout.write(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${os.cpus().length} CPUs; median of ${RUNS} runs\n`,
  );
  process.stdout.write('case      differences  whole  items      group ms  list ms  terminal ms  last report ms\n');
  for (const [name, make] of [
    ['flat', () => flat(false)],
    ['deep', deep],
    ['spoilt', () => flat(true)],
  ] as const) {
    // Flat strings, as a report parsed from the agent's JSON has, not the ropes built above.
    const differences = make();
    for (const d of differences) d.path = Buffer.from(d.path).toString();
    const report = reportOf(differences);
    const folders = wholeFolders(differences).length;
    const items = listedDifferences(differences).length;
    const group = timed(() => wholeFolders(differences));
    const list = timed(() => listedDifferences(differences));
    const terminal = timed(() => renderTerminal(report, { color: false, all: false }));
    const last = timed(() => lastReportOf(report, summarizeReport(report, 'manual-check'), 'manual-check'));
    process.stdout.write(
      `${name.padEnd(8)}  ${String(differences.length).padStart(11)}  ${String(folders).padStart(5)}  ${String(items).padStart(9)}  ${group.toFixed(0).padStart(8)}  ${list.toFixed(0).padStart(7)}  ${terminal.toFixed(0).padStart(11)}  ${last.toFixed(0).padStart(14)}\n`,
    );
  }
}
