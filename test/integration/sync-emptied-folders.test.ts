/**
 * Folder renames the check sees file by file (the folder's name is still on
 * the source, or the folder was moved and emptied on the way): the sync's
 * renames empty old folders on the backup that the source no longer has.
 * Through the real CLI and a real source agent, one sync removes them, as a
 * plain folder rename leaves nothing behind; a folder that still holds a
 * file the user put there is kept (src/sync/plan-moves.ts emptiedFolders).
 * Where the source has a file or symlink in place of such a folder, the same
 * sync puts it there, without --delete (plan-moves.ts emptiedInTheWay).
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { CheckReport } from '../../src/report/model.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';
import { treeOf } from '../harness/tree.js';

const FILES = { 'A/sub/a1': 'a1', 'A/a2': 'a2222', 'B/b1': 'bb', 'M/N/deep.txt': 'deep' };

/** `mv B C; mv A B; mkdir X; mv M X/M; mv X/M/N X/N2` on the source. */
function renameFolders(src: string): void {
  renameSync(path.join(src, 'B'), path.join(src, 'C'));
  renameSync(path.join(src, 'A'), path.join(src, 'B'));
  mkdirSync(path.join(src, 'X'));
  renameSync(path.join(src, 'M'), path.join(src, 'X/M'));
  renameSync(path.join(src, 'X/M/N'), path.join(src, 'X/N2'));
}

test('folders renamed in a chain and out of a moved folder: one sync leaves no empty old folder, the next check lists no extra', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, sourceRoot, backupRoot } = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  assert.equal((await runSynker(['sync', 'photos', ...peer], { env: backupEnv })).code, 0);
  renameFolders(sourceRoot);

  const dry = await runSynker(['sync', 'photos', ...peer, '--dry-run', '--all'], { env: backupEnv });
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /remove {4}A\/ \(emptied by the renames/);
  assert.match(dry.stdout, /remove {4}M\/ \(emptied by the renames/);
  assert.ok(existsSync(path.join(backupRoot, 'A')), 'a dry run changes nothing');

  const run = await runSynker(['sync', 'photos', ...peer], { env: backupEnv });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.doesNotMatch(run.stdout, /Extra on backup/);
  assert.deepEqual(treeOf(backupRoot), treeOf(sourceRoot));

  const check = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const report = JSON.parse(check.stdout) as CheckReport;
  assert.equal(report.complete, true);
  assert.deepEqual(report.differences, [], 'no extra left on the backup');
});

test('a folder the renames empty but that holds a file the user put on the backup is kept, with that file', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, sourceRoot, backupRoot } = await configureCliPair(dir, FILES, {
    backupFiles: { ...FILES, 'A/mine.txt': 'the user put this here' },
  });
  mkdirSync(path.join(backupRoot, 'M/keep'));
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  renameFolders(sourceRoot);

  const run = await runSynker(['sync', 'photos', ...peer], { env: backupEnv });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(readFileSync(path.join(backupRoot, 'A/mine.txt'), 'utf8'), 'the user put this here');
  assert.ok(statSync(path.join(backupRoot, 'M/keep')).isDirectory(), "the user's empty folder in M is kept, and M with it");
  const check = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
  const report = JSON.parse(check.stdout) as CheckReport;
  assert.equal(report.complete, true, check.stdout);
  assert.deepEqual(report.differences.map((d) => [d.category, d.path]).sort(), [
    ['extra', 'A'],
    ['extra', 'A/mine.txt'],
    ['extra', 'M'],
    ['extra', 'M/keep'],
  ]);
  const { 'A/': _a, 'A/mine.txt': _m, 'M/': _mm, 'M/keep/': _k, ...rest } = treeOf(backupRoot);
  assert.deepEqual(rest, treeOf(sourceRoot), 'everything else matches the source');
});

const IN_THE_WAY = { 'A/a1': 'a1', 'A/a2': 'a2222', 'M/m1': 'm1' };

/** `mv A B; ln -s B A; mv M/m1 .; rmdir M; echo notadir > M` on the source. */
function replaceFolders(src: string): void {
  renameSync(path.join(src, 'A'), path.join(src, 'B'));
  symlinkSync('B', path.join(src, 'A'));
  renameSync(path.join(src, 'M/m1'), path.join(src, 'm1'));
  rmdirSync(path.join(src, 'M'));
  writeFileSync(path.join(src, 'M'), 'notadir');
}

test('a folder the renames empty where the source now has a symlink or a file: one sync, without --delete, puts them in its place', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, sourceRoot, backupRoot } = await configureCliPair(dir, IN_THE_WAY);
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  assert.equal((await runSynker(['sync', 'photos', ...peer], { env: backupEnv })).code, 0);
  replaceFolders(sourceRoot);

  const dry = await runSynker(['sync', 'photos', ...peer, '--dry-run', '--all'], { env: backupEnv });
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, /symlink {3}A -> "B" \(in place of the folder the renames empty/);
  assert.match(dry.stdout, /copy {6}M \(7 B, type changed; in place of the folder the renames empty/);
  assert.doesNotMatch(dry.stdout, /folder-in-the-way/);

  const run = await runSynker(['sync', 'photos', ...peer], { env: backupEnv });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.doesNotMatch(run.stdout, /in the way|INCOMPLETE|kept in \.synker\/versions/);
  assert.equal(readlinkSync(path.join(backupRoot, 'A')), 'B');
  assert.ok(lstatSync(path.join(backupRoot, 'M')).isFile());
  assert.deepEqual(treeOf(backupRoot), treeOf(sourceRoot));
  const versions = path.join(backupRoot, '.synker/versions');
  assert.deepEqual(existsSync(versions) ? readdirSync(versions) : [], [], 'an empty folder is not kept as a version');

  const check = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const report = JSON.parse(check.stdout) as CheckReport;
  assert.equal(report.complete, true);
  assert.deepEqual(report.differences, []);
});

test("a folder the renames empty but that holds a file the user put there is still in the way of the source's symlink", async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, sourceRoot, backupRoot } = await configureCliPair(dir, IN_THE_WAY, {
    backupFiles: { ...IN_THE_WAY, 'A/mine.txt': 'the user put this here' },
  });
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  replaceFolders(sourceRoot);

  const run = await runSynker(['sync', 'photos', ...peer], { env: backupEnv });
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /A {2}a folder is in the way: the backup has a folder where the source has a symlink; use --delete/);
  assert.doesNotMatch(run.stdout, /M {2}a folder is in the way/);
  assert.equal(readFileSync(path.join(backupRoot, 'A/mine.txt'), 'utf8'), 'the user put this here');
  assert.ok(lstatSync(path.join(backupRoot, 'A')).isDirectory());
  assert.equal(readFileSync(path.join(backupRoot, 'M'), 'utf8'), 'notadir', 'the file takes the place of the emptied M');
  assert.equal(readFileSync(path.join(backupRoot, 'B/a2'), 'utf8'), 'a2222');
});

test('after a sync that renamed folders, what stayed of them is listed under their new names, and the emptied folder it removed is counted', async (t) => {
  const dir = await tempDir(t);
  const files = { 'H/h1': 'h1', 'A/a1': 'a1', 'G/g1': 'g1' };
  const { sourceEnv, backupEnv, sourceRoot, backupRoot } = await configureCliPair(dir, files, {
    backupFiles: { ...files, 'H/.hidden': 'the user put this here' },
  });
  mkdirSync(path.join(backupRoot, 'A/userdir'));
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  renameSync(path.join(sourceRoot, 'H'), path.join(sourceRoot, 'H2'));
  renameSync(path.join(sourceRoot, 'A'), path.join(sourceRoot, 'A2'));
  renameSync(path.join(sourceRoot, 'G/g1'), path.join(sourceRoot, 'g1moved'));
  rmdirSync(path.join(sourceRoot, 'G'));

  const run = await runSynker(['sync', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const sync = (JSON.parse(run.stdout) as { check: CheckReport }).check.sync!;
  assert.deepEqual(
    sync.remaining.differences.map((d) => [d.category, d.path]),
    [
      ['extra', 'A2/userdir'],
      ['extra', 'H2/.hidden'],
    ],
  );
  assert.ok(!existsSync(path.join(backupRoot, 'G')));
  assert.equal(sync.fixed.emptiedFolders, 1);

  const check = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
  const report = JSON.parse(check.stdout) as CheckReport;
  assert.deepEqual(
    report.differences.map((d) => [d.category, d.path]),
    sync.remaining.differences.map((d) => [d.category, d.path]),
    'the next check lists what the sync said it left',
  );

  renameSync(path.join(sourceRoot, 'H2'), path.join(sourceRoot, 'H3'));
  const text = await runSynker(['sync', 'photos', ...peer], { env: backupEnv });
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.match(text.stdout, /\n {2}H3\/\.hidden {2}/);
  assert.doesNotMatch(text.stdout, /\n {2}H2\/\.hidden/);
});

test('with --delete, the folder the link replaces goes to versions with the file the user put in it, in one sync', async (t) => {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, sourceRoot, backupRoot } = await configureCliPair(dir, IN_THE_WAY, {
    backupFiles: { ...IN_THE_WAY, 'A/mine.txt': 'the user put this here' },
  });
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  replaceFolders(sourceRoot);

  const dry = await runSynker(['sync', 'photos', ...peer, '--delete', '--dry-run', '--all'], { env: backupEnv });
  assert.match(dry.stdout, /symlink {3}A -> "B" \(the folder there, with what is in it, to versions\)/);
  const run = await runSynker(['sync', 'photos', ...peer, '--delete'], { env: backupEnv });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.doesNotMatch(run.stdout, /Failed|became a symlink/);
  assert.equal(readlinkSync(path.join(backupRoot, 'A')), 'B');
  assert.deepEqual(treeOf(backupRoot), treeOf(sourceRoot));
  const versions = path.join(backupRoot, '.synker/versions');
  const kept = readdirSync(versions);
  assert.equal(kept.length, 1, kept.join(', '));
  assert.match(kept[0]!, /^A~/);
  assert.equal(readFileSync(path.join(versions, kept[0]!, 'mine.txt'), 'utf8'), 'the user put this here');
});
