/**
 * Manifest entries packed for a trip between threads. Structured clone
 * rebuilds every object field by field on the receiving thread, which costs
 * about as much as the scan saves by running elsewhere; packed, a batch is
 * two strings and a Float64Array: the receiver splits the strings and reads
 * the numbers. Fields most entries lack (raw name, target, flags, errors)
 * travel beside them, by index.
 */
import type { EntryType, ManifestEntry } from '../manifest/entry.js';

/** Paths never contain NUL (neither POSIX nor Windows names can). */
const SEPARATOR = '\0';
const HASH_CHARS = 64;
/** Per entry: type code, size, mtime, mode, has hash (1/0). */
const NUMBERS_PER_ENTRY = 5;
const TYPES: readonly EntryType[] = ['file', 'dir', 'symlink', 'error'];
const TYPE_CODES: Record<EntryType, number> = { file: 0, dir: 1, symlink: 2, error: 3 };

type Extras = Pick<ManifestEntry, 'raw' | 'target' | 'flags' | 'errorCode' | 'error'>;

export interface EntryBatch {
  /** The paths, each followed by a NUL. */
  paths: string;
  /** The hashes of the entries that have one, 64 hex digits each, in order. */
  hashes: string;
  numbers: Float64Array;
  /** [index, fields] of the entries that carry more than path, type, size, mtime, mode and hash. */
  extras: Array<[number, Extras]>;
}

export function packEntries(entries: readonly ManifestEntry[]): EntryBatch {
  const numbers = new Float64Array(entries.length * NUMBERS_PER_ENTRY);
  const extras: Array<[number, Extras]> = [];
  let paths = '';
  let hashes = '';
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    paths += entry.path + SEPARATOR;
    const at = i * NUMBERS_PER_ENTRY;
    numbers[at] = TYPE_CODES[entry.type];
    numbers[at + 1] = entry.size;
    numbers[at + 2] = entry.mtime;
    numbers[at + 3] = entry.mode;
    if (entry.hash !== undefined) {
      if (entry.hash.length !== HASH_CHARS) throw new TypeError(`manifest entry ${entry.path}: hash is not ${HASH_CHARS} hex digits`);
      hashes += entry.hash;
      numbers[at + 4] = 1;
    }
    if (
      entry.raw !== undefined ||
      entry.target !== undefined ||
      entry.flags !== undefined ||
      entry.errorCode !== undefined ||
      entry.error !== undefined
    ) {
      const extra: Extras = {};
      if (entry.raw !== undefined) extra.raw = entry.raw;
      if (entry.target !== undefined) extra.target = entry.target;
      if (entry.flags !== undefined) extra.flags = entry.flags;
      if (entry.errorCode !== undefined) extra.errorCode = entry.errorCode;
      if (entry.error !== undefined) extra.error = entry.error;
      extras.push([i, extra]);
    }
  }
  return { paths, hashes, numbers, extras };
}

export function unpackEntries(batch: EntryBatch): ManifestEntry[] {
  const { numbers, hashes } = batch;
  const count = numbers.length / NUMBERS_PER_ENTRY;
  const paths = batch.paths.split(SEPARATOR);
  const entries = new Array<ManifestEntry>(count);
  let hashAt = 0;
  for (let i = 0; i < count; i++) {
    const at = i * NUMBERS_PER_ENTRY;
    const entry: ManifestEntry = {
      path: paths[i]!,
      type: TYPES[numbers[at]!]!,
      size: numbers[at + 1]!,
      mtime: numbers[at + 2]!,
      mode: numbers[at + 3]!,
    };
    if (numbers[at + 4] === 1) {
      entry.hash = hashes.slice(hashAt, hashAt + HASH_CHARS);
      hashAt += HASH_CHARS;
    }
    entries[i] = entry;
  }
  for (const [index, extra] of batch.extras) Object.assign(entries[index]!, extra);
  return entries;
}
