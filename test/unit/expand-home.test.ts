/** `~` as typed: the home folder on every platform, `~\` too on Windows, where cmd and PowerShell pass `~` on as typed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandHome } from '../../src/config/folder-rules.js';

test('~ and ~/ are the home folder everywhere; ~\\ only on Windows', () => {
  const win = 'C:\\Users\\ann';
  assert.equal(expandHome('~\\Pictures', 'win32', win), 'C:\\Users\\ann\\Pictures');
  assert.equal(expandHome('~/Pictures', 'win32', win), 'C:\\Users\\ann\\Pictures');
  assert.equal(expandHome('~\\Pictures\\2024', 'win32', win), 'C:\\Users\\ann\\Pictures\\2024');
  assert.equal(expandHome('~', 'win32', win), win);
  assert.equal(expandHome('~/Pictures', 'linux', '/home/ann'), '/home/ann/Pictures');
  assert.equal(expandHome('~', 'darwin', '/Users/ann'), '/Users/ann');
  // Elsewhere a backslash is part of a name (as typedPath has it): `~\x` is a name in the current folder.
  assert.equal(expandHome('~\\Pictures', 'linux', '/home/ann'), '~\\Pictures');
  // Only a leading ~ alone or before a separator: ~ann, a~/b and C:\~\x are paths as written.
  assert.equal(expandHome('~ann/Pictures', 'linux', '/home/ann'), '~ann/Pictures');
  assert.equal(expandHome('a~/b', 'win32', win), 'a~/b');
  assert.equal(expandHome('C:\\~\\x', 'win32', win), 'C:\\~\\x');
});
