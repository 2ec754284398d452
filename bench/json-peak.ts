/**
 * Child process for the check benchmark: `check --json`'s memory at many
 * differences. Diffs a generated source of N files (default 200,000) against
 * a backup that has none of them (every file missing) or has each of them
 * with other content (`content`), builds the report and writes its JSON to a
 * sink that only counts, as `check --json` does; prints the peak RSS.
 *
 *   node dist/bench/json-peak.js [FILES] [missing|content]
 */
import { diffManifests } from '../src/diff/index.js';
import type { ManifestEntry } from '../src/manifest/entry.js';
import { jsonLinesPieces } from '../src/report/json.js';
import { buildReport } from '../src/report/model.js';

const total = Number(process.argv[2] ?? 200_000);
const kind = process.argv[3] === 'content' ? 'content' : 'missing';
const perDir = 1000;
const T0 = Date.UTC(2026, 0, 15, 10, 30, 0, 123);

/** One flat string, as the manifest decoder makes them (a template literal is a tree of pieces, larger). */
const flat = (s: string) => Buffer.from(s, 'latin1').toString('latin1');

async function* manifest(side: 'source' | 'backup'): AsyncGenerator<ManifestEntry> {
  if (side === 'backup' && kind === 'missing') return;
  for (let d = 0; d * perDir < total; d++) {
    const dirPath = `d${String(d).padStart(4, '0')}`;
    yield { path: dirPath, type: 'dir', size: 0, mtime: T0, mode: 0o755 };
    for (let f = 0; f < perDir && d * perDir + f < total; f++) {
      const i = d * perDir + f;
      yield {
        path: flat(`${dirPath}/f${String(i).padStart(7, '0')}.txt`),
        type: 'file',
        size: 10 + (i % 97),
        mtime: T0 + i,
        mode: 0o644,
        hash: flat(`${side === 'backup' ? 'b' : 'a'}${i.toString(16).padStart(63, '0')}`),
      };
    }
  }
}

const started = process.hrtime.bigint();
const startedAt = new Date();
const diff = await diffManifests(manifest('source'), manifest('backup'));
const facts = { name: 'bench', deviceId: null, location: null, scan: null };
const report = buildReport({
  folderId: 'bench',
  startedAt,
  finishedAt: new Date(),
  source: facts,
  backup: facts,
  verify: false,
  sizeOnly: false,
  diff,
});
let chars = 0;
for (const piece of jsonLinesPieces([report])) chars += piece.length;
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  `${JSON.stringify({ files: total, kind, differences: report.summary.differences, jsonChars: chars, seconds, peakRssMiB })}\n`,
);
