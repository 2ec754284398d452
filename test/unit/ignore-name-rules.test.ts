/**
 * The scan's fast path for plain name patterns must answer exactly like the
 * general gitignore matcher (the `ignore` package) for every path the walk
 * asks about: random rule sets and trees, compared path by path.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ignore from 'ignore';
import { IgnoreMatcher, nameRules } from '../../src/scan/ignore-rules.js';
import { prng } from '../harness/prng.js';

const NAMES = ['a', 'b.tmp', 'keep.tmp', '.DS_Store', 'cache', 'x.log', 'a.b', '._a', 'Cache', 'tmp', 'a$b', 'a(1)', 'b+c'];
const PATTERNS = ['a', '*.tmp', 'keep.tmp', '.DS_Store', 'cache', '*.log', 'a.?', '._*', 'tmp', 'a$b', 'a(1)', 'b+c', '*', '?', 'c*e'];

test('name patterns: the fast path answers like the gitignore matcher on random rules and trees', () => {
  const random = prng(20261125);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  for (let round = 0; round < 300; round++) {
    const lines: string[] = [];
    const n = 1 + Math.floor(random() * 5);
    for (let i = 0; i < n; i++)
      lines.push(`${random() < 0.25 ? '!' : ''}${pick(PATTERNS)}${random() < 0.25 ? '/' : ''}${random() < 0.1 ? '  ' : ''}`);
    if (random() < 0.2) lines.push('# a comment', '');
    const text = lines.join('\n');
    assert.ok(nameRules(text) !== undefined, text);
    const fast = new IgnoreMatcher([text]);
    const reference = ignore({ ignorecase: false }).add(text);
    // Walk a random tree the way the scan does: never below an ignored folder.
    const queue: string[] = [''];
    let asked = 0;
    while (queue.length > 0 && asked < 200) {
      const parent = queue.shift()!;
      for (const name of NAMES) {
        const key = parent === '' ? name : `${parent}/${name}`;
        const isDir = random() < 0.3 && key.split('/').length < 4;
        asked++;
        const expected = reference.ignores(isDir ? `${key}/` : key);
        assert.equal(fast.ignores(key, isDir), expected, `rules ${JSON.stringify(text)}, ${isDir ? 'folder' : 'file'} ${key}`);
        if (isDir && !expected) queue.push(key);
      }
    }
  }
});

test('rules the fast path cannot express go to the gitignore matcher', () => {
  for (const text of ['docs/*.md', '/build', '**/tmp', 'a[bc]', '\\#name', 'trailing\\ ']) assert.equal(nameRules(text), undefined, text);
  const matcher = new IgnoreMatcher(['/build\n**/tmp/']);
  assert.equal(matcher.ignores('build', true), true);
  assert.equal(matcher.ignores('src/build', true), false);
  assert.equal(matcher.ignores('src/tmp', true), true);
});
