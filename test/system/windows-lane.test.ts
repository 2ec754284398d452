/**
 * The Windows lane: synker run by the official Windows build of Node.js 22
 * under Wine (test/harness/wine.ts), against Linux synker on loopback, with
 * no discovery (`--peer 127.0.0.1:PORT`). What Wine cannot show is said in
 * docs/platforms.md; the names Windows cannot hold are proven by what synker
 * does with them (it never writes them), not by what Wine would make of them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { chromiumMissing, launchChromium } from '../harness/chromium.js';
import { startCliAgent } from '../harness/cli-pair.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';
import {
  runWindowsScript,
  runWindowsSynker,
  skipWithoutWine,
  startWindowsAgent,
  startWindowsSynker,
  toWindowsPath,
  WIN_NODE_VERSION,
  windowsEnv,
  wineReg,
} from '../harness/wine.js';

const SKIP = skipWithoutWine();
const FOLDER = 'photos';
const MTIME_S = 1_780_000_000;
const LONG = `${'d'.repeat(120)}/${'e'.repeat(120)}/${'f'.repeat(56)}.txt`; // a 300-character path

/** What a Linux laptop may hold, Windows' impossible names among it. */
const LINUX_TREE: Record<string, string> = {
  'Report.txt': 'the report',
  'report.txt': 'another report, one letter apart',
  'what?.txt': 'a question',
  'a:b.txt': 'a colon',
  'CON.txt': 'a device name',
  'name.': 'a trailing dot',
  [LONG]: 'deep',
  'albums/2026/beach.jpg': 'jpeg bytes',
  'tools/run.sh': '#!/bin/sh\necho hi\n',
};
/** report.txt: the same name as Report.txt on a Windows disk, and Report.txt comes first. */
const UNSTORABLE_ON_WINDOWS = ['CON.txt', 'a:b.txt', 'name.', 'report.txt', 'what?.txt'];

/** What a Windows laptop holds: only names Windows can. */
const WINDOWS_TREE: Record<string, string> = {
  'Report.txt': 'the report',
  [LONG]: 'deep',
  'albums/2026/beach.jpg': 'jpeg bytes',
  'read-only.txt': 'do not touch',
};

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    utimesSync(file, MTIME_S, MTIME_S);
  }
}

/** Every path under root (files and folders), `/`-separated, .synker/ left out. */
function listTree(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel))) {
    const p = rel === '' ? name : `${rel}/${name}`;
    if (p === '.synker') continue;
    out.push(p);
    if (lstatSync(path.join(root, p)).isDirectory()) out.push(...listTree(root, p));
  }
  return out.sort();
}

function partialsLeft(root: string): string[] {
  const dir = path.join(root, '.synker', 'partial');
  return existsSync(dir) ? readdirSync(dir) : [];
}

interface Side {
  name: string;
  root: string;
  env: NodeJS.ProcessEnv;
  run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  startAgent(t: TestContext): Promise<{ port: number }>;
}

function linuxSide(dir: string, name: string): Side {
  const env = isolatedEnv(path.join(dir, name));
  return {
    name,
    root: path.join(dir, `${name}-folder`),
    env,
    run: (args) => runSynker(args, { env, timeoutMs: 120_000 }),
    startAgent: (t) => startCliAgent(t, env),
  };
}

function windowsSide(dir: string, name: string): Side {
  const env = windowsEnv(path.join(dir, name));
  return {
    name,
    root: path.join(dir, `${name}-folder`),
    env,
    run: (args) => runWindowsSynker(args, env),
    startAgent: (t) => startWindowsAgent(t, env),
  };
}

/** The folder as the side's own synker names it. */
const folderArg = (side: Side, isWindows: boolean): string => (isWindows ? toWindowsPath(side.root) : side.root);

async function ok(side: Side, args: string[]): Promise<string> {
  const r = await side.run(args);
  assert.equal(r.code, 0, `${side.name}: synker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function deviceId(side: Side): Promise<string> {
  return /([A-Z2-7]{7}(?:-[A-Z2-7]{7}){7})/.exec(await ok(side, ['id']))![1]!;
}

/** `source` shares FOLDER with `backup`, each trusting the other, as two users would set it up. */
async function pair(source: Side, sourceIsWindows: boolean, backup: Side, backupIsWindows: boolean): Promise<void> {
  const [sourceId, backupId] = await Promise.all([deviceId(source), deviceId(backup)]);
  mkdirSync(backup.root, { recursive: true });
  await ok(source, ['trust', backupId, '--name', backup.name]);
  await ok(source, ['folder', 'add', FOLDER, folderArg(source, sourceIsWindows), '--role', 'source', '--share', backup.name]);
  await ok(backup, ['trust', sourceId, '--name', source.name]);
  await ok(backup, ['folder', 'add', FOLDER, folderArg(backup, backupIsWindows), '--role', 'backup', '--share', source.name]);
}

interface JsonReport {
  verdict?: string;
  differences: Array<{ category: string; path: string; unstorable?: string; changes?: string[]; otherPath?: string; clash?: string }>;
}

async function checkJson(backup: Side, port: number, extra: string[] = []): Promise<{ code: number | null; report: JsonReport }> {
  const r = await backup.run(['check', FOLDER, '--peer', `127.0.0.1:${port}`, '--no-discovery', '--json', '--all', ...extra]);
  assert.ok(r.code === 0 || r.code === 1, `check exited ${r.code}: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout.trim().split('\n')[0]!) as JsonReport };
}

async function sync(backup: Side, port: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return backup.run(['sync', FOLDER, '--peer', `127.0.0.1:${port}`, '--no-discovery']);
}

test(`Windows lane: node.exe ${WIN_NODE_VERSION} under Wine runs synker`, { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const win = windowsSide(dir, 'office-pc');
  const r = await win.run(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  const where = await win.run(['id']);
  assert.equal(where.code, 0, where.stderr);
});

test('a Linux laptop backed up to a Windows PC: names Windows cannot hold are reported and skipped, the rest lands, nothing is left behind', {
  skip: SKIP,
}, async (t) => {
  const dir = await tempDir(t);
  const laptop = linuxSide(dir, 'laptop');
  const pc = windowsSide(dir, 'office-pc');
  writeTree(laptop.root, LINUX_TREE);
  chmodSync(path.join(laptop.root, 'tools', 'run.sh'), 0o755);
  await pair(laptop, false, pc, true);
  const agent = await laptop.startAgent(t);

  const before = await checkJson(pc, agent.port);
  assert.equal(before.code, 1);
  const unstorable = before.report.differences.filter((d) => d.unstorable !== undefined).map((d) => d.path);
  assert.deepEqual(unstorable.sort(), UNSTORABLE_ON_WINDOWS, 'each name Windows cannot hold is said to be so');
  for (const d of before.report.differences)
    assert.ok(d.category !== 'metadata', `no permission difference from Windows' made-up modes: ${d.path}`);

  const first = await sync(pc, agent.port);
  assert.equal(first.code, 1, `some files were skipped on purpose: ${first.stderr}`);
  for (const name of UNSTORABLE_ON_WINDOWS) {
    const line = first.stdout.split('\n').find((l) => l.trim().startsWith(`${name}  its name cannot be stored here:`));
    assert.ok(line !== undefined, `the sync says why ${name} was not copied:\n${first.stdout}`);
  }
  const landed = listTree(pc.root);
  for (const p of ['albums/2026/beach.jpg', LONG, 'tools/run.sh']) assert.ok(landed.includes(p), `${p} landed: ${landed.join(', ')}`);
  assert.equal(readFileSync(path.join(pc.root, LONG), 'utf8'), 'deep', 'the 300-character path holds its bytes');
  for (const p of UNSTORABLE_ON_WINDOWS) assert.ok(!landed.includes(p), `${p} was never written`);
  assert.equal(
    landed.filter((p) => p.toLowerCase() === 'report.txt').length,
    1,
    'one of Report.txt and report.txt: the names are one on Windows',
  );
  assert.deepEqual(partialsLeft(pc.root), [], 'no partial file left behind');

  const after = await checkJson(pc, agent.port);
  const still = after.report.differences
    .filter((d) => d.category !== 'name-clash')
    .map((d) => `${d.category} ${d.path}${d.unstorable ? ' (unstorable)' : ''}`);
  assert.deepEqual(
    still.sort(),
    UNSTORABLE_ON_WINDOWS.map((p) => `missing ${p} (unstorable)`),
    'after the sync only what Windows cannot hold differs',
  );
  const again = await sync(pc, agent.port);
  assert.equal(again.code, 1);
  assert.deepEqual(partialsLeft(pc.root), []);

  // An edit on the laptop: the Windows backup keeps the old copy as a version.
  writeFileSync(path.join(laptop.root, 'albums', '2026', 'beach.jpg'), 'jpeg bytes, retouched');
  assert.equal((await sync(pc, agent.port)).code, 1, 'still skipping what Windows cannot hold');
  const versions = await pc.run(['versions', 'list', FOLDER]);
  assert.equal(versions.code, 0, versions.stderr);
  assert.match(versions.stdout, /albums\/2026\/beach\.jpg/);

  // The laptop loses a file and gets it back from the Windows backup's agent.
  const pcAgent = await pc.startAgent(t);
  rmSync(path.join(laptop.root, 'tools', 'run.sh'));
  const restore = await laptop.run(['restore', FOLDER, '--peer', `127.0.0.1:${pcAgent.port}`, '--no-discovery']);
  assert.equal(restore.code, 0, restore.stderr + restore.stdout);
  assert.equal(readFileSync(path.join(laptop.root, 'tools', 'run.sh'), 'utf8'), LINUX_TREE['tools/run.sh']);
  assert.deepEqual(partialsLeft(laptop.root), []);
});

test('a Windows laptop backed up to Linux: no made-up mode lands, the backup verifies complete, restore and versions work from Windows', {
  skip: SKIP,
}, async (t) => {
  const dir = await tempDir(t);
  const pc = windowsSide(dir, 'office-pc');
  const nas = linuxSide(dir, 'nas');
  writeTree(pc.root, WINDOWS_TREE);
  chmodSync(path.join(pc.root, 'read-only.txt'), 0o444); // read-only, as Windows sees it
  await pair(pc, true, nas, false);
  const agent = await pc.startAgent(t);

  const first = await sync(nas, agent.port);
  assert.equal(first.code, 0, first.stderr);
  for (const p of listTree(nas.root)) {
    const mode = lstatSync(path.join(nas.root, p)).mode;
    assert.equal(mode & 0o002, 0, `${p} is not world-writable (${(mode & 0o777).toString(8)})`);
    if (lstatSync(path.join(nas.root, p)).isDirectory()) assert.notEqual(mode & 0o100, 0, `${p} can be entered`);
  }
  const complete = await checkJson(nas, agent.port);
  assert.equal(complete.code, 0, JSON.stringify(complete.report.differences));

  // A changed file on the laptop: the nas keeps the old copy as a version.
  writeFileSync(path.join(pc.root, 'Report.txt'), 'the report, edited');
  assert.equal((await sync(nas, agent.port)).code, 0);
  const versions = await nas.run(['versions', 'list', FOLDER]);
  assert.equal(versions.code, 0, versions.stderr);
  assert.match(versions.stdout, /Report\.txt/);

  // The laptop loses a photo and gets it back from the nas's agent.
  const nasAgent = await nas.startAgent(t);
  rmSync(path.join(pc.root, 'albums', '2026', 'beach.jpg'));
  const restore = await pc.run(['restore', FOLDER, '--peer', `127.0.0.1:${nasAgent.port}`, '--no-discovery']);
  assert.equal(restore.code, 0, restore.stderr);
  assert.equal(readFileSync(path.join(pc.root, 'albums', '2026', 'beach.jpg'), 'utf8'), 'jpeg bytes');
  assert.deepEqual(partialsLeft(pc.root), []);
});

/** A side whose folder root alone is over 260 characters as Windows names it, where Wine's realpath fails. */
function deepRooted(side: Side): Side {
  const root = path.join(side.root, 'p'.repeat(100), 'q'.repeat(100), 'r'.repeat(70));
  assert.ok(toWindowsPath(root).length > 260, toWindowsPath(root));
  return { ...side, root };
}

test('a Windows backup whose folder root is over 260 characters: folder add, sync and check work under Wine (its realpath fails there)', {
  skip: SKIP,
}, async (t) => {
  const dir = await tempDir(t);
  const laptop = linuxSide(dir, 'laptop');
  const pc = deepRooted(windowsSide(dir, 'office-pc'));
  writeTree(laptop.root, WINDOWS_TREE);
  await pair(laptop, false, pc, true);
  const agent = await laptop.startAgent(t);

  const first = await sync(pc, agent.port);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  assert.equal(readFileSync(path.join(pc.root, 'albums', '2026', 'beach.jpg'), 'utf8'), 'jpeg bytes');
  assert.equal(readFileSync(path.join(pc.root, LONG), 'utf8'), 'deep', 'a 300-character path below a 270-character root');
  const after = await checkJson(pc, agent.port);
  assert.equal(after.code, 0, JSON.stringify(after.report.differences));
  assert.deepEqual(partialsLeft(pc.root), []);
});

test('a Windows laptop whose folder root is over 260 characters restores from its Linux backup under Wine', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const pc = deepRooted(windowsSide(dir, 'office-pc'));
  const nas = linuxSide(dir, 'nas');
  writeTree(pc.root, WINDOWS_TREE);
  await pair(pc, true, nas, false);
  const pcAgent = await pc.startAgent(t);
  assert.equal((await sync(nas, pcAgent.port)).code, 0);

  const nasAgent = await nas.startAgent(t);
  rmSync(path.join(pc.root, 'albums', '2026', 'beach.jpg'));
  const restore = await pc.run(['restore', FOLDER, '--peer', `127.0.0.1:${nasAgent.port}`, '--no-discovery']);
  assert.equal(restore.code, 0, restore.stderr + restore.stdout);
  assert.equal(readFileSync(path.join(pc.root, 'albums', '2026', 'beach.jpg'), 'utf8'), 'jpeg bytes');
  const to = path.join(dir, 'restored');
  const restoreTo = await pc.run(['restore', FOLDER, '--to', toWindowsPath(to), '--peer', `127.0.0.1:${nasAgent.port}`, '--no-discovery']);
  assert.equal(restoreTo.code, 0, restoreTo.stderr + restoreTo.stdout);
  assert.equal(readFileSync(path.join(to, 'Report.txt'), 'utf8'), 'the report');
  assert.deepEqual(partialsLeft(pc.root), []);
});

test('a Windows sync killed in the middle of a large file (as Task Scheduler or taskkill /F would) resumes, verifies and leaves nothing behind', {
  skip: SKIP,
}, async (t) => {
  const dir = await tempDir(t);
  const laptop = linuxSide(dir, 'laptop');
  const pc = windowsSide(dir, 'office-pc');
  const big = randomBytes(96 * 1024 * 1024);
  mkdirSync(laptop.root, { recursive: true });
  writeFileSync(path.join(laptop.root, 'video.mp4'), big);
  await pair(laptop, false, pc, true);
  const agent = await laptop.startAgent(t);

  const run = startWindowsSynker(['sync', FOLDER, '--peer', `127.0.0.1:${agent.port}`, '--no-discovery'], pc.env);
  const partial = path.join(pc.root, '.synker', 'partial');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const parts = existsSync(partial) ? readdirSync(partial) : [];
    if (parts.some((p) => statSync(path.join(partial, p)).size > 0)) break;
    if (run.child.exitCode !== null || Date.now() > deadline)
      assert.fail(`the sync ended before any byte was kept: ${JSON.stringify(await run.done)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  run.child.kill('SIGKILL');
  const killed = await run.done;
  assert.notEqual(killed.code, 0);
  assert.ok(!existsSync(path.join(pc.root, 'video.mp4')), 'nothing landed half-done');

  const again = await sync(pc, agent.port);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(readFileSync(path.join(pc.root, 'video.mp4')).equals(big), 'the resumed file is byte for byte the source');
  assert.deepEqual(partialsLeft(pc.root), []);
  assert.equal((await checkJson(pc, agent.port)).code, 0);
});

test("on Windows, synker check hands its work to the running agent over the agent's named pipe", { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const laptop = linuxSide(dir, 'laptop');
  const pc = windowsSide(dir, 'office-pc');
  writeTree(laptop.root, { 'albums/beach.jpg': 'jpeg bytes' });
  await pair(laptop, false, pc, true);
  const source = await laptop.startAgent(t);
  await pc.startAgent(t);
  const handed = await pc.run(['--debug', 'check', FOLDER, '--peer', `127.0.0.1:${source.port}`, '--no-discovery']);
  assert.equal(handed.code, 1, handed.stderr);
  assert.match(handed.stderr, /the agent ran the check/);
  assert.match(handed.stdout, /albums\/ {2}whole folder, 1 file/, 'the report the agent made, as the CLI prints it');
  const alone = await pc.run(['--debug', 'check', FOLDER, '--peer', `127.0.0.1:${source.port}`, '--no-discovery', '--no-agent']);
  assert.equal(alone.code, 1, alone.stderr);
  assert.doesNotMatch(alone.stderr, /the agent ran the check/);
});

test('under Wine, two takers of one lock in one node.exe process hold it in turn, though Wine lets both listen on its named pipe', {
  skip: SKIP,
}, async (t) => {
  const dir = await tempDir(t);
  const pc = windowsSide(dir, 'office-pc');
  // Two read-modify-writes of one file at once (a check's verification and its lastRun were): none may be lost.
  const run = await runWindowsScript(
    [
      "import { acquireLock } from 'WINDOWS_APP/dist/src/state/lock.js';",
      "import { readFile, writeFile } from 'node:fs/promises';",
      'const file = process.argv[2];',
      "await writeFile(file, '[]');",
      'const add = async (n) => {',
      "  const lock = await acquireLock('lane-test', { waitMs: 30_000 });",
      '  try {',
      "    const list = JSON.parse(await readFile(file, 'utf8'));",
      '    await new Promise((resolve) => setTimeout(resolve, 50));',
      '    await writeFile(file, JSON.stringify([...list, n]));',
      '  } finally {',
      '    await lock.release();',
      '  }',
      '};',
      'await Promise.all([1, 2, 3, 4].map(add));',
      "let busy = 'none';",
      "const first = await acquireLock('lane-test-busy', { purpose: 'the first' });",
      "await acquireLock('lane-test-busy').catch((err) => (busy = [err.code, err.holder.purpose, err.holder.pid === process.pid].join(' ')));",
      'await first.release();',
      "console.log(JSON.stringify({ written: JSON.parse(await readFile(file, 'utf8')).sort(), busy }));",
    ].join('\n'),
    [toWindowsPath(path.join(dir, 'list.json'))],
    pc.env,
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { written: [1, 2, 3, 4], busy: 'E_LOCKED the first true' });
});

// ---- The status page, the source's learnt verdicts and the history, under Wine (issue 22) ----

interface PageAccess {
  url: string;
  port: number;
  token: string;
}

/** The Windows agent's page: web.json and web-token as node.exe wrote them into its data folder. */
async function windowsPage(home: string): Promise<PageAccess> {
  const data = path.join(home, 'synker', 'data');
  const deadline = Date.now() + 30_000;
  while (!existsSync(path.join(data, 'web.json'))) {
    if (Date.now() > deadline) assert.fail(`the Windows agent wrote no web.json in ${data}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const address = JSON.parse(readFileSync(path.join(data, 'web.json'), 'utf8')) as { url: string; host: string; port: number };
  assert.equal(address.host, '127.0.0.1', 'the page listens on the loopback interface only by default');
  assert.equal(address.url, `http://127.0.0.1:${address.port}/`);
  const token = readFileSync(path.join(data, 'web-token'), 'utf8').trim();
  assert.match(token, /^[0-9a-f]{64}$/);
  return { url: address.url, port: address.port, token };
}

async function api<T>(page: PageAccess, route: string): Promise<T> {
  const res = await fetch(`${page.url}${route}`, { headers: { Authorization: `Bearer ${page.token}` } });
  assert.equal(res.status, 200, `${route}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as T;
}

interface ApiBackup {
  device: { id: string; name: string };
  verdict: string;
  lastVerified: { status: string; differences?: number; by?: string } | null;
}
interface ApiFolder {
  id: string;
  role: string;
  verdict: string;
  lastVerified: { status: string; differences?: number } | null;
  backups: ApiBackup[];
}

/** The page's event stream, read from Linux: resolves with the first `check-ended` event's data. */
function nextCheckEnded(t: TestContext, page: PageAccess): Promise<{ folder: string; status: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${page.url}api/v1/events`, { headers: { Authorization: `Bearer ${page.token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`events: ${res.statusCode}`));
      let buffered = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffered += chunk;
        const match = /event: check-ended\ndata: (.*)\n\n/.exec(buffered);
        if (match) {
          resolve(JSON.parse(match[1]!) as { folder: string; status: string });
          req.destroy();
        }
      });
    });
    req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
    t.after(() => req.destroy());
  });
}

test('a Windows backup agent under Wine serves its status page: the token from its data folder, a check by a Windows CLI heard live, in its history (written and read by node.exe) and told to the Linux source', {
  skip: SKIP,
}, async (t) => {
  const dir = await tempDir(t);
  const laptop = linuxSide(dir, 'laptop');
  const pc = windowsSide(dir, 'office-pc');
  writeTree(laptop.root, { 'beach.jpg': 'jpeg bytes', 'notes.txt': 'notes' });
  await pair(laptop, false, pc, true);
  const source = await laptop.startAgent(t);
  await startWindowsAgent(t, pc.env, ['--web-port', '0']);
  const page = await windowsPage(path.join(dir, 'office-pc'));

  const refused = await fetch(`${page.url}api/v1/status`);
  assert.equal(refused.status, 401, 'no token, no data');
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'E_WEB_TOKEN');
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    for (const a of addresses ?? []) {
      if (a.internal || a.family !== 'IPv4') continue;
      await assert.rejects(fetch(`http://${a.address}:${page.port}/`), `nothing listens on ${name}'s ${a.address}`);
    }
  }
  const before = await api<{ api: number; folders: ApiFolder[] }>(page, 'api/v1/status');
  assert.equal(before.api, 1);
  assert.deepEqual(
    before.folders.map((f) => [f.id, f.role, f.verdict]),
    [[FOLDER, 'backup', 'not-verified']],
  );

  // A check by the Windows CLI alone (not the agent): only the history file tells the agent's page.
  const heard = nextCheckEnded(t, page);
  const check = await pc.run(['check', FOLDER, '--peer', `127.0.0.1:${source.port}`, '--no-discovery', '--no-agent']);
  assert.equal(check.code, 1, check.stderr);
  const exited = Date.now();
  const ended = await heard;
  // Not asserted (a loaded machine): a watch answers at once, the feed's poll within 5 s.
  t.diagnostic(`the page heard the check ${Date.now() - exited} ms after the Windows CLI exited`);
  assert.deepEqual([ended.folder, ended.status], [FOLDER, 'differences'], 'the page hears the check end, live');

  const historyFiles = readdirSync(path.join(dir, 'office-pc', 'synker', 'data', 'history')).sort();
  assert.deepEqual(historyFiles, [`_${FOLDER}.jsonl`, `_${FOLDER}.last-report.json`]);
  const history = await api<{ checks: Array<{ status: string; differences: number; by: string }> }>(
    page,
    `api/v1/folders/${FOLDER}/history`,
  );
  assert.deepEqual(
    history.checks.map((c) => [c.status, c.differences, c.by]),
    [['differences', 2, 'manual-check']],
    'the line node.exe wrote, read back by node.exe',
  );
  const after = await api<{ folders: ApiFolder[] }>(page, 'api/v1/status');
  assert.equal(after.folders[0]!.verdict, 'incomplete');
  const detail = await api<{ lastReport: { categories: Array<{ items: Array<{ path: string }> }> } }>(page, `api/v1/folders/${FOLDER}`);
  assert.deepEqual(detail.lastReport.categories.flatMap((c) => c.items.map((i) => i.path)).sort(), ['beach.jpg', 'notes.txt']);

  // The Linux source learnt the verdict from the Windows backup's session.
  const told = await laptop.run(['status', '--json']);
  const backups = (JSON.parse(told.stdout) as { folders: ApiFolder[] }).folders[0]!.backups;
  assert.deepEqual(
    backups.map((b) => [b.device.name, b.verdict, b.lastVerified?.differences, b.lastVerified?.by]),
    [['office-pc', 'incomplete', 2, 'manual-check']],
  );
});

test('a Windows source agent under Wine learns what its Linux backup verified, and its status page says so', { skip: SKIP }, async (t) => {
  const dir = await tempDir(t);
  const pc = windowsSide(dir, 'office-pc');
  const nas = linuxSide(dir, 'nas');
  writeTree(pc.root, WINDOWS_TREE);
  await pair(pc, true, nas, false);
  const agent = await startWindowsAgent(t, pc.env, ['--web-port', '0']);
  const page = await windowsPage(path.join(dir, 'office-pc'));
  const backupsOf = async (): Promise<ApiBackup[]> => (await api<{ folders: ApiFolder[] }>(page, 'api/v1/status')).folders[0]!.backups;
  assert.deepEqual(await backupsOf(), [], 'nothing is invented before the backup says something');

  const checked = await checkJson(nas, agent.port);
  assert.equal(checked.code, 1);
  const incomplete = await backupsOf();
  assert.deepEqual(
    incomplete.map((b) => [b.device.name, b.verdict, b.lastVerified?.by]),
    [['nas', 'incomplete', 'manual-check']],
  );
  assert.equal((await sync(nas, agent.port)).code, 0);
  const complete = await backupsOf();
  assert.deepEqual(
    complete.map((b) => [b.device.name, b.verdict, b.lastVerified?.by]),
    [['nas', 'complete', 'manual-sync']],
  );
  // The source's own history, on Windows, has both: what the backup told it, with the backup named.
  const history = await api<{ checks: Array<{ status: string; device?: { name: string } }> }>(page, `api/v1/folders/${FOLDER}/history`);
  assert.deepEqual(
    history.checks.map((c) => [c.status, c.device?.name]),
    [
      ['differences', 'nas'],
      ['complete', 'nas'],
    ],
  );
  // And `synker status` on the Windows laptop tells the same story as its page.
  const status = await pc.run(['status']);
  assert.match(status.stdout, new RegExp(`${FOLDER}: complete\\n  nas: complete, verified \\d+ seconds? ago`));
});

/** A browser for winebrowser to start (Wine's registry names it): records each address it is given. */
function browserStandIn(t: TestContext, dir: string): { env: NodeJS.ProcessEnv; opened: () => string[] } {
  const bin = path.join(dir, 'bin');
  const record = path.join(dir, 'opened.txt');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'synker-test-browser'), `#!/bin/sh\nprintf '%s\\n' "$@" >> '${record}'\n`, { mode: 0o755 });
  wineReg(['add', 'HKCU\\Software\\Wine\\WineBrowser', '/v', 'Browsers', '/d', 'synker-test-browser', '/f']);
  t.after(() => wineReg(['delete', 'HKCU\\Software\\Wine\\WineBrowser', '/v', 'Browsers', '/f']));
  return {
    env: { PATH: `${bin}:${process.env.PATH ?? ''}` },
    opened: () =>
      existsSync(record)
        ? readFileSync(record, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
  };
}

async function waitForOpened(opened: () => string[], count: number): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  while (opened().length < count) {
    if (Date.now() > deadline) assert.fail(`no browser was started (opened: ${JSON.stringify(opened())})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return opened();
}

test("synker ui under Wine opens the page through cmd's start, the address whole: with its token, and with an & in it", {
  skip: SKIP,
}, async (t) => {
  const dir = await tempDir(t);
  const pc = windowsSide(dir, 'office-pc');
  await ok(pc, ['id']);
  await startWindowsAgent(t, pc.env, ['--web-port', '0']);
  const page = await windowsPage(path.join(dir, 'office-pc'));
  const browser = browserStandIn(t, dir);
  const env = { ...pc.env, ...browser.env };
  delete env.SYNKER_NO_BROWSER;

  const ui = await runWindowsSynker(['ui'], env);
  assert.equal(ui.code, 0, ui.stderr);
  const address = `${page.url}#token=${page.token}`;
  assert.equal(ui.stdout.trim(), address);
  assert.deepEqual(await waitForOpened(browser.opened, 1), [address], 'the browser got the address with its token');
  const res = await fetch(address, { redirect: 'manual' });
  assert.equal(res.status, 200, 'and the address opens the page (the fragment, with the token, is sent to no server)');

  // cmd ends a command at an unquoted &: the address is quoted (Node's own quoting would not do).
  const tricky = `${page.url}#token=${page.token}&from=cmd`;
  const opened = await runWindowsScript(
    "import { openInBrowser } from 'WINDOWS_APP/dist/src/cli/open-page.js';\nconst child = openInBrowser(process.argv[2]);\nchild.ref(); // opened detached and let go: held here to see how cmd ended\nchild.once('exit', (code) => console.log(code));\n",
    [tricky],
    env,
  );
  assert.equal(opened.code, 0, opened.stderr);
  assert.equal(opened.stdout.trim(), '0', 'cmd ran start and nothing after an &');
  assert.deepEqual((await waitForOpened(browser.opened, 2))[1], tricky);
});

test("under Wine, a Windows agent refuses a chosen status page port another program holds (E_WEB_PORT_IN_USE), naming Windows' reserved ranges", {
  skip: SKIP,
}, async (t) => {
  const dir = await tempDir(t);
  const holder = http.createServer();
  await new Promise<void>((resolve) => holder.listen({ host: '127.0.0.1', port: 0, exclusive: true }, resolve));
  t.after(() => holder.close());
  const held = (holder.address() as { port: number }).port;
  const pc = windowsSide(dir, 'office-pc');
  await ok(pc, ['id']);
  const chosen = await runWindowsSynker(
    ['agent', '--port', '0', '--listen', '127.0.0.1', '--no-discovery', '--no-schedule', '--web-port', String(held)],
    pc.env,
  );
  assert.equal(chosen.code, 2, chosen.stderr);
  assert.match(chosen.stderr, new RegExp(`E_WEB_PORT_IN_USE|127\\.0\\.0\\.1:${held}: another program holds that port`));
  assert.match(chosen.stderr, /netsh interface ipv4 show excludedportrange/, 'on Windows the hint names the reserved ranges too');
});

test("Chromium on Linux opens a Windows agent's status page (its files served by node.exe from a Windows path): the verdict, the missing files, a live update, a screenshot", {
  skip: SKIP || chromiumMissing(),
}, async (t) => {
  const dir = await tempDir(t);
  const laptop = linuxSide(dir, 'laptop');
  const pc = windowsSide(dir, 'office-pc');
  writeTree(laptop.root, { 'beach.jpg': 'jpeg bytes', '<img src=x onerror=alert(1)>.txt': 'a name that is markup' });
  await pair(laptop, false, pc, true);
  const source = await laptop.startAgent(t);
  await startWindowsAgent(t, pc.env, ['--web-port', '0']);
  const page = await windowsPage(path.join(dir, 'office-pc'));
  for (const [file, type] of [
    ['', 'text/html'],
    ['app.js', 'text/javascript'],
    ['style.css', 'text/css'],
    ['units.js', 'text/javascript'],
    ['printable.js', 'text/javascript'],
  ] as const) {
    const res = await fetch(`${page.url}${file}`);
    assert.equal(res.status, 200, `/${file} from the Windows install`);
    assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${type}`));
  }

  const browser = await launchChromium();
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, serviceWorkers: 'block' });
  const refused: string[] = [];
  await context.route('**/*', async (route) => {
    if (route.request().url().startsWith(page.url)) await route.continue();
    else {
      refused.push(route.request().url());
      await route.abort('blockedbyclient');
    }
  });
  const tab = await context.newPage();
  const pageErrors: string[] = [];
  tab.on('pageerror', (err) => pageErrors.push(err.message));
  tab.on('dialog', (dialog) => {
    pageErrors.push(`a dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await tab.goto(`${page.url}#token=${page.token}`);
  assert.equal(tab.url(), `${page.url}#/`, 'the token is gone from the address');
  await tab.locator('body[data-ready="true"]').waitFor({ timeout: 60_000 });
  const folder = tab.locator(`[data-folder="${FOLDER}"]`);
  assert.equal(await folder.locator('h2 .verdict').getAttribute('data-verdict'), 'not-verified');

  // A check by the Windows CLI: the open page turns without a reload.
  const check = await pc.run(['check', FOLDER, '--peer', `127.0.0.1:${source.port}`, '--no-discovery', '--no-agent']);
  assert.equal(check.code, 1, check.stderr);
  await folder.locator('h2 .verdict[data-verdict="incomplete"]').waitFor({ timeout: 60_000 });
  assert.match(((await folder.locator('.detail').textContent()) ?? '').replace(/\s+/g, ' ').trim(), /^2 files missing \(\d+ B\)/);
  // The folder's page: the missing files by name, the one that is markup as text, one mark in the history.
  await folder.locator('h2 a').click();
  await tab.locator('.history').waitFor({ timeout: 60_000 });
  const missing = await tab.locator('.category[data-category="missing"] li code.name').allTextContents();
  assert.deepEqual(missing.sort(), ['<img src=x onerror=alert(1)>.txt', 'beach.jpg']);
  assert.equal(await tab.locator('img').count(), 0, 'a name that is markup stays text');
  assert.match(
    ((await tab.locator('.history').textContent()) ?? '').replace(/\s+/g, ' '),
    /1 check in the last 90 days: 0 complete, 1 incomplete/,
  );
  const shot = path.join(os.tmpdir(), 'synker-status-page-windows.png');
  await tab.screenshot({ path: shot, fullPage: true });
  assert.ok(statSync(shot).size > 10_000, `a real screenshot: ${shot}`);
  t.diagnostic(`screenshot: ${shot}`);
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(refused, [], 'the page loads nothing from elsewhere');
});
