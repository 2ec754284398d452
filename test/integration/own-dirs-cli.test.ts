/**
 * A shared folder that holds a machine's own synker folders (a whole home or profile shared, as users
 * do): real agents and the real CLI on loopback. The source never sends its key, config, state or hash
 * cache, so a sync is complete and stays complete; the backup never reports, deletes or overwrites its
 * own (docs/configuration.md, "synker's own folders").
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { startCliAgent } from '../harness/cli-pair.js';
import { writeTree } from '../harness/check-pair.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

interface Pair {
  sourceEnv: NodeJS.ProcessEnv;
  backupEnv: NodeJS.ProcessEnv;
}

/** Trust both ways and add folder `home` on each side; returns `folder add`'s output on each. */
async function pairUp(pair: Pair, sourceRoot: string, backupRoot: string): Promise<{ sourceAdd: string; backupAdd: string }> {
  const idOf = async (env: NodeJS.ProcessEnv): Promise<string> => {
    const id = await runSynker(['id'], { env });
    assert.equal(id.code, 0, id.stderr);
    return /([A-Z2-7]{7}(?:-[A-Z2-7]{7}){7})/.exec(id.stdout)![1]!;
  };
  const laptop = await idOf(pair.sourceEnv);
  const nas = await idOf(pair.backupEnv);
  const out: string[] = [];
  for (const [env, args] of [
    [pair.sourceEnv, ['trust', nas, '--name', 'nas']],
    [pair.backupEnv, ['trust', laptop, '--name', 'laptop']],
    [pair.sourceEnv, ['folder', 'add', 'home', sourceRoot, '--role', 'source', '--share', 'nas']],
    [pair.backupEnv, ['folder', 'add', 'home', backupRoot, '--role', 'backup', '--share', 'laptop']],
  ] as const) {
    const r = await runSynker([...args], { env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    out.push(r.stderr);
  }
  return { sourceAdd: out[2]!, backupAdd: out[3]! };
}

/** Every path under `root` (relative, `/`-separated), the folder's own `.synker/` left out. */
function listTree(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[])
    .map((p) => p.split(path.sep).join('/'))
    .filter((p) => p !== '.synker' && !p.startsWith('.synker/'))
    .sort();
}

interface CheckJson {
  complete: boolean;
  differences: Array<{ category: string; path: string; unstorable?: string }>;
}

test("a source folder holding the source's home: folder add warns, sync copies none of synker's files, and every check after it is complete", async (t) => {
  const dir = await tempDir(t);
  const sourceRoot = path.join(dir, 'originals');
  // The source's home, and with it SYNKER_HOME (config, data, cache) and its runtime folder, lies inside the folder.
  const sourceEnv = isolatedEnv(path.join(sourceRoot, 'laptop'));
  const backupEnv = isolatedEnv(path.join(dir, 'nas'));
  const backupRoot = path.join(dir, 'copy');
  await writeTree(sourceRoot, { 'photos/a.jpg': 'a', 'laptop/notes.txt': 'my notes' });
  await mkdir(backupRoot);
  const { sourceAdd } = await pairUp({ sourceEnv, backupEnv }, sourceRoot, backupRoot);
  assert.match(
    sourceAdd,
    /warning: .*originals holds synker's own files of this machine \(laptop\/synker, laptop\/run\/synker\): they are left out of every check and sync of it/,
  );
  assert.ok(existsSync(path.join(sourceRoot, 'laptop/synker/config/key.pem')), "the source's key lies inside its folder");

  const doctor = await runSynker(['doctor', '--no-multicast'], { env: sourceEnv });
  assert.match(doctor.stdout, /warn +folder +"home": .*originals holds synker's own files of this machine/);

  const source = await startCliAgent(t, sourceEnv, [], ['--no-discovery', '--listen', '127.0.0.1']);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const sync = await runSynker(['sync', 'home', ...peer], { env: backupEnv });
  assert.equal(sync.code, 0, `${sync.stdout}\n${sync.stderr}`);
  assert.match(sync.stdout, /after the sync: backup complete/);
  const copied = listTree(backupRoot);
  assert.deepEqual(copied, ['laptop', 'laptop/notes.txt', 'laptop/run', 'photos', 'photos/a.jpg'], 'nothing of synker was copied');
  assert.ok(!copied.some((p) => p.endsWith('key.pem')));

  // The source agent keeps writing its hash cache and state while it serves: each check is still complete.
  for (const round of [1, 2]) {
    const check = await runSynker(['check', 'home', ...peer, '--json'], { env: backupEnv });
    assert.equal(check.code, 0, `check ${round}: ${check.stdout}\n${check.stderr}`);
    const report = JSON.parse(check.stdout) as CheckJson;
    assert.equal(report.complete, true, `check ${round}`);
    assert.deepEqual(report.differences, [], `check ${round}`);
  }
});

test("a backup folder holding the backup's own home: its synker folders are never reported, deleted or overwritten, even by sync --delete", async (t) => {
  const dir = await tempDir(t);
  const sourceRoot = path.join(dir, 'originals');
  const sourceEnv = isolatedEnv(path.join(dir, 'laptop'));
  // The backup shares its whole home, with synker's default folders (~/.config/synker, ~/.local/share/synker, ~/.cache/synker) in it.
  const backupRoot = path.join(dir, 'nas-home');
  const backupEnv = isolatedEnv(backupRoot);
  delete backupEnv.SYNKER_HOME;
  await writeTree(sourceRoot, { 'photos/a.jpg': 'a', 'photos/b.jpg': 'b' });
  await writeTree(backupRoot, { 'photos/a.jpg': 'a' });
  const { backupAdd } = await pairUp({ sourceEnv, backupEnv }, sourceRoot, backupRoot);
  assert.match(
    backupAdd,
    /warning: .*nas-home holds synker's own files of this machine \(\.config\/synker, \.local\/share\/synker, \.cache\/synker, run\/synker\)/,
  );
  const key = path.join(backupRoot, '.config/synker/key.pem');
  const keyBefore = readFileSync(key, 'utf8');

  const source = await startCliAgent(t, sourceEnv, [], ['--no-discovery', '--listen', '127.0.0.1']);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const ownPaths = (report: CheckJson) =>
    report.differences.filter((d) => /^(\.config\/synker|\.local\/share\/synker|\.cache\/synker|run\/synker)(\/|$)/.test(d.path));

  const before = await runSynker(['check', 'home', ...peer, '--json'], { env: backupEnv });
  const beforeReport = JSON.parse(before.stdout) as CheckJson;
  assert.deepEqual(ownPaths(beforeReport), [], before.stdout);
  assert.deepEqual(
    beforeReport.differences.filter((d) => d.category === 'missing').map((d) => d.path),
    ['photos/b.jpg'],
  );

  const sync = await runSynker(['sync', 'home', ...peer, '--delete', '--max-delete', '100%', '--force'], { env: backupEnv });
  assert.equal(sync.code, 0, `${sync.stdout}\n${sync.stderr}`);
  assert.equal(readFileSync(key, 'utf8'), keyBefore, "the backup's key is where it was, unchanged");
  assert.equal(readFileSync(path.join(backupRoot, 'photos/b.jpg'), 'utf8'), 'b');

  const after = await runSynker(['check', 'home', ...peer, '--json'], { env: backupEnv });
  assert.equal(after.code, 0, `${after.stdout}\n${after.stderr}`);
  const afterReport = JSON.parse(after.stdout) as CheckJson;
  assert.equal(afterReport.complete, true);
  assert.deepEqual(ownPaths(afterReport), []);
  // The backup still works: its own config and state were left in place.
  const status = await runSynker(['folder', 'list', '--json'], { env: backupEnv });
  assert.equal(status.code, 0, status.stderr);
});

test("another home's synker folder inside a source folder is backed up like any file, but never into the backup's own synker folder", async (t) => {
  const dir = await tempDir(t);
  const sourceRoot = path.join(dir, 'originals');
  const sourceEnv = isolatedEnv(path.join(dir, 'laptop'));
  const backupRoot = path.join(dir, 'nas-home');
  const backupEnv = isolatedEnv(backupRoot);
  delete backupEnv.SYNKER_HOME;
  // A second user's profile on the source: its synker folder is that user's files, not this machine's own.
  await writeTree(sourceRoot, {
    'photos/a.jpg': 'a',
    'bob/.config/synker/key.pem': "bob's key",
    '.config/synker/key.pem': 'a stranger key',
  });
  await mkdir(backupRoot);
  const { sourceAdd } = await pairUp({ sourceEnv, backupEnv }, sourceRoot, backupRoot);
  assert.doesNotMatch(sourceAdd, /warning/);
  const key = path.join(backupRoot, '.config/synker/key.pem');
  const keyBefore = readFileSync(key, 'utf8');

  const source = await startCliAgent(t, sourceEnv, [], ['--no-discovery', '--listen', '127.0.0.1']);
  const peer = ['--no-discovery', '--peer', `127.0.0.1:${source.port}`];
  const sync = await runSynker(['sync', 'home', ...peer], { env: backupEnv });
  assert.equal(sync.code, 1, `${sync.stdout}\n${sync.stderr}`);
  assert.equal(
    readFileSync(path.join(backupRoot, 'bob/.config/synker/key.pem'), 'utf8'),
    "bob's key",
    "another home's synker folder is copied",
  );
  assert.equal(readFileSync(key, 'utf8'), keyBefore, "the backup's own key was not overwritten");
  assert.match(sync.stdout, /\.config\/synker\/key\.pem.*synker's own folder on this machine is there, which sync never writes/);

  // Still not backed up, and said so: the check is incomplete with the reason, never complete by leaving it out.
  const check = await runSynker(['check', 'home', ...peer, '--json'], { env: backupEnv });
  assert.equal(check.code, 1, `${check.stdout}\n${check.stderr}`);
  const report = JSON.parse(check.stdout) as CheckJson;
  assert.deepEqual(
    // (.local and .cache, the parents of the backup's own folders, are only on the backup: extras, never failing.)
    report.differences.filter((d) => d.category !== 'extra').map((d) => [d.category, d.path, d.unstorable !== undefined]),
    [
      ['missing', '.config/synker', true],
      ['missing', '.config/synker/key.pem', true],
    ],
  );
});

test("init says it too, once, for a folder it adds that holds this machine's synker folders; not for another", async (t) => {
  const dir = await tempDir(t);
  const home = path.join(dir, 'me');
  const elsewhere = path.join(dir, 'photos');
  await mkdir(home);
  await mkdir(elsewhere);
  const env = isolatedEnv(home);
  delete env.SYNKER_HOME;
  const r = await runSynker(
    ['init', '--yes', '--name', 'laptop', '--role', 'source', '--folder', `home=${home}`, '--folder', `photos=${elsewhere}`, '--no-email'],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.match(/holds synker's own files/g)?.length, 1, r.stderr);
  assert.match(
    r.stderr,
    /warning: .*me holds synker's own files of this machine \(\.config\/synker, \.local\/share\/synker, \.cache\/synker, run\/synker\)/,
  );
});
