import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hiddenByRules, mergeDifferences } from '../../src/check/hidden-by-ignore.js';
import type { Difference } from '../../src/diff/index.js';
import { buildIgnoreMatcher } from '../../src/scan/ignore-rules.js';

test("the source's rules hide a path by its own name or by a folder it is in, as a walk would", () => {
  const matcher = buildIgnoreMatcher('', 'build/\n*.log\n/top-only\n!keep.log');
  const folders = new Map<string, boolean>();
  const hidden = (p: string): boolean => hiddenByRules(matcher, p, folders);
  assert.equal(hidden('a/build/x.o'), true);
  assert.equal(hidden('a/build'), false, 'a file named build is not the folder rule');
  assert.equal(hidden('logs/today.log'), true);
  assert.equal(hidden('logs/keep.log'), false);
  assert.equal(hidden('top-only/x'), true);
  assert.equal(hidden('a/top-only/x'), false, 'an anchored rule holds at the root only');
  assert.equal(hidden('src/main.c'), false);
});

test('merged differences stay in manifest order', () => {
  const d = (path: string): Difference => ({ category: 'missing', path, bytes: 0, failing: true });
  // Manifest order: '/' ranks below every other character, so a/b comes before a-b.
  const list = [d('a'), d('a/b'), d('c'), d('e')];
  mergeDifferences(list, [d('a/a'), d('a-b'), d('d'), d('z')]);
  assert.deepEqual(
    list.map((x) => x.path),
    ['a', 'a/a', 'a/b', 'a-b', 'c', 'd', 'e', 'z'],
  );
});
