/** Hand-made manifests for diff and report tests. */
import { createHash } from 'node:crypto';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { compareEntries } from '../../src/manifest/order.js';

export const T0 = Date.UTC(2026, 0, 15, 10, 30, 0, 123);

export function sha(content: string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A file whose hash is that of `content` and whose size is its length unless given. */
export function file(path: string, content: string, extra: Partial<ManifestEntry> = {}): ManifestEntry {
  return { path, type: 'file', size: Buffer.byteLength(content), mtime: T0, mode: 0o644, hash: sha(content), ...extra };
}

export function dir(path: string, extra: Partial<ManifestEntry> = {}): ManifestEntry {
  return { path, type: 'dir', size: 0, mtime: T0, mode: 0o755, ...extra };
}

export function link(path: string, target: string): ManifestEntry {
  return { path, type: 'symlink', size: 0, mtime: T0, mode: 0o777, target };
}

export function unreadable(path: string, errorCode = 'EACCES'): ManifestEntry {
  return { path, type: 'error', size: 0, mtime: 0, mode: 0, errorCode, error: 'permission denied' };
}

/** Entries in manifest order, as an async stream (the way the scanner and the peer deliver them). */
export async function* stream(entries: ManifestEntry[]): AsyncGenerator<ManifestEntry> {
  for (const entry of [...entries].sort(compareEntries)) yield entry;
}
