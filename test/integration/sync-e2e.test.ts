/**
 * `synker sync` end to end between two agents on loopback (test/helpers/
 * check-pair.ts): a real source agent serving a real folder through the
 * scanner, the backup running check + sync, then a fresh check.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { staticLocator } from '../harness/peer-address.js';
import { AgentState } from '../../src/state/agent-state.js';
import { syncFolder, type SyncFolderOptions } from '../../src/sync/sync-folder.js';
import { listVersions, restoreVersion } from '../../src/sync/versions.js';
import { readVerified } from '../../src/check/verified-store.js';
import type { VerifiedRecordsSource } from '../../src/peer/index.js';
import { corruptKeepingSizeAndMtime, FIXED_MTIME_S, startCheckPair, type CheckPair } from '../harness/check-pair.js';
import { isRoot } from '../harness/scan.js';
import { contentMap } from '../harness/tree.js';

async function syncer(t: TestContext, pair: CheckPair) {
  const state = await AgentState.open(path.join(pair.backupHome, 'sync-data'));
  t.after(() => state.close());
  const env = { config: pair.backupConfig, identity: pair.backupIdentity, state, locator: staticLocator(pair.backupConfig.peers) };
  return (options: SyncFolderOptions = {}) =>
    syncFolder(env, pair.backupConfig.folders[0]!, { cacheDir: path.join(pair.backupHome, 'cache'), jobs: 2, ...options });
}

const files: Record<string, string> = {
  'same.txt': 'unchanged',
  'edit.txt': 'first version',
  'touch.txt': 'only touched',
  'gone.txt': 'deleted on the source',
  'move/me.txt': 'moved on the source',
  'album/1.jpg': 'photo one',
  'album/2.jpg': 'photo two',
  'Case.txt': 'renamed in case only',
  'becomes-dir': 'a file that becomes a folder',
  'mode.sh': 'echo hi',
};

test('sync fixes every kind of difference; a check afterwards finds the backup complete', async (t) => {
  const pair = await startCheckPair(t, files);
  const s = (p: string) => path.join(pair.sourceRoot, p);
  writeFileSync(s('edit.txt'), 'second version, longer');
  utimesSync(s('touch.txt'), FIXED_MTIME_S + 60, FIXED_MTIME_S + 60);
  rmSync(s('gone.txt'));
  mkdirSync(s('moved'));
  renameSync(s('move/me.txt'), s('moved/me.txt'));
  renameSync(s('album'), s('albums-2024'));
  renameSync(s('Case.txt'), s('CASE.txt'));
  rmSync(s('becomes-dir'));
  mkdirSync(s('becomes-dir'));
  writeFileSync(s('becomes-dir/inside.txt'), 'now inside a folder');
  writeFileSync(s('new.txt'), 'brand new');
  symlinkSync('same.txt', s('link-to-same'));
  chmodSync(s('mode.sh'), 0o755);
  writeFileSync(path.join(pair.backupRoot, 'extra-on-backup.txt'), 'only on the backup');

  const before = await pair.check();
  assert.equal(before.exitCode, 1);
  const sync = await syncer(t, pair);
  const dry = await sync({ dryRun: true, delete: true });
  assert.equal(dry.outcome?.dryRun, true);
  assert.ok(dry.outcome!.plan.actions.length > 5);
  assert.equal((await pair.check()).exitCode, 1, 'a dry run changes nothing');

  const result = await sync({ delete: true });
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.deepEqual(result.outcome?.result?.failed, []);
  assert.equal(result.exitCode, 0);
  const after = await pair.check();
  assert.equal(after.exitCode, 0, JSON.stringify(after.differences, null, 1));
  // Contents verified by hashing every file on both sides.
  assert.deepEqual(contentMap(pair.backupRoot), contentMap(pair.sourceRoot));
  // Nothing was lost: what the sync replaced or removed is in the versions folder.
  const kept = (await listVersions(pair.backupRoot)).map((v) => v.path).sort();
  assert.deepEqual(kept, ['becomes-dir', 'edit.txt', 'extra-on-backup.txt', 'gone.txt']);
  // The moves were renames: nothing re-sent for them.
  assert.equal(result.outcome!.result!.moved, 1 + 2 + 1);
});

test('while a sync runs, whoever finds the folder locked is told it is a sync', async (t) => {
  const pair = await startCheckPair(t, { 'a.txt': 'a' });
  writeFileSync(path.join(pair.sourceRoot, 'b.txt'), 'new on the source');
  const state = await AgentState.open(path.join(pair.backupHome, 'sync-data'));
  t.after(() => state.close());
  const env = { config: pair.backupConfig, identity: pair.backupIdentity, state, locator: staticLocator(pair.backupConfig.peers) };
  const folder = pair.backupConfig.folders[0]!;
  // Progress is reported while the files are applied, under the sync's lock.
  let second: Promise<string> | undefined;
  const result = await syncFolder(env, folder, {
    cacheDir: path.join(pair.backupHome, 'cache'),
    jobs: 2,
    onProgress: () => {
      second ??= state.acquireFolderLock(folder.id).then(
        async (lock) => {
          await lock.release();
          return 'the lock was free';
        },
        (err: Error) => err.message,
      );
    },
  });
  assert.equal(result.exitCode, 0, JSON.stringify(result.error));
  assert.ok(second, 'no progress was reported');
  assert.match(await second, new RegExp(`folder "${folder.id}" is busy: sync by process ${process.pid} since `));
});

test('a suspicious change on the source is not copied over the good backup', async (t) => {
  const pair = await startCheckPair(t, files);
  const sync = await syncer(t, pair);
  assert.equal((await sync()).exitCode, 0, 'a first run verifies every file');
  // Same size, same mtime, different bytes: bit rot or tampering on the source.
  writeFileSync(path.join(pair.sourceRoot, 'same.txt'), 'UNCHANGED');
  utimesSync(path.join(pair.sourceRoot, 'same.txt'), FIXED_MTIME_S, FIXED_MTIME_S);
  const result = await sync();
  assert.equal(result.exitCode, 1);
  assert.deepEqual(
    result.outcome?.plan.skipped.map((x) => [x.reason, x.path]),
    [['suspicious', 'same.txt']],
  );
  assert.equal(readFileSync(path.join(pair.backupRoot, 'same.txt'), 'utf8'), 'unchanged');
  const forced = await sync({ force: true });
  assert.equal(forced.exitCode, 0);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'same.txt'), 'utf8'), 'UNCHANGED');
});

test('--max-delete stops a mass deletion before anything changes', async (t) => {
  const many: Record<string, string> = {};
  for (let i = 0; i < 40; i++) many[`f${i}.txt`] = `file ${i}`;
  const pair = await startCheckPair(t, many);
  for (let i = 0; i < 25; i++) rmSync(path.join(pair.sourceRoot, `f${i}.txt`));
  const sync = await syncer(t, pair);
  const stopped = await sync({ delete: true, maxDelete: { count: 10 } });
  assert.equal(stopped.exitCode, 2);
  assert.equal(stopped.error?.code, 'E_SYNC_GUARD_MAX_DELETE');
  assert.match(stopped.error!.message, /would remove 25 files from the backup, more than the limit of 10/);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'f0.txt'), 'utf8'), 'file 0', 'nothing was deleted');
  const allowed = await sync({ delete: true, maxDelete: { percent: 100 } });
  assert.equal(allowed.exitCode, 0);
  assert.equal((await listVersions(pair.backupRoot)).length, 25);
});

test('the CLI: synker sync --dry-run, sync, --json, versions list, and exit codes', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const pair = await startCheckPair(t, files);
  rmSync(path.join(pair.sourceRoot, 'gone.txt'));
  writeFileSync(path.join(pair.sourceRoot, 'edit.txt'), 'second version');
  await pair.writeBackupHome();
  const env = { ...process.env, SYNKER_HOME: pair.backupHome, SYNKER_LOG: 'warn' };
  const dry = await runSynker(['sync', 'photos', '--dry-run', '--delete', '--no-discovery'], { env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /dry run: 1 file to copy .*1 file to delete/);
  assert.match(dry.stdout, /copy +edit\.txt/);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'edit.txt'), 'utf8'), 'first version');
  const bad = await runSynker(['sync', 'photos', '--max-delete', 'lots', '--no-discovery'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-delete lots is not a number/);
  const real = await runSynker(['sync', 'photos', '--delete', '--json', '--no-discovery'], { env });
  assert.equal(real.code, 0, real.stderr);
  const json = JSON.parse(real.stdout) as { schema: string; exitCode: number; result: { pulled: number; deleted: number } };
  assert.equal(json.schema, 'synker/sync-result');
  assert.deepEqual([json.exitCode, json.result.pulled, json.result.deleted], [0, 1, 1]);
  const listed = await runSynker(['versions', 'list', 'photos'], { env });
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /edit\.txt/);
  assert.match(listed.stdout, /gone\.txt/);
  const check = await runSynker(['check', 'photos'], { env });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const back = await runSynker(['versions', 'restore', 'photos', 'gone.txt'], { env });
  assert.equal(back.code, 0, back.stderr);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'gone.txt'), 'utf8'), 'deleted on the source');
});

/** A source machine's SYNKER_HOME restoring from the backup machine's agent, which serves its copy (role backup). */
async function restorePair(t: TestContext, options: { verifiedRecords?: false | VerifiedRecordsSource } = {}) {
  const { startAgentServer } = await import('../../src/peer/index.js');
  const { scanFolder } = await import('../../src/scan/index.js');
  const { saveConfigFile } = await import('../../src/config/config-file.js');
  const { CONFIG_FILE_NAME } = await import('../../src/config/defaults.js');
  const { CERT_FILE, KEY_FILE } = await import('../../src/identity/identity.js');
  const { mkdir, writeFile } = await import('node:fs/promises');
  const pair = await startCheckPair(t, files);
  // The backup machine's agent serves its copy (role backup) to the source device.
  const backupAgent = await startAgentServer({
    identity: pair.backupIdentity,
    host: '127.0.0.1',
    port: 0,
    directory: {
      agentName: () => 'nas',
      trusted: (id) => (id === pair.sourceIdentity.deviceId ? { deviceId: id, name: 'laptop' } : undefined),
      folders: () => [{ id: 'photos', path: pair.backupRoot, role: 'backup', shareWith: [pair.sourceIdentity.deviceId] }],
    },
    manifestSource: async (folder, signal) => ({
      ignoreRules: [],
      entries: scanFolder(folder.path, { signal, cacheDir: path.join(pair.backupHome, 'agent-cache'), jobs: 2 }),
    }),
    // As the agent does: what the backup last verified, for the restore's verdicts.
    ...(options.verifiedRecords === false
      ? {}
      : {
          verifiedRecords: options.verifiedRecords ?? ((folder, paths) => readVerified(pair.state, folder.id, paths).map((r) => r ?? null)),
        }),
  });
  // The backup was checked: it knows what it verified as matching the source.
  assert.equal((await pair.check()).exitCode, 0);
  t.after(() => backupAgent.close());
  const sourceHome = path.join(pair.backupHome, '..', 'source-home');
  await mkdir(path.join(sourceHome, 'config'), { recursive: true });
  await saveConfigFile(path.join(sourceHome, 'config', CONFIG_FILE_NAME), {
    version: 1,
    name: 'laptop',
    port: 7780,
    folders: [{ id: 'photos', path: pair.sourceRoot, role: 'source', shareWith: [pair.backupIdentity.deviceId] }],
    trusted: [{ deviceId: pair.backupIdentity.deviceId, name: 'nas' }],
    peers: [`127.0.0.1:${backupAgent.port}`],
  });
  await writeFile(path.join(sourceHome, 'config', CERT_FILE), pair.sourceIdentity.certPem);
  await writeFile(path.join(sourceHome, 'config', KEY_FILE), pair.sourceIdentity.keyPem, { mode: 0o600 });
  const env = { ...process.env, SYNKER_HOME: sourceHome, SYNKER_LOG: 'warn' };
  return { pair, env, sourceHome };
}

test('the CLI: synker restore brings a deleted source file back from the backup agent', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const { pair, env, sourceHome } = await restorePair(t);
  rmSync(path.join(pair.sourceRoot, 'gone.txt'));
  writeFileSync(path.join(pair.sourceRoot, 'edit.txt'), 'edited today, newer than the backup');
  const dry = await runSynker(['restore', 'photos', '--dry-run', '--no-discovery'], { env });
  assert.equal(dry.code, 1, dry.stderr);
  assert.match(dry.stdout, /copy +gone\.txt/);
  assert.match(dry.stdout, /differs +edit\.txt/);
  const one = await runSynker(['restore', 'photos', 'gone.txt', '--no-discovery'], { env });
  assert.equal(one.code, 0, one.stdout + one.stderr);
  assert.equal(readFileSync(path.join(pair.sourceRoot, 'gone.txt'), 'utf8'), 'deleted on the source');
  const newer = await runSynker(['restore', 'photos', 'edit.txt', '--no-discovery'], { env });
  assert.equal(newer.code, 1);
  assert.match(newer.stdout, /newer-on-source/);
  assert.equal(readFileSync(path.join(pair.sourceRoot, 'edit.txt'), 'utf8'), 'edited today, newer than the backup');
  const elsewhere = path.join(sourceHome, 'out');
  const copy = await runSynker(['restore', 'photos', 'edit.txt', '--to', elsewhere, '--no-discovery'], { env });
  assert.equal(copy.code, 0, copy.stderr);
  assert.equal(readFileSync(path.join(elsewhere, 'edit.txt'), 'utf8'), 'first version');
  // Run again, the file already there is neither copied again nor kept as a version of itself.
  const twice = await runSynker(['restore', 'photos', 'edit.txt', '--to', elsewhere, '--no-discovery'], { env });
  assert.equal(twice.code, 0, twice.stderr);
  assert.match(twice.stdout, /copied 0 files/);
  assert.equal(existsSync(path.join(elsewhere, '.synker')), false);
  const forced = await runSynker(['restore', 'photos', 'edit.txt', '--force', '--no-discovery'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(path.join(pair.sourceRoot, 'edit.txt'), 'utf8'), 'first version');
});

test('the CLI: synker restore without paths brings back what is missing or damaged, never a newer source file', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const { pair, env } = await restorePair(t);
  const s = (p: string) => path.join(pair.sourceRoot, p);
  rmSync(s('gone.txt'));
  rmSync(s('album'), { recursive: true });
  // Damaged: other bytes, same size and mtime (bit rot, tampering).
  writeFileSync(s('same.txt'), 'UNCHANGED');
  utimesSync(s('same.txt'), FIXED_MTIME_S, FIXED_MTIME_S);
  // An edit made today: newer than the backup's copy, the user's to keep.
  writeFileSync(s('edit.txt'), 'edited today, newer than the backup');
  const dry = await runSynker(['restore', 'photos', '--dry-run', '--no-discovery'], { env });
  assert.match(dry.stdout, /copy +same\.txt/);
  assert.equal(readFileSync(s('same.txt'), 'utf8'), 'UNCHANGED', 'a dry run changes nothing');
  const all = await runSynker(['restore', 'photos', '--force', '--json', '--no-discovery'], { env });
  assert.equal(all.code, 1, all.stdout + all.stderr);
  const json = JSON.parse(all.stdout) as {
    result: { pulled: number; failed: unknown[] };
    plan: { skipped: Array<{ path: string; reason: string }> };
  };
  assert.deepEqual(json.result.failed, []);
  assert.equal(json.result.pulled, 4, 'gone.txt, album/1.jpg, album/2.jpg and the damaged same.txt');
  assert.deepEqual(
    json.plan.skipped.map((x) => [x.reason, x.path]),
    [['differs', 'edit.txt']],
    'a newer source file is not overwritten, even with --force, unless named',
  );
  assert.equal(readFileSync(s('gone.txt'), 'utf8'), 'deleted on the source');
  assert.equal(readFileSync(s('album/2.jpg'), 'utf8'), 'photo two');
  assert.equal(readFileSync(s('same.txt'), 'utf8'), 'unchanged', 'the damaged file is restored');
  assert.equal(readFileSync(s('edit.txt'), 'utf8'), 'edited today, newer than the backup');
  // The damaged copy is not destroyed: it went to the source's versions folder.
  assert.deepEqual(
    (await listVersions(pair.sourceRoot)).map((v) => v.path),
    ['same.txt'],
  );
});

test('the CLI: a plain restore never carries a damaged backup copy onto the good source file; check says the backup changed', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const { pair, env } = await restorePair(t);
  const s = (p: string) => path.join(pair.sourceRoot, p);
  // Bit rot or tampering on the backup: other bytes, same size and mtime; the source's file is as verified.
  await corruptKeepingSizeAndMtime(path.join(pair.backupRoot, 'same.txt'));
  rmSync(s('gone.txt'));
  const check = await pair.check();
  assert.deepEqual(
    check.differences.filter((d) => d.category === 'content').map((d) => [d.path, d.changedOn]),
    [['same.txt', 'backup']],
  );
  const dry = await runSynker(['restore', 'photos', '--dry-run', '--no-discovery'], { env });
  assert.match(dry.stdout, /changed-on-backup +same\.txt/);
  const plain = await runSynker(['restore', 'photos', '--json', '--no-discovery'], { env });
  assert.equal(plain.code, 1, plain.stdout + plain.stderr);
  const json = JSON.parse(plain.stdout) as { result: { pulled: number }; plan: { skipped: Array<{ path: string; reason: string }> } };
  assert.equal(json.result.pulled, 1, 'only gone.txt');
  assert.deepEqual(
    json.plan.skipped.map((x) => [x.reason, x.path]),
    [['changed-on-backup', 'same.txt']],
  );
  assert.equal(readFileSync(s('same.txt'), 'utf8'), 'unchanged', 'the good source file stays');
  assert.equal(readFileSync(s('gone.txt'), 'utf8'), 'deleted on the source');
  assert.deepEqual(await listVersions(pair.sourceRoot), [], 'nothing was replaced');
  // Named, the user gets the backup's copy (the source's goes to versions).
  const named = await runSynker(['restore', 'photos', 'same.txt', '--no-discovery'], { env });
  assert.equal(named.code, 0, named.stdout + named.stderr);
  assert.equal(readFileSync(s('same.txt'), 'utf8'), 'Unchanged');
});

test('the CLI: a file deleted on the source whose backup copy changed since it was verified is not brought back unnamed', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const { pair, env } = await restorePair(t);
  const s = (p: string) => path.join(pair.sourceRoot, p);
  await corruptKeepingSizeAndMtime(path.join(pair.backupRoot, 'gone.txt'));
  rmSync(s('gone.txt'));
  rmSync(s('same.txt'));
  const plain = await runSynker(['restore', 'photos', '--json', '--no-discovery'], { env });
  assert.equal(plain.code, 1, plain.stdout + plain.stderr);
  const json = JSON.parse(plain.stdout) as { result: { pulled: number }; plan: { skipped: Array<{ path: string; reason: string }> } };
  assert.equal(json.result.pulled, 1, 'same.txt, whose backup copy is as verified');
  assert.deepEqual(
    json.plan.skipped.map((x) => [x.reason, x.path]),
    [['changed-on-backup', 'gone.txt']],
  );
  assert.equal(existsSync(s('gone.txt')), false);
  const named = await runSynker(['restore', 'photos', 'gone.txt', '--no-discovery'], { env });
  assert.equal(named.code, 0, named.stdout + named.stderr);
  assert.equal(readFileSync(s('gone.txt'), 'utf8'), 'Deleted on the source', 'named, the only copy there is comes back');
});

test('the CLI: a backup that keeps no verified hashes (an older synker) gets nothing restored over a differing source file unnamed', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const { pair, env } = await restorePair(t, { verifiedRecords: false });
  const s = (p: string) => path.join(pair.sourceRoot, p);
  await corruptKeepingSizeAndMtime(path.join(pair.backupRoot, 'same.txt'));
  const plain = await runSynker(['restore', 'photos', '--json', '--no-discovery'], { env });
  assert.equal(plain.code, 1, plain.stdout + plain.stderr);
  const json = JSON.parse(plain.stdout) as { plan: { skipped: Array<{ path: string; reason: string }> } };
  assert.deepEqual(
    json.plan.skipped.map((x) => [x.reason, x.path]),
    [['differs', 'same.txt']],
  );
  assert.equal(readFileSync(s('same.txt'), 'utf8'), 'unchanged');
});

const rootOnly = isRoot() ? false : 'needs root (mount); CI runs as root';

/**
 * Runs `body` with a tmpfs of `size` mounted over `dir`, holding what `dir`
 * held (marker included). Unmounted before the test's own cleanup removes
 * the folders around it.
 */
async function withTmpfsOver(dir: string, size: string, body: () => Promise<void>): Promise<void> {
  const saved = `${dir}.saved`;
  renameSync(dir, saved);
  mkdirSync(dir);
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status, 0);
  try {
    assert.equal(spawnSync('cp', ['-a', `${saved}/.`, dir]).status, 0);
    await body();
  } finally {
    spawnSync('umount', ['-l', dir]);
  }
}

test('a read-only backup: --dry-run still plans, a real sync says the disk is read-only and changes nothing', {
  skip: rootOnly,
}, async (t) => {
  const pair = await startCheckPair(t, files);
  writeFileSync(path.join(pair.sourceRoot, 'new.txt'), 'brand new');
  const sync = await syncer(t, pair);
  await withTmpfsOver(pair.backupRoot, '4m', async () => {
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', pair.backupRoot]).status, 0);
    const dry = await sync({ dryRun: true });
    assert.equal(dry.error, undefined, JSON.stringify(dry.error));
    assert.deepEqual(
      dry.outcome!.plan.actions.map((a) => ('at' in a ? a.at.path : a.to.path)),
      ['new.txt'],
    );
    const real = await sync();
    assert.equal(real.exitCode, 2);
    assert.equal(real.error?.code, 'E_SYNC_NOT_WRITABLE');
    assert.match(real.error!.message, /read-only file system \(EROFS\); nothing was changed/);
    assert.match(real.error!.hint!, /remount/);
  });
});

test('a full backup disk stops the run naming the file, and stale partials do not hold the space for ever', {
  skip: rootOnly,
}, async (t) => {
  const pair = await startCheckPair(t, { 'small.txt': 'small' });
  writeFileSync(path.join(pair.sourceRoot, 'big.bin'), Buffer.alloc(3 << 20, 7));
  const sync = await syncer(t, pair);
  await withTmpfsOver(pair.backupRoot, '2m', async () => {
    // What an interrupted transfer of content the source no longer has left behind.
    const stale = path.join(pair.backupRoot, '.synker/partial', `${'ab'.repeat(32)}.part`);
    mkdirSync(path.dirname(stale), { recursive: true });
    writeFileSync(stale, Buffer.alloc(1 << 20));
    const full = await sync();
    assert.equal(full.exitCode, 2);
    assert.equal(full.error?.code, 'E_SYNC_DISK_FULL');
    assert.match(full.error!.message, /the backup disk is full \(ENOSPC\) while writing big\.bin/);
    assert.match(full.error!.hint!, /free some space/);
    assert.equal(existsSync(stale), false, 'the stale partial was removed');
    assert.equal(existsSync(path.join(pair.backupRoot, 'big.bin')), false, 'nothing half-landed');
    assert.equal(spawnSync('mount', ['-o', 'remount,size=8m', pair.backupRoot]).status, 0);
    const again = await sync();
    assert.equal(again.exitCode, 0, JSON.stringify(again.error));
    assert.deepEqual(contentMap(pair.backupRoot), contentMap(pair.sourceRoot));
  });
});

test('names of 255 bytes: edited files and new links land, and the replaced file is kept as a version', async (t) => {
  const long = `${'L'.repeat(251)}.txt`;
  const pair = await startCheckPair(t, { [long]: 'v1', 'dir/keep.txt': 'k' });
  writeFileSync(path.join(pair.sourceRoot, long), 'v2, longer');
  symlinkSync(long, path.join(pair.sourceRoot, `${'S'.repeat(255)}`));
  const sync = await syncer(t, pair);
  const result = await sync();
  assert.deepEqual(result.outcome?.result?.failed, []);
  assert.equal(result.exitCode, 0);
  assert.equal(readFileSync(path.join(pair.backupRoot, long), 'utf8'), 'v2, longer');
  assert.deepEqual(contentMap(pair.backupRoot), contentMap(pair.sourceRoot));
  const kept = await listVersions(pair.backupRoot);
  assert.deepEqual(
    kept.map((v) => v.path),
    [long],
  );
  assert.match(kept[0]!.versionPath, new RegExp(`^\\.synker/versions/~\\d{8}-\\d{6}/${long}$`));
  assert.equal(readFileSync(path.join(pair.backupRoot, kept[0]!.versionPath), 'utf8'), 'v1');
});

test('a folder replaced by a file on the source: sync --delete keeps the folder as a version and ends complete', async (t) => {
  const pair = await startCheckPair(t, { 'sub/one': '1', 'sub/two': '2', 'x.txt': 'x' });
  rmSync(path.join(pair.sourceRoot, 'sub'), { recursive: true });
  writeFileSync(path.join(pair.sourceRoot, 'sub'), 'now a file');
  const sync = await syncer(t, pair);
  const result = await sync({ delete: true });
  assert.deepEqual(result.outcome?.result?.failed, []);
  assert.equal(result.exitCode, 0);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'sub'), 'utf8'), 'now a file');
  assert.deepEqual(
    (await listVersions(pair.backupRoot)).map((v) => v.path),
    ['sub/one', 'sub/two'],
  );
});

test('versions restore: a kept symlink comes back as the symlink, and --to makes its folder', async (t) => {
  const pair = await startCheckPair(t, { 'a.txt': 'a' });
  const outside = path.join(path.dirname(pair.backupRoot), 'outside.txt');
  writeFileSync(outside, 'outside secret');
  symlinkSync(outside, path.join(pair.backupRoot, 'lnk'));
  const sync = await syncer(t, pair);
  assert.equal((await sync({ delete: true })).exitCode, 0);
  const [version] = await listVersions(pair.backupRoot, ['lnk']);
  assert.ok(version, 'the extra symlink was kept as a version');
  const back = await restoreVersion(pair.backupRoot, version);
  assert.equal(readlinkSync(back), outside, 'restored as the link, not as what it points to');
  const to = path.join(path.dirname(pair.backupRoot), 'not-yet', 'there');
  const copy = await restoreVersion(pair.backupRoot, version, { toDir: to });
  assert.equal(copy, path.join(to, 'lnk'));
  assert.equal(readlinkSync(copy), outside);
});

test('the CLI: synker restore of a path renamed here brings the old name back; a path the backup lacks is named, exit 1', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const { pair, env, sourceHome } = await restorePair(t);
  renameSync(path.join(pair.sourceRoot, 'same.txt'), path.join(pair.sourceRoot, 'renamed.txt'));
  const renamed = await runSynker(['restore', 'photos', 'same.txt', '--no-discovery'], { env });
  assert.equal(renamed.code, 0, renamed.stdout + renamed.stderr);
  assert.equal(readFileSync(path.join(pair.sourceRoot, 'same.txt'), 'utf8'), 'unchanged');
  assert.equal(readFileSync(path.join(pair.sourceRoot, 'renamed.txt'), 'utf8'), 'unchanged', 'the renamed copy stays');
  const missing = await runSynker(['restore', 'photos', 'no-such-file', '--no-discovery'], { env });
  assert.equal(missing.code, 1, missing.stdout + missing.stderr);
  assert.match(missing.stderr, /warning: no-such-file: the backup on nas has nothing at this path; nothing was restored for it/);
  const out = path.join(sourceHome, 'restored');
  const copy = await runSynker(['restore', 'photos', 'album', '--to', out, '--no-discovery'], { env });
  assert.equal(copy.code, 0, copy.stderr);
  assert.deepEqual(readdirSync(out).sort(), ['album'], 'only what was asked for: no .synker folder left behind');
});

test('a file the sync brought, then silently changed on the source, is suspicious at the next sync and not copied over the good copy', async (t) => {
  const pair = await startCheckPair(t, { 'old.txt': 'verified by a check' });
  const sync = await syncer(t, pair);
  assert.equal((await sync()).exitCode, 0);
  writeFileSync(path.join(pair.sourceRoot, 'new.txt'), 'brought by the sync');
  utimesSync(path.join(pair.sourceRoot, 'new.txt'), FIXED_MTIME_S, FIXED_MTIME_S);
  const brought = await sync();
  assert.equal(brought.outcome?.result?.pulled, 1);
  // Bit rot or tampering on the source: same size, same mtime, other bytes.
  await corruptKeepingSizeAndMtime(path.join(pair.sourceRoot, 'new.txt'));
  const next = await sync();
  assert.deepEqual(
    next.outcome?.plan.skipped.map((s) => [s.reason, s.path]),
    [['suspicious', 'new.txt']],
  );
  assert.equal(readFileSync(path.join(pair.backupRoot, 'new.txt'), 'utf8'), 'brought by the sync', 'the good copy stays');
});

test('the CLI: synker restore --to refuses a file, the folder itself or a folder in it, and a symlinked DIR/.synker, before connecting', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const { pair, env, sourceHome } = await restorePair(t);
  writeFileSync(path.join(pair.sourceRoot, 'edit.txt'), 'edited today, newer than the backup');
  const aFile = path.join(sourceHome, 'a-file');
  writeFileSync(aFile, 'not a folder');
  const viaLink = path.join(sourceHome, 'link-to-folder');
  symlinkSync(pair.sourceRoot, viaLink);
  const elsewhere = path.join(sourceHome, 'elsewhere');
  const outside = path.join(sourceHome, 'outside');
  mkdirSync(outside);
  mkdirSync(elsewhere);
  symlinkSync(outside, path.join(elsewhere, '.synker'));
  writeFileSync(path.join(elsewhere, 'edit.txt'), "the user's own edit");
  const cases: Array<[string, RegExp]> = [
    [aFile, /is a file, not a folder/],
    [path.join(aFile, 'x'), /is a file, not a folder/],
    [pair.sourceRoot, /the folder itself[\s\S]*leave out --to/],
    [viaLink, /the folder itself/],
    [path.join(pair.sourceRoot, 'restored'), /inside the folder/],
    [elsewhere, /\.synker is a symlink/],
  ];
  for (const [to, message] of cases) {
    const r = await runSynker(['restore', 'photos', 'edit.txt', '--to', to, '--json', '--no-discovery'], { env });
    assert.equal(r.code, 2, `${to}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, to);
    assert.doesNotMatch(r.stderr, /internal error/, to);
  }
  assert.equal(readFileSync(path.join(pair.sourceRoot, 'edit.txt'), 'utf8'), 'edited today, newer than the backup');
  assert.equal(existsSync(path.join(pair.sourceRoot, 'restored')), false);
  assert.equal(readFileSync(path.join(elsewhere, 'edit.txt'), 'utf8'), "the user's own edit");
  assert.deepEqual(readdirSync(outside), []);
});

test('the CLI: synker restore keeps the reason a backup was not found: a refusal, a bad --peer', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  const { startAgentServer } = await import('../../src/peer/index.js');
  const { pair, env } = await restorePair(t);
  // A backup agent that does not trust this device answers, and refuses.
  const untrusting = await startAgentServer({
    identity: pair.backupIdentity,
    host: '127.0.0.1',
    port: 0,
    directory: {
      agentName: () => 'nas',
      trusted: () => undefined,
      folders: () => [{ id: 'photos', path: pair.backupRoot, role: 'backup', shareWith: [] }],
    },
    manifestSource: async () => ({ ignoreRules: [], entries: (async function* () {})() }),
  });
  t.after(() => untrusting.close());
  const refused = await runSynker(['restore', 'photos', '--dry-run', '--peer', `127.0.0.1:${untrusting.port}`, '--no-discovery'], { env });
  assert.equal(refused.code, 2, refused.stderr);
  assert.doesNotMatch(refused.stderr, /could be reached|Start synker agent on the backup machine/);
  assert.doesNotMatch(refused.stderr, /the source/);
  assert.match(refused.stderr, /hint: To allow this device, run `synker trust /);
  const badPeer = await runSynker(['restore', 'photos', '--dry-run', '--peer', '127.0.0.1:99999', '--no-discovery'], { env });
  assert.equal(badPeer.code, 2, badPeer.stderr);
  assert.match(badPeer.stderr, /--peer 127\.0\.0\.1:99999/);
  assert.doesNotMatch(badPeer.stderr, /could be reached|Start synker agent on the backup machine/);
});

test('a move keeps its record: files in a folder the sync renamed, a file moved into another folder and a folder renamed in case stay guarded', async (t) => {
  const pair = await startCheckPair(t, {
    'd/sub/a.txt': 'in a folder renamed on the source',
    'd/b.txt': 'next to it',
    'loose.txt': 'moved into another folder',
    'other/keep.txt': 'already there',
    'Cased/c.txt': 'in a folder renamed in case only',
  });
  const sync = await syncer(t, pair);
  assert.equal((await sync()).exitCode, 0);
  const s = (p: string) => path.join(pair.sourceRoot, p);
  renameSync(s('d'), s('e'));
  renameSync(s('loose.txt'), s('other/loose.txt'));
  renameSync(s('Cased'), s('CASED'));
  const moved = await sync();
  assert.equal(moved.exitCode, 0, JSON.stringify(moved.error));
  assert.equal(moved.outcome?.result?.pulled, 0, 'renamed on the backup, nothing copied');
  // Bit rot or tampering on the source, under the new names: same size, same mtime, other bytes.
  for (const p of ['e/sub/a.txt', 'other/loose.txt', 'CASED/c.txt']) await corruptKeepingSizeAndMtime(s(p));
  const next = await sync();
  assert.deepEqual(
    next.outcome?.plan.skipped.map((x) => [x.reason, x.path]),
    [
      ['suspicious', 'CASED/c.txt'],
      ['suspicious', 'e/sub/a.txt'],
      ['suspicious', 'other/loose.txt'],
    ],
  );
  const b = (p: string) => readFileSync(path.join(pair.backupRoot, p), 'utf8');
  assert.equal(b('e/sub/a.txt'), 'in a folder renamed on the source', 'the good copies stay');
  assert.equal(b('other/loose.txt'), 'moved into another folder');
  assert.equal(b('CASED/c.txt'), 'in a folder renamed in case only');
});

test('a file silently changed in the same run that renames its folder (or renames it in case) is refused, in that run and the next', async (t) => {
  const pair = await startCheckPair(t, {
    'd/a.txt': 'in a folder renamed on the source',
    'd/b.txt': 'next to it',
    'd/c.txt': 'and another',
    'Cased.txt': 'renamed in case only',
  });
  const sync = await syncer(t, pair);
  assert.equal((await sync()).exitCode, 0);
  const s = (p: string) => path.join(pair.sourceRoot, p);
  renameSync(s('d'), s('e'));
  renameSync(s('Cased.txt'), s('CASED.txt'));
  await corruptKeepingSizeAndMtime(s('e/a.txt'));
  await corruptKeepingSizeAndMtime(s('CASED.txt'));
  for (let run = 0; run < 2; run++) {
    const result = await sync();
    assert.equal(result.exitCode, 1, JSON.stringify(result.error));
    assert.deepEqual(
      result.outcome?.plan.skipped.map((x) => [x.reason, x.path]),
      [
        ['suspicious', 'CASED.txt'],
        ['suspicious', 'e/a.txt'],
      ],
      `run ${run + 1}`,
    );
    assert.equal(result.outcome?.result?.pulled, 0, `run ${run + 1}: nothing copied`);
    assert.deepEqual(
      result.report.sync?.remaining.differences.map((d) => d.path).sort(),
      ['CASED.txt', 'e/a.txt'],
      `run ${run + 1}: the refused changes are what is left (the old copy under the old folder name went with the folder)`,
    );
  }
  const b = (p: string) => readFileSync(path.join(pair.backupRoot, p), 'utf8');
  assert.equal(b('e/a.txt'), 'in a folder renamed on the source', 'the good copy went with the folder and stays');
  assert.equal(b('Cased.txt'), 'renamed in case only', 'the good copy stays under its old name');
});

test('sync --delete of a renamed folder with an edited file inside keeps the new copy (the left-over old one is not deleted after the pull)', async (t) => {
  const pair = await startCheckPair(t, { 'd/a.txt': 'first', 'd/b.txt': 'next to it', 'd/c.txt': 'and another' });
  const sync = await syncer(t, pair);
  assert.equal((await sync()).exitCode, 0);
  renameSync(path.join(pair.sourceRoot, 'd'), path.join(pair.sourceRoot, 'e'));
  writeFileSync(path.join(pair.sourceRoot, 'e/a.txt'), 'second version, longer');
  const result = await sync({ delete: true });
  assert.equal(result.exitCode, 0, JSON.stringify(result.error));
  assert.equal(result.outcome?.result?.deleted, 0);
  assert.equal(result.report.sync?.complete, true);
  assert.deepEqual(result.report.sync?.remaining.differences, []);
  assert.equal(readFileSync(path.join(pair.backupRoot, 'e/a.txt'), 'utf8'), 'second version, longer');
  assert.equal((await pair.check()).exitCode, 0, 'a check afterwards finds the backup complete');
});

test('the CLI: a backup that answers verified records for other paths than asked is refused, and nothing on the source changes', async (t) => {
  const { runSynker } = await import('../harness/synker-cli.js');
  // A lying backup: one record too many, claiming its damaged copy is what was verified.
  const { pair, env } = await restorePair(t, {
    verifiedRecords: (_folder, paths) => [...paths, 'one more'].map(() => ({ hash: 'ab'.repeat(32), size: 9, mtime: 0 })),
  });
  const s = (p: string) => path.join(pair.sourceRoot, p);
  await corruptKeepingSizeAndMtime(path.join(pair.backupRoot, 'same.txt'));
  rmSync(s('gone.txt'));
  const run = await runSynker(['restore', 'photos', '--no-discovery'], { env });
  assert.equal(run.code, 2, run.stdout + run.stderr);
  assert.match(run.stderr, /answered 3 verified records for 2 paths/);
  assert.equal(readFileSync(s('same.txt'), 'utf8'), 'unchanged');
  assert.equal(existsSync(s('gone.txt')), false, 'nothing was restored from a backup caught lying');
});
