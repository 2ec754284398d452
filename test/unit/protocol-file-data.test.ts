import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import {
  decodeFrame,
  encodeFileDataInHeadroom,
  encodeFrame,
  encodeMessage,
  FILE_DATA_HEADROOM,
  LIMITS,
  ProtocolError,
  type OutgoingMessage,
} from '../../src/protocol/index.js';

const hash = 'ab'.repeat(32);

test('file-data messages round-trip through the encoder and the one decoder', () => {
  const messages: OutgoingMessage[] = [
    { kind: 'fileRequest', req: 7, folder: 'photos', path: '2024/é.jpg', hash, size: 10, offset: 4 },
    { kind: 'fileData', req: 7, offset: 4, data: Buffer.from('abcdef') },
    { kind: 'fileEnd', req: 7, size: 10, hash },
    // This version's server leaves the hash out: the client checks against the manifest.
    { kind: 'fileEnd', req: 8, size: 10 },
  ];
  for (const m of messages) {
    const decoded = decodeFrame(encodeMessage(m)) as unknown as Record<string, unknown>;
    if (m.kind === 'fileData') assert.deepEqual(Buffer.from(decoded.data as Uint8Array), Buffer.from(m.data));
    else assert.deepEqual(decoded, m);
  }
});

test("a file-data frame built around data read with headroom is byte for byte the encoder's, and the data is not copied", () => {
  const sizes = [1, 255, 256, 65_535, 65_536, LIMITS.fileDataBytes];
  const positions = [0, 1, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER - LIMITS.fileDataBytes];
  const reqs = [0, 1, 127, 128, 65_536, 2 ** 32 + 1];
  for (const size of sizes) {
    for (const [i, offset] of positions.entries()) {
      const req = reqs[i % reqs.length]!;
      const buffer = Buffer.alloc(FILE_DATA_HEADROOM + size);
      const data = buffer.subarray(FILE_DATA_HEADROOM);
      randomBytes(size).copy(data);
      const expected = encodeMessage({ kind: 'fileData', req, offset, data });
      const frame = encodeFileDataInHeadroom(req, offset, data);
      assert.ok(frame.equals(expected), `size ${size}, req ${req}, offset ${offset}`);
      assert.equal(frame.buffer, buffer.buffer, "the frame is the reader's buffer");
      assert.equal(frame.byteOffset + frame.length, data.byteOffset + data.length);
      const decoded = decodeFrame(frame) as unknown as { req: number; offset: number; data: Uint8Array };
      assert.deepEqual([decoded.req, decoded.offset, Buffer.from(decoded.data).equals(data)], [req, offset, true]);
    }
  }
  // Data without room before it gets a plain, copied frame.
  const bare = Buffer.from('abc');
  const frame = encodeFileDataInHeadroom(3, 9, Buffer.from(bare.buffer.slice(bare.byteOffset, bare.byteOffset + 3)));
  assert.ok(frame.equals(encodeMessage({ kind: 'fileData', req: 3, offset: 9, data: bare })));
});

test('hostile file-data frames are refused by the decoder with the documented codes', () => {
  const h = Buffer.from(hash, 'hex');
  const cases: Array<[number, Record<string, unknown>, string]> = [
    [16, { req: 1, folder: 'photos', path: '../../etc/passwd', hash: h, size: 1, offset: 0 }, 'E_BAD_PATH'],
    [16, { req: 1, folder: 'photos', path: '/etc/passwd', hash: h, size: 1, offset: 0 }, 'E_BAD_PATH'],
    [16, { req: 1, folder: 'photos', path: '.synker/folder.json', hash: h, size: 1, offset: 0 }, 'E_BAD_PATH'],
    [16, { req: 1, folder: 'photos', path: 'a', hash: h.subarray(0, 31), size: 1, offset: 0 }, 'E_MALFORMED'],
    [16, { req: 1, folder: 'photos', path: 'a', hash: hash, size: 1, offset: 0 }, 'E_MALFORMED'],
    [16, { req: 1, folder: 'photos', path: 'a', hash: h, size: 1, offset: 2 }, 'E_MALFORMED'],
    [16, { req: 1, folder: 'photos', path: 'a', hash: h, size: -1, offset: 0 }, 'E_MALFORMED'],
    [17, { req: 1, offset: 0, data: Buffer.alloc(LIMITS.fileDataBytes + 1) }, 'E_LIMIT'],
    [17, { req: 1, offset: 0, data: Buffer.alloc(0) }, 'E_MALFORMED'],
    [17, { req: 1, offset: 0, data: 'text' }, 'E_MALFORMED'],
    [18, { req: 1 }, 'E_MALFORMED'],
    [18, { req: 1, size: 3, hash: h.subarray(0, 31) }, 'E_MALFORMED'],
  ];
  for (const [type, body, code] of cases) {
    assert.throws(
      () => decodeFrame(encodeFrame(1, type, body)),
      (err: unknown) => err instanceof ProtocolError && err.code === code,
      `${type} ${JSON.stringify(body).slice(0, 80)}`,
    );
  }
});
