/**
 * Renames inside renames, through the real CLI and a real source agent: a
 * folder renamed on the source and a file in it renamed too, in case only or
 * not, nested folder renames, a file or folder moved into a renamed folder.
 * One `synker sync` renames everything on the backup (nothing copied, exit
 * 0), and a check after it finds the backup complete (src/sync/plan-moves.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CheckReport } from '../../src/report/model.js';
import { AgentState } from '../../src/state/agent-state.js';
import { syncFolder } from '../../src/sync/sync-folder.js';
import { corruptKeepingSizeAndMtime, startCheckPair } from '../harness/check-pair.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { staticLocator } from '../harness/peer-address.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';
import { treeOf } from '../harness/tree.js';

interface SyncJson {
  exitCode: number;
  verdict: { state: string };
  plan: { actions: Array<{ op: string; from?: { path: string }; to?: { path: string }; foundAt?: { path: string } }> };
  result: { pulled: number; bytesReceived: number; renames: number; failed: Array<{ path: string; code: string; message: string }> };
}

/**
 * Both sides hold `files` and were synced once; `rename` then changes the source. One sync must
 * rename everything on the backup: exit 0, nothing copied, the trees equal, a check after it complete.
 */
async function oneSyncRenames(t: TestContext, files: Record<string, string>, rename: (s: (p: string) => string) => Promise<void> | void) {
  const dir = await tempDir(t);
  const { sourceEnv, backupEnv, sourceRoot, backupRoot } = await configureCliPair(dir, files);
  const source = await startCliAgent(t, sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const first = await runSynker(['sync', 'photos', ...peer], { env: backupEnv });
  assert.equal(first.code, 0, first.stdout + first.stderr);
  await rename((p) => path.join(sourceRoot, p));
  const dry = await runSynker(['sync', 'photos', ...peer, '--dry-run', '--all'], { env: backupEnv });
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);

  const run = await runSynker(['sync', 'photos', ...peer, '--json'], { env: backupEnv });
  const json = JSON.parse(run.stdout) as SyncJson;
  assert.deepEqual(json.result.failed, [], run.stderr);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(json.exitCode, 0);
  assert.equal(json.verdict.state, 'complete');
  assert.equal(json.result.pulled, 0, 'renamed on the backup, nothing copied');
  assert.equal(json.result.bytesReceived, 0, 'no byte over the network');
  assert.doesNotMatch(run.stderr, /no longer on the backup/);
  assert.deepEqual(treeOf(backupRoot), treeOf(sourceRoot));
  const dryRun = dry.stdout;

  const check = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.equal((JSON.parse(check.stdout) as CheckReport).complete, true, 'a check after the sync finds the backup complete');
  return { json, dryRun };
}

test('a folder renamed and a file in it renamed too (Docs/Report.txt -> Papers/Notes.txt): one sync, nothing copied', async (t) => {
  const { json, dryRun } = await oneSyncRenames(
    t,
    { 'Docs/Report.txt': 'the report, long enough to be paired', 'Docs/Sub/a.txt': 'a file that goes with its folder' },
    (s) => {
      renameSync(s('Docs/Report.txt'), s('Docs/Notes.txt'));
      renameSync(s('Docs'), s('Papers'));
    },
  );
  assert.equal(json.result.renames, 2);
  assert.deepEqual(
    json.plan.actions.map((a) => [a.op, a.foundAt?.path, a.from?.path, a.to?.path]),
    [
      ['move', undefined, 'Docs', 'Papers'],
      ['move', 'Docs/Report.txt', 'Papers/Report.txt', 'Papers/Notes.txt'],
    ],
    'the file is renamed from where its folder went',
  );
  assert.match(
    dryRun,
    /rename +Docs -> Papers\n +rename +Docs\/Report\.txt -> Papers\/Notes\.txt\n/,
    'the dry run names the file as the check does',
  );
});

test('a folder and the files in it renamed in case only (Docs/Report.txt -> docs/report.txt): one sync, nothing copied', async (t) => {
  await oneSyncRenames(
    t,
    {
      'Docs/Report.txt': 'the report, long enough to be paired',
      'Docs/Sub/Deep.txt': 'two levels down, renamed in case too',
      'Docs/Sub/same.txt': 'a file whose name stays',
    },
    (s) => {
      renameSync(s('Docs/Report.txt'), s('Docs/report.txt'));
      renameSync(s('Docs/Sub/Deep.txt'), s('Docs/Sub/deep.txt'));
      renameSync(s('Docs/Sub'), s('Docs/sub'));
      renameSync(s('Docs'), s('docs'));
    },
  );
});

test('nested renames, a file and a folder moved into renamed folders, a file moved out: one sync, nothing copied', async (t) => {
  const { json } = await oneSyncRenames(
    t,
    {
      'A/top.txt': 'goes with A',
      'A/out.txt': 'moved out of A to the top',
      'A/C/c.txt': 'in A/C, renamed to B/D',
      'A/C/E/e.txt': 'in A/C/E, renamed to B/D/F',
      'X/f.txt': 'moved into the renamed folder B',
      'P/p.txt': 'its folder is moved into the renamed B/D',
    },
    (s) => {
      renameSync(s('A/out.txt'), s('out.txt'));
      renameSync(s('A/C/E'), s('A/C/F'));
      renameSync(s('A/C'), s('A/D'));
      renameSync(s('A'), s('B'));
      renameSync(s('X/f.txt'), s('B/f.txt'));
      renameSync(s('P'), s('B/D/P2'));
    },
  );
  assert.equal(json.result.renames, 6);
});

test('renames inside renamed folders keep their verified records: a silent change under the new names is refused', async (t) => {
  const pair = await startCheckPair(t, {
    'A/C/E/e.txt': 'three levels down, the folders renamed one by one',
    'A/C/c.txt': 'in a nested folder renamed',
    'A/Report.txt': 'renamed inside its renamed folder',
    'A/top.txt': 'goes with A',
  });
  const state = await AgentState.open(path.join(pair.backupHome, 'sync-data'));
  t.after(() => state.close());
  const env = { config: pair.backupConfig, identity: pair.backupIdentity, state, locator: staticLocator(pair.backupConfig.peers) };
  const sync = () => syncFolder(env, pair.backupConfig.folders[0]!, { cacheDir: path.join(pair.backupHome, 'cache'), jobs: 2 });
  assert.equal((await sync()).exitCode, 0);
  const s = (p: string) => path.join(pair.sourceRoot, p);
  renameSync(s('A/Report.txt'), s('A/Notes.txt'));
  renameSync(s('A/C/E'), s('A/C/F'));
  renameSync(s('A/C'), s('A/D'));
  renameSync(s('A'), s('B'));
  const moved = await sync();
  assert.equal(moved.exitCode, 0, JSON.stringify(moved.outcome?.result?.failed));
  assert.equal(moved.outcome?.result?.pulled, 0, 'renamed on the backup, nothing copied');
  // Bit rot or tampering on the source, under the new names: same size, same mtime, other bytes.
  const changed = ['B/D/F/e.txt', 'B/D/c.txt', 'B/Notes.txt', 'B/top.txt'];
  for (const p of changed) await corruptKeepingSizeAndMtime(s(p));
  const next = await sync();
  assert.deepEqual(
    next.outcome?.plan.skipped.map((x) => [x.reason, x.path]),
    changed.map((p) => ['suspicious', p]),
    'each record went where its file went',
  );
  assert.equal(readFileSync(path.join(pair.backupRoot, 'B/D/F/e.txt'), 'utf8'), 'three levels down, the folders renamed one by one');
});
