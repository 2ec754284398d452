import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meetingGroups } from '../../src/diff/pairing.js';

const key = (s: string) => (s.startsWith('-') ? undefined : s.split(':')[0]);
const entries = (groups: Map<string, string[]>) => [...groups.entries()];

test('meetingGroups keeps only the keys both lists have, the first list in order of first appearance', () => {
  const a = ['x:1', 'y:1', 'z:1', 'x:2', '-skip', 'w:1', 'y:2'];
  const b = ['y:b1', 'q:b1', 'x:b1', '-skip', 'y:b2'];
  const expectA = [
    ['x', ['x:1', 'x:2']],
    ['y', ['y:1', 'y:2']],
  ];
  const expectB = [
    ['y', ['y:b1', 'y:b2']],
    ['x', ['x:b1']],
  ];
  // Either list may be the smaller one (the one grouped whole): the answer is the same.
  const [groupsA, groupsB] = meetingGroups(a, b, key, key);
  assert.deepEqual(entries(groupsA), expectA);
  assert.deepEqual(entries(groupsB), expectB);
  const [swappedB, swappedA] = meetingGroups(b, a, key, key);
  assert.deepEqual(entries(swappedB), expectB);
  assert.deepEqual(entries(swappedA), [
    ['x', ['x:1', 'x:2']],
    ['y', ['y:1', 'y:2']],
  ]);
});

test('meetingGroups of a list against an empty one builds no groups', () => {
  let keyed = 0;
  const counting = (s: string) => {
    keyed++;
    return s;
  };
  const [groupsA, groupsB] = meetingGroups(['a', 'b', 'c'], [], counting, counting);
  assert.equal(groupsA.size + groupsB.size, 0);
  assert.equal(keyed, 0);
});

test("meetingGroups uses each list's own key function", () => {
  const [groupsA, groupsB] = meetingGroups(
    ['A1', 'B1'],
    ['b-2', 'c-2', 'a-2'],
    (s) => s[0]!.toLowerCase(),
    (s) => s[0],
  );
  assert.deepEqual(entries(groupsA), [
    ['a', ['A1']],
    ['b', ['B1']],
  ]);
  assert.deepEqual(entries(groupsB), [
    ['b', ['b-2']],
    ['a', ['a-2']],
  ]);
});
