/**
 * The escapes of src/base/printable.ts, which every renderer (terminal,
 * e-mail, the status page through its compiled copy) shows names through.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hasUnprintable, printablePath, printableQuote, printableText } from '../../src/base/printable.js';

test('controls, bidirectional overrides and line breaks are escaped; a message keeps its own line breaks', () => {
  assert.equal(printablePath('a\u001b[31mb\nc\u202ed\u009b'), 'a\\u{1b}[31mb\\u{a}c\\u{202e}d\\u{9b}');
  assert.equal(printableText('one\ntwo\u2066'), 'one\ntwo\\u{2066}');
  assert.equal(printableQuote('x\u0007'), '"x\\u{7}"');
});

test('invisible characters that make two names look alike are escaped: U+200B, U+2060, U+FEFF', () => {
  assert.equal(printablePath('src\u200bbox'), 'src\\u{200b}box');
  assert.equal(printablePath('word\u2060joiner'), 'word\\u{2060}joiner');
  assert.equal(printablePath('\ufeffbom.txt'), '\\u{feff}bom.txt');
  assert.equal(printableText('a\u200b\nb'), 'a\\u{200b}\nb');
  assert.ok(hasUnprintable('nas\u200b'), 'a device announcing "nas" plus a zero width space is not taken as "nas"');
});

test('ZWJ and ZWNJ stay as they are: emoji sequences and several scripts need them', () => {
  const family = '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}.jpg';
  const persian = 'می\u200cخواهم.txt';
  assert.equal(printablePath(family), family);
  assert.equal(printablePath(persian), persian);
  assert.ok(!hasUnprintable(family) && !hasUnprintable(persian));
  assert.equal(printablePath('café ünïcode 日本.txt'), 'café ünïcode 日本.txt');
});
