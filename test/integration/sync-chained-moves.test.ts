/**
 * Renames inside renames, through the real CLI and a real source agent: a
 * folder renamed on the source and a file in it renamed too, in case only or
 * not, nested folder renames, a file or folder moved into a renamed folder.
 * One `synker sync` renames everything on the backup (nothing copied, exit
 * 0), and a check after it finds the backup complete (src/sync/plan-moves.ts).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CheckReport } from '../../src/report/model.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

interface SyncJson {
  exitCode: number;
  verdict: { state: string };
  plan: { actions: Array<{ op: string; from?: { path: string }; to?: { path: string }; foundAt?: { path: string } }> };
  result: { pulled: number; bytesReceived: number; renames: number; failed: Array<{ path: string; code: string; message: string }> };
}

/** Every file and folder under `root` but `.synker`, with each file's content. */
function treeOf(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      if (rel === '' && name === '.synker') continue;
      const p = rel === '' ? name : `${rel}/${name}`;
      if (statSync(path.join(root, p)).isDirectory()) {
        out[`${p}/`] = '';
        walk(p);
      } else out[p] = readFileSync(path.join(root, p), 'utf8');
    }
  };
  walk('');
  return out;
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

  const check = await runSynker(['check', 'photos', ...peer, '--json'], { env: backupEnv });
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.equal((JSON.parse(check.stdout) as CheckReport).complete, true, 'a check after the sync finds the backup complete');
  return json;
}

test('a folder renamed and a file in it renamed too (Docs/Report.txt -> Papers/Notes.txt): one sync, nothing copied', async (t) => {
  const json = await oneSyncRenames(
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
  const json = await oneSyncRenames(
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
