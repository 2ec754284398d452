/**
 * Whole folders through real agents (issue #22, QA f7): 150 folders missing
 * on the backup with everything in them are 150 lines in `synker check`'s
 * terminal report (not the files of the first folder), 150 items in the
 * last report the backup's page and API serve (docs/api.md, checked against
 * its shapes), while `check --json` keeps every file and names the folders
 * in `wholeFolders`, and `synker sync` still copies every file. A folder the
 * backup has part of lists its missing files; one only on the backup is one
 * line among the extras.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CheckReport } from '../../src/report/model.js';
import type { LastReportView } from '../../src/web/api.js';
import { ApiShapes } from '../harness/api-shapes.js';
import { writeTree } from '../harness/check-pair.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { runSynker, SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const FOLDERS = 150;
const FILES_PER_FOLDER = 10;
const folderName = (i: number) => `albums/${String(i).padStart(3, '0')}`;

/** The backup's agent with its page on a free port of loopback (no schedule, no discovery); killed when the test ends. */
async function startPageAgent(t: TestContext, env: NodeJS.ProcessEnv): Promise<number> {
  const agent = spawn(
    process.execPath,
    [SYNKER_BIN, 'agent', '--listen', '127.0.0.1', '--port', '0', '--no-discovery', '--no-schedule', '--web-port', '0'],
    { env, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  agent.stdin.end();
  agent.stdout.resume();
  t.after(() => {
    if (agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
  });
  let log = '';
  return new Promise<number>((resolve, reject) => {
    agent.stderr.setEncoding('utf8').on('data', (d: string) => {
      log += d;
      const m = /status page: http:\/\/[\d.]+:(\d+)\//.exec(log);
      if (m) resolve(Number(m[1]));
    });
    agent.once('exit', () => reject(new Error(`synker agent exited: ${log}`)));
  });
}

function getJson(port: number, urlPath: string, token: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: urlPath, headers: { Authorization: `Bearer ${token}` }, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      })
      .on('error', reject);
  });
}

test('150 folders missing on the backup: one line each in the terminal, one item each in the API, every file in --json and copied by sync', {
  timeout: 240_000,
}, async (t) => {
  const dir = await tempDir(t, 'synker-whole-folders-');
  const shared = { 'albums/index.txt': 'index', 'trip/day1.jpg': 'day one' };
  const pair = await configureCliPair(dir, shared);
  const lost: Record<string, string> = {};
  for (let f = 0; f < FOLDERS; f++)
    for (let i = 0; i < FILES_PER_FOLDER; i++) lost[`${folderName(f)}/IMG_${String(i).padStart(4, '0')}.jpg`] = `photo ${f}/${i}`;
  // trip/ is on the backup with one of its files: its two others are listed one by one.
  await writeTree(pair.sourceRoot, { ...lost, 'trip/day2.jpg': 'day two', 'trip/day3.jpg': 'day three' });
  // Only on the backup, with everything in it: one line among the extras.
  await writeTree(pair.backupRoot, { 'old stuff/a.txt': 'a', 'old stuff/sub/b.txt': 'bb' });
  const source = await startCliAgent(t, pair.sourceEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];

  const missingCount = FOLDERS * (FILES_PER_FOLDER + 1) + 2;
  const check = await runSynker(['check', 'photos', ...peer], { env: pair.backupEnv });
  assert.equal(check.code, 1, check.stdout + check.stderr);
  const text = check.stdout;
  assert.match(text, new RegExp(`^folder "photos": backup INCOMPLETE: ${missingCount.toLocaleString('en-US')} differences`));
  assert.match(
    text,
    /\nMissing on backup \(1,652\) - 150 whole folders, one line each \(--json lists every file\)\n {2}albums\/\n {4}000\/ {2}whole folder, 10 files, \d+ B\n {4}001\/ {2}whole folder, 10 files/,
  );
  // 20 lines per category, as before: 20 whole folders, then how many more items.
  assert.equal(text.split('\n').filter((l) => / {4}\d{3}\/ {2}whole folder, 10 files, \d+ B$/.test(l)).length, 20);
  assert.match(text, /\n {2}\.\.\. and 132 more \(use --all to list them\)\n/);
  assert.doesNotMatch(text, /IMG_/, 'no file of a whole folder is listed');
  assert.match(
    text,
    /\nExtra on backup \(4\) - listed, does not fail the check; 1 whole folder, one line each \(--json lists every file\)\n {2}old stuff\/ {2}whole folder, 2 files, 3 B\n/,
  );
  const all = await runSynker(['check', 'photos', ...peer, '--all'], { env: pair.backupEnv });
  assert.equal(all.stdout.split('\n').filter((l) => /whole folder, 10 files/.test(l)).length, FOLDERS);
  assert.match(all.stdout, /\n {2}trip\/day2\.jpg {2}7 B\n {2}trip\/day3\.jpg {2}9 B\n/, 'a folder the backup has lists what it lacks');

  // --json: every file still a difference of its own, the folders named beside them.
  const json = await runSynker(['check', 'photos', ...peer, '--json'], { env: pair.backupEnv });
  const report = JSON.parse(json.stdout) as CheckReport;
  assert.equal(report.differences.length, missingCount + 4);
  assert.equal(report.differences.filter((d) => d.path.includes('/IMG_')).length, FOLDERS * FILES_PER_FOLDER);
  assert.equal(report.wholeFolders!.length, FOLDERS + 1);
  assert.deepEqual(report.wholeFolders![0], {
    category: 'missing',
    path: 'albums/000',
    fileCount: FILES_PER_FOLDER,
    entries: FILES_PER_FOLDER,
    bytes: report.differences.filter((d) => d.path.startsWith('albums/000/')).reduce((n, d) => n + d.bytes, 0),
    failing: true,
  });
  assert.deepEqual(report.wholeFolders![FOLDERS], {
    category: 'extra',
    path: 'old stuff',
    fileCount: 2,
    entries: 3,
    bytes: 3,
    failing: false,
  });
  assert.ok(json.stdout.indexOf('"wholeFolders"') < json.stdout.indexOf('"differences":['), 'the short list comes first');

  // The page's API: the last report the check left, a whole folder one item against the cap of 1,000.
  const port = await startPageAgent(t, pair.backupEnv);
  const token = (await readFile(path.join(dir, 'nas', 'synker', 'data', 'web-token'), 'utf8')).trim();
  const detail = await getJson(port, '/api/v1/folders/photos', token);
  assert.equal(detail.status, 200);
  assert.deepEqual(new ApiShapes().check(detail.json, 'FolderDetail'), []);
  const last = (detail.json as { lastReport: LastReportView }).lastReport;
  const missing = last.categories.find((c) => c.category === 'missing')!;
  assert.equal(missing.count, missingCount);
  assert.equal(missing.items.length, FOLDERS + 2);
  assert.equal(missing.more, 0);
  assert.deepEqual(missing.items[0], {
    path: 'albums/000',
    kind: 'dir',
    size: report.wholeFolders![0]!.bytes,
    files: FILES_PER_FOLDER,
    detail: `whole folder, 10 files, ${report.wholeFolders![0]!.bytes} B`,
  });
  assert.deepEqual(
    missing.items.slice(FOLDERS).map((i) => i.path),
    ['trip/day2.jpg', 'trip/day3.jpg'],
  );
  const extra = last.categories.find((c) => c.category === 'extra')!;
  assert.deepEqual(
    extra.items.map((i) => [i.path, i.files]),
    [['old stuff', 2]],
  );

  // Only the telling changed: a sync copies every file of every whole folder.
  const sync = await runSynker(['sync', 'photos', ...peer, '--json'], { env: pair.backupEnv });
  assert.equal(sync.code, 0, sync.stderr);
  const synced = JSON.parse(sync.stdout) as { check: CheckReport; plan: { totals: { pullFiles: number } } };
  assert.equal(synced.plan.totals.pullFiles, FOLDERS * FILES_PER_FOLDER + 2, 'the plan pulls every file');
  assert.equal(synced.check.sync!.fixed.pulledFiles, FOLDERS * FILES_PER_FOLDER + 2);
  assert.deepEqual(
    synced.check.sync!.remaining.wholeFolders,
    [report.wholeFolders![FOLDERS]],
    'the extra folder stays, kept without --delete',
  );
  const after = await runSynker(['check', 'photos', ...peer], { env: pair.backupEnv });
  assert.equal(after.code, 0, after.stdout + after.stderr);
});
