/**
 * Child process for the check benchmark: diffs two generated manifests of N
 * entries (default 1,000,000) that differ in a few hundred places, and prints
 * its peak RSS. Run alone so the measurement is this diff's and nothing else's.
 *
 *   node dist/bench/diff-peak.js [ENTRIES]
 */
import { createHash } from 'node:crypto';
import { diffManifests } from '../src/diff/index.js';
import type { ManifestEntry } from '../src/manifest/entry.js';

const total = Number(process.argv[2] ?? 1_000_000);
const perDir = 1000;
const T0 = Date.UTC(2026, 0, 15, 10, 30, 0, 123);

/** 1 folder per 1000 files, in manifest order without sorting (names padded, one level deep). */
async function* manifest(mutated: boolean): AsyncGenerator<ManifestEntry> {
  const dirs = Math.ceil(total / (perDir + 1));
  let emitted = 0;
  for (let d = 0; d < dirs && emitted < total; d++) {
    const dirPath = `dir${String(d).padStart(5, '0')}`;
    yield { path: dirPath, type: 'dir', size: 0, mtime: T0, mode: 0o755 };
    emitted++;
    for (let f = 0; f < perDir && emitted < total; f++, emitted++) {
      const i = d * perDir + f;
      const hash = i.toString(16).padStart(64, '0');
      const entry: ManifestEntry = {
        path: `${dirPath}/IMG_${String(f).padStart(4, '0')}.jpg`,
        type: 'file',
        size: 100_000 + (i % 997),
        mtime: T0 + i,
        mode: 0o644,
        hash,
      };
      if (mutated) {
        if (i % 9973 === 1) continue; // deleted
        if (i % 9973 === 2) entry.hash = createHash('sha256').update(`edited ${i}`).digest('hex');
        if (i % 9973 === 3) entry.mtime += 60_000;
      }
      yield entry;
    }
  }
}

const started = process.hrtime.bigint();
const result = await diffManifests(manifest(false), manifest(true));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  `${JSON.stringify({ entries: total, differences: result.differences.length, matched: result.matchedFiles, seconds, peakRssMiB })}\n`,
);
