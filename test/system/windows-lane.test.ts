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
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { startCliAgent } from '../harness/cli-pair.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';
import {
  runWindowsSynker,
  skipWithoutWine,
  startWindowsAgent,
  startWindowsSynker,
  toWindowsPath,
  WIN_NODE_VERSION,
  windowsEnv,
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
  assert.match(handed.stdout, /albums\/beach\.jpg/);
  const alone = await pc.run(['--debug', 'check', FOLDER, '--peer', `127.0.0.1:${source.port}`, '--no-discovery', '--no-agent']);
  assert.equal(alone.code, 1, alone.stderr);
  assert.doesNotMatch(alone.stderr, /the agent ran the check/);
});
