/**
 * Costly msgpack from a peer: the one decoder refuses it in time that does
 * not depend on what the frame holds, and its error message quotes at most a
 * few dozen characters of it (issue #19, item 6: a 1 MiB msgpack BigInt took
 * 1.2 s and printed 2.5 MB of digits).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Packr } from 'msgpackr';
import { LIMITS, MAX_FRAME_BYTES, ProtocolError, decodeFrame, encodeMessage, toWireEntry } from '../../src/protocol/index.js';
import { MAX_DEPTH, MAX_MAP_PAIRS, MAX_VALUES, checkFrameShape } from '../../src/protocol/shape.js';

const packr = new Packr({ useRecords: false });
const MiB = 1024 * 1024;
/** What an error message about a peer's frame may cost at most. */
const MAX_MESSAGE = 300;

/**
 * Decodes a frame that must be refused; `ms` is the CPU time the refusal took
 * (this test file runs in a process of its own), not the wall time: a loaded
 * machine stretches wall time, never the work done. A costly shape built by
 * msgpackr costs hundreds of CPU milliseconds; refused first, about one.
 */
function refusal(frame: Uint8Array): { error: ProtocolError; ms: number } {
  const started = process.cpuUsage();
  try {
    decodeFrame(frame);
  } catch (err) {
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${String(err)}`);
    const used = process.cpuUsage(started);
    return { error: err, ms: (used.user + used.system) / 1000 };
  }
  assert.fail('the frame was accepted');
}

function ext32(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head[0] = 0xc9;
  head.writeUInt32BE(data.length, 1);
  head[5] = type;
  return Buffer.concat([head, data]);
}

/** [1, 1, {name: <value>}]: a hello whose name is `value`. */
function helloWith(value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x93, 0x01, 0x01, 0x81, 0xa4]), Buffer.from('name'), value]);
}

test('a 1 MiB msgpack BigInt is refused at once, with a short message, wherever it sits in the frame', () => {
  const big = ext32(0x42, Buffer.alloc(MiB - 64, 0x7f));
  const frames = {
    'the whole frame': big,
    'the version': Buffer.concat([Buffer.from([0x93]), big, Buffer.from([0x00, 0x80])]),
    'a field': helloWith(big),
    'a field, then a trailing byte': Buffer.concat([helloWith(big), Buffer.from([0x00])]),
  };
  for (const [where, frame] of Object.entries(frames)) {
    assert.ok(frame.length <= MAX_FRAME_BYTES, where);
    const { error, ms } = refusal(frame);
    assert.equal(error.code, 'E_MALFORMED', where);
    assert.match(error.message, /extension type/, where);
    assert.ok(error.message.length < MAX_MESSAGE, `${where}: ${error.message.length} characters`);
    // Before: 1.1-1.3 s on this machine. The shape check stops at the extension's first byte.
    assert.ok(ms < 50, `${where}: ${ms.toFixed(1)} ms`);
  }
});

test('every msgpackr extension is refused before msgpackr builds it (BigInt, Error, RegExp, Set, Date, typed arrays, records)', () => {
  const extensions: Array<[string, Buffer]> = [
    ['BigInt', new Packr({ useRecords: false, useBigIntExtension: true }).pack(2n ** 80n)],
    ['Error', new Packr({ useRecords: false, moreTypes: true }).pack(new Error('x'))],
    ['RegExp', new Packr({ useRecords: false, moreTypes: true }).pack(/a+/)],
    ['Set', new Packr({ useRecords: false, moreTypes: true }).pack(new Set([1]))],
    ['Date', packr.pack(new Date(0))],
    ['typed array', new Packr({ useRecords: false, moreTypes: true }).pack(new Float64Array(4))],
    ['record definition', new Packr({ useRecords: true }).pack([{ a: 1 }, { a: 2 }])],
    ['fixext 1', Buffer.from([0xd4, 0x00, 0x00])],
  ];
  for (const [name, value] of extensions) {
    const frame = Buffer.concat([Buffer.from([0x93, 0x01, 0x01, 0x81, 0xa4]), Buffer.from('name'), value]);
    assert.equal(refusal(frame).error.code, 'E_MALFORMED', name);
    assert.throws(() => checkFrameShape(value), /extension type/, name);
  }
});

test('other costly shapes are refused in bounded time with short messages', () => {
  const cases: Record<string, Buffer> = {
    'an array claiming 4G elements': Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]),
    'a map claiming 4G pairs': Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61, 0xc0]),
    'a string claiming 4 GiB': Buffer.from([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]),
    'a map with an array key': Buffer.from([0x93, 0x01, 0x01, 0x81, 0x91, 0x01, 0x01]),
    'a map with a map key (msgpackr would stringify it)': Buffer.from([0x93, 0x01, 0x01, 0x81, 0x80, 0x01]),
    'bytes after the value': Buffer.concat([packr.pack([1, 7, { req: 1 }]), Buffer.alloc(MiB - 100, 0x61)]),
    'a truncated frame': packr.pack([1, 7, { req: 1 }]).subarray(0, 6),
    'byte 0xc1': Buffer.from([0x93, 0x01, 0xc1, 0x80]),
  };
  for (const [name, frame] of Object.entries(cases)) {
    const { error, ms } = refusal(frame);
    assert.equal(error.code, 'E_MALFORMED', name);
    assert.ok(error.message.length < MAX_MESSAGE, `${name}: ${error.message.length} characters: ${error.message.slice(0, 200)}`);
    assert.ok(ms < 200, `${name}: ${ms.toFixed(1)} ms`);
  }
  // Plain msgpack that is costly to build: over a cap, refused before msgpackr builds it (E_LIMIT).
  const keys: Record<string, number> = {};
  for (let i = 0; i < 120_000; i++) keys[`k${i.toString(36)}`] = 0;
  const capped: Record<string, Buffer> = {
    // 1M nested one-element arrays: a few steps, not a million stack frames.
    'deep nesting': Buffer.concat([Buffer.alloc(MiB - 1, 0x91), Buffer.from([0xc0])]),
    // 0.3 s for msgpackr to build (a body's unknown keys are otherwise ignored).
    'a body of 120,000 keys': new Packr({ useRecords: false, variableMapSize: true }).pack([1, 7, { req: 1, ...keys }]),
    'an array of a million nils': packr.pack([1, 7, { req: 1, x: new Array(MiB - 100).fill(null) }]),
    'half a million empty maps': new Packr({ useRecords: false, variableMapSize: true }).pack([
      1,
      7,
      { req: 1, x: Array.from({ length: 500_000 }, () => ({})) },
    ]),
  };
  for (const [name, frame] of Object.entries(capped)) {
    const { error, ms } = refusal(frame);
    assert.equal(error.code, 'E_LIMIT', name);
    assert.ok(error.message.length < MAX_MESSAGE, `${name}: ${error.message}`);
    assert.ok(ms < 200, `${name}: ${ms.toFixed(1)} ms`);
  }
  // Exactly at the caps passes the shape check; one more does not.
  const nested = (levels: number) => Buffer.concat([Buffer.alloc(levels, 0x91), Buffer.from([0xc0])]);
  checkFrameShape(nested(MAX_DEPTH));
  assert.throws(() => checkFrameShape(nested(MAX_DEPTH + 1)), /nested deeper/);
  checkFrameShape(packr.pack(new Array(MAX_VALUES - 1).fill(null)));
  assert.throws(() => checkFrameShape(packr.pack(new Array(MAX_VALUES).fill(null))), /more than 65536 values/);
  const pairs = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 0]));
  checkFrameShape(packr.pack(pairs(MAX_MAP_PAIRS)));
  assert.throws(() => checkFrameShape(packr.pack(pairs(MAX_MAP_PAIRS + 1))), /pairs, more than 1024/);
});

test('values within the frame limit that are costly to quote are quoted in a few dozen characters', () => {
  const long = 'x'.repeat(MiB - 200);
  const hostile = '\u001b]0;owned\u0007\n\u202eerror: forged';
  const cases: Record<string, unknown> = {
    'a 1 MiB path in a file request': [1, 16, { req: 1, folder: 'f', path: `../${long}`, hash: Buffer.alloc(32), size: 1, offset: 0 }],
    'a 1 MiB unsafe entry path': [1, 5, { req: 1, entries: [[`/${long}`, 1, 0, 0, 0o755]] }],
    'a 1 MiB unsafe on-disk name': [1, 5, { req: 1, entries: [['a', 1, 0, 0, 0o755, null, null, `/${long}`]] }],
    'a float of 1e308': [1, 3, { req: 1e308, folder: 'f' }],
    'a control character in a path': [1, 5, { req: 1, entries: [[`../${hostile}`, 1, 0, 0, 0o755]] }],
    'a 64-bit integer': Buffer.from([
      0x93, 0x01, 0x03, 0x82, 0xa3, 0x72, 0x65, 0x71, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xa6, 0x66, 0x6f, 0x6c, 0x64,
      0x65, 0x72, 0xa1, 0x66,
    ]),
  };
  for (const [name, frame] of Object.entries(cases)) {
    const { error, ms } = refusal(Buffer.isBuffer(frame) ? frame : packr.pack(frame));
    assert.ok(error.message.length < MAX_MESSAGE, `${name}: ${error.message.length} characters: ${error.message.slice(0, 200)}`);
    assert.doesNotMatch(error.message, /[\u0000-\u001f\u007f-\u009f\u202e]/, name);
    assert.ok(ms < 200, `${name}: ${ms.toFixed(1)} ms`);
  }
  assert.match(refusal(packr.pack(cases['a float of 1e308'])).error.message, /got 1e\+308$/);
  assert.match(refusal(cases['a 64-bit integer'] as Buffer).error.message, /got 18446744073709551615$/);
});

test('every frame this synker sends passes the shape check, the largest ones included', () => {
  // The most values: a full batch of entries with every field and eight flags; the most strings: 10,000 ignore lines.
  const full = Array.from({ length: LIMITS.batchEntries }, (_, i) => ({
    path: `e${String(i).padStart(4, '0')}`,
    type: 'file' as const,
    size: 1,
    mtime: 1,
    mode: 0o644,
    hash: 'ab'.repeat(32),
    raw: `e${String(i).padStart(4, '0')}`,
    flags: ['unstable', 'silent-change', 'windows-name', 'a', 'b', 'c', 'd', 'e'] as never,
  }));
  const batch = encodeMessage({ kind: 'manifestEntries', req: 1, entries: full });
  checkFrameShape(batch);
  checkFrameShape(
    encodeMessage({ kind: 'manifestBegin', req: 1, folder: 'f', role: 'source', ignore: new Array(LIMITS.ignoreLines).fill('*.tmp') }),
  );
  const entries = [
    toWireEntry({ path: 'a', type: 'dir', size: 0, mtime: -5, mode: 0o755 }),
    toWireEntry({
      path: 'a/b',
      type: 'file',
      size: 2 ** 50,
      mtime: 1_700_000_000_123,
      mode: 0o644,
      hash: 'ab'.repeat(32),
      flags: ['unstable'],
    }),
  ];
  checkFrameShape(packr.pack([1, 5, { req: 2 ** 32 - 1, entries }]));
  checkFrameShape(encodeMessage({ kind: 'manifestEnd', req: 1, count: 1, files: 1, dirs: 0, symlinks: 0, errors: 0, bytes: 2 ** 53 - 1 }));
  checkFrameShape(encodeMessage({ kind: 'fileData', req: 1, offset: 2 ** 40, data: Buffer.alloc(256 * 1024, 1) }));
});

test('progress (type 10) survives encode then decode, and its counts are checked like every integer', () => {
  const message = { kind: 'progress' as const, req: 3, items: 48_210, bytes: 21_474_836_480 };
  assert.deepEqual(decodeFrame(encodeMessage(message)), message);
  assert.equal(refusal(packr.pack([1, 10, { req: 3, items: -1, bytes: 0 }])).error.code, 'E_MALFORMED');
  assert.equal(
    refusal(packr.pack([1, 10, { req: 3, items: 1 }])).error.message,
    'progress: "bytes" is missing (it must be a non-negative integer below 2^53)',
  );
});
