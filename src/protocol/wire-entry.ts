/**
 * A ManifestEntry on the wire: a map with one-letter keys, the type as a
 * small integer and the hash as 32 bytes of binary (half the size of hex).
 * fromWireEntry is part of the validating decoder: it checks types, caps,
 * hostile paths and the invariants between fields.
 */
import { ENTRY_FLAGS, type EntryFlag, type EntryType, type ManifestEntry } from '../manifest/entry.js';
import { ProtocolError } from './errors.js';
import { checkStringSize, malformed, UINT } from './fields.js';
import { LIMITS } from './limits.js';
import { peerPathProblem } from './paths.js';
import { printableQuote } from '../base/printable.js';

/**
 * Positional: [path, type, size, mtime, mode, hash, target, raw, flags,
 * errorCode, error]. Absent fields in the middle are nil, absent trailing
 * fields are left off; elements past the 11th (a later revision's fields)
 * are ignored. Arrays pack and unpack several times faster than maps.
 */
export type WireEntry = [
  path: string,
  type: number,
  size: number,
  mtime: number,
  mode: number,
  hash?: Uint8Array | null,
  target?: string | null,
  raw?: string | null,
  flags?: string[] | null,
  errorCode?: string | null,
  error?: string | null,
];

const TYPE_CODES: Record<EntryType, number> = { file: 0, dir: 1, symlink: 2, error: 3 };
const TYPES_BY_CODE: readonly EntryType[] = ['file', 'dir', 'symlink', 'error'];
const KNOWN_FLAGS = new Set<string>(ENTRY_FLAGS);

/**
 * `hashes`, when given, is scratch space the hash bytes are written into
 * (the encoder copies them out when packing): one allocation per batch
 * instead of one per entry.
 */
export function toWireEntry(entry: ManifestEntry): WireEntry {
  return toWireEntryWithScratch(entry, undefined);
}

export function toWireEntryWithScratch(entry: ManifestEntry, hashes: { buffer: Buffer; offset: number } | undefined): WireEntry {
  if (
    entry.hash !== undefined &&
    entry.target === undefined &&
    entry.raw === undefined &&
    entry.flags === undefined &&
    entry.errorCode === undefined &&
    entry.error === undefined
  ) {
    // The common case, a hashed file and nothing else.
    return [entry.path, TYPE_CODES[entry.type], entry.size, entry.mtime, entry.mode, hashBytes(entry, hashes)];
  }
  const wire: WireEntry = [entry.path, TYPE_CODES[entry.type], entry.size, entry.mtime, entry.mode];
  const tail: Array<Uint8Array | string | string[] | null> = [
    entry.hash === undefined ? null : hashBytes(entry, hashes),
    entry.target ?? null,
    entry.raw ?? null,
    entry.flags !== undefined && entry.flags.length > 0 ? entry.flags : null,
    entry.errorCode ?? null,
    entry.error ?? null,
  ];
  let last = tail.length;
  while (last > 0 && tail[last - 1] === null) last--;
  for (let i = 0; i < last; i++) (wire as unknown[]).push(tail[i]);
  return wire;
}

function hashBytes(entry: ManifestEntry, scratch: { buffer: Buffer; offset: number } | undefined): Buffer {
  const hex = entry.hash!;
  let bytes: Buffer;
  let written: number;
  if (scratch !== undefined && scratch.offset + LIMITS.hashBytes <= scratch.buffer.length) {
    written = writeHex(hex, scratch.buffer, scratch.offset);
    bytes = scratch.buffer.subarray(scratch.offset, scratch.offset + LIMITS.hashBytes);
    scratch.offset += LIMITS.hashBytes;
  } else {
    bytes = Buffer.from(hex, 'hex');
    written = bytes.length;
  }
  // Hex decoding stops at the first non-hex character: a short result means a bad hash (a bug here).
  if (written !== LIMITS.hashBytes || hex.length !== 64) throw new TypeError(`manifest entry ${entry.path}: hash is not 64 hex digits`);
  return bytes;
}

// Nibble value of each character code, -1 for non-hex: a JS loop beats Buffer#write(hex) for 32 bytes.
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) NIBBLE[97 + i] = NIBBLE[65 + i] = 10 + i;

/** Decode 64 hex digits into `out` at `offset`; returns the bytes written (32 unless the text is not hex). */
function writeHex(hex: string, out: Buffer, offset: number): number {
  if (hex.length !== 64) return 0;
  for (let i = 0; i < 32; i++) {
    const hi = NIBBLE[hex.charCodeAt(2 * i) & 0x7f]!;
    const lo = NIBBLE[hex.charCodeAt(2 * i + 1) & 0x7f]!;
    if (hi < 0 || lo < 0 || hex.charCodeAt(2 * i) > 0x7f || hex.charCodeAt(2 * i + 1) > 0x7f) return i;
    out[offset + i] = (hi << 4) | lo;
  }
  return 32;
}

/** Rough upper bound of an entry's encoded size, for batching. */
export function estimateWireBytes(entry: ManifestEntry): number {
  return 64 + entry.path.length * 3 + (entry.raw?.length ?? 0) * 3 + (entry.target?.length ?? 0) * 3 + (entry.error?.length ?? 0) * 3;
}

const WHERE = 'manifest entry';

export function fromWireEntry(value: unknown): ManifestEntry {
  if (!Array.isArray(value) || value.length < 5) throw malformed(WHERE, 'entry', 'an array of at least 5 fields', value);
  // Indexed reads, not destructuring: this runs a million times per manifest.
  const fields = value as unknown[];
  const path = fields[0];
  const typeCode = fields[1];
  const size = fields[2];
  const mtime = fields[3];
  const mode = fields[4];
  const hash = fields[5];
  const target = fields[6];
  const raw = fields[7];
  const flags = fields[8];
  const errorCode = fields[9];
  const error = fields[10];
  if (typeof path !== 'string') throw malformed(WHERE, 'path', 'a string', path);
  const pathProblem = peerPathProblem(path, true);
  if (pathProblem !== undefined)
    throw new ProtocolError('E_BAD_PATH', `the peer sent the unsafe path ${printableQuote(path)}: ${pathProblem}`);
  // Named in errors only: not built for each of a million good entries.
  const where = (): string => `manifest entry ${printableQuote(path)}`;
  if (typeof typeCode !== 'number' || !Number.isInteger(typeCode) || typeCode < 0 || typeCode >= TYPES_BY_CODE.length) {
    throw malformed(where(), 'type', 'a type code from 0 to 3', typeCode);
  }
  const type = TYPES_BY_CODE[typeCode]!;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw malformed(where(), 'size', UINT, size);
  if (typeof mtime !== 'number' || !Number.isSafeInteger(mtime))
    throw malformed(where(), 'mtime', 'an integer between -2^53 and 2^53', mtime);
  if (typeof mode !== 'number' || !Number.isInteger(mode) || mode < 0) throw malformed(where(), 'mode', 'a non-negative integer', mode);
  if (mode > LIMITS.maxMode) throw new ProtocolError('E_LIMIT', `${where()}: mode ${mode} is over ${LIMITS.maxMode}`);
  const entry: ManifestEntry = { path, type, size, mtime, mode };
  if (type !== 'file' && size !== 0) throw bad(where(), `a ${type} must have size 0`);

  if (hash !== undefined && hash !== null) {
    if (!(hash instanceof Uint8Array)) throw malformed(where(), 'hash', '32 bytes of binary', hash);
    if (hash.length !== LIMITS.hashBytes) throw bad(where(), `the hash has ${hash.length} bytes instead of ${LIMITS.hashBytes}`);
    if (type !== 'file') throw bad(where(), `a ${type} cannot have a hash`);
    entry.hash = (Buffer.isBuffer(hash) ? hash : Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength)).toString('hex');
  }

  if (target !== undefined && target !== null) {
    if (typeof target !== 'string') throw malformed(where(), 'target', 'a string', target);
    checkStringSize(target, 'target', where(), LIMITS.targetBytes, 1);
    if (type !== 'symlink') throw bad(where(), `a ${type} cannot have a symlink target`);
    if (target.includes('\0')) throw new ProtocolError('E_BAD_PATH', `${where()}: the symlink target contains a NUL character`);
    entry.target = target;
  } else if (type === 'symlink') {
    throw bad(where(), 'a symlink must have a target');
  }

  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'string') throw malformed(where(), 'raw', 'a string', raw);
    const rawProblem = peerPathProblem(raw, false);
    if (rawProblem !== undefined)
      throw new ProtocolError('E_BAD_PATH', `the peer sent the unsafe on-disk name ${printableQuote(raw)}: ${rawProblem}`);
    if (raw === path || raw.normalize('NFC') !== path) throw bad(where(), 'the on-disk name must differ from the key and normalise to it');
    entry.raw = raw;
  }

  if (flags !== undefined && flags !== null) {
    if (!Array.isArray(flags)) throw malformed(where(), 'flags', 'an array of strings', flags);
    if (flags.length > LIMITS.entryFlags) throw new ProtocolError('E_LIMIT', `${where()}: more than ${LIMITS.entryFlags} flags`);
    const known: EntryFlag[] = [];
    for (const flag of flags as unknown[]) {
      if (typeof flag !== 'string') throw malformed(where(), 'flags[]', 'a string', flag);
      checkStringSize(flag, 'flags[]', where(), LIMITS.entryFlagBytes);
      // Unknown flags come from newer peers: dropped, as documented.
      if (KNOWN_FLAGS.has(flag) && !known.includes(flag as EntryFlag)) known.push(flag as EntryFlag);
    }
    if (known.length > 0) entry.flags = known;
  }

  if (type === 'error') {
    if (typeof errorCode !== 'string' || !/^[A-Z0-9_]{1,32}$/.test(errorCode))
      throw malformed(where(), 'errorCode', 'a code of 1-32 A-Z, 0-9 and _', errorCode);
    entry.errorCode = errorCode;
    if (error !== undefined && error !== null) {
      if (typeof error !== 'string') throw malformed(where(), 'error', 'a string', error);
      checkStringSize(error, 'error', where(), LIMITS.entryErrorBytes);
      entry.error = error;
    }
  } else if ((errorCode !== undefined && errorCode !== null) || (error !== undefined && error !== null)) {
    throw bad(where(), `a ${type} cannot carry an error`);
  }
  return entry;
}

function bad(where: string, what: string): ProtocolError {
  return new ProtocolError('E_BAD_ENTRY', `${where}: ${what}`);
}
