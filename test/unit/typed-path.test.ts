/** Paths a user types: on Windows a backslash separates names (`.\2024`, `media\clip.bin`), elsewhere it is part of one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { typedPath } from '../../src/cli/flags.js';

test('a backslash is a separator on Windows only', () => {
  assert.equal(typedPath('.\\2024', 'win32'), './2024');
  assert.equal(typedPath('..\\media\\clip.bin', 'win32'), '../media/clip.bin');
  assert.equal(typedPath('media\\clip.bin', 'win32'), 'media/clip.bin');
  assert.equal(typedPath('C:\\Users\\ann\\Pictures\\a.jpg', 'win32'), 'C:/Users/ann/Pictures/a.jpg');
  assert.equal(typedPath('odd\\name', 'linux'), 'odd\\name');
  assert.equal(typedPath('./2024', 'darwin'), './2024');
});
