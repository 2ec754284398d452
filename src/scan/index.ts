/**
 * The scanner's public API: the manifest of a folder as an ordered stream of
 * entries (see docs/manifest.md).
 *
 *   const scan = scanFolder('/data/photos', { jobs: 2 });
 *   for await (const entry of scan) { ... }
 *   console.log(scan.stats.hashedFiles, scan.stats.cachedFiles);
 */
export { scanFolder, FolderScan } from './scan.js';
export type { ScanStats } from './scan-stats.js';
export { scanFolderInThread, ScanThread, ThreadedFolderScan } from './scan-thread.js';
export { closeIdleScanThreads, keepIdleScanThreads } from './scan-thread-pool.js';
export { type ScanOptions, DEFAULT_REORDER_WINDOW } from './options.js';
export { ScanError, type ScanErrorCode } from './errors.js';
export { readIgnoreRules, DEFAULT_IGNORE_RULES } from './ignore-rules.js';
export { escapeName, unescapeName, isWindowsUnsafeName } from './names.js';
export { hashCachePath, HASH_CACHE_SCHEMA } from './hash-cache.js';
