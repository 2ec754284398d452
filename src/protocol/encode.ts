/**
 * The one encoder: domain messages to frames `[version, type, body]`.
 * It only ever emits what decode.ts accepts (see the round-trip tests);
 * hostile-peer tests build bad frames with raw msgpackr instead.
 */
import { Packr } from 'msgpackr';
import { MESSAGE_TYPES, type OutgoingMessage } from './messages.js';
import { LIMITS, PROTOCOL_VERSION } from './limits.js';
import { toWireEntryWithScratch } from './wire-entry.js';

// Plain maps both ways: records would make the wire depend on shared state.
const packr = new Packr({ useRecords: false });

const HEX_HASH = /^[0-9a-f]{64}$/;

function hashBytes(hash: string): Buffer {
  if (!HEX_HASH.test(hash)) throw new TypeError(`not a SHA-256 hex digest: ${hash}`);
  return Buffer.from(hash, 'hex');
}

/**
 * Free bytes a file reader leaves before each chunk (ReadOptions.headroom) so
 * that encodeFileDataInHeadroom can build the frame around the chunk: the
 * frame's head is at most 1+1+1 (array, version, type) + 1+4+9 (map, "req",
 * uint64) + 7+9 ("offset", uint64) + 5+5 ("data", bin32 length) = 43 bytes.
 */
export const FILE_DATA_HEADROOM = 64;

const EMPTY = Buffer.alloc(0);

/**
 * The `fileData` frame for `data`, exactly as encodeMessage would make it,
 * built without copying the data: the head is written into the
 * FILE_DATA_HEADROOM bytes before `data` in its ArrayBuffer. The caller
 * must own those bytes (a reader given `headroom`, never a pooled Buffer):
 * for the 2 GB of a photos sync, the copy into fresh frames cost the source 0.3-0.4 s of CPU.
 */
export function encodeFileDataInHeadroom(req: number, offset: number, data: Uint8Array): Buffer {
  // The data is the last field: the head is the frame of an empty chunk less its empty bin (c4 00).
  const empty = packr.pack([PROTOCOL_VERSION, MESSAGE_TYPES.fileData, { req, offset, data: EMPTY }]);
  const fieldsLength = empty.length - 2;
  const n = data.length;
  const binHead = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  const start = data.byteOffset - fieldsLength - binHead;
  if (start < 0) {
    // No room before the data: a plain frame, copied.
    return encodeMessage({ kind: 'fileData', req, offset, data });
  }
  const frame = Buffer.from(data.buffer, start, fieldsLength + binHead + n);
  empty.copy(frame, 0, 0, fieldsLength);
  if (binHead === 2) frame.writeUInt8(n, fieldsLength + 1);
  else if (binHead === 3) frame.writeUInt16BE(n, fieldsLength + 1);
  else frame.writeUInt32BE(n, fieldsLength + 1);
  frame[fieldsLength] = binHead === 2 ? 0xc4 : binHead === 3 ? 0xc5 : 0xc6;
  return frame;
}

export function encodeMessage(message: OutgoingMessage): Buffer {
  return packr.pack([PROTOCOL_VERSION, MESSAGE_TYPES[message.kind], wireBody(message)]);
}

function wireBody(message: OutgoingMessage): Record<string, unknown> {
  switch (message.kind) {
    case 'hello':
      return { name: message.name, deviceId: message.deviceId, software: message.software, features: message.features };
    case 'error': {
      const body: Record<string, unknown> = { code: message.code, message: message.message };
      if (message.hint !== undefined) body.hint = message.hint;
      if (message.req !== undefined) body.req = message.req;
      return body;
    }
    case 'manifestRequest': {
      // Defaults stay off the wire, so a plain request reads the same to every version-1 peer.
      const body: Record<string, unknown> = { req: message.req, folder: message.folder };
      if (message.files === true) body.files = true;
      if (message.verify === true) body.verify = true;
      if (message.hash === false) body.hash = false;
      return body;
    }
    case 'manifestBegin': {
      const body: Record<string, unknown> = { req: message.req, folder: message.folder, role: message.role, ignore: message.ignore };
      if (message.modes === false) body.modes = false;
      return body;
    }
    case 'manifestEntries': {
      const hashes = { buffer: Buffer.allocUnsafe(message.entries.length * LIMITS.hashBytes), offset: 0 };
      const entries = new Array<unknown>(message.entries.length);
      for (let i = 0; i < entries.length; i++) entries[i] = toWireEntryWithScratch(message.entries[i]!, hashes);
      return { req: message.req, entries };
    }
    case 'manifestEnd':
      return {
        req: message.req,
        count: message.count,
        files: message.files,
        dirs: message.dirs,
        symlinks: message.symlinks,
        errors: message.errors,
        bytes: message.bytes,
      };
    case 'cancel':
      return { req: message.req };
    case 'verifiedRequest':
      return { req: message.req, folder: message.folder, paths: message.paths };
    case 'verifiedRecords':
      return {
        req: message.req,
        records: message.records.map((r) => (r === null ? null : [hashBytes(r.hash), r.size, r.mtime])),
      };
    case 'progress':
      return { req: message.req, items: message.items, bytes: message.bytes };
    case 'backupVerdict': {
      const body: Record<string, unknown> = {
        req: message.req,
        folder: message.folder,
        at: message.at,
        status: message.status,
        summary: message.summary,
        by: message.by,
      };
      if (message.differences !== undefined) body.differences = message.differences;
      if (message.bytesMissing !== undefined) body.bytesMissing = message.bytesMissing;
      if (message.fixed !== undefined) body.fixed = message.fixed;
      if (message.errorCode !== undefined) body.errorCode = message.errorCode;
      return body;
    }
    case 'backupVerdictAck':
      return { req: message.req };
    case 'fileRequest':
      return {
        req: message.req,
        folder: message.folder,
        path: message.path,
        hash: hashBytes(message.hash),
        size: message.size,
        offset: message.offset,
      };
    case 'fileData':
      return { req: message.req, offset: message.offset, data: message.data };
    case 'fileEnd':
      return { req: message.req, size: message.size, ...(message.hash === undefined ? {} : { hash: hashBytes(message.hash) }) };
  }
}

/** Encode a hello the way any version must, for tests and version refusals. */
export function encodeFrame(version: number, type: number, body: Record<string, unknown>): Buffer {
  return packr.pack([version, type, body]);
}
