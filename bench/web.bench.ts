/**
 * Status page benchmark (`npm run bench -- web`): what the page's requests
 * cost the agent at the sizes the stores are bounded to, over real HTTP on
 * loopback against the real server (src/web/server.ts) reading real files:
 *
 * - a folder whose history is full (10,000 records) and whose last report
 *   comes from a check with 150,000 files missing (1,000 items kept);
 * - GET status, the folder (with its last report), its 90-day history and
 *   /metrics, SYNKER_BENCH_WEB_REQUESTS times each (default 200), one at a
 *   time: median and p95, and the answer's size;
 * - 16 event streams open (the limit) and 1,000 check-ended events sent to
 *   them: the process's RSS before and after.
 *
 * Run it on a quiet machine (the load average is printed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLogger } from '../src/base/log.js';
import { summarizeReport } from '../src/schedule/check-process.js';
import { readHistory } from '../src/schedule/history.js';
import { lastReportOf, readLastReport, writeLastReport } from '../src/schedule/last-report.js';
import { collectStatus } from '../src/schedule/status.js';
import type { SynkerConfig } from '../src/config/types.js';
import { WebEvents } from '../src/web/events.js';
import { startWebServer } from '../src/web/server.js';
import { missingFilesReport, printLoad, quantile, writeFullHistory } from './full-stores.js';

const REQUESTS = Number(process.env.SYNKER_BENCH_WEB_REQUESTS ?? 200);
const MISSING = 150_000;
const TOKEN = 'b'.repeat(64);

function get(port: number, urlPath: string): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => {
        let bytes = 0;
        res.on('data', (d: Buffer) => (bytes += d.length));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`${urlPath}: ${res.statusCode}`));
          else resolve({ ms: performance.now() - start, bytes });
        });
      })
      .on('error', reject);
  });
}

export async function run(): Promise<void> {
  printLoad();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'synker-bench-web-'));
  try {
    // A full history of one check a minute.
    await writeFullHistory(dataDir, 'photos', Date.now());
    // The last report of a check that found 150,000 files missing.
    const report = await missingFilesReport('photos', MISSING, (i) => `Pictures/2024/IMG_${String(i).padStart(6, '0')}.jpg`);
    await writeLastReport(dataDir, lastReportOf(report, summarizeReport(report, 'scheduled-check'), 'scheduled-check'));

    const config: SynkerConfig = {
      version: 1,
      name: 'nas',
      port: 7780,
      folders: [{ id: 'photos', path: path.join(dataDir, 'photos'), role: 'backup', shareWith: [] }],
      trusted: [],
      peers: [],
    };
    const events = new WebEvents();
    const server = await startWebServer({
      source: {
        device: () => ({ id: 'NAS', name: 'nas' }),
        status: () => collectStatus(config, dataDir, Date.now()),
        lastReport: async (id) => {
          const kept = await readLastReport(dataDir, id);
          if (kept === null) return null;
          const { version: _version, ...view } = kept;
          return view;
        },
        history: async (id, days, at) => (await readHistory(dataDir, id, { days, now: at })).checks,
        checkNow: () => undefined,
        resendReport: async () => undefined,
        actions: async () => ({ check: false, report: false }),
      },
      events,
      token: TOKEN,
      host: '127.0.0.1',
      port: 0,
      tries: 1,
      logger: createLogger('web'),
    });
    try {
      for (const p of ['/api/v1/status', '/api/v1/folders/photos', '/api/v1/folders/photos/history', '/metrics']) {
        const times: number[] = [];
        let bytes = 0;
        for (let i = 0; i < REQUESTS; i++) {
          const r = await get(server.port, p);
          times.push(r.ms);
          bytes = r.bytes;
        }
        process.stdout.write(
          `GET ${p.padEnd(30)} ${(bytes / 1e3).toFixed(1).padStart(7)} kB  median ${quantile(times, 0.5).toFixed(2)} ms  p95 ${quantile(times, 0.95).toFixed(2)} ms\n`,
        );
      }
      const rssBefore = process.memoryUsage().rss;
      const streams = await Promise.all(
        Array.from(
          { length: 16 },
          () =>
            new Promise<http.ClientRequest>((resolve, reject) => {
              const req = http.get({
                host: '127.0.0.1',
                port: server.port,
                path: '/api/v1/events',
                headers: { Authorization: `Bearer ${TOKEN}` },
              });
              req.on('response', (res) => {
                res.resume();
                resolve(req);
              });
              req.on('error', reject);
            }),
        ),
      );
      const start = performance.now();
      for (let i = 0; i < 1000; i++) events.checkEnded({ folder: 'photos', at: new Date().toISOString(), status: 'differences' });
      const sent = performance.now() - start;
      await new Promise((r) => setTimeout(r, 200));
      process.stdout.write(
        `16 event streams, 1,000 events: sent in ${sent.toFixed(1)} ms; RSS ${(rssBefore / 1e6).toFixed(0)} MB before, ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB after\n`,
      );
      for (const s of streams) s.destroy();
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
