/**
 * The sync guards through the real CLI against a real source agent on loopback (docs/sync.md):
 * "source shrank" stops a sync before anything changes and --force lets it through; --force
 * never overrides the folder-marker check (an unmounted backup disk).
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { snapshotChanges, snapshotTree } from '../harness/snapshot.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`photos/${i}.jpg`, `photo ${i}`]));

interface SyncJson {
  error?: { code: string; message: string } | null;
  plan?: { stops: Array<{ guard: string }> };
}

test('source shrank: a real sync after the source lost more than half its files stops before changing the backup; --force goes on', async (t) => {
  const dir = await tempDir(t);
  const pair = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, pair.sourceEnv);
  const sync = (...extra: string[]) =>
    runSynker(['sync', 'photos', '--no-discovery', '--peer', `127.0.0.1:${source.port}`, '--json', ...extra], { env: pair.backupEnv });

  const first = await sync();
  assert.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
  // 13 of 30 left (and one new): fewer than half, so source shrank; yet 17 gone is under the 20 files of the mass-change
  // guard, and without --delete the max-delete guard has nothing to count: this guard alone stops it.
  for (let i = 0; i < 17; i++) rmSync(path.join(pair.sourceRoot, `photos/${i}.jpg`));
  writeFileSync(path.join(pair.sourceRoot, 'new.jpg'), 'taken since');
  // The backup's own .synker/ (its lock, marker and records) is synker's to write; the files are not.
  const files = () => snapshotTree(pair.backupRoot, (rel) => rel === '.synker');
  const before = files();

  const stopped = await sync();
  assert.equal(stopped.code, 2, `${stopped.stdout}\n${stopped.stderr}`);
  const json = JSON.parse(stopped.stdout) as SyncJson;
  assert.equal(json.error?.code, 'E_SYNC_GUARD_SOURCE_SHRANK');
  assert.deepEqual(
    json.plan?.stops.map((x) => x.guard),
    ['source-shrank'],
  );
  assert.match(json.error!.message, /the source lists 14 files where it listed 30 at the last sync/);
  assert.deepEqual(snapshotChanges(before, files()), [], 'no file on the backup changed, new.jpg not pulled');

  const forced = await sync('--force');
  assert.equal(forced.code, 0, `${forced.stdout}\n${forced.stderr}`);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'new.jpg'), 'utf8'), 'taken since', 'with --force the sync went on');
});

test('--force never overrides the folder-marker check: a backup folder without its marker is left alone', async (t) => {
  const dir = await tempDir(t);
  const pair = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, pair.sourceEnv);
  rmSync(path.join(pair.backupRoot, 'photos/3.jpg'));
  // The disk unmounted: the mount point is there, its marker is not. Nothing at all may be written,
  // not even a .synker/ folder.
  renameSync(path.join(pair.backupRoot, '.synker'), path.join(dir, 'synker-meta-aside'));
  const before = snapshotTree(pair.backupRoot);
  for (const extra of [[], ['--force'], ['--force', '--delete', '--max-delete', '100%']]) {
    const r = await runSynker(['sync', 'photos', '--no-discovery', '--peer', `127.0.0.1:${source.port}`, '--json', ...extra], {
      env: pair.backupEnv,
    });
    assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stdout}\n${r.stderr}`);
    assert.equal((JSON.parse(r.stdout) as SyncJson).error?.code, 'E_FOLDER_ABSENT', r.stdout);
    assert.match(r.stderr, /has no \.synker\/folder\.json marker \(an unmounted disk\?\)/);
    assert.deepEqual(
      snapshotChanges(before, snapshotTree(pair.backupRoot)),
      [],
      `${extra.join(' ')}: nothing written to the backup folder`,
    );
  }
});
