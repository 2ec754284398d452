/** Options of scanFolder, defaulted and checked in one place. */
import os from 'node:os';
import { synkerDirs } from '../dirs/dirs.js';
import { ScanError } from './errors.js';

export interface ScanOptions {
  /** Hash threads allowed to hash at once (CPU). Default: the number of cores. */
  jobs?: number;
  /**
   * Files read at once (threads waiting on the disk). Cold small files need
   * more reads in flight than there are cores. Default: max(8, jobs).
   */
  ioConcurrency?: number;
  /** false: size-only manifest, no content hashes (`--no-hash`). Default true. */
  hash?: boolean;
  /** false: neither read nor write the hash cache (`--no-cache`). Default true. */
  cache?: boolean;
  /** Base directory of hash caches. Default: synkerDirs().cache. */
  cacheDir?: string;
  /** Ignore cached hashes and re-hash every file, refreshing the cache. Default false. */
  verify?: boolean;
  /**
   * Ignore rules (gitignore syntax) applied after the folder's own: the
   * source side's rules, which govern both sides of a pair.
   */
  extraIgnore?: string;
  /** false: do not read the folder's own `.synkerignore` (use extraIgnore alone). Default true. */
  useIgnoreFile?: boolean;
  /** Entries held back at most to keep the output sorted while files hash concurrently. */
  reorderWindow?: number;
  signal?: AbortSignal;
}

/** Entries the output may hold back while earlier files are still hashing. */
export const DEFAULT_REORDER_WINDOW = 1024;

export interface ResolvedScanOptions {
  jobs: number;
  ioConcurrency: number;
  hash: boolean;
  cacheDir: string | undefined;
  verify: boolean;
  extraIgnore: string;
  useIgnoreFile: boolean;
  reorderWindow: number;
  signal: AbortSignal | undefined;
}

export function resolveScanOptions(root: string, options: ScanOptions = {}): ResolvedScanOptions {
  const jobs = options.jobs ?? os.availableParallelism();
  const ioConcurrency = options.ioConcurrency ?? Math.max(8, jobs);
  const reorderWindow = options.reorderWindow ?? DEFAULT_REORDER_WINDOW;
  for (const [name, value, max] of [
    ['jobs', jobs, 256],
    ['ioConcurrency', ioConcurrency, 256],
    ['reorderWindow', reorderWindow, 1 << 20],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new ScanError('E_SCAN_OPTIONS', root, `${name} must be a whole number from 1 to ${max}, got ${String(value)}`);
    }
  }
  if (options.cache === false && options.cacheDir !== undefined) {
    throw new ScanError('E_SCAN_OPTIONS', root, 'a cache directory was given but the cache is turned off', {
      hint: 'use either --cache-dir or --no-cache',
    });
  }
  const hash = options.hash ?? true;
  const useCache = hash && options.cache !== false;
  return {
    jobs,
    ioConcurrency,
    hash,
    cacheDir: useCache ? (options.cacheDir ?? synkerDirs().cache) : undefined,
    verify: options.verify ?? false,
    extraIgnore: options.extraIgnore ?? '',
    useIgnoreFile: options.useIgnoreFile ?? true,
    reorderWindow,
    signal: options.signal,
  };
}
