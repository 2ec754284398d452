/**
 * A backup that holds an old copy of the source's own synker folder (an
 * earlier version of synker copied it, before own folders were left out):
 * restore never brings it back over the live one (docs/configuration.md,
 * "synker's own folders"), and that is by design, not a failure. Real CLI,
 * real backup agent on loopback.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { startCliAgent } from '../harness/cli-pair.js';
import { writeTree } from '../harness/check-pair.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

async function idOf(env: NodeJS.ProcessEnv): Promise<string> {
  const id = await runSynker(['id'], { env });
  assert.equal(id.code, 0, id.stderr);
  return /([A-Z2-7]{7}(?:-[A-Z2-7]{7}){7})/.exec(id.stdout)![1]!;
}

test("restore with a backup holding an old copy of this machine's synker folder: one line says it is left alone, exit 0", async (t) => {
  const dir = await tempDir(t);
  const sourceRoot = path.join(dir, 'originals');
  // The source's home, and with it its synker folder, lies inside the folder.
  const sourceEnv = isolatedEnv(path.join(sourceRoot, 'laptop'));
  const backupEnv = isolatedEnv(path.join(dir, 'nas'));
  const backupRoot = path.join(dir, 'copy');
  await writeTree(sourceRoot, { 'photos/a.jpg': 'a' });
  await mkdir(backupRoot);
  const laptop = await idOf(sourceEnv);
  const nas = await idOf(backupEnv);
  for (const [env, args] of [
    [sourceEnv, ['trust', nas, '--name', 'nas']],
    [backupEnv, ['trust', laptop, '--name', 'laptop']],
    [sourceEnv, ['folder', 'add', 'home', sourceRoot, '--role', 'source', '--share', 'nas']],
    [backupEnv, ['folder', 'add', 'home', backupRoot, '--role', 'backup', '--share', 'laptop']],
  ] as const) {
    const r = await runSynker([...args], { env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  // What a backup made by an earlier version holds: the source's synker folder, key and all.
  await writeTree(backupRoot, { 'photos/a.jpg': 'a' });
  cpSync(path.join(sourceRoot, 'laptop/synker'), path.join(backupRoot, 'laptop/synker'), { recursive: true });
  const keyFile = path.join(sourceRoot, 'laptop/synker/config/key.pem');
  const keyBefore = readFileSync(keyFile, 'utf8');

  const backup = await startCliAgent(t, backupEnv);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${backup.port}`];
  const leftAlone = /^left alone: laptop\/synker\/ - the backup holds an old copy of synker's own folder on this machine/m;

  const dry = await runSynker(['restore', 'home', ...peer, '--dry-run'], { env: sourceEnv });
  assert.equal(dry.code, 0, dry.stdout + dry.stderr);
  assert.match(dry.stdout, leftAlone);
  assert.equal(dry.stdout.match(/laptop\/synker/g)?.length, 1, `one line, not one per file:\n${dry.stdout}`);
  assert.doesNotMatch(dry.stdout, /unstorable|skipped/);

  const run = await runSynker(['restore', 'home', ...peer], { env: sourceEnv });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, leftAlone);
  assert.doesNotMatch(run.stdout, /unstorable|skipped/);
  assert.equal(readFileSync(keyFile, 'utf8'), keyBefore, 'the live key was not overwritten');

  const json = await runSynker(['restore', 'home', ...peer, '--dry-run', '--json'], { env: sourceEnv });
  const plan = (JSON.parse(json.stdout) as { plan: { skipped: unknown[]; leftAlone?: string[] } }).plan;
  assert.deepEqual([plan.skipped, plan.leftAlone], [[], ['laptop/synker']]);

  // Named, it is not restored either: then the run did not do what was asked (exit 1).
  const named = await runSynker(['restore', 'home', 'laptop/synker/config', ...peer], { env: sourceEnv });
  assert.equal(named.code, 1, named.stdout + named.stderr);
  assert.match(named.stdout, /^left alone: laptop\/synker\/config\/ - the backup holds an old copy of synker's own folder/m);
  assert.equal(readFileSync(keyFile, 'utf8'), keyBefore);
  // A file named is a file: no folder's trailing slash.
  const file = await runSynker(['restore', 'home', 'laptop/synker/config/key.pem', ...peer], { env: sourceEnv });
  assert.equal(file.code, 1, file.stdout + file.stderr);
  assert.match(file.stdout, /^left alone: laptop\/synker\/config\/key\.pem - the backup holds an old copy/m);
  assert.equal(readFileSync(keyFile, 'utf8'), keyBefore);
});
