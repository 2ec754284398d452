import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareEntries, comparePaths } from '../../src/manifest/order.js';

test('paths sort component by component in UTF-8 byte order', () => {
  // Hand-written: '/' ranks below '-' and '.', uppercase below lowercase,
  // U+FFFD (3 UTF-8 bytes, EF BF BD) below an emoji (4 bytes, F0 ...).
  const expected = ['A', 'A/x', 'a', 'a/b', 'a/b/c', 'a-b', 'a.b', 'ab', 'é', '\uFFFD', '😀'];
  const shuffled = [...expected].reverse();
  shuffled.sort(comparePaths);
  assert.deepEqual(shuffled, expected);
});

test('order agrees with UTF-8 byte order where JavaScript string order does not', () => {
  const bmp = '\uFFFD';
  const astral = '😀';
  assert.ok(bmp > astral, 'UTF-16 order puts the emoji first');
  assert.ok(comparePaths(bmp, astral) < 0);
  assert.ok(Buffer.compare(Buffer.from(bmp), Buffer.from(astral)) < 0);
});

test('equal NFC keys are ordered by the raw name bytes', () => {
  const nfd = 'e\u0301';
  const a = { path: '\u00e9' };
  const b = { path: '\u00e9', raw: nfd };
  // NFC é is C3 A9; NFD e + U+0301 is 65 CC 81, which is lower.
  assert.ok(compareEntries(b, a) < 0);
  assert.equal(compareEntries(a, a), 0);
});
