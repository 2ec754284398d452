/**
 * Start-up stays short (issue #21: first output within 150 ms, measured by
 * bench/startup.bench.ts): `synker --version` and `synker status` load no
 * heavy module: not the store (lmdb, msgpackr), not the mail client
 * (nodemailer, loaded when a message is first sent), not the wire (ws).
 * Each command's module is imported only when that command runs
 * (src/cli/commands/index.ts).
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const RECORDER = fileURLToPath(new URL('../programs/record-imports.js', import.meta.url));
const HEAVY = /\/node_modules\/(lmdb|msgpackr|nodemailer|ws|smtp-server|multicast-dns|@peculiar\/x509)\//;

async function importsOf(home: string, args: string[]): Promise<{ heavy: string[]; all: string[]; stdout: string }> {
  const file = path.join(home, 'imports.txt');
  await writeFile(file, '');
  const result = await runSynker(args, {
    env: isolatedEnv(home, { NODE_OPTIONS: `--import ${JSON.stringify(RECORDER)}`, SYNKER_TEST_IMPORTS_FILE: file }),
  });
  assert.equal(result.code, 0, result.stderr);
  const all = (await readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  return { heavy: [...new Set(all.filter((u) => HEAVY.test(u)).map((u) => HEAVY.exec(u)![1]!))], all, stdout: result.stdout };
}

test('synker --version and synker status (no agent) load neither the store, nor the mail client, nor the wire', async (t) => {
  const home = await tempDir(t);
  const version = await importsOf(home, ['--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  assert.ok(
    version.all.some((u) => u.includes('/dist/src/cli/main.js')),
    'the recorder saw the CLI load',
  );
  assert.deepEqual(version.heavy, []);

  const status = await importsOf(home, ['status']);
  assert.match(status.stdout, /no folders yet/);
  assert.deepEqual(status.heavy, []);
});

test('a command that needs them still loads them: synker scan opens the hash cache (lmdb)', async (t) => {
  const home = await tempDir(t);
  const folder = await tempDir(t);
  await writeFile(path.join(folder, 'a.txt'), 'a');
  const scan = await importsOf(home, ['scan', folder]);
  assert.ok(scan.heavy.includes('lmdb') || process.platform === 'win32', `scan loaded ${scan.heavy.join(', ')}`);
});
