/**
 * A ManifestEntry on the wire: a map with one-letter keys, the type as a
 * small integer and the hash as 32 bytes of binary (half the size of hex).
 * fromWireEntry is part of the validating decoder: it checks types, caps,
 * hostile paths and the invariants between fields.
 */
import { ENTRY_FLAGS, type EntryFlag, type EntryType, type ManifestEntry } from '../manifest/entry.js';
import { ProtocolError } from './errors.js';
import { checkStringSize, codeString, isMap, malformed, optionalString, string, uint } from './fields.js';
import { LIMITS } from './limits.js';
import { peerPathProblem } from './paths.js';

export interface WireEntry {
  p: string;
  k: number;
  s: number;
  m: number;
  o: number;
  h?: Uint8Array;
  l?: string;
  r?: string;
  f?: string[];
  c?: string;
  e?: string;
}

const TYPE_CODES: Record<EntryType, number> = { file: 0, dir: 1, symlink: 2, error: 3 };
const TYPES_BY_CODE: readonly EntryType[] = ['file', 'dir', 'symlink', 'error'];
const KNOWN_FLAGS = new Set<string>(ENTRY_FLAGS);
const HEX_HASH = /^[0-9a-f]{64}$/;

export function toWireEntry(entry: ManifestEntry): WireEntry {
  const wire: WireEntry = { p: entry.path, k: TYPE_CODES[entry.type], s: entry.size, m: entry.mtime, o: entry.mode };
  if (entry.hash !== undefined) {
    if (!HEX_HASH.test(entry.hash)) throw new TypeError(`manifest entry ${entry.path}: hash is not 64 lowercase hex digits`);
    wire.h = Buffer.from(entry.hash, 'hex');
  }
  if (entry.target !== undefined) wire.l = entry.target;
  if (entry.raw !== undefined) wire.r = entry.raw;
  if (entry.flags !== undefined && entry.flags.length > 0) wire.f = entry.flags;
  if (entry.errorCode !== undefined) wire.c = entry.errorCode;
  if (entry.error !== undefined) wire.e = entry.error;
  return wire;
}

/** Rough upper bound of an entry's encoded size, for batching. */
export function estimateWireBytes(entry: ManifestEntry): number {
  return 64 + entry.path.length * 3 + (entry.raw?.length ?? 0) * 3 + (entry.target?.length ?? 0) * 3 + (entry.error?.length ?? 0) * 3;
}

const WHERE = 'manifest entry';

export function fromWireEntry(value: unknown): ManifestEntry {
  if (!isMap(value)) throw malformed(WHERE, 'entry', 'a map', value);
  const path = string(value, 'p', WHERE, LIMITS.pathBytes);
  const pathProblem = peerPathProblem(path, true);
  if (pathProblem !== undefined) throw new ProtocolError('E_BAD_PATH', `the peer sent the unsafe path ${JSON.stringify(path)}: ${pathProblem}`);
  const where = `manifest entry ${JSON.stringify(path)}`;
  const type = TYPES_BY_CODE[uint(value, 'k', where, TYPES_BY_CODE.length - 1)]!;
  const size = uint(value, 's', where);
  const mtime = value['m'];
  if (typeof mtime !== 'number' || !Number.isSafeInteger(mtime)) throw malformed(where, 'm', 'an integer', mtime);
  const mode = uint(value, 'o', where, LIMITS.maxMode);
  const entry: ManifestEntry = { path, type, size, mtime, mode };
  if (type !== 'file' && size !== 0) throw bad(where, `a ${type} must have size 0`);

  const hash = value['h'];
  if (hash !== undefined && hash !== null) {
    if (!(hash instanceof Uint8Array)) throw malformed(where, 'h', '32 bytes of binary', hash);
    if (hash.length !== LIMITS.hashBytes) throw bad(where, `the hash has ${hash.length} bytes instead of ${LIMITS.hashBytes}`);
    if (type !== 'file') throw bad(where, `a ${type} cannot have a hash`);
    entry.hash = Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex');
  }

  const target = optionalString(value, 'l', where, LIMITS.targetBytes, 1);
  if (type === 'symlink') {
    if (target === undefined) throw bad(where, 'a symlink must have a target');
    if (target.includes('\0')) throw new ProtocolError('E_BAD_PATH', `${where}: the symlink target contains a NUL character`);
    entry.target = target;
  } else if (target !== undefined) {
    throw bad(where, `a ${type} cannot have a symlink target`);
  }

  const raw = optionalString(value, 'r', where, LIMITS.pathBytes);
  if (raw !== undefined) {
    const rawProblem = peerPathProblem(raw, false);
    if (rawProblem !== undefined) throw new ProtocolError('E_BAD_PATH', `the peer sent the unsafe on-disk name ${JSON.stringify(raw)}: ${rawProblem}`);
    if (raw === path || raw.normalize('NFC') !== path) throw bad(where, 'the on-disk name must differ from the key and normalise to it');
    entry.raw = raw;
  }

  const flags = value['f'];
  if (flags !== undefined && flags !== null) {
    if (!Array.isArray(flags)) throw malformed(where, 'f', 'an array of strings', flags);
    if (flags.length > LIMITS.entryFlags) throw new ProtocolError('E_LIMIT', `${where}: more than ${LIMITS.entryFlags} flags`);
    const known: EntryFlag[] = [];
    for (const flag of flags) {
      if (typeof flag !== 'string') throw malformed(where, 'f[]', 'a string', flag);
      checkStringSize(flag, 'f[]', where, LIMITS.entryFlagBytes);
      // Unknown flags come from newer peers: dropped, as documented.
      if (KNOWN_FLAGS.has(flag) && !known.includes(flag as EntryFlag)) known.push(flag as EntryFlag);
    }
    if (known.length > 0) entry.flags = known;
  }

  if (type === 'error') {
    entry.errorCode = codeString(value, 'c', where, LIMITS.entryErrorCodeBytes);
    const error = optionalString(value, 'e', where, LIMITS.entryErrorBytes);
    if (error !== undefined) entry.error = error;
  } else if (value['c'] !== undefined || value['e'] !== undefined) {
    throw bad(where, `a ${type} cannot carry an error`);
  }
  return entry;
}

function bad(where: string, what: string): ProtocolError {
  return new ProtocolError('E_BAD_ENTRY', `${where}: ${what}`);
}
