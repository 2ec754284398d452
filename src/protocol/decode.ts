/**
 * The one validating decoder (docs/protocol.md section 2). Checks, in this
 * order: frame size, envelope, version, type, then fields and invariants.
 * Whatever it returns is safe for the rest of synker to use.
 */
import { Unpackr } from 'msgpackr';
import type { ManifestEntry } from '../manifest/entry.js';
import { printableQuote } from '../base/printable.js';
import { ProtocolError } from './errors.js';
import {
  codeString,
  isMap,
  malformed,
  optionalBoolean,
  optionalString,
  optionalUint,
  string,
  stringArray,
  uint,
  UINT,
  type Body,
} from './fields.js';
import { LIMITS, MAX_FRAME_BYTES, PROTOCOL_VERSION } from './limits.js';
import {
  MESSAGE_TYPES,
  VERDICT_BY,
  type BackupVerdictMessage,
  type DecodedMessage,
  type FileEndMessage,
  type ManifestBeginMessage,
  type ManifestRequestMessage,
  type VerifiedRecordAnswer,
} from './messages.js';
import { peerPathProblem } from './paths.js';
import { checkFrameShape } from './shape.js';
import { fromWireEntry } from './wire-entry.js';
import { formatCount, plural } from '../base/units.js';

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const DEVICE_ID = /^[A-Z2-7]{56}$/;

export function decodeFrame(frame: Uint8Array): DecodedMessage {
  // 1. Frame size, before reading anything.
  if (frame.byteLength > MAX_FRAME_BYTES) {
    throw new ProtocolError('E_FRAME_TOO_LARGE', `the peer sent a frame of ${frame.byteLength} bytes; the limit is ${MAX_FRAME_BYTES}`);
  }
  // 2. Envelope: plain msgpack only (shape.ts), so that what msgpackr builds costs no more than the bytes it reads.
  checkFrameShape(frame);
  let value: unknown;
  try {
    value = unpackr.unpack(frame);
  } catch (err) {
    // Not reached for a frame that passed checkFrameShape; msgpackr's own words may quote the frame, so only the first line, cut.
    throw new ProtocolError('E_MALFORMED', `the peer sent a frame that is not valid msgpack (${printableQuote((err as Error).message)})`);
  }
  if (!Array.isArray(value) || value.length !== 3) throw malformed('frame', 'frame', 'an array of three: [version, type, body]', value);
  const [version, type, body] = value as [unknown, unknown, unknown];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) throw malformed('frame', 'version', UINT, version);
  if (typeof type !== 'number' || !Number.isSafeInteger(type) || type < 0) throw malformed('frame', 'type', UINT, type);
  if (!isMap(body)) throw malformed('frame', 'body', 'a map', body);

  // 3. Version: hello and error are frozen across versions so a mismatch can be explained.
  if (type === MESSAGE_TYPES.hello) return decodeHello(version, body);
  if (type === MESSAGE_TYPES.error) return decodeError(version, body);
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      'E_VERSION',
      `the peer sent a protocol version ${version} frame; this synker speaks version ${PROTOCOL_VERSION}`,
    );
  }

  // 4. Type, 5. fields.
  switch (type) {
    case MESSAGE_TYPES.manifestRequest: {
      const where = 'manifest-request';
      const files = optionalBoolean(body, 'files', where);
      const verify = optionalBoolean(body, 'verify', where);
      const hash = optionalBoolean(body, 'hash', where);
      if (verify === true && hash === false)
        throw new ProtocolError('E_MALFORMED', `${where}: "verify" (re-hash every file) contradicts "hash": false (hash nothing)`);
      const request: ManifestRequestMessage = {
        kind: 'manifestRequest',
        req: uint(body, 'req', where, LIMITS.maxReq),
        folder: folderId(body, where),
      };
      // Only what differs from the defaults is kept: absent means false, false, true.
      if (files === true) request.files = true;
      if (verify === true) request.verify = true;
      if (hash === false) request.hash = false;
      return request;
    }
    case MESSAGE_TYPES.manifestBegin: {
      const where = 'manifest-begin';
      const role = body.role;
      if (role !== 'source' && role !== 'backup') throw malformed(where, 'role', '"source" or "backup"', role);
      const begin: ManifestBeginMessage = {
        kind: 'manifestBegin',
        req: uint(body, 'req', where, LIMITS.maxReq),
        folder: folderId(body, where),
        role,
        ignore: stringArray(body, 'ignore', where, LIMITS.ignoreLines, LIMITS.ignoreLineBytes),
      };
      if (optionalBoolean(body, 'modes', where) === false) begin.modes = false;
      return begin;
    }
    case MESSAGE_TYPES.manifestEntries: {
      const where = 'manifest-entries';
      const req = uint(body, 'req', where, LIMITS.maxReq);
      const wire = body.entries;
      if (!Array.isArray(wire)) throw malformed(where, 'entries', 'an array', wire);
      if (wire.length === 0) throw new ProtocolError('E_MALFORMED', `${where}: the batch is empty`);
      if (wire.length > LIMITS.batchEntries) {
        throw new ProtocolError(
          'E_LIMIT',
          `${where}: ${plural(wire.length, 'entry', 'entries')} in one batch, more than the limit ${formatCount(LIMITS.batchEntries)}`,
        );
      }
      const entries: ManifestEntry[] = new Array<ManifestEntry>(wire.length);
      for (let i = 0; i < wire.length; i++) entries[i] = fromWireEntry(wire[i]);
      return { kind: 'manifestEntries', req, entries };
    }
    case MESSAGE_TYPES.manifestEnd: {
      const where = 'manifest-end';
      const max = LIMITS.manifestEntries;
      return {
        kind: 'manifestEnd',
        req: uint(body, 'req', where, LIMITS.maxReq),
        count: uint(body, 'count', where, max),
        files: uint(body, 'files', where, max),
        dirs: uint(body, 'dirs', where, max),
        symlinks: uint(body, 'symlinks', where, max),
        errors: uint(body, 'errors', where, max),
        bytes: uint(body, 'bytes', where),
      };
    }
    case MESSAGE_TYPES.cancel:
      return { kind: 'cancel', req: uint(body, 'req', 'cancel', LIMITS.maxReq) };
    case MESSAGE_TYPES.verifiedRequest: {
      const where = 'verified-request';
      const paths = stringArray(body, 'paths', where, LIMITS.verifiedPaths, LIMITS.pathBytes);
      for (const path of paths) {
        const problem = peerPathProblem(path, true);
        if (problem !== undefined) throw new ProtocolError('E_BAD_PATH', `${where}: ${problem}: ${printableQuote(path)}`);
      }
      return { kind: 'verifiedRequest', req: uint(body, 'req', where, LIMITS.maxReq), folder: folderId(body, where), paths };
    }
    case MESSAGE_TYPES.verifiedRecords: {
      const where = 'verified-records';
      const wire = body.records;
      if (!Array.isArray(wire)) throw malformed(where, 'records', 'an array', wire);
      if (wire.length > LIMITS.verifiedPaths)
        throw new ProtocolError('E_LIMIT', `${where}: ${wire.length} records in one answer, more than the limit ${LIMITS.verifiedPaths}`);
      const records = wire.map((r: unknown) => verifiedRecord(r, where));
      return { kind: 'verifiedRecords', req: uint(body, 'req', where, LIMITS.maxReq), records };
    }
    case MESSAGE_TYPES.progress:
      return {
        kind: 'progress',
        req: uint(body, 'req', 'progress', LIMITS.maxReq),
        items: uint(body, 'items', 'progress'),
        bytes: uint(body, 'bytes', 'progress'),
      };
    case MESSAGE_TYPES.backupVerdict:
      return decodeBackupVerdict(body);
    case MESSAGE_TYPES.backupVerdictAck:
      return { kind: 'backupVerdictAck', req: uint(body, 'req', 'backup-verdict-ack', LIMITS.maxReq) };
    case MESSAGE_TYPES.fileRequest: {
      const where = 'file-request';
      const path = string(body, 'path', where, LIMITS.pathBytes, 1);
      const problem = peerPathProblem(path, true);
      if (problem !== undefined) throw new ProtocolError('E_BAD_PATH', `${where}: ${problem}: ${printableQuote(path)}`);
      const size = uint(body, 'size', where);
      const offset = uint(body, 'offset', where);
      if (offset > size) throw new ProtocolError('E_MALFORMED', `${where}: offset ${offset} is past the end of the ${size}-byte file`);
      return {
        kind: 'fileRequest',
        req: uint(body, 'req', where, LIMITS.maxReq),
        folder: folderId(body, where),
        path,
        hash: sha256(body, where),
        size,
        offset,
      };
    }
    case MESSAGE_TYPES.fileData: {
      const where = 'file-data';
      const data = body.data;
      if (!(data instanceof Uint8Array)) throw malformed(where, 'data', 'binary data', data);
      if (data.length === 0) throw new ProtocolError('E_MALFORMED', `${where}: the chunk is empty`);
      if (data.length > LIMITS.fileDataBytes)
        throw new ProtocolError('E_LIMIT', `${where}: a chunk of ${data.length} bytes, more than the limit ${LIMITS.fileDataBytes}`);
      return { kind: 'fileData', req: uint(body, 'req', where, LIMITS.maxReq), offset: uint(body, 'offset', where), data };
    }
    case MESSAGE_TYPES.fileEnd: {
      const where = 'file-end';
      const end: FileEndMessage = { kind: 'fileEnd', req: uint(body, 'req', where, LIMITS.maxReq), size: uint(body, 'size', where) };
      // Optional: the client verifies what it stored against the manifest; a server that hashed while reading may say so too.
      if (body.hash !== undefined) end.hash = sha256(body, where);
      return end;
    }
    default: {
      // Unknown type: not fatal (a newer peer probing); its req, when valid, gets an E_UNSUPPORTED answer.
      const req = body.req;
      return typeof req === 'number' && Number.isSafeInteger(req) && req >= 0 && req <= LIMITS.maxReq
        ? { kind: 'unknown', type, req }
        : { kind: 'unknown', type };
    }
  }
}

function decodeHello(version: number, body: Body): DecodedMessage {
  const where = 'hello';
  const name = string(body, 'name', where, LIMITS.nameBytes, 1);
  const deviceId = string(body, 'deviceId', where, 56, 1);
  // "y" or "ABC" is not a device ID at all: say what one looks like rather than "is empty" or "got a string".
  if (!DEVICE_ID.test(deviceId)) {
    throw new ProtocolError(
      'E_MALFORMED',
      `${where}: "deviceId" is not a device ID (56 characters of A-Z and 2-7, got ${deviceId.length} character${deviceId.length === 1 ? '' : 's'})`,
    );
  }
  const software = string(body, 'software', where, LIMITS.softwareBytes);
  const features = body.features === undefined ? [] : stringArray(body, 'features', where, LIMITS.features, LIMITS.featureBytes);
  return { kind: 'hello', version, name, deviceId, software, features };
}

function decodeError(version: number, body: Body): DecodedMessage {
  const where = 'error';
  const message = {
    kind: 'error' as const,
    version,
    code: codeString(body, 'code', where, LIMITS.errorCodeBytes),
    message: string(body, 'message', where, LIMITS.errorMessageBytes),
  };
  const hint = optionalString(body, 'hint', where, LIMITS.errorHintBytes);
  const req = optionalUint(body, 'req', where, LIMITS.maxReq);
  return { ...message, ...(hint === undefined ? {} : { hint }), ...(req === undefined ? {} : { req }) };
}

function decodeBackupVerdict(body: Body): BackupVerdictMessage {
  const where = 'backup-verdict';
  const status = body.status;
  if (status !== 'complete' && status !== 'differences' && status !== 'error')
    throw malformed(where, 'status', '"complete", "differences" or "error"', status);
  const by = body.by;
  if (typeof by !== 'string' || !(VERDICT_BY as readonly string[]).includes(by))
    throw malformed(where, 'by', VERDICT_BY.map((b) => `"${b}"`).join(', '), by);
  const summary = string(body, 'summary', where, LIMITS.verdictSummaryBytes, 1);
  // One line: the source shows it in a table and an e-mail.
  if (/[\x00-\x1f\x7f]/.test(summary)) throw malformed(where, 'summary', 'one line without control characters', summary);
  const verdict: BackupVerdictMessage = {
    kind: 'backupVerdict',
    req: uint(body, 'req', where, LIMITS.maxReq),
    folder: folderId(body, where),
    at: uint(body, 'at', where, LIMITS.maxVerdictAt),
    status,
    summary,
    by: by as BackupVerdictMessage['by'],
  };
  const differences = optionalUint(body, 'differences', where, LIMITS.manifestEntries);
  const bytesMissing = optionalUint(body, 'bytesMissing', where);
  const fixed = optionalUint(body, 'fixed', where, LIMITS.manifestEntries);
  const errorCode =
    body.errorCode === undefined || body.errorCode === null ? undefined : codeString(body, 'errorCode', where, LIMITS.errorCodeBytes);
  if (status === 'complete' && differences !== undefined && differences > 0)
    throw new ProtocolError('E_MALFORMED', `${where}: "complete" with ${plural(differences, 'difference')}`);
  if (errorCode !== undefined && status !== 'error')
    throw new ProtocolError('E_MALFORMED', `${where}: "errorCode" on a verdict that is not an error`);
  if (differences !== undefined) verdict.differences = differences;
  if (bytesMissing !== undefined) verdict.bytesMissing = bytesMissing;
  if (fixed !== undefined) verdict.fixed = fixed;
  if (errorCode !== undefined) verdict.errorCode = errorCode;
  return verdict;
}

/** One record of a verified-records answer: nil, or [hash (32 bytes), size, mtime]. */
function verifiedRecord(r: unknown, where: string): VerifiedRecordAnswer | null {
  if (r === null || r === undefined) return null;
  if (!Array.isArray(r) || r.length !== 3) throw malformed(where, 'record', 'nil or [hash, size, mtime]', r);
  const [hash, size, mtime] = r as [unknown, unknown, unknown];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw malformed(where, 'size', UINT, size);
  if (typeof mtime !== 'number' || !Number.isSafeInteger(mtime))
    throw malformed(where, 'mtime', 'an integer between -2^53 and 2^53', mtime);
  return { hash: sha256({ hash }, where), size, mtime };
}

function sha256(body: Body, where: string): string {
  const hash = body.hash;
  if (!(hash instanceof Uint8Array)) throw malformed(where, 'hash', '32 bytes of binary', hash);
  if (hash.length !== LIMITS.hashBytes)
    throw new ProtocolError('E_MALFORMED', `${where}: the hash has ${hash.length} bytes instead of ${LIMITS.hashBytes}`);
  return Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString('hex');
}

function folderId(body: Body, where: string): string {
  const folder = string(body, 'folder', where, LIMITS.folderIdBytes, 1);
  if (/[\x00-\x1f\x7f]/.test(folder)) throw malformed(where, 'folder', 'a folder ID without control characters', folder);
  return folder;
}
