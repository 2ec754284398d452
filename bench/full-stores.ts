/**
 * The status page's stores at the sizes they are bounded to, for the history
 * and web benchmarks: a folder's history full (10,000 records of a check a
 * minute) and the report of a check that found N files missing on the
 * backup, through the real diff. Also the figures both print.
 */
import { writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { diffManifests } from '../src/diff/index.js';
import type { ManifestEntry } from '../src/manifest/entry.js';
import { buildReport, type CheckReport } from '../src/report/model.js';
import { HISTORY_MAX_RECORDS, historyFile, type HistoryRecord } from '../src/schedule/history.js';

const EMPTY_HASH = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** One scheduled check's history record (12 differences), at `at` (ms). */
export function historyRecord(at: number): HistoryRecord {
  return {
    at: new Date(at).toISOString(),
    status: 'differences',
    differences: 12,
    bytesMissing: 1_234_567,
    by: 'scheduled-check',
    durationMs: 4321,
  };
}

/**
 * Fills `folderId`'s history under `dataDir` to its cap, a record a minute up to a minute before `now`;
 * returns its file.
 */
export async function writeFullHistory(dataDir: string, folderId: string, now: number): Promise<string> {
  const file = historyFile(dataDir, folderId);
  await mkdir(path.dirname(file), { recursive: true });
  const lines: string[] = [];
  for (let i = HISTORY_MAX_RECORDS; i > 0; i--) lines.push(`${JSON.stringify(historyRecord(now - i * 60_000))}\n`);
  writeFileSync(file, lines.join(''));
  return file;
}

/** The report of a check of `folderId` (laptop to nas) that found `count` files missing on the backup, named by `pathOf`. */
export async function missingFilesReport(folderId: string, count: number, pathOf: (i: number) => string): Promise<CheckReport> {
  const source: ManifestEntry[] = Array.from({ length: count }, (_, i) => ({
    path: pathOf(i),
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
  return buildReport({
    folderId,
    startedAt: new Date(),
    finishedAt: new Date(),
    source: { name: 'laptop', deviceId: null, location: null, scan: null },
    backup: { name: 'nas', deviceId: null, location: null, scan: null },
    verify: false,
    sizeOnly: false,
    diff,
  });
}

/** The value below which a share `q` (0 to 1) of `values` lies. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** `load average A B C, N CPUs`: how busy the machine was, printed before the figures it slows. */
export function printLoad(): void {
  process.stdout.write(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${os.cpus().length} CPUs\n`,
  );
}
