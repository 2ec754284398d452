/**
 * Names per destination (src/manifest/storable.ts): what a Windows backup
 * cannot hold is reported by the check and skipped by sync and restore with
 * the reason; on Linux and macOS `a:b.txt`, `what?.txt` and `CON.txt` are
 * ordinary names.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { markUnstorable } from '../../src/check/unstorable.js';
import { diffManifests } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { nameRulesOf, unstorableReason, windowsNameProblem } from '../../src/manifest/storable.js';
import { describeDifference } from '../../src/report/words.js';
import { planSync } from '../../src/sync/plan.js';
import { planRestore, planRestoreInto } from '../../src/sync/restore-plan.js';
import { resolveUnderRoot, unsafePathReason } from '../../src/transfer/safe-path.js';

const LONG = `${'d'.repeat(120)}/${'e'.repeat(120)}/${'f'.repeat(56)}.txt`; // 300 characters, each name short enough
const TREE = [
  'Report.txt',
  'a:b.txt',
  'aux',
  'CON.txt',
  'lpt1.tar.gz',
  'name.',
  'name ',
  'ok.txt',
  'what?.txt',
  'x<y',
  LONG,
  'dir./inside.txt',
];

const file = (p: string): ManifestEntry => ({
  path: p,
  type: 'file',
  size: 3,
  mtime: 1_700_000_000_000,
  mode: 0o644,
  hash: 'a'.repeat(64),
});
async function* iterate(entries: ManifestEntry[]): AsyncIterable<ManifestEntry> {
  yield* [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

test('Windows refuses reserved device names, its special characters and trailing dots or spaces; POSIX refuses none of them', () => {
  assert.equal(nameRulesOf('win32'), 'windows');
  assert.equal(nameRulesOf('darwin'), 'posix');
  const windows = Object.fromEntries(TREE.map((p) => [p, unstorableReason(p, 'windows')]));
  assert.deepEqual(windows, {
    'Report.txt': undefined,
    'a:b.txt': ': is not allowed in Windows names',
    aux: 'AUX is a device name on Windows, also with an extension',
    'CON.txt': 'CON is a device name on Windows, also with an extension',
    'lpt1.tar.gz': 'LPT1 is a device name on Windows, also with an extension',
    'name.': 'Windows drops a trailing dot or space from names',
    'name ': 'Windows drops a trailing dot or space from names',
    'ok.txt': undefined,
    'what?.txt': '? is not allowed in Windows names',
    'x<y': '< is not allowed in Windows names',
    [LONG]: undefined,
    'dir./inside.txt': '"dir.": Windows drops a trailing dot or space from names',
  });
  for (const p of TREE) assert.equal(unstorableReason(p, 'posix'), undefined, p);
  assert.match(windowsNameProblem('tab\there') ?? '', /control character/);
  assert.equal(windowsNameProblem('CONSOLE.txt'), undefined, 'only the device names themselves');
  assert.match(unstorableReason('x'.repeat(256), 'posix') ?? '', /255 bytes/);
  assert.match(unstorableReason('é'.repeat(200), 'posix') ?? '', /255 bytes/, '400 bytes of UTF-8');
  assert.equal(unstorableReason('é'.repeat(200), 'windows'), undefined, '200 UTF-16 units fit NTFS');
});

test('a:b.txt is a legal name on Linux and macOS; on Windows it would name a stream, and is refused', () => {
  assert.equal(unsafePathReason('a:b.txt'), undefined);
  assert.equal(unsafePathReason('C:/Windows'), undefined, 'a folder named "C:" on POSIX');
  assert.equal(resolveUnderRoot('/backup', 'a:b.txt', 'linux'), path.join('/backup', 'a:b.txt'));
  assert.throws(() => resolveUnderRoot('/backup', 'a:b.txt', 'win32'), { code: 'E_SYNC_UNSAFE_PATH' });
});

test('the check says which names a Windows backup cannot store; sync skips them with that reason and pulls the rest', async () => {
  const diff = await diffManifests(iterate(TREE.map(file)), iterate([]));
  markUnstorable(diff.differences, 'windows');
  const said = Object.fromEntries(diff.differences.map((d) => [d.path, d.unstorable]));
  assert.equal(said['what?.txt'], '? is not allowed in Windows names');
  assert.equal(said['Report.txt'], undefined);
  const what = diff.differences.find((d) => d.path === 'what?.txt')!;
  assert.match(describeDifference(what), /cannot be stored on this backup: \? is not allowed in Windows names/);
  assert.equal(what.failing, true, 'the backup does not have it: not complete');

  const plan = planSync(diff.differences, { sourceFiles: TREE.length, backupFiles: 0, nameRules: 'windows' });
  const pulled = plan.actions.filter((a) => a.op === 'pull').map((a) => ('at' in a ? a.at.path : ''));
  assert.deepEqual(pulled.sort(), ['Report.txt', LONG, 'ok.txt'].sort());
  const skipped = Object.fromEntries(plan.skipped.map((s) => [s.path, s]));
  assert.equal(Object.keys(skipped).length, TREE.length - 3);
  assert.equal(skipped['CON.txt']?.reason, 'unstorable');
  assert.match(skipped['CON.txt']?.detail ?? '', /^CON is a device name on Windows.*; rename it on the source$/);

  const fresh = await diffManifests(iterate(TREE.map(file)), iterate([]));
  markUnstorable(fresh.differences, 'posix');
  const onPosix = planSync(fresh.differences, { sourceFiles: TREE.length, backupFiles: 0 });
  assert.equal(onPosix.skipped.length, 0, 'a Linux backup holds every one of them');
});

test('two source names that differ only in case: a Windows backup holds the first, and the check and sync say why not the second', async () => {
  const both = ['Report.txt', 'report.txt'].map(file);
  const diff = await diffManifests(iterate(both), iterate([file('Report.txt')]));
  markUnstorable(diff.differences, 'windows');
  const missing = diff.differences.find((d) => d.category === 'missing');
  assert.equal(missing?.path, 'report.txt');
  assert.equal(missing?.unstorable, 'differs only in case from Report.txt, the same name on this disk');
  const plan = planSync(diff.differences, { sourceFiles: 2, backupFiles: 1, nameRules: 'windows' });
  assert.deepEqual(
    plan.actions.filter((a) => a.op === 'pull'),
    [],
    'never pulled, so never a partial file',
  );
  assert.equal(plan.skipped[0]?.reason, 'unstorable');
  // A case-insensitive disk found by the probe (a Mac's), with no check marks: a collision, not pulled either.
  const fresh = await diffManifests(iterate(both), iterate([file('Report.txt')]));
  const probed = planSync(fresh.differences, { sourceFiles: 2, backupFiles: 1, folding: { case: true, normalization: true } });
  assert.deepEqual(
    probed.actions.filter((a) => a.op === 'pull'),
    [],
  );
  assert.equal(probed.skipped[0]?.reason, 'collision');
});

test('the backup holds report.txt and the source gains Report.txt beside it: the held spelling stays, the new one is never pulled', async () => {
  const both = ['Report.txt', 'report.txt'].map(file);
  const diff = await diffManifests(iterate(both), iterate([file('report.txt')]));
  markUnstorable(diff.differences, 'windows');
  const missing = diff.differences.find((d) => d.category === 'missing');
  assert.equal(missing?.path, 'Report.txt');
  assert.equal(missing?.unstorable, 'differs only in case from report.txt, the same name on this disk');
  const fresh = await diffManifests(iterate(both), iterate([file('report.txt')]));
  const probed = planSync(fresh.differences, { sourceFiles: 2, backupFiles: 1, folding: { case: true, normalization: true } });
  assert.deepEqual(
    probed.actions.filter((a) => a.op === 'pull'),
    [],
    'a pull would fail only at landing, its partial left behind',
  );
  assert.equal(probed.skipped[0]?.path, 'Report.txt');
  assert.match(probed.skipped[0]?.detail ?? '', /collides with report\.txt/);
});

test('Photos/ and photos/ both new onto Windows: the first folder and what is in it land, the other is skipped whole', async () => {
  const dir = (p: string): ManifestEntry => ({ path: p, type: 'dir', size: 0, mtime: 1_700_000_000_000, mode: 0o755 });
  const tree = [dir('Photos'), file('Photos/a.jpg'), dir('photos'), file('photos/b.jpg')];
  const diff = await diffManifests(iterate(tree), iterate([]));
  markUnstorable(diff.differences, 'windows');
  const plan = planSync(diff.differences, {
    sourceFiles: 2,
    backupFiles: 0,
    nameRules: 'windows',
    folding: { case: true, normalization: false },
  });
  assert.deepEqual(plan.actions.map((a) => ('at' in a ? a.at.path : '')).sort(), ['Photos', 'Photos/a.jpg']);
  assert.deepEqual(plan.skipped.map((x) => x.path).sort(), ['photos', 'photos/b.jpg']);
});

test('restore onto Windows, in place or --to a folder, skips the names it cannot hold', async () => {
  const diff = await diffManifests(iterate([]), iterate(TREE.map(file)));
  const inPlace = planRestore(diff.differences, { nameRules: 'windows' });
  assert.equal(inPlace.actions.length, 3);
  assert.ok(inPlace.skipped.every((s) => s.reason === 'unstorable' && /; rename it on the backup, or restore it with --to/.test(s.detail)));
  const into = planRestoreInto(TREE.map(file), { nameRules: 'windows' });
  assert.equal(into.actions.length, 3);
  assert.equal(into.skipped.length, TREE.length - 3);
});
