/**
 * `synker sync` end to end between two agents on loopback (test/helpers/
 * check-pair.ts): a real source agent serving a real folder through the
 * scanner, the backup running check + sync, then a fresh check.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { staticLocator } from '../src/check/find-source.js';
import { AgentState } from '../src/state/agent-state.js';
import { syncFolder, type SyncFolderOptions } from '../src/sync/sync-folder.js';
import { listVersions } from '../src/sync/versions.js';
import { FIXED_MTIME_S, startCheckPair, type CheckPair } from './helpers/check-pair.js';
import { contentMap } from './helpers/tree.js';

async function syncer(t: TestContext, pair: CheckPair) {
  const state = await AgentState.open(path.join(pair.backupHome, 'sync-data'));
  t.after(() => state.close());
  const env = { config: pair.backupConfig, identity: pair.backupIdentity, state, locator: staticLocator(pair.backupConfig.peers) };
  return (options: SyncFolderOptions = {}) => syncFolder(env, pair.backupConfig.folders[0]!, { cacheDir: path.join(pair.backupHome, 'cache'), jobs: 2, ...options });
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

test('a suspicious change on the source is not copied over the good backup', async (t) => {
  const pair = await startCheckPair(t, files);
  const sync = await syncer(t, pair);
  assert.equal((await sync()).exitCode, 0, 'a first run verifies every file');
  // Same size, same mtime, different bytes: bit rot or tampering on the source.
  writeFileSync(path.join(pair.sourceRoot, 'same.txt'), 'UNCHANGED');
  utimesSync(path.join(pair.sourceRoot, 'same.txt'), FIXED_MTIME_S, FIXED_MTIME_S);
  const result = await sync();
  assert.equal(result.exitCode, 1);
  assert.deepEqual(result.outcome?.plan.skipped.map((x) => [x.reason, x.path]), [['suspicious', 'same.txt']]);
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
  const { runSynker } = await import('./helpers/synker-cli.js');
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
async function restorePair(t: TestContext) {
  const { startAgentServer } = await import('../src/peer/index.js');
  const { scanFolder } = await import('../src/scan/index.js');
  const { saveConfigFile } = await import('../src/config/config-file.js');
  const { CONFIG_FILE_NAME } = await import('../src/config/defaults.js');
  const { CERT_FILE, KEY_FILE } = await import('../src/config/identity.js');
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
    manifestSource: async (folder, signal) => ({ ignoreRules: [], entries: scanFolder(folder.path, { signal, cacheDir: path.join(pair.backupHome, 'agent-cache'), jobs: 2 }) }),
  });
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
  const { runSynker } = await import('./helpers/synker-cli.js');
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
  const forced = await runSynker(['restore', 'photos', 'edit.txt', '--force', '--no-discovery'], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(readFileSync(path.join(pair.sourceRoot, 'edit.txt'), 'utf8'), 'first version');
});

test('the CLI: synker restore without paths brings back what is missing or damaged, never a newer source file', async (t) => {
  const { runSynker } = await import('./helpers/synker-cli.js');
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
  const json = JSON.parse(all.stdout) as { result: { pulled: number; failed: unknown[] }; plan: { skipped: Array<{ path: string; reason: string }> } };
  assert.deepEqual(json.result.failed, []);
  assert.equal(json.result.pulled, 4, 'gone.txt, album/1.jpg, album/2.jpg and the damaged same.txt');
  assert.deepEqual(json.plan.skipped.map((x) => [x.reason, x.path]), [['differs', 'edit.txt']], 'a newer source file is not overwritten, even with --force, unless named');
  assert.equal(readFileSync(s('gone.txt'), 'utf8'), 'deleted on the source');
  assert.equal(readFileSync(s('album/2.jpg'), 'utf8'), 'photo two');
  assert.equal(readFileSync(s('same.txt'), 'utf8'), 'unchanged', 'the damaged file is restored');
  assert.equal(readFileSync(s('edit.txt'), 'utf8'), 'edited today, newer than the backup');
  // The damaged copy is not destroyed: it went to the source's versions folder.
  assert.deepEqual((await listVersions(pair.sourceRoot)).map((v) => v.path), ['same.txt']);
});
