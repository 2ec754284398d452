/**
 * History benchmark (`npm run bench -- history`): what recording a run costs
 * a check, and what the status page's reads cost, at the sizes the history
 * is bounded to:
 *
 * - appending a record to a full history (10,000 records, as a check every
 *   minute reaches in a week), over SYNKER_BENCH_HISTORY_APPENDS appends
 *   (default 2,000: the prunes at 10 % over the cap fall among them):
 *   median and worst, and the file's size after;
 * - reading 90 days of it (the page's history request);
 * - the last report of a check with 150,000 differences: built from the
 *   report, written, read back; its size on disk.
 *
 * Run it on a quiet machine (the load average is printed): the appends wait
 * on fsync, which other processes' writes slow.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { diffManifests } from '../src/diff/index.js';
import type { ManifestEntry } from '../src/manifest/entry.js';
import { buildReport } from '../src/report/model.js';
import { summarizeReport } from '../src/schedule/check-process.js';
import { HISTORY_MAX_RECORDS, appendHistory, historyFile, readHistory, type HistoryRecord } from '../src/schedule/history.js';
import { lastReportFile, lastReportOf, readLastReport, writeLastReport } from '../src/schedule/last-report.js';

const APPENDS = Number(process.env.SYNKER_BENCH_HISTORY_APPENDS ?? 2000);
const DIFFERENCES = 150_000;
const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function record(at: number): HistoryRecord {
  return {
    at: new Date(at).toISOString(),
    status: 'differences',
    differences: 12,
    bytesMissing: 1_234_567,
    by: 'scheduled-check',
    durationMs: 4321,
  };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const ms = (n: number): string => `${n.toFixed(2)} ms`;

export async function run(): Promise<void> {
  process.stdout.write(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${os.cpus().length} CPUs\n`,
  );
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'synker-bench-history-'));
  try {
    const file = historyFile(dataDir, 'photos');
    await mkdir(path.dirname(file), { recursive: true });
    let at = Date.now() - HISTORY_MAX_RECORDS * 60_000;
    const lines: string[] = [];
    for (let i = 0; i < HISTORY_MAX_RECORDS; i++, at += 60_000) lines.push(`${JSON.stringify(record(at))}\n`);
    writeFileSync(file, lines.join(''));

    const times: number[] = [];
    for (let i = 0; i < APPENDS; i++, at += 60_000) {
      const start = performance.now();
      await appendHistory(dataDir, 'photos', record(at), at);
      times.push(performance.now() - start);
    }
    const size = statSync(file).size;
    process.stdout.write(
      `append to a full history (${APPENDS} appends): median ${ms(quantile(times, 0.5))}, p99 ${ms(quantile(times, 0.99))}, worst ${ms(Math.max(...times))}; file ${(size / 1e6).toFixed(2)} MB\n`,
    );

    const reads: number[] = [];
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      const { checks } = await readHistory(dataDir, 'photos', { now: at });
      reads.push(performance.now() - start);
      if (checks.length === 0) throw new Error('nothing read');
    }
    process.stdout.write(`read 90 days (${HISTORY_MAX_RECORDS} records): median ${ms(quantile(reads, 0.5))}\n`);

    // 150,000 files missing on the backup, through the real diff.
    const source: ManifestEntry[] = Array.from({ length: DIFFERENCES }, (_, i) => ({
      path: `f${String(i).padStart(6, '0')}`,
      type: 'file',
      size: 0,
      mtime: 0,
      mode: 0o644,
      hash: EMPTY_HASH,
    }));
    const diff = await diffManifests(
      (async function* () {
        yield* source;
      })(),
      (async function* () {})(),
    );
    const report = buildReport({
      folderId: 'photos',
      startedAt: new Date(),
      finishedAt: new Date(),
      source: { name: 'laptop', deviceId: null, location: null, scan: null },
      backup: { name: 'nas', deviceId: null, location: null, scan: null },
      verify: false,
      sizeOnly: false,
      diff,
    });
    const summary = summarizeReport(report, 'manual-check');
    let start = performance.now();
    const last = lastReportOf(report, summary, 'manual-check');
    const built = performance.now() - start;
    start = performance.now();
    await writeLastReport(dataDir, last);
    const written = performance.now() - start;
    start = performance.now();
    await readLastReport(dataDir, 'photos');
    const read = performance.now() - start;
    process.stdout.write(
      `last report of ${DIFFERENCES.toLocaleString('en')} differences: built ${ms(built)}, written ${ms(written)}, read ${ms(read)}; file ${(statSync(lastReportFile(dataDir, 'photos')).size / 1e3).toFixed(0)} kB\n`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
