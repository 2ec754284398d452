import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { scanFolder, ScanError } from '../../src/scan/index.js';
import { collect, isRoot, parseNdjson, runCli, sha256sum } from '../harness/scan.js';
import { tempDir } from '../harness/tmp.js';

test('an unreadable file and folder become error entries and the scan goes on (exit 0)', async (t) => {
  if (!isRoot()) return t.skip("needs root: setpriv drops root's read override");
  const root = await tempDir(t);
  await writeFile(path.join(root, 'secret'), 'hidden');
  await mkdir(path.join(root, 'locked'));
  await writeFile(path.join(root, 'locked', 'inside'), 'hidden too');
  await writeFile(path.join(root, 'zz-readable'), 'visible');
  await chmod(path.join(root, 'secret'), 0o000);
  await chmod(path.join(root, 'locked'), 0o000);

  const result = await runCli(['scan', root, '--json', '--no-cache'], { unprivileged: true });
  assert.equal(result.code, 0, result.stderr);
  const entries = parseNdjson(result.stdout);
  assert.deepEqual(
    entries.map((e) => [e.path, e.type, e.errorCode ?? null]),
    [
      ['locked', 'error', 'EACCES'],
      ['secret', 'error', 'EACCES'],
      ['zz-readable', 'file', null],
    ],
  );
  assert.match(entries[0]!.error!, /could not list the folder: permission denied/);
  assert.match(entries[1]!.error!, /could not read the file: permission denied/);
  assert.equal(entries[2]!.hash, await sha256sum(path.join(root, 'zz-readable')));
  assert.match(result.stderr, /2 errors/);
});

test('a file that grows while it is hashed is reported unstable, without a hash', async (t) => {
  const root = await tempDir(t);
  const file = path.join(root, 'growing.log');
  await writeFile(file, Buffer.alloc(64 * 1024 * 1024, 1));
  await writeFile(path.join(root, 'steady'), 'steady');
  // A separate process appends without pause until killed.
  const writer = spawn(
    process.execPath,
    [
      '-e',
      `const fs=require('fs');const fd=fs.openSync(process.argv[1],'a');fs.writeSync(fd,'x');console.log('ready');for(;;)fs.writeSync(fd,'x');`,
      file,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => writer.kill('SIGKILL'));
  await new Promise<void>((resolve) => writer.stdout!.once('data', () => resolve()));

  const { entries, stats } = await collect(root, { cache: false });
  const growing = entries.find((e) => e.path === 'growing.log')!;
  assert.equal(growing.type, 'file');
  assert.deepEqual(growing.flags, ['unstable']);
  assert.equal(growing.hash, undefined);
  assert.equal(entries.find((e) => e.path === 'steady')!.hash, await sha256sum(path.join(root, 'steady')));
  assert.equal(stats.unstable, 1);
});

test('a missing root or a root that is a file is a ScanError; the CLI exits 2 with a hint', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'plain'), 'x');
  await assert.rejects(collect(path.join(dir, 'absent')), (err: unknown) => err instanceof ScanError && err.code === 'E_SCAN_ROOT_MISSING');
  await assert.rejects(collect(path.join(dir, 'plain')), (err: unknown) => err instanceof ScanError && err.code === 'E_SCAN_ROOT_NOT_DIR');
  const cli = await runCli(['scan', path.join(dir, 'absent')]);
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /^error: folder .*absent does not exist\nhint: /m);
  const usage = await runCli(['scan', dir, '--json', '--msgpack']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--json and --msgpack cannot be used together/);
  const jobs = await runCli(['scan', dir, '--jobs', 'many']);
  assert.equal(jobs.code, 2);
  assert.match(jobs.stderr, /--jobs must be a whole number/);
});

test('aborting the signal stops the scan and releases its threads', async (t) => {
  const root = await tempDir(t);
  for (let i = 0; i < 200; i++) await writeFile(path.join(root, `f${i}`), `file ${i}`);
  const controller = new AbortController();
  const scan = scanFolder(root, { cache: false, signal: controller.signal });
  let seen = 0;
  await assert.rejects(
    (async () => {
      for await (const _ of scan) {
        if (++seen === 3) controller.abort();
      }
    })(),
    { name: 'AbortError' },
  );
  assert.equal(seen, 3);
});

test('breaking out of the loop ends the scan cleanly', async (t) => {
  const root = await tempDir(t);
  for (let i = 0; i < 50; i++) await writeFile(path.join(root, `f${i}`), `file ${i}`);
  const scan = scanFolder(root, { cache: false });
  for await (const entry of scan) {
    assert.equal(entry.path, 'f0');
    break;
  }
  assert.ok(scan.stats.elapsedMs > 0, 'the scan finished its clean-up');
});
