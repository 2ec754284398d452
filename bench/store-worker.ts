/**
 * One run of the store benchmark on one backend, in its own process (so its
 * peak RSS is its own): `node store-worker.js <lmdb|sqlite> <entries> <dir>`.
 * Prints one JSON line: seconds per phase, bytes on disk, peak RSS.
 *
 * - cache cold: HashCache.store() of every path in manifest order, as a
 *   first scan does (batched commits of the cache), then close;
 * - cache warm: HashCache.lookup() of every path in manifest order, as a
 *   warm check does (OrderedLookup's one cursor pass), every one a hit;
 * - verified cold / warm: VerifiedHashes.record() of every path in manifest
 *   order against an empty set (all written), then again (all read, none
 *   written), as a check's matches arrive.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { VerifiedHashes } from '../src/check/verified-store.js';
import type { EntryFactsWithPath } from '../src/diff/index.js';
import { comparePaths } from '../src/manifest/order.js';
import { HashCache, hashCachePath } from '../src/scan/hash-cache.js';
import { AgentState } from '../src/state/agent-state.js';
import type { KvBackend } from '../src/state/kv.js';

export interface StoreRun {
  backend: KvBackend;
  entries: number;
  cacheCold: number;
  cacheWarm: number;
  verifiedCold: number;
  verifiedWarm: number;
  cacheBytes: number;
  stateBytes: number;
  peakRssKiB: number;
}

/** Paths shaped like a photo library, in manifest order. */
export function benchPaths(entries: number): string[] {
  const paths: string[] = [];
  for (let i = 0; i < entries; i++) {
    const year = 2000 + (i % 25);
    const album = Math.floor(i / 25) % 400;
    paths.push(`${year}/album-${String(album).padStart(3, '0')} (trip)/IMG_${String(i).padStart(7, '0')}.jpg`);
  }
  return paths.sort(comparePaths);
}

/** Bytes allocated on disk by the files in `dir` (not their apparent size: LMDB's is sparse). */
function diskBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const info = statSync(path.join(dir, name));
    if (info.isFile()) total += info.blocks * 512;
  }
  return total;
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

async function main(): Promise<void> {
  const [backend, count, dir] = process.argv.slice(2) as [KvBackend, string, string];
  const entries = Number(count);
  const paths = benchPaths(entries);
  const root = path.join(dir, 'folder');
  const cacheDir = path.join(dir, 'cache');
  const dataDir = path.join(dir, 'data');
  const hash = (i: number): string => (i.toString(16) + 'a'.repeat(64)).slice(0, 64);
  const stateOf = (i: number) => ({
    size: 1000 + i,
    mtimeMs: 1_700_000_000_000 + i + 0.123,
    ctimeMs: 1_700_000_000_000 + i + 0.456,
    ino: 10_000 + i,
  });

  let t = performance.now();
  const cold = await HashCache.open(cacheDir, root, { backend });
  for (const [i, p] of paths.entries()) cold.store(p, stateOf(i), hash(i));
  await cold.close();
  const cacheCold = seconds(t);

  // A warm check opens a cache unchanged since its last check: the first open after the cold
  // writes checks the file (LMDB: a child process reads it whole), outside the timing.
  await (await HashCache.open(cacheDir, root, { backend })).close();
  t = performance.now();
  const warm = await HashCache.open(cacheDir, root, { backend });
  let hits = 0;
  paths.forEach((p, i) => {
    if (warm.lookup(p, stateOf(i)) !== undefined) hits++;
  });
  await warm.close();
  const cacheWarm = seconds(t);
  if (hits !== entries) throw new Error(`${backend}: ${hits} cache hits of ${entries}`);

  const facts = paths.map(
    (p, i): EntryFactsWithPath => ({ path: p, type: 'file', size: 1000 + i, mtime: 1_700_000_000_000 + i, mode: 0o644, hash: hash(i) }),
  );
  const state = await AgentState.open(dataDir, { backend });
  const phase = async (): Promise<[number, number]> => {
    const start = performance.now();
    const verified = await VerifiedHashes.open(state, 'photos', root, { pruneSlack: entries });
    for (const entry of facts) await verified.record(entry);
    await verified.commit([]);
    return [seconds(start), verified.stats.written];
  };
  const [verifiedCold, writtenCold] = await phase();
  const [verifiedWarm, writtenWarm] = await phase();
  await state.close();
  if (writtenCold !== entries || writtenWarm !== 0) throw new Error(`${backend}: wrote ${writtenCold} then ${writtenWarm} records`);

  const run: StoreRun = {
    backend,
    entries,
    cacheCold,
    cacheWarm,
    verifiedCold,
    verifiedWarm,
    cacheBytes: diskBytes(hashCachePath(cacheDir, root)),
    stateBytes: diskBytes(dataDir),
    peakRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

await main();
