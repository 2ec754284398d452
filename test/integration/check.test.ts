/**
 * `synker check` end to end over loopback: a real source agent serving a
 * real folder, a backup checking its real copy. Each test applies the
 * mutations a user makes and expects exactly the matching categories.
 */
import assert from 'node:assert/strict';
import { chmod, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Difference } from '../../src/diff/index.js';
import { MARKER_FILE } from '../../src/manifest/layout.js';
import { CHECK_EXIT, type CheckReport } from '../../src/report/model.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { differencePhrase } from '../../src/mail/subject.js';
import { corruptKeepingSizeAndMtime, FIXED_MTIME_S, startCheckPair, writeTree } from '../harness/check-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { isFrameOfType, rawHello, startRawServer, type RawPeer } from '../harness/peers.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = {
  'a.txt': 'alpha',
  'b.txt': 'bravo',
  'docs/readme.md': '# readme',
  'docs/notes.txt': 'notes',
  'albums/2024/1.jpg': 'jpeg one',
  'albums/2024/2.jpg': 'jpeg two',
  'albums/2024/3.jpg': 'jpeg three',
  'keep/same.bin': 'same',
};

function brief(d: Difference): string {
  const to = d.newPath ?? d.otherPath;
  return `${d.category} ${d.path}${to === undefined ? '' : ` -> ${to}`}`;
}

test('an identical copy is complete: exit 0, both peers named, every file verified', async (t) => {
  const pair = await startCheckPair(t, FILES);
  const report = await pair.check();
  assert.equal(report.error, null);
  assert.equal(report.exitCode, CHECK_EXIT.complete, JSON.stringify(report.differences));
  assert.equal(report.complete, true);
  assert.equal(report.summary.matchedFiles, Object.keys(FILES).length);
  assert.equal(report.source.name, 'laptop');
  assert.equal(report.source.deviceId, pair.sourceIdentity.deviceId);
  assert.equal(report.backup.deviceId, pair.backupIdentity.deviceId);
  assert.equal(report.source.location, `127.0.0.1:${pair.server.port}`);
  assert.ok(report.source.scan !== null && report.backup.scan !== null);
});

test('the mutations a user makes come out as exactly the matching categories, exit 1', async (t) => {
  const pair = await startCheckPair(t, FILES);
  const s = pair.sourceRoot;
  await rm(path.join(pair.backupRoot, 'b.txt')); // missing on backup
  await writeTree(pair.backupRoot, { 'stray.log': 'extra' }); // extra on backup
  // Edited in place, same size and mtime: only a hash sees it.
  const a = path.join(s, 'a.txt');
  await writeFile(a, 'ALPHA');
  await utimes(a, FIXED_MTIME_S, FIXED_MTIME_S);
  // Touched: metadata only.
  await utimes(path.join(s, 'docs/notes.txt'), new Date(), new Date(Date.now() + 3_600_000));
  // Renamed file and moved folder on the source.
  await rename(path.join(s, 'docs/readme.md'), path.join(s, 'docs/README-2.md'));
  await rename(path.join(s, 'albums/2024'), path.join(s, 'albums/2024-summer'));
  await chmod(path.join(s, 'keep/same.bin'), 0o600);

  const report = await pair.check();
  assert.equal(report.exitCode, CHECK_EXIT.differences);
  assert.deepEqual(report.differences.map(brief), [
    'content a.txt',
    'moved albums/2024-summer -> albums/2024',
    'missing b.txt',
    'moved docs/README-2.md -> docs/readme.md',
    'metadata docs/notes.txt',
    'metadata keep/same.bin',
    'extra stray.log',
  ]);
  assert.equal(report.differences[1]!.fileCount, 3);
  assert.deepEqual(report.differences.find((d) => d.path === 'keep/same.bin')!.changes, ['mode']);
});

test('only metadata differences: listed, exit 0', async (t) => {
  const pair = await startCheckPair(t, FILES);
  await utimes(path.join(pair.backupRoot, 'a.txt'), new Date(), new Date(Date.now() - 86_400_000));
  const report = await pair.check();
  assert.equal(report.exitCode, CHECK_EXIT.complete);
  assert.deepEqual(report.differences.map(brief), ['metadata a.txt']);
});

test("the source's ignore rules govern the backup's scan", async (t) => {
  const pair = await startCheckPair(t, { ...FILES, '.synkerignore': '*.tmp\n' });
  await writeTree(pair.backupRoot, { 'scratch.tmp': 'ignored on both sides' });
  await writeTree(pair.sourceRoot, { 'other.tmp': 'ignored on both sides' });
  const report = await pair.check();
  assert.equal(report.exitCode, CHECK_EXIT.complete, JSON.stringify(report.differences.map(brief)));
});

test("ignore rules cannot fake completeness: files verified before that the source's rules now hide fail the check", async (t) => {
  const pair = await startCheckPair(t, FILES);
  const first = await pair.check();
  assert.equal(first.summary.matchedFiles, Object.keys(FILES).length);
  // A source whose .synkerignore says "*": before, "backup complete, 0 files verified", exit 0.
  await writeTree(pair.sourceRoot, { '.synkerignore': '*\n' });
  const hidden = await pair.check();
  assert.equal(hidden.exitCode, CHECK_EXIT.differences, JSON.stringify(hidden.differences.map(brief)));
  assert.equal(hidden.complete, false);
  assert.deepEqual(
    hidden.differences.map(brief),
    Object.keys(FILES)
      .sort()
      .map((p) => `ignored ${p}`),
  );
  assert.equal(hidden.summary.byCategory.ignored.count, Object.keys(FILES).length);
  // A size-only check cannot be fooled either ("backup complete by size, 0 files of the same size").
  const bySize = await pair.check({ sizeOnly: true });
  assert.equal(bySize.exitCode, CHECK_EXIT.differences);
  assert.equal(bySize.summary.byCategory.ignored.count, Object.keys(FILES).length);
  const text = renderTerminal(hidden, { color: false, all: false });
  assert.match(text, /backup INCOMPLETE: 8 differences/);
  assert.match(
    text,
    /Hidden by the source's ignore rules \(8\) - verified before, now left out by the source's .synkerignore: undo the rule/,
  );
  assert.match(text, /verified before, now hidden by the source's ignore rules/);
  assert.match(differencePhrase(hidden), /^8 files hidden by the source's ignore rules \(\d+ B\)$/, 'the e-mail subject says it too');
  // A folder rule hides what is inside it; a file removed from the backup on purpose is no longer held.
  await writeTree(pair.sourceRoot, { '.synkerignore': 'albums/\n' });
  await rm(path.join(pair.backupRoot, 'albums/2024/3.jpg'));
  const folder = await pair.check();
  assert.deepEqual(folder.differences.map(brief), ['missing .synkerignore', 'ignored albums/2024/1.jpg', 'ignored albums/2024/2.jpg']);
  // The rule undone: complete again.
  await rm(path.join(pair.sourceRoot, '.synkerignore'));
  await rm(path.join(pair.sourceRoot, 'albums/2024/3.jpg'));
  const undone = await pair.check();
  assert.equal(undone.exitCode, CHECK_EXIT.complete, JSON.stringify(undone.differences.map(brief)));
});

test('a backup root without its marker (an unmounted disk) is an error, never "everything is missing"', async (t) => {
  const pair = await startCheckPair(t, FILES);
  await rm(path.join(pair.backupRoot, MARKER_FILE));
  const report = await pair.check();
  assert.equal(report.exitCode, CHECK_EXIT.error);
  assert.equal(report.complete, false);
  assert.deepEqual(report.differences, []);
  assert.equal(report.error!.code, 'E_FOLDER_ABSENT');
  assert.match(report.error!.message, /unmounted disk/);
  assert.ok(report.error!.hint);
});

test('a folder stored in NFD on the backup is one notice however many entries it holds', async (t) => {
  const nfc = 'caf\u00e9';
  const files: Record<string, string> = { 'x.txt': 'x' };
  for (let i = 0; i < 20; i++) files[`${nfc}/${i}.txt`] = `file ${i}`;
  files[`${nfc}/inner/deep.txt`] = 'deep';
  const pair = await startCheckPair(t, files);
  // What a copy from a Mac leaves on Linux: the folder's name on disk decomposed.
  await rename(path.join(pair.backupRoot, nfc), path.join(pair.backupRoot, 'cafe\u0301'));
  const report = await pair.check();
  assert.equal(report.exitCode, CHECK_EXIT.complete, JSON.stringify(report.differences.map(brief)));
  assert.deepEqual(
    report.differences.map((d) => [brief(d), d.clash, d.fileCount, d.members?.length]),
    [[`name-clash ${nfc}`, 'normalization', 21, 22]],
  );
  assert.equal(report.differences[0]!.backup!.raw, 'cafe\u0301');
  assert.equal(report.summary.matchedFiles, 22);
});

test('which side changed: after a verified check, damage on each side with size and mtime kept', async (t) => {
  const pair = await startCheckPair(t, FILES);
  const first = await pair.check({ verify: true });
  assert.equal(first.exitCode, CHECK_EXIT.complete);
  await corruptKeepingSizeAndMtime(path.join(pair.sourceRoot, 'docs/notes.txt'));
  await corruptKeepingSizeAndMtime(path.join(pair.backupRoot, 'albums/2024/2.jpg'));
  // The source hashes through its cache; the in-place write changed the file's ctime, so the cache
  // does not vouch for the old hash.
  const report = await pair.check({ verify: true });
  assert.equal(report.exitCode, CHECK_EXIT.differences);
  const verdicts = Object.fromEntries(report.differences.map((d) => [d.path, [d.category, d.changedOn]]));
  assert.deepEqual(verdicts, {
    'albums/2024/2.jpg': ['content', 'backup'],
    'docs/notes.txt': ['content', 'source-suspicious'],
  });
  // The verdicts hold on the next check too: paths in dispute keep their verified record.
  const again = await pair.check({ verify: true });
  assert.deepEqual(Object.fromEntries(again.differences.map((d) => [d.path, d.changedOn])), {
    'albums/2024/2.jpg': 'backup',
    'docs/notes.txt': 'source-suspicious',
  });
});

test('an unreachable source is exit 2 with what to do', async (t) => {
  const pair = await startCheckPair(t, FILES);
  await pair.server.close();
  const report = await pair.check({ timeoutMs: 2000 });
  assert.equal(report.exitCode, CHECK_EXIT.error);
  assert.equal(report.error!.code, 'E_SOURCE_UNREACHABLE');
  assert.match(report.error!.message, /cannot reach the source of folder "photos"/);
  assert.ok(report.error!.hint);
});

/** The report of `check`, or a failure naming `what` if it takes longer than `ms` (a hang must fail the test, not stall it). */
async function within<T>(ms: number, what: string, check: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Posing as the source (its certificate, raw msgpackr): a hello, then `script` answers the manifest request. */
async function brokenSource(identity: Parameters<typeof startRawServer>[0], script: (peer: RawPeer, req: number) => void) {
  return startRawServer(identity, (peer) => {
    void peer
      .waitFor(isFrameOfType(1))
      .then(async () => {
        // It calls itself "src"; the backup trusts it as "laptop", the name its messages must use.
        peer.send(rawHello(identity, { name: 'src' }));
        const request = (await peer.waitFor(isFrameOfType(3))) as [number, number, { req: number }];
        script(peer, request[2].req);
      })
      .catch(() => undefined);
  });
}

const manifestBegin = (req: number) => [1, 4, { req, folder: 'photos', role: 'source', ignore: [] }];
const wireDir = (p: string) => [p, 1, 0, 0, 0o755];
/** Long enough for the backup's scan of FILES to end before the source fails: the diff has then not read it. */
const HASHING_MS = 800;

test('a source whose manifest fails before the diff reads the backup: exit 2 with its error, and the folder is free again', async (t) => {
  const pair = await startCheckPair(t, FILES);
  const cases: Array<{ name: string; script: (peer: RawPeer, req: number) => void; code: string; match?: RegExp }> = [
    {
      name: 'begin, then the connection drops',
      script: (p, r) => (p.send(manifestBegin(r)), setTimeout(() => p.ws.terminate(), HASHING_MS)),
      code: 'E_PEER_CLOSED',
      match: /^laptop \(127\.0\.0\.1:\d+\) closed the connection .*before the manifest of "photos" was complete/,
    },
    {
      name: 'a first batch out of order',
      script: (p, r) => (
        p.send(manifestBegin(r)), setTimeout(() => p.send([1, 5, { req: r, entries: [wireDir('b'), wireDir('a')] }]), HASHING_MS)
      ),
      code: 'E_ORDER',
    },
    {
      name: 'a ../ path in the first batch',
      script: (p, r) => (
        p.send(manifestBegin(r)), setTimeout(() => p.send([1, 5, { req: r, entries: [wireDir('../escape')] }]), HASHING_MS)
      ),
      code: 'E_BAD_PATH',
    },
    {
      name: 'an error for the request after begin',
      script: (p, r) => (
        p.send(manifestBegin(r)),
        setTimeout(
          () => p.send([1, 2, { req: r, code: 'E_SCAN_FAILED', message: 'laptop: the disk went away while scanning' }]),
          HASHING_MS,
        )
      ),
      code: 'E_SCAN_FAILED',
    },
  ];
  for (const c of cases) {
    const evil = await brokenSource(pair.sourceIdentity, c.script);
    try {
      const report = await within(HASHING_MS + 5000, c.name, pair.check({ peer: `127.0.0.1:${evil.port}` }));
      assert.equal(report.exitCode, CHECK_EXIT.error, c.name);
      assert.equal(report.error?.code, c.code, `${c.name}: ${report.error?.message}`);
      if (c.match) assert.match(report.error!.message, c.match, c.name);
    } finally {
      await evil.close();
    }
  }
  // The lock was released and the scan thread left in order: the real source's check runs.
  const report = await within(10_000, 'the check after the failed ones', pair.check());
  assert.equal(report.exitCode, CHECK_EXIT.complete, JSON.stringify(report.error));
});

test('synker check on the command line: exit codes, JSON, --output, and errors on stderr with a hint', async (t) => {
  const pair = await startCheckPair(t, FILES);
  await pair.writeBackupHome();
  const env = { ...process.env, SYNKER_HOME: pair.backupHome, NO_COLOR: '1' };

  const complete = await runSynker(['check', '--no-discovery', '--json'], { env });
  assert.equal(complete.code, 0, complete.stderr);
  const report = JSON.parse(complete.stdout) as CheckReport;
  assert.equal(report.schema, 'synker/check-report');
  assert.equal(report.complete, true);
  assert.equal(report.backup.name, 'nas');

  await rm(path.join(pair.backupRoot, 'b.txt'));
  const incomplete = await runSynker(['check', '--no-discovery', 'photos'], { env });
  assert.equal(incomplete.code, 1, incomplete.stderr);
  assert.match(incomplete.stdout, /^folder "photos": backup INCOMPLETE: 1 difference/);
  assert.match(incomplete.stdout, /Missing on backup \(1\)\n {2}b\.txt {2}5 B/);
  assert.doesNotMatch(incomplete.stdout, /\x1b\[/);

  const out = path.join(pair.backupHome, 'report.json');
  const toFile = await runSynker(
    ['check', '--no-discovery', 'photos', '--json', '--output', out, '--peer', `127.0.0.1:${pair.server.port}`],
    { env },
  );
  assert.equal(toFile.code, 1, toFile.stderr);
  assert.equal(toFile.stdout, '');
  assert.equal((JSON.parse(await readFile(out, 'utf8')) as CheckReport).summary.byCategory.missing.count, 1);
  // A bad --output is refused before the check runs (the report would be lost after it); no folder is created for it.
  const missingDir = path.join(pair.backupHome, 'no', 'such', 'dir');
  for (const [where, words] of [
    [pair.backupHome, 'is a directory'],
    ['', 'needs a file name'],
    [path.join(missingDir, 'report.txt'), `the folder ${missingDir} does not exist`],
    [`${out + path.sep}x.txt`, `${out} is not a folder`],
  ] as const) {
    const refused = await runSynker(['check', '--no-discovery', 'photos', '--output', where, '--peer', '127.0.0.1:1'], { env });
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.stdout, '');
    assert.ok(refused.stderr.startsWith(`error: --output ${where}`) && refused.stderr.includes(words), refused.stderr);
    assert.doesNotMatch(refused.stderr, /internal error|cannot reach/);
  }
  await assert.rejects(stat(path.join(pair.backupHome, 'no')), /ENOENT/);

  await rm(path.join(pair.backupRoot, MARKER_FILE));
  const absent = await runSynker(['check', '--no-discovery', 'photos'], { env });
  assert.equal(absent.code, 2);
  assert.match(absent.stderr, /error: folder "photos" is absent: .* \(an unmounted disk\?\)/);
  assert.match(absent.stderr, /hint: Mount the disk/);

  const unknown = await runSynker(['check', '--no-discovery', 'nope'], { env });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /error: there is no folder "nope" in the config\nhint: Folders here: photos\./);
  // --interface takes one name: the folder after it stays the folder (for sync and restore too).
  for (const command of ['check', 'sync', 'restore']) {
    const after = await runSynker([command, '--no-discovery', '--interface', 'lo', 'nope'], { env });
    assert.equal(after.code, 2, `${command}: ${after.stderr}`);
    assert.match(after.stderr, /^error: there is no folder "nope" in the config\n/, command);
  }
  const bad = await runSynker(['check', '--no-discovery', '--timeout', 'soon'], { env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--timeout soon is not a duration/);
});

test('a hash cache that cannot be opened: check and sync name the file in the way, and no flag they do not have; scan names its own', async (t) => {
  const pair = await startCheckPair(t, FILES);
  await pair.writeBackupHome();
  const env = { ...process.env, SYNKER_HOME: pair.backupHome, NO_COLOR: '1' };
  const cache = path.join(pair.backupHome, 'cache');
  await rm(cache, { recursive: true, force: true });
  await writeFile(cache, 'not a folder');
  const inTheWay = `${cache.replace(/[.\\]/g, '\\$&')} is a file, not a folder`;
  for (const command of ['check', 'sync']) {
    const run = await runSynker([command, '--no-discovery', 'photos'], { env });
    assert.equal(run.code, 2, `${command}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`cannot open the hash cache under .*: ${inTheWay}\\n`), command);
    assert.match(run.stderr, new RegExp(`hint: Make ${cache.replace(/[.\\]/g, '\\$&')} a folder this user can write`), command);
    assert.doesNotMatch(run.stderr, /--cache-dir|--no-cache/, `${command} has no such flags`);
  }
  const scan = await runSynker(['scan', pair.backupRoot], { env });
  assert.equal(scan.code, 2);
  assert.match(
    scan.stderr,
    /hint: Make .* a folder this user can write: .* Or choose another folder with --cache-dir, or scan with --no-cache\.\n/,
  );
});

test('two real agents: `synker agent` serves the source, `synker check --peer host:port` checks the backup', async (t) => {
  const dir = await tempDir(t, 'synker-check-agents-');
  const { sourceEnv, backupEnv, sourceRoot, backupRoot } = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, sourceEnv);
  const agent = source.process;
  const port = source.port;
  const check = (...extra: string[]) =>
    runSynker(['check', '--no-discovery', 'photos', '--peer', `127.0.0.1:${port}`, '--json', ...extra], { env: backupEnv });

  const complete = await check();
  assert.equal(complete.code, 0, complete.stderr);
  assert.equal((JSON.parse(complete.stdout) as CheckReport).source.name, 'laptop');

  await rm(path.join(backupRoot, 'docs/notes.txt'));
  await rename(path.join(sourceRoot, 'a.txt'), path.join(sourceRoot, 'a-renamed.txt'));
  const differs = await check();
  assert.equal(differs.code, 1, differs.stderr);
  assert.deepEqual((JSON.parse(differs.stdout) as CheckReport).differences.map(brief), [
    'moved a-renamed.txt -> a.txt',
    'missing docs/notes.txt',
  ]);

  // The source's disk unmounted: the source was reached, and the fix is on that machine.
  await rename(path.join(sourceRoot, MARKER_FILE), path.join(sourceRoot, '.synker', 'folder.json.off'));
  const sourceAbsent = await check();
  assert.equal(sourceAbsent.code, 2);
  assert.match(
    sourceAbsent.stderr,
    /error: the source laptop \(\w+\) was reached, but on it folder "photos" is absent: .* \(an unmounted disk\?\)/,
  );
  assert.match(sourceAbsent.stderr, /hint: On laptop: Mount the disk that holds /);
  await rename(path.join(sourceRoot, '.synker', 'folder.json.off'), path.join(sourceRoot, MARKER_FILE));

  // No address to try and discovery off: the hint does not speak of multicast.
  const nowhere = await runSynker(['check', '--no-discovery', 'photos', '--no-agent'], { env: backupEnv });
  assert.equal(nowhere.code, 2);
  assert.match(
    nowhere.stderr,
    /error: the source of folder "photos" \(laptop \(\w+\)\) was not found at any address in the config \(discovery is off\)/,
  );
  assert.doesNotMatch(nowhere.stderr, /multicast/);

  const stopped = new Promise((resolve) => agent.once('exit', resolve));
  agent.kill('SIGTERM');
  await stopped;
  const unreachable = await check('--timeout', '2s');
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.stderr, /error: cannot reach the source of folder "photos"/);
  assert.match(unreachable.stderr, /hint: /);
});
