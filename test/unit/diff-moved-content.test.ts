/**
 * Content that moved is no damage (src/diff/verdict.ts movedContent): a file
 * whose size and mtime are as verified but whose content is the one last
 * verified at another path, which the source no longer holds there, is a
 * change on the source naming that path, not `source-suspicious`. A copy
 * (the other path still holds it), a content found nowhere, and a change
 * a `--verify` re-read caught in place stay suspicious.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffManifests, type DiffResult, type VerifiedRecord } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { dir, file, sha, stream, T0 } from '../harness/manifest.js';

/** Every file below was verified with this content (all of one size, one mtime). */
const VERIFIED: Record<string, string> = {
  'A/f': 'in-a',
  'B/f': 'in-b',
  'keep.txt': 'kept',
  'over.txt': 'over',
  'rot.txt': 'rotz',
  'gone.txt': 'gone',
  'took.txt': 'took',
  'silent.txt': 'slnt',
};

function verified(p: string): VerifiedRecord | undefined {
  const content = VERIFIED[p];
  return content === undefined ? undefined : { hash: sha(content), size: 4, mtime: T0 };
}

function verdicts(result: DiffResult): Record<string, [string, string | undefined, string | undefined]> {
  return Object.fromEntries(result.differences.map((d) => [d.path, [d.category, d.changedOn, d.contentOf]]));
}

test('folders swapped and a file taking a deleted file’s content are changes on the source; copies, rot and silent changes are suspicious', async () => {
  const backup: ManifestEntry[] = [dir('A'), dir('B'), ...Object.entries(VERIFIED).map(([p, c]) => file(p, c))];
  const source: ManifestEntry[] = [
    dir('A'),
    dir('B'),
    file('A/f', 'in-b'), // A and B swapped
    file('B/f', 'in-a'),
    file('keep.txt', 'kept'),
    file('over.txt', 'kept'), // a copy of keep.txt, which still holds it
    file('rot.txt', 'rotZ'), // found nowhere
    file('took.txt', 'gone'), // gone.txt's content, gone.txt deleted
    file('silent.txt', 'in-a', { flags: ['silent-change'] }), // re-read caught it changing in place
  ];
  const result = await diffManifests(stream(source), stream(backup), { verified });
  assert.deepEqual(verdicts(result), {
    'A/f': ['content', 'source', 'B/f'],
    'B/f': ['content', 'source', 'A/f'],
    'gone.txt': ['extra', 'source', undefined],
    'over.txt': ['content', 'source-suspicious', undefined],
    'rot.txt': ['content', 'source-suspicious', undefined],
    'silent.txt': ['content', 'source-suspicious', undefined],
    'took.txt': ['content', 'source', 'gone.txt'],
  });
});
