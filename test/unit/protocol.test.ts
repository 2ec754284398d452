import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { LOCAL_PEER_ERROR_CODES } from '../../src/peer/errors.js';
import {
  LIMITS,
  MAX_FRAME_BYTES,
  ProtocolError,
  WIRE_ERROR_CODES,
  decodeFrame,
  encodeMessage,
  fromWireEntry,
  peerPathProblem,
  toWireEntry,
  type OutgoingMessage,
} from '../../src/protocol/index.js';

const packr = new Packr({ useRecords: false });
const ID = 'A'.repeat(56);

function decodeError(frame: unknown): ProtocolError {
  try {
    decodeFrame(Buffer.isBuffer(frame) ? frame : packr.pack(frame));
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    return err;
  }
  assert.fail('the frame was accepted');
}

const file: ManifestEntry = { path: 'a/b.jpg', type: 'file', size: 10, mtime: 1_700_000_000_123, mode: 0o644, hash: 'ab'.repeat(32) };

test('every message kind survives encode then decode', () => {
  const messages: OutgoingMessage[] = [
    { kind: 'hello', name: 'nas', deviceId: ID, software: 'synker 1.0.0', features: ['x'] },
    { kind: 'error', code: 'E_FOLDER_NOT_FOUND', message: 'no', hint: 'do this', req: 3 },
    { kind: 'error', code: 'E_VERSION', message: 'no' },
    { kind: 'manifestRequest', req: 1, folder: 'photos' },
    { kind: 'manifestRequest', req: 2, folder: 'photos', files: true },
    { kind: 'manifestBegin', req: 1, folder: 'photos', role: 'backup', ignore: ['*.tmp', '/cache/'] },
    {
      kind: 'manifestEntries',
      req: 1,
      entries: [
        { path: 'a', type: 'dir', size: 0, mtime: -5, mode: 0o755 },
        file,
        { path: 'a/c', type: 'symlink', size: 0, mtime: 1, mode: 0o777, target: '../x' },
        { path: 'a/caf\u00e9', type: 'error', size: 0, mtime: 0, mode: 0, errorCode: 'EACCES', error: 'denied', raw: 'a/cafe\u0301' },
        { path: 'a/d', type: 'file', size: 0, mtime: 1, mode: 0o600, flags: ['unstable', 'windows-name'] },
      ].map((e) => JSON.parse(JSON.stringify(e)) as ManifestEntry),
    },
    { kind: 'manifestEnd', req: 1, count: 4, files: 2, dirs: 1, symlinks: 1, errors: 0, bytes: 10 },
    { kind: 'cancel', req: 9 },
    { kind: 'verifiedRequest', req: 10, folder: 'photos', paths: ['a/b.jpg', 'caf\u00e9.txt'] },
    { kind: 'verifiedRecords', req: 10, records: [{ hash: 'ab'.repeat(32), size: 10, mtime: -5 }, null] },
  ];
  for (const message of messages) {
    const frame = encodeMessage(message);
    assert.ok(frame.length <= MAX_FRAME_BYTES);
    const decoded = decodeFrame(frame) as unknown as Record<string, unknown>;
    const { version, ...rest } = decoded;
    if (message.kind === 'hello' || message.kind === 'error') assert.equal(version, 1);
    assert.deepEqual(rest, message);
  }
});

test('the hash travels as 32 bytes of binary and comes back as hex', () => {
  const wire = toWireEntry(file);
  assert.ok(wire[5] instanceof Uint8Array && wire[5].length === 32);
  assert.deepEqual(fromWireEntry(wire), file);
});

test('the decoder checks size, envelope, version, type, then fields, in that order', () => {
  assert.equal(decodeError(Buffer.alloc(MAX_FRAME_BYTES + 1)).code, 'E_FRAME_TOO_LARGE');
  assert.equal(decodeError(Buffer.from([0xc1, 0xff, 0x00])).code, 'E_MALFORMED');
  assert.equal(decodeError(Buffer.from([0x93, 0x01])).code, 'E_MALFORMED');
  assert.equal(decodeError({ hello: 1 }).code, 'E_MALFORMED');
  assert.equal(decodeError([1, 3]).code, 'E_MALFORMED');
  assert.equal(decodeError([1, 3, [1]]).code, 'E_MALFORMED');
  assert.equal(decodeError(['1', 3, {}]).code, 'E_MALFORMED');
  // A bad version is reported before an unknown type or bad fields.
  assert.equal(decodeError([2, 99, { junk: true }]).code, 'E_VERSION');
  assert.equal(decodeError([2, 3, { req: 'x' }]).code, 'E_VERSION');
  // hello and error decode at any version, so a mismatch can be explained.
  const hello = decodeFrame(packr.pack([7, 1, { name: 'new', deviceId: ID, software: 'synker 9', features: [] }]));
  assert.equal(hello.kind === 'hello' && hello.version, 7);
  // Unknown types are not fatal; a valid req is kept so it can be answered.
  assert.deepEqual(decodeFrame(packr.pack([1, 19, { req: 4, data: Buffer.alloc(3) }])), { kind: 'unknown', type: 19, req: 4 });
  assert.deepEqual(decodeFrame(packr.pack([1, 40, {}])), { kind: 'unknown', type: 40 });
  assert.equal(decodeError([1, 3, { req: -1, folder: 'x' }]).code, 'E_MALFORMED');
  assert.equal(decodeError([1, 3, { req: 2 ** 32, folder: 'x' }]).code, 'E_LIMIT');
  assert.equal(decodeError([1, 3, { req: 1, folder: 'a\nb' }]).code, 'E_MALFORMED');
  assert.equal(decodeError([1, 3, { req: 1, folder: 'a', files: 'yes' }]).code, 'E_MALFORMED');
  assert.equal(decodeError([1, 3, { req: 1, folder: 'x'.repeat(LIMITS.folderIdBytes + 1) }]).code, 'E_LIMIT');
  assert.equal(decodeError([1, 1, { name: 'n', deviceId: 'short', software: 's' }]).code, 'E_MALFORMED');
  // A malformed ID is not called empty: the message says what a device ID is.
  for (const id of ['y', 'ABC', 'a'.repeat(56)]) {
    const bad = decodeError([1, 1, { name: 'n', deviceId: id, software: 's' }]);
    assert.equal(
      bad.message,
      `hello: "deviceId" is not a device ID (56 characters of A-Z and 2-7, got ${id.length} character${id.length === 1 ? '' : 's'})`,
      id,
    );
  }
  assert.match(decodeError([1, 1, { name: 'n', deviceId: '', software: 's' }]).message, /"deviceId" is empty/);
  assert.equal(decodeError([1, 1, { name: 'n'.repeat(200), deviceId: ID, software: 's' }]).code, 'E_LIMIT');
  assert.equal(decodeError([1, 2, { code: 'bad code', message: 'm' }]).code, 'E_MALFORMED');
  assert.equal(decodeError([1, 4, { req: 1, folder: 'f', role: 'master', ignore: [] }]).code, 'E_MALFORMED');
  assert.equal(
    decodeError([1, 4, { req: 1, folder: 'f', role: 'source', ignore: new Array(LIMITS.ignoreLines + 1).fill('a') }]).code,
    'E_LIMIT',
  );
  assert.equal(decodeError([1, 6, { req: 1, count: 1.5, files: 0, dirs: 0, symlinks: 0, errors: 0, bytes: 0 }]).code, 'E_MALFORMED');
  assert.equal(decodeError([1, 6, { req: 1, count: 2 ** 40, files: 0, dirs: 0, symlinks: 0, errors: 0, bytes: 0 }]).code, 'E_LIMIT');
  assert.equal(decodeError([1, 5, { req: 1, entries: [] }]).code, 'E_MALFORMED');
  const many = new Array(LIMITS.batchEntries + 1).fill(toWireEntry({ path: 'a', type: 'dir', size: 0, mtime: 0, mode: 0 }));
  assert.equal(decodeError([1, 5, { req: 1, entries: many }]).code, 'E_LIMIT');
});

test('field errors say what is wrong with the value: the limit of integers, a missing field', () => {
  const bytes = { kind: 'file-request', req: 1, folder: 'f', path: 'a', hash: Buffer.alloc(32), offset: 0 };
  assert.equal(
    decodeError([1, 16, { ...bytes, size: 2 ** 60 }]).message,
    'file-request: "size" must be a non-negative integer below 2^53, got 1152921504606846976',
  );
  assert.equal(
    decodeError([1, 3, { req: -1, folder: 'x' }]).message,
    'manifest-request: "req" must be a non-negative integer below 2^53, got -1',
  );
  assert.equal(
    decodeError([1, 3, { folder: 'x' }]).message,
    'manifest-request: "req" is missing (it must be a non-negative integer below 2^53)',
  );
  assert.equal(
    decodeError([1, 5, { req: 1, entries: [['a', 0, 2 ** 53, 0, 0]] }]).message.endsWith(
      '"size" must be a non-negative integer below 2^53, got 9007199254740992',
    ),
    true,
  );
  // Other values are named by their type, not echoed.
  assert.match(decodeError([1, 3, { req: 'one', folder: 'x' }]).message, /"req" must be a non-negative integer below 2\^53, got a string$/);
});

test('hostile paths are refused', () => {
  const bad = [
    '',
    '/etc/passwd',
    '../../etc/passwd',
    'a/../../b',
    'a/./b',
    '.',
    '..',
    'a//b',
    'a/',
    'a\\b',
    'a\0b',
    'cafe\u0301',
    '.synker/folder.json',
    '.synker',
    'x'.repeat(4097),
  ];
  for (const path of bad) {
    assert.notEqual(peerPathProblem(path, true), undefined, JSON.stringify(path));
    const err = decodeError([1, 5, { req: 1, entries: [[path, 1, 0, 0, 0]] }]);
    assert.ok(err.code === 'E_BAD_PATH' || err.code === 'E_LIMIT', `${JSON.stringify(path)}: ${err.code}`);
  }
  for (const path of ['a', 'a/b', '.hidden', 'a/..b', 'a/b..', '...', 'café', '.synkerignore', 'x/.synker', 'x'.repeat(4096)]) {
    assert.equal(peerPathProblem(path, true), undefined, JSON.stringify(path));
  }
});

test('verified-request and verified-records are validated: hostile paths, counts, record shapes', () => {
  const request = (paths: unknown) => [1, 8, { req: 1, folder: 'photos', paths }];
  assert.equal(decodeError(request(['../etc/passwd'])).code, 'E_BAD_PATH');
  assert.equal(decodeError(request(['a/../../b'])).code, 'E_BAD_PATH');
  assert.equal(decodeError(request(Array.from({ length: LIMITS.verifiedPaths + 1 }, (_, i) => `f${i}`))).code, 'E_LIMIT');
  assert.equal(decodeError(request('a')).code, 'E_MALFORMED');
  const answer = (records: unknown) => [1, 9, { req: 1, records }];
  const hash = Buffer.alloc(32, 1);
  assert.equal(decodeError(answer([[hash, -1, 0]])).code, 'E_MALFORMED');
  assert.equal(decodeError(answer([[Buffer.alloc(31), 1, 0]])).code, 'E_MALFORMED');
  assert.equal(decodeError(answer([[hash, 1]])).code, 'E_MALFORMED');
  assert.equal(decodeError(answer(['x'])).code, 'E_MALFORMED');
  assert.equal(decodeError(answer(Array.from({ length: LIMITS.verifiedPaths + 1 }, () => null))).code, 'E_LIMIT');
  const most = encodeMessage({
    kind: 'verifiedRequest',
    req: 1,
    folder: 'photos',
    paths: Array.from({ length: LIMITS.verifiedPaths }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(LIMITS.pathBytes - 4)}`),
  });
  assert.ok(most.length <= MAX_FRAME_BYTES, 'a full request of the longest paths fits one frame');
});

test('entry invariants are enforced', () => {
  // [path, type, size, mtime, mode, hash, target, raw, flags, errorCode, error]
  const entry = (fields: Record<number, unknown>) => {
    const tuple: unknown[] = ['a', 0, 1, 0, 0o644];
    for (const [i, v] of Object.entries(fields)) tuple[Number(i)] = v;
    for (let i = 0; i < tuple.length; i++) if (tuple[i] === undefined) tuple[i] = null;
    return [1, 5, { req: 1, entries: [tuple] }];
  };
  assert.equal(decodeError([1, 5, { req: 1, entries: [{ p: 'a', k: 1, s: 0, m: 0, o: 0 }] }]).code, 'E_MALFORMED');
  assert.equal(decodeError([1, 5, { req: 1, entries: [['a', 1, 0, 0]] }]).code, 'E_MALFORMED');
  assert.equal(decodeError(entry({ 1: 4 })).code, 'E_MALFORMED');
  assert.equal(decodeError(entry({ 1: 1 })).code, 'E_BAD_ENTRY'); // a dir with a size
  assert.equal(decodeError(entry({ 5: Buffer.alloc(31) })).code, 'E_BAD_ENTRY');
  assert.equal(decodeError(entry({ 5: 'ab'.repeat(32) })).code, 'E_MALFORMED');
  assert.equal(decodeError(entry({ 1: 2, 2: 0 })).code, 'E_BAD_ENTRY'); // symlink without target
  assert.equal(decodeError(entry({ 6: 'x' })).code, 'E_BAD_ENTRY');
  assert.equal(decodeError(entry({ 1: 3, 2: 0 })).code, 'E_MALFORMED'); // error without code
  assert.equal(decodeError(entry({ 4: 0o10000 })).code, 'E_LIMIT');
  assert.equal(decodeError(entry({ 3: 1.5 })).code, 'E_MALFORMED');
  assert.equal(decodeError(entry({ 2: 2 ** 60 })).code, 'E_MALFORMED'); // not a safe integer
  assert.equal(decodeError(entry({ 7: 'b' })).code, 'E_BAD_ENTRY'); // raw must normalise to the key
  assert.equal(decodeError(entry({ 7: '../a' })).code, 'E_BAD_PATH');
  assert.equal(decodeError(entry({ 8: new Array(9).fill('unstable') })).code, 'E_LIMIT');
  assert.equal(decodeError(entry({ 0: 7 })).code, 'E_MALFORMED');
  // Unknown flags from newer peers are dropped, known ones kept once; fields past the 11th are ignored.
  const ok = decodeFrame(packr.pack(entry({ 8: ['future-flag', 'unstable', 'unstable'], 11: 'a later field' })));
  assert.deepEqual(ok.kind === 'manifestEntries' && ok.entries[0]!.flags, ['unstable']);
});

test('docs/protocol.md documents every error code', () => {
  const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
  for (const code of [...WIRE_ERROR_CODES, ...LOCAL_PEER_ERROR_CODES]) assert.ok(doc.includes(`\`${code}\``), code);
});
