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
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { summarizeReport } from '../src/schedule/check-process.js';
import { HISTORY_MAX_RECORDS, appendHistory, readHistory } from '../src/schedule/history.js';
import { lastReportFile, lastReportOf, readLastReport, writeLastReport } from '../src/schedule/last-report.js';
import { historyRecord, missingFilesReport, printLoad, quantile, writeFullHistory } from './full-stores.js';

const APPENDS = Number(process.env.SYNKER_BENCH_HISTORY_APPENDS ?? 2000);
const DIFFERENCES = 150_000;

const ms = (n: number): string => `${n.toFixed(2)} ms`;

export async function run(): Promise<void> {
  printLoad();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'synker-bench-history-'));
  try {
    let at = Date.now();
    const file = await writeFullHistory(dataDir, 'photos', at);

    const times: number[] = [];
    for (let i = 0; i < APPENDS; i++, at += 60_000) {
      const start = performance.now();
      await appendHistory(dataDir, 'photos', historyRecord(at), at);
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
    const report = await missingFilesReport('photos', DIFFERENCES, (i) => `f${String(i).padStart(6, '0')}`);
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
