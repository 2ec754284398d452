/**
 * Permission bits across platforms (src/base/mode-bits.ts): a side without
 * POSIX modes (Windows, where Node makes up 0666 and 0444) says so in its
 * manifest; modes are then neither reported as differences nor applied, in
 * either direction. setuid, setgid and sticky bits are never applied.
 */
import assert from 'node:assert/strict';
import { chmodSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { platformKeepsModes } from '../../src/base/mode-bits.js';
import { diffManifests } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { decodeFrame, encodeMessage } from '../../src/protocol/index.js';
import { applyPlan } from '../../src/sync/apply.js';
import { planSync } from '../../src/sync/plan.js';
import { LocalFolderSource } from '../harness/local-source.js';
import { tempDir } from '../harness/tmp.js';
import { listTree, writeTree } from '../harness/tree.js';

async function* iterate(entries: ManifestEntry[]): AsyncIterable<ManifestEntry> {
  yield* entries;
}

/** The source's entries as a Windows scan reports them: made-up modes. */
const asWindows = (entries: ManifestEntry[]): ManifestEntry[] => entries.map((e) => ({ ...e, mode: 0o666 }));

async function syncWith(src: string, dst: string, compareMode: boolean) {
  const s = listTree(src);
  const b = listTree(dst);
  const diff = await diffManifests(iterate(compareMode ? s : asWindows(s)), iterate(b), { compareMode });
  const plan = planSync(diff.differences, { sourceFiles: s.length, backupFiles: b.length });
  const byPath = new Map(s.map((e) => [e.path, e]));
  const result = await applyPlan(plan, { root: dst, source: new LocalFolderSource(src, (p) => byPath.get(p)), modes: diff.modesCompared });
  return { diff, plan, result };
}

test('only Windows lacks POSIX modes', () => {
  assert.equal(platformKeepsModes('win32'), false);
  for (const p of ['linux', 'darwin', 'freebsd'] as const) assert.equal(platformKeepsModes(p), true);
});

test('manifest-begin says modes: false for a side without them, and nothing when it has them', () => {
  for (const modes of [false, undefined] as const) {
    const frame = encodeMessage({
      kind: 'manifestBegin',
      req: 1,
      folder: 'photos',
      role: 'source',
      ignore: [],
      ...(modes === false ? { modes } : {}),
    });
    const decoded = decodeFrame(frame);
    assert.equal(decoded.kind, 'manifestBegin');
    assert.equal('modes' in decoded ? decoded.modes : undefined, modes);
  }
});

test('from a Windows source, made-up modes are neither a difference nor applied: the backup keeps its own', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, { 'same.txt': 'same', 'new/photo.jpg': 'new photo' });
  writeTree(dst, { 'same.txt': 'same' });
  chmodSync(path.join(dst, 'same.txt'), 0o640);
  const { diff, result } = await syncWith(src, dst, false);
  assert.equal(diff.modesCompared, false);
  assert.deepEqual(
    diff.differences.map((d) => [d.category, d.path]),
    [
      ['missing', 'new'],
      ['missing', 'new/photo.jpg'],
    ],
    'no permission difference for same.txt (0666 made up against 0640)',
  );
  assert.equal(result.failed.length, 0);
  assert.equal(statSync(path.join(dst, 'same.txt')).mode & 0o7777, 0o640, 'untouched');
  for (const p of ['new', 'new/photo.jpg']) {
    const mode = statSync(path.join(dst, p)).mode & 0o777;
    assert.equal(mode & 0o002, 0, `${p} is not world-writable (${mode.toString(8)})`);
    assert.notEqual(mode, 0o666, `${p} did not get the made-up 0666`);
  }
  assert.ok((statSync(path.join(dst, 'new')).mode & 0o100) !== 0, 'the new folder can be entered');
  assert.equal(
    statSync(path.join(dst, 'new/photo.jpg')).mode & 0o777,
    0o666 & ~process.umask(),
    'a new file gets what any new file gets here',
  );
});

test('from a POSIX source, permissions are applied but never setuid, setgid or sticky', async (t) => {
  const src = await tempDir(t);
  const dst = await tempDir(t);
  writeTree(src, { 'tool.sh': '#!/bin/sh\n', 'shared/notes.txt': 'x', 'drop/in.txt': 'y' });
  writeTree(dst, {});
  chmodSync(path.join(src, 'tool.sh'), 0o4755);
  chmodSync(path.join(src, 'shared'), 0o3775);
  chmodSync(path.join(src, 'drop'), 0o1777);
  const { diff, result } = await syncWith(src, dst, true);
  assert.equal(diff.modesCompared, true);
  assert.equal(result.failed.length, 0);
  assert.equal(statSync(path.join(dst, 'tool.sh')).mode & 0o7777, 0o755);
  assert.equal(statSync(path.join(dst, 'shared')).mode & 0o7777, 0o775);
  assert.equal(
    statSync(path.join(dst, 'drop')).mode & 0o7777,
    0o775,
    'a 1777 folder without its sticky bit would let anyone delete anything: not writable by all',
  );
  const again = await diffManifests(iterate(listTree(src)), iterate(listTree(dst)));
  assert.deepEqual(again.differences, [], 'the special bits the sync left out are no difference');
});
