/**
 * Generated manifests for protocol tests and benchmarks: sorted entries of
 * every type, produced lazily so a million of them cost no memory.
 */
import type { ManifestEntry } from '../../src/manifest/entry.js';

export interface GenerateOptions {
  /** Extra characters in every file name (to make entries big). */
  padding?: number;
}

/** Entry `i` of a generated manifest: one dir per 1000 entries, files inside, a symlink and an error now and then. */
export function* generateEntries(count: number, options: GenerateOptions = {}): Generator<ManifestEntry> {
  const pad = 'x'.repeat(options.padding ?? 0);
  for (let i = 0; i < count; i++) {
    const dir = `d${String(Math.floor(i / 1000)).padStart(5, '0')}`;
    const n = i % 1000;
    if (n === 0) {
      yield { path: dir, type: 'dir', size: 0, mtime: 1_700_000_000_000, mode: 0o755 };
      continue;
    }
    const path = `${dir}/f${String(n).padStart(4, '0')}${pad}`;
    if (n % 100 === 1) {
      yield { path, type: 'symlink', size: 0, mtime: 1_700_000_000_000 + i, mode: 0o777, target: `../elsewhere/${n}` };
    } else if (n % 250 === 2) {
      yield { path, type: 'error', size: 0, mtime: 0, mode: 0, errorCode: 'EACCES', error: 'permission denied' };
    } else {
      yield { path, type: 'file', size: i * 7, mtime: 1_700_000_000_000 + i, mode: 0o644, hash: i.toString(16).padStart(64, '0') };
    }
  }
}

export async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  for (const item of items) yield item;
}
