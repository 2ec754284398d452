import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { applyPlan } from '../../src/sync/apply.js';
import { LocalFolderSource } from '../harness/local-source.js';
import type { PlanDifference } from '../../src/sync/plan-types.js';
import { planRestore, planRestoreInto } from '../../src/sync/restore-plan.js';
import { findAlreadyRestored } from '../../src/sync/restore-target.js';
import { listVersions } from '../../src/sync/versions.js';
import { diffTrees, listTree, sha256, T0, writeTree } from '../harness/tree.js';
import { tempDir } from '../harness/tmp.js';

const lookupOf = (entries: ManifestEntry[]) => {
  const m = new Map(entries.map((e) => [e.path, e]));
  return (p: string) => m.get(p);
};

async function pair(t: import('node:test').TestContext) {
  const source = await tempDir(t);
  const backup = await tempDir(t);
  const spec = { 'docs/a.txt': 'A', 'docs/b.txt': 'B', 'photo.jpg': 'pixels' };
  writeTree(source, spec);
  writeTree(backup, spec);
  return { source, backup };
}

test('restore brings back a file deleted on the source, with its time', async (t) => {
  const { source, backup } = await pair(t);
  rmSync(path.join(source, 'docs'), { recursive: true });
  const b = listTree(backup);
  const plan = planRestore(await diffTrees(source, backup));
  assert.deepEqual(
    plan.actions.map((a) => a.op),
    ['mkdir', 'pull', 'pull'],
  );
  const result = await applyPlan(plan, { root: source, source: new LocalFolderSource(backup, lookupOf(b)) });
  assert.deepEqual(result.failed, []);
  assert.equal(readFileSync(path.join(source, 'docs/a.txt'), 'utf8'), 'A');
  assert.equal(readFileSync(path.join(source, 'docs/b.txt'), 'utf8'), 'B');
});

test('restore of a damaged source file; a newer source file is not overwritten without --force', async (t) => {
  const { source, backup } = await pair(t);
  writeFileSync(path.join(source, 'photo.jpg'), 'PIXELS'); // bit rot: same size, same mtime
  utimesSync(path.join(source, 'photo.jpg'), new Date(T0), new Date(T0));
  writeFileSync(path.join(source, 'docs/a.txt'), 'A, edited today');
  const b = listTree(backup);
  const diffs: PlanDifference[] = (await diffTrees(source, backup)).map((d) =>
    d.path === 'photo.jpg' ? { ...d, changedOn: 'source-suspicious' } : { ...d, changedOn: 'source' },
  );
  const everything = planRestore(diffs);
  assert.deepEqual(
    everything.actions.map((a) => ('at' in a ? a.at.path : '')),
    ['photo.jpg'],
    "only the damaged file; the edit is the source's to keep",
  );
  const asked = planRestore(diffs, { paths: ['docs/a.txt', 'photo.jpg'] });
  assert.deepEqual(
    asked.skipped.map((x) => [x.reason, x.path]),
    [['newer-on-source', 'docs/a.txt']],
  );
  const result = await applyPlan(asked, { root: source, source: new LocalFolderSource(backup, lookupOf(b)) });
  assert.deepEqual(result.failed, []);
  assert.equal(readFileSync(path.join(source, 'photo.jpg'), 'utf8'), 'pixels');
  assert.equal(readFileSync(path.join(source, 'docs/a.txt'), 'utf8'), 'A, edited today');
  assert.deepEqual(
    (await listVersions(source)).map((v) => v.path),
    ['photo.jpg'],
    'the damaged copy is kept too',
  );
  const forced = planRestore(diffs, { paths: ['docs'], force: true });
  await applyPlan(forced, { root: source, source: new LocalFolderSource(backup, lookupOf(b)) });
  assert.equal(readFileSync(path.join(source, 'docs/a.txt'), 'utf8'), 'A');
});

test("restore --to DIR writes the backup's files elsewhere and leaves the source alone", async (t) => {
  const { source, backup } = await pair(t);
  const elsewhere = path.join(await tempDir(t), 'restored');
  writeFileSync(path.join(source, 'docs/a.txt'), 'A, edited today');
  const b = listTree(backup);
  const plan = planRestoreInto(b, { paths: ['docs/'] });
  const result = await applyPlan(plan, { root: elsewhere, source: new LocalFolderSource(backup, lookupOf(b)), requireMarker: false });
  assert.deepEqual(result.failed, []);
  assert.equal(readFileSync(path.join(elsewhere, 'docs/a.txt'), 'utf8'), 'A');
  assert.equal(existsSync(path.join(elsewhere, 'photo.jpg')), false);
  assert.equal(readFileSync(path.join(source, 'docs/a.txt'), 'utf8'), 'A, edited today');
});

test('restore --to DIR again copies only what DIR lacks or holds differently, resumes a partial, and keeps no identical copies', async (t) => {
  const { source, backup } = await pair(t);
  const video = randomBytes(300_000);
  writeTree(backup, { 'video.bin': video, link: { link: 'photo.jpg' } });
  const elsewhere = path.join(await tempDir(t), 'restored');
  const b = listTree(backup);
  const restoreInto = async () => {
    const plan = planRestoreInto(b, {}, await findAlreadyRestored(elsewhere, b));
    const result = await applyPlan(plan, { root: elsewhere, source: new LocalFolderSource(backup, lookupOf(b)), requireMarker: false });
    assert.deepEqual(result.failed, []);
    return { plan, result };
  };
  const first = await restoreInto();
  assert.equal(first.result.pulled, 4);
  assert.deepEqual(listTree(elsewhere), b);

  // The same restore again: nothing to copy, nothing kept as a version, no trace of synker's own files.
  const again = await restoreInto();
  assert.deepEqual(
    again.plan.actions.filter((a) => a.op !== 'mkdir').map((a) => a.op),
    [],
  );
  assert.equal(again.result.pulled, 0);
  assert.equal(existsSync(path.join(elsewhere, '.synker')), false);

  // Interrupted and changed meanwhile: a partial to resume, a file edited in DIR (same size), one of
  // another size, one whose only change is its time.
  rmSync(path.join(elsewhere, 'video.bin'));
  mkdirSync(path.join(elsewhere, '.synker/partial'), { recursive: true });
  writeFileSync(path.join(elsewhere, '.synker/partial', `${sha256(video)}.part`), video.subarray(0, 100_000));
  writeFileSync(path.join(elsewhere, 'docs/a.txt'), 'Z');
  writeFileSync(path.join(elsewhere, 'photo.jpg'), 'a longer edit of the photo');
  utimesSync(path.join(elsewhere, 'docs/b.txt'), new Date(T0 + 60_000), new Date(T0 + 60_000));
  const resumed = await restoreInto();
  assert.deepEqual(
    resumed.plan.actions.filter((a) => a.op !== 'mkdir').map((a) => [a.op, 'at' in a ? a.at.path : '']),
    [
      ['pull', 'docs/a.txt'],
      ['metadata', 'docs/b.txt'],
      ['pull', 'photo.jpg'],
      ['pull', 'video.bin'],
    ],
  );
  assert.equal(resumed.result.pulledBytes - resumed.result.bytesReceived, 100_000, 'the partial was resumed, not sent again');
  assert.deepEqual(listTree(elsewhere), b);
  // What differed in DIR is kept; what was the backup's already is not.
  assert.deepEqual(
    (await listVersions(elsewhere)).map((v) => v.path),
    ['docs/a.txt', 'photo.jpg'],
  );
  assert.equal(readFileSync(path.join(source, 'docs/a.txt'), 'utf8'), 'A');
});

test('restore without paths also brings back a file unreadable on the source, unless the source copy is newer', async (t) => {
  const { source, backup } = await pair(t);
  const b = listTree(backup);
  const facts = (p: string) => {
    const { path: _p, ...rest } = b.find((e) => e.path === p)!;
    return rest;
  };
  const unreadable = (p: string, mtime: number): PlanDifference => ({
    category: 'unreadable',
    path: p,
    side: 'source',
    source: { type: 'error', size: 0, mtime, mode: 0 },
    backup: facts(p),
  });
  const plan = planRestore([
    unreadable('photo.jpg', T0),
    unreadable('docs/a.txt', T0 + 60_000),
    { category: 'unreadable', path: 'docs', side: 'source', source: { type: 'error', size: 0, mtime: T0, mode: 0 }, backup: facts('docs') },
  ]);
  assert.deepEqual(
    plan.actions.map((a) => [a.op, 'at' in a ? a.at.path : '']),
    [['pull', 'photo.jpg']],
  );
  assert.deepEqual(
    plan.skipped.map((x) => [x.reason, x.path]),
    [
      ['newer-on-source', 'docs/a.txt'],
      ['unreadable', 'docs'],
    ],
  );
  writeFileSync(path.join(source, 'photo.jpg'), 'garbled');
  const result = await applyPlan(plan, { root: source, source: new LocalFolderSource(backup, lookupOf(b)) });
  assert.deepEqual(result.failed, []);
  assert.equal(readFileSync(path.join(source, 'photo.jpg'), 'utf8'), 'pixels');
  assert.deepEqual(
    (await listVersions(source)).map((v) => v.path),
    ['photo.jpg'],
    'what it replaced is kept',
  );
  const forced = planRestore([unreadable('docs/a.txt', T0 + 60_000)], { force: true });
  assert.deepEqual(
    forced.actions.map((a) => a.op),
    ['pull'],
  );
});

test('restore --to DIR never reads or changes what a symlinked folder in DIR points to', async (t) => {
  const { source: _source, backup } = await pair(t);
  const b = listTree(backup);
  const elsewhere = path.join(await tempDir(t), 'restored');
  const outside = await tempDir(t);
  // Behind the link: the backup's a.txt with another mode and time, and a b.txt that differs.
  writeTree(outside, { 'a.txt': 'A', 'b.txt': 'not B' });
  chmodSync(path.join(outside, 'a.txt'), 0o600);
  utimesSync(path.join(outside, 'a.txt'), new Date(T0 - 86_400_000), new Date(T0 - 86_400_000));
  const before = JSON.stringify(listTree(outside).map((e) => [e.path, e.hash, e.mtime, e.mode]));
  mkdirSync(elsewhere);
  symlinkSync(outside, path.join(elsewhere, 'docs'));
  const restoreInto = async (paths: string[]) => {
    const wanted = paths.length === 0 ? b : b.filter((e) => paths.some((p) => e.path === p));
    const plan = planRestoreInto(wanted, { paths }, await findAlreadyRestored(elsewhere, wanted));
    return applyPlan(plan, { root: elsewhere, source: new LocalFolderSource(backup, lookupOf(b)), requireMarker: false });
  };

  // One file under the link: refused, not "fixed" through the link.
  const one = await restoreInto(['docs/a.txt']);
  assert.equal(one.metadataFixed, 0);
  assert.deepEqual(
    one.failed.map((f) => [f.path, f.code]),
    [['docs/a.txt', 'E_SYNC_UNSAFE_PATH']],
  );
  assert.equal(JSON.stringify(listTree(outside).map((e) => [e.path, e.hash, e.mtime, e.mode])), before);

  // The whole folder: the link is kept as a version and replaced by a real folder holding the backup's files.
  const all = await restoreInto([]);
  assert.deepEqual(all.failed, []);
  assert.equal(JSON.stringify(listTree(outside).map((e) => [e.path, e.hash, e.mtime, e.mode])), before);
  assert.equal(lstatSync(path.join(elsewhere, 'docs')).isDirectory(), true);
  assert.equal(readFileSync(path.join(elsewhere, 'docs/a.txt'), 'utf8'), 'A');
  assert.equal(readFileSync(path.join(elsewhere, 'docs/b.txt'), 'utf8'), 'B');
  assert.deepEqual(
    (await listVersions(elsewhere)).map((v) => v.path),
    ['docs'],
  );
});

test('restore never replaces a source file that still holds its last verified hash with a backup copy that changed, unless named (--force alone does not name it)', async (t) => {
  const { source, backup } = await pair(t);
  // Bit rot on the backup: other bytes, same size and mtime; the source's file is as verified.
  writeFileSync(path.join(backup, 'photo.jpg'), 'PIXELS');
  utimesSync(path.join(backup, 'photo.jpg'), new Date(T0), new Date(T0));
  rmSync(path.join(source, 'docs/b.txt'));
  const b = listTree(backup);
  const diffs: PlanDifference[] = (await diffTrees(source, backup)).map((d) =>
    d.path === 'photo.jpg' ? { ...d, changedOn: 'backup' } : d,
  );
  const plain = planRestore(diffs);
  assert.deepEqual(
    plain.actions.map((a) => ('at' in a ? a.at.path : '')),
    ['docs/b.txt'],
    'only the missing file',
  );
  assert.deepEqual(
    plain.skipped.map((s) => [s.reason, s.path]),
    [['changed-on-backup', 'photo.jpg']],
  );
  const result = await applyPlan(plain, { root: source, source: new LocalFolderSource(backup, lookupOf(b)) });
  assert.deepEqual(result.failed, []);
  assert.equal(readFileSync(path.join(source, 'photo.jpg'), 'utf8'), 'pixels', 'the good source file stays');
  for (const options of [{ paths: ['photo.jpg'] }, { paths: ['photo.jpg'], force: true }]) {
    assert.deepEqual(
      planRestore(diffs, options).actions.map((a) => ('at' in a ? a.at.path : '')),
      ['photo.jpg'],
      `restored when ${JSON.stringify(options)}`,
    );
  }
  // --force alone overrides "newer here", not the verdict: the damaged backup copy stays where it is.
  const forced = planRestore(diffs, { force: true });
  assert.deepEqual(
    forced.actions.map((a) => ('at' in a ? a.at.path : '')),
    ['docs/b.txt'],
  );
  assert.deepEqual(
    forced.skipped.map((s) => [s.reason, s.path]),
    [['changed-on-backup', 'photo.jpg']],
  );
  // Gone here and changed on the backup since it was verified: not brought back unnamed either.
  const gone = diffs.map((d) => (d.path === 'docs/b.txt' ? { ...d, changedOn: 'both' as const } : d));
  assert.deepEqual(
    planRestore(gone).skipped.map((s) => [s.reason, s.path]),
    [
      ['changed-on-backup', 'docs/b.txt'],
      ['changed-on-backup', 'photo.jpg'],
    ],
  );
  assert.deepEqual(
    planRestore(gone, { paths: ['docs/b.txt'] }).actions.map((a) => ('at' in a ? a.at.path : '')),
    ['docs/b.txt'],
  );
});
