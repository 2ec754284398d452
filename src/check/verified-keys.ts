/**
 * The keys and the stored form of the verified records (check/verified-store.ts): a record's key
 * is its path, or for a path too long for a plain key its hash under HASHED_KEY_PREFIX.
 */
import { createHash } from 'node:crypto';
import type { VerifiedRecord } from '../diff/index.js';

/** LMDB keys are limited to ~2 KB: longer paths are stored under their hash. */
const MAX_PLAIN_KEY_BYTES = 1500;

/**
 * The key of a path too long for a plain key: this prefix and the path's SHA-256 in hex. No
 * relative path begins with `/`, so no plain key does; it reads back from both stores as written
 * (ordered-binary: every character above U+0004, the first above U+001B), and these keys are one
 * run in key order (recordMoved reads them by the prefix). Earlier versions used LEGACY_PREFIX,
 * whose key reads back as a list, not a string: open() moves such records (migrate).
 */
export const HASHED_KEY_PREFIX = '/sha256:';
export const LEGACY_PREFIX = '\u0001sha256:';

export function hashedKey(path: string, prefix = HASHED_KEY_PREFIX): string {
  return `${prefix}${createHash('sha256').update(path).digest('hex')}`;
}

export function keyOf(path: string): string {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: most paths need no byte count.
  return path.length * 3 <= MAX_PLAIN_KEY_BYTES || Buffer.byteLength(path) <= MAX_PLAIN_KEY_BYTES ? path : hashedKey(path);
}

/**
 * A record as stored: [hash, size, mtime] plus, under a hashed key, the
 * path it belongs to. An array, not a map: a million of them decode several
 * times faster. The hash is written as its 32 bytes (34 in msgpack, not 66
 * as hex: about 30 B less per file on disk, and as much less of the map in
 * memory). Older versions stored the hash as hex, and before that maps: all
 * are read, and a record not in the current form is rewritten when it next
 * matches (bytesForm).
 */
export type StoredRecord = [hash: string | Uint8Array, size: number, mtime: number, path?: string] | (VerifiedRecord & { path?: string });

export function pathOf(stored: StoredRecord, key: string): string {
  return storedPath(stored) ?? key;
}

/** The path a record holds (those under a hashed key do). */
export function storedPath(stored: StoredRecord): string | undefined {
  return Array.isArray(stored) ? stored[3] : stored.path;
}
