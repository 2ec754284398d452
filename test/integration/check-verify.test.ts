/**
 * `synker check --verify` and `--size-only` with real agents on loopback:
 * the manifest request's `verify` and `hash` options, honoured by the
 * source agent, and what each mode finds and proves.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { lstat, realpath, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { staticLocator } from '../harness/peer-address.js';
import { checkFolder } from '../../src/check/run.js';
import { VerifiedHashes } from '../../src/check/verified-store.js';
import { writeFolderMarker } from '../../src/config/folder-marker.js';
import { createIdentity } from '../../src/identity/identity.js';
import type { SynkerConfig } from '../../src/config/types.js';
import { diffManifests, type Difference } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { decodeFrame, encodeFrame, encodeMessage, FEATURE_SCAN_OPTIONS, MESSAGE_TYPES, ProtocolError } from '../../src/protocol/index.js';
import { CHECK_EXIT, type CheckReport } from '../../src/report/model.js';
import { renderTerminal } from '../../src/report/terminal.js';
import { HashCache, hashCachePath } from '../../src/scan/hash-cache.js';
import { AgentState } from '../../src/state/agent-state.js';
import { corruptKeepingSizeAndMtime, FIXED_MTIME_S, startCheckPair, writeTree } from '../harness/check-pair.js';
import { runSynker } from '../harness/synker-cli.js';
import { type CliAgent, configureCliPair, startCliAgent } from '../harness/cli-pair.js';
import { rawHello, startRawServer } from '../harness/peers.js';
import { tempDir } from '../harness/tmp.js';

const FILES: Record<string, string> = {
  'a.txt': 'alpha',
  'b.txt': 'bravo',
  'docs/notes.txt': 'notes',
  'albums/1.jpg': 'jpeg one',
  'albums/2.jpg': 'jpeg two',
};

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Puts a file in the state bit rot leaves behind: different bytes, while the
 * hash cache still vouches for the old content.
 *
 * Real bit rot changes the bytes on the disk without the file system noticing,
 * so size, mtime, ctime and inode all stay as they were and the cache keeps
 * serving the old hash. A test cannot flip bits under the file system, and any
 * write through it changes the ctime (which the cache checks, and which no
 * user can set back). So the test writes the new bytes (keeping size and
 * mtime), then records in that side's own hash cache the file's *new* lstat
 * state with the *old* content hash: exactly the cache entry an untouched
 * file whose disk blocks rotted would have.
 */
async function rotInPlace(cacheDir: string, root: string, rel: string, oldContent: string): Promise<void> {
  const file = path.join(root, rel);
  await corruptKeepingSizeAndMtime(file);
  const st = await lstat(file);
  const cache = await HashCache.open(cacheDir, await realpath(root));
  try {
    cache.store(rel, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino }, sha256(oldContent));
  } finally {
    await cache.close();
  }
}

function verdicts(report: CheckReport): Record<string, unknown[]> {
  return Object.fromEntries(report.differences.map((d) => [d.path, [d.category, d.changedOn, d.silentChange]]));
}

test('bit rot on each side: missed by a plain check, found by --verify on the right side, and the caches are refreshed', async (t) => {
  const pair = await startCheckPair(t, FILES);
  const first = await pair.check();
  assert.equal(first.exitCode, CHECK_EXIT.complete, JSON.stringify(first.differences));

  await rotInPlace(pair.sourceCacheDir, pair.sourceRoot, 'docs/notes.txt', FILES['docs/notes.txt']!);
  await rotInPlace(pair.backupCacheDir, pair.backupRoot, 'albums/2.jpg', FILES['albums/2.jpg']!);

  // Both caches vouch for the old bytes: a plain check sees nothing.
  const plain = await pair.check();
  assert.equal(plain.exitCode, CHECK_EXIT.complete, JSON.stringify(plain.differences));
  assert.equal(plain.summary.matchedFiles, Object.keys(FILES).length);

  const verified = await pair.check({ verify: true });
  assert.equal(verified.exitCode, CHECK_EXIT.differences);
  assert.equal(verified.settings?.verify, true);
  assert.deepEqual(verdicts(verified), {
    'albums/2.jpg': ['content', 'backup', 'backup'],
    'docs/notes.txt': ['content', 'source-suspicious', 'source'],
  });
  assert.deepEqual(verified.summary.silentChanges, { source: 1, backup: 1 });
  const text = renderTerminal(verified, { color: false, all: true });
  assert.match(text, /verify: every file was re-read and hashed on both sides/);
  // Each silent change is warned about once: the source's as suspicious, the backup's as silent.
  assert.match(text, /! 1 file changed content without any change of size or dates \(1 on the backup\)/);
  assert.match(text, /! 1 file changed on the source while keeping size and modification time/);
  assert.equal(text.match(/^! /gm)?.length, 2, text);
  assert.match(
    text,
    /docs\/notes\.txt {2}same size \(5 B\), different content; SUSPICIOUS: content changed on the source without any change of size or dates/,
  );
  assert.match(
    text,
    /albums\/2\.jpg {2}same size \(8 B\), different content; content changed on the backup without any change of size or dates/,
  );

  // The re-read refreshed both caches: a plain check now sees the real bytes, and the verdicts
  // still name the right sides (from the verified record; the silent change is no news any more).
  const after = await pair.check();
  assert.deepEqual(verdicts(after), {
    'albums/2.jpg': ['content', 'backup', undefined],
    'docs/notes.txt': ['content', 'source-suspicious', undefined],
  });
});

test('--verify without a verified record still names the side whose bytes changed silently', async (t) => {
  const pair = await startCheckPair(t, FILES);
  // b.txt differs from the start, so no check ever records it as verified.
  await writeFile(path.join(pair.backupRoot, 'b.txt'), 'BRAVO');
  await utimes(path.join(pair.backupRoot, 'b.txt'), FIXED_MTIME_S, FIXED_MTIME_S);
  const first = await pair.check();
  assert.deepEqual(verdicts(first), { 'b.txt': ['content', 'unknown', undefined] });
  await rotInPlace(pair.sourceCacheDir, pair.sourceRoot, 'b.txt', FILES['b.txt']!);
  const verified = await pair.check({ verify: true });
  // Never verified, yet the source's own re-read is evidence enough.
  assert.deepEqual(verdicts(verified), { 'b.txt': ['content', 'source-suspicious', 'source'] });
});

test('--size-only: the source agent reads no file, and missing, extra and resized files are still found', async (t) => {
  const pair = await startCheckPair(t, FILES);
  const sourceCache = hashCachePath(pair.sourceCacheDir, await realpath(pair.sourceRoot));

  const clean = await pair.check({ sizeOnly: true });
  assert.equal(clean.exitCode, CHECK_EXIT.complete, JSON.stringify(clean.differences));
  assert.equal(clean.settings?.sizeOnly, true);
  assert.equal(clean.summary.matchedFiles, 0, 'nothing is proven equal without hashes');
  assert.equal(clean.summary.sizeMatchedFiles, Object.keys(FILES).length);
  // The source never hashed: its hash cache was not even opened.
  assert.equal(existsSync(sourceCache), false, `the source's hash cache exists: ${sourceCache}`);
  const text = renderTerminal(clean, { color: false, all: true });
  assert.match(text, /backup complete by size, 5 files of the same size \(content not compared\)/);
  assert.match(text, /size-only check \(weaker\): no file was hashed on either side/);

  // A full check records what it verified; a later size-only check must leave that record alone.
  assert.equal((await pair.check()).exitCode, CHECK_EXIT.complete);
  await rm(path.join(pair.backupRoot, 'a.txt'));
  await writeTree(pair.backupRoot, { 'extra.txt': 'surplus', 'docs/notes.txt': 'notes, longer now' });
  // Same size, other bytes: a size-only check cannot see it (documented as weaker).
  await writeTree(pair.backupRoot, { 'albums/1.jpg': 'JPEG ONE' });

  const sized = await pair.check({ sizeOnly: true });
  assert.equal(sized.exitCode, CHECK_EXIT.differences);
  assert.deepEqual(
    sized.differences.map((d) => `${d.category} ${d.path} ${(d.changes ?? []).join(',')}`),
    ['missing a.txt ', 'content docs/notes.txt size', 'extra extra.txt '],
  );
  for (const d of sized.differences) assert.equal(d.source?.hash ?? d.backup?.hash, undefined, `${d.path} carries a hash`);
  for (const d of sized.differences) assert.equal(d.changedOn, undefined, 'no verdicts without hashes');

  // The full check afterwards still knows which side changed: the size-only check did not wipe the record.
  const full = await pair.check();
  assert.deepEqual(verdicts(full), {
    'a.txt': ['missing', 'backup', undefined],
    'albums/1.jpg': ['content', 'backup', undefined],
    'docs/notes.txt': ['content', 'backup', undefined],
    'extra.txt': ['extra', 'unknown', undefined],
  });
});

test('manifest-request verify and hash: optional booleans, validated, defaults left off the wire', () => {
  const plain = encodeMessage({ kind: 'manifestRequest', req: 1, folder: 'photos' });
  assert.deepEqual(decodeFrame(plain), { kind: 'manifestRequest', req: 1, folder: 'photos' });
  assert.deepEqual(decodeFrame(encodeMessage({ kind: 'manifestRequest', req: 2, folder: 'photos', verify: true })), {
    kind: 'manifestRequest',
    req: 2,
    folder: 'photos',
    verify: true,
  });
  assert.deepEqual(decodeFrame(encodeMessage({ kind: 'manifestRequest', req: 3, folder: 'photos', hash: false })), {
    kind: 'manifestRequest',
    req: 3,
    folder: 'photos',
    hash: false,
  });
  // Explicit defaults decode like absent fields.
  assert.deepEqual(decodeFrame(encodeFrame(1, MESSAGE_TYPES.manifestRequest, { req: 4, folder: 'photos', verify: false, hash: true })), {
    kind: 'manifestRequest',
    req: 4,
    folder: 'photos',
  });
  const refused = (body: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => decodeFrame(encodeFrame(1, MESSAGE_TYPES.manifestRequest, { req: 5, folder: 'photos', ...body })),
      (err: unknown) => err instanceof ProtocolError && err.code === 'E_MALFORMED' && pattern.test(err.message),
    );
  refused({ verify: 'yes' }, /"verify" must be a boolean, got a string/);
  refused({ hash: 0 }, /"hash" must be a boolean, got 0/);
  refused({ verify: true, hash: false }, /"verify" \(re-hash every file\) contradicts "hash": false/);
  assert.equal(FEATURE_SCAN_OPTIONS, 'scan-options');
});

test('a silent-change flag on either manifest decides the content verdict', async () => {
  const file = (hash: string, flags?: ManifestEntry['flags']): ManifestEntry => ({
    path: 'f',
    type: 'file',
    size: 1,
    mtime: 1000,
    mode: 0o644,
    hash: hash.repeat(64),
    ...(flags ? { flags } : {}),
  });
  async function* one(entry: ManifestEntry): AsyncGenerator<ManifestEntry> {
    yield entry;
  }
  const cases: Array<[ManifestEntry, ManifestEntry, string, string]> = [
    [file('a', ['silent-change']), file('b'), 'source', 'source-suspicious'],
    [file('a'), file('b', ['silent-change']), 'backup', 'backup'],
    [file('a', ['silent-change']), file('b', ['silent-change']), 'both', 'both'],
  ];
  for (const [s, b, side, verdict] of cases) {
    const diff = await diffManifests(one(s), one(b));
    assert.equal(diff.differences[0]?.silentChange, side);
    assert.equal(diff.differences[0]?.changedOn, verdict);
  }
  // Equal content: nothing to report, whatever a cache had recorded.
  assert.deepEqual((await diffManifests(one(file('a', ['silent-change'])), one(file('a')))).differences, []);
});

test('synker check --size-only against a real `synker agent`: its scan hashes nothing; --verify with --size-only is a usage error', async (t) => {
  const dir = await tempDir(t, 'synker-check-modes-');
  const { sourceEnv, backupEnv, backupRoot } = await configureCliPair(dir, FILES);
  const source = await startCliAgent(t, sourceEnv, ['--debug']);
  const port = source.port;
  /** The stats of the agent's scans, from its debug log. */
  const agentScans = () =>
    [...source.log().matchAll(/\[scan\] scan finished (\{.*\})/g)].map(
      (m) => JSON.parse(m[1]!) as { files: number; hashedFiles: number; cachedFiles: number },
    );
  const check = (...extra: string[]) =>
    runSynker(['check', '--no-discovery', 'photos', '--peer', `127.0.0.1:${port}`, '--json', ...extra], { env: backupEnv });

  await rm(path.join(backupRoot, 'b.txt'));
  const sized = await check('--size-only');
  assert.equal(sized.code, 1, sized.stderr);
  const report = JSON.parse(sized.stdout) as CheckReport;
  assert.equal(report.settings?.sizeOnly, true);
  assert.deepEqual(
    report.differences.map((d) => `${d.category} ${d.path}`),
    ['missing b.txt'],
  );
  await waitFor(source, () => agentScans().length === 1);
  assert.deepEqual(
    agentScans().map(({ files, hashedFiles, cachedFiles }) => ({ files, hashedFiles, cachedFiles })),
    [{ files: Object.keys(FILES).length, hashedFiles: 0, cachedFiles: 0 }],
  );

  // The same agent hashes when asked normally, and re-hashes everything when asked to verify.
  assert.equal((await check()).code, 1);
  assert.equal((await check('--verify')).code, 1);
  await waitFor(source, () => agentScans().length === 3);
  assert.deepEqual(
    agentScans().map(({ hashedFiles, cachedFiles }) => ({ hashedFiles, cachedFiles })),
    [
      { hashedFiles: 0, cachedFiles: 0 },
      { hashedFiles: 5, cachedFiles: 0 },
      { hashedFiles: 5, cachedFiles: 0 },
    ],
  );

  const both = await check('--verify', '--size-only');
  assert.equal(both.code, 2);
  assert.equal(both.stdout, '');
  assert.match(both.stderr, /error: --verify and --size-only contradict each other\nhint: use one of them/);
});

/** Resolves once `done()` holds, checked each time the agent writes to its log (stderr); fails after `timeoutMs`. */
async function waitFor(agent: CliAgent, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out; log so far:\n${agent.log()}`)), timeoutMs);
  });
  try {
    while (!done()) await Promise.race([once(agent.process.stderr, 'data'), late]);
  } finally {
    clearTimeout(timer);
  }
}

test('verified records: an unchanged folder writes none, a new match writes one, records of files gone from both sides are pruned', async (t) => {
  const dir = await tempDir(t, 'synker-verified-');
  const root = path.join(dir, 'backup');
  await writeTree(root, { 'a.txt': 'alpha', 'b.txt': 'bravo', 'c.txt': 'charlie' });
  const state = await AgentState.open(path.join(dir, 'data'));
  t.after(() => state.close());
  const facts = (p: string, hash: string) => ({ path: p, type: 'file' as const, size: 5, mtime: 1000, mode: 0o644, hash: hash.repeat(64) });
  /** A check that found `matches` (path: hash), recorded in this order, and `differences`: what it wrote and pruned. */
  const check = async (matches: Record<string, string>, differences: Difference[] = []) => {
    const verified = await VerifiedHashes.open(state, 'photos', root, { pruneSlack: 0 });
    for (const [p, h] of Object.entries(matches)) await verified.record(facts(p, h));
    await verified.commit(differences);
    return verified.stats;
  };
  const abc = { 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' };
  assert.deepEqual(await check(abc), { written: 3, pruned: 0 });
  assert.deepEqual(await check(abc), { written: 0, pruned: 0 });
  assert.deepEqual(await check({ ...abc, 'b.txt': 'B' }), { written: 1, pruned: 0 });
  // c.txt is gone from both sides: its record goes; b.txt is in dispute: its record stays.
  await rm(path.join(root, 'c.txt'));
  await rm(path.join(root, 'b.txt'));
  const dispute: Difference = { category: 'missing', path: 'b.txt', bytes: 5, failing: true };
  assert.deepEqual(await check({ 'a.txt': 'a' }, [dispute]), { written: 0, pruned: 1 });
  // Paths whose manifest order and key order differ ('/' first, or not), and beyond ASCII.
  const orders = { 'a.txt': 'a', 'x/1': '1', 'x-2': '2', é: 'e' };
  assert.deepEqual(await check(orders, [dispute]), { written: 3, pruned: 0 });
  assert.deepEqual(await check(orders, [dispute]), { written: 0, pruned: 0 });
  const after = await VerifiedHashes.open(state, 'photos', root);
  assert.equal(after.lookup('a.txt')?.hash, 'a'.repeat(64));
  assert.equal(after.lookup('b.txt')?.hash, 'B'.repeat(64));
  assert.equal(after.lookup('c.txt'), undefined);
});

test('--verify against a source of an earlier version (no scan-options) is refused with what to do; --size-only goes ahead', async (t) => {
  const dir = await tempDir(t);
  const backupRoot = path.join(dir, 'backup');
  await writeFolderMarker(backupRoot, 'photos');
  await writeTree(backupRoot, FILES);
  const [sourceIdentity, backupIdentity] = await Promise.all([createIdentity('old-laptop'), createIdentity('nas')]);
  // A source as an earlier synker answers: file-data but no scan-options; verify and hash are ignored.
  const requests: Array<Record<string, unknown>> = [];
  const server = await startRawServer(sourceIdentity, (peer) => {
    peer.ws.on('message', () => {
      for (const frame of peer.frames.splice(0)) {
        const [, type, body] = frame as [number, number, Record<string, unknown>];
        if (type === 1) peer.send(rawHello(sourceIdentity, { name: 'old-laptop', software: 'synker 0.0.9', features: ['file-data'] }));
        if (type === 3) {
          requests.push(body);
          peer.send([1, 4, { req: body.req, folder: 'photos', role: 'source', ignore: [] }]);
          peer.send([1, 6, { req: body.req, count: 0, files: 0, dirs: 0, symlinks: 0, errors: 0, bytes: 0 }]);
        }
      }
    });
  });
  t.after(() => server.close());
  const config: SynkerConfig = {
    version: 1,
    name: 'nas',
    port: 7781,
    folders: [{ id: 'photos', path: backupRoot, role: 'backup', shareWith: [sourceIdentity.deviceId] }],
    trusted: [{ deviceId: sourceIdentity.deviceId, name: 'old-laptop' }],
    peers: [`127.0.0.1:${server.port}`],
  };
  const state = await AgentState.open(path.join(dir, 'state'));
  t.after(() => state.close());
  const env = { config, identity: backupIdentity, state, locator: staticLocator(config.peers) };
  const options = { cacheDir: path.join(dir, 'cache'), jobs: 1 };

  const refused = await checkFolder(env, config.folders[0]!, { ...options, verify: true });
  assert.equal(refused.exitCode, CHECK_EXIT.error);
  assert.equal(refused.error?.code, 'E_CHECK_VERIFY_UNSUPPORTED');
  assert.match(refused.error!.message, /old-laptop runs synker 0\.0\.9, which cannot re-hash its files on request/);
  assert.match(refused.error!.hint ?? '', /Update synker on old-laptop, or check without --verify/);
  assert.equal(refused.differences.length, 0, 'nothing is reported as verified');

  // --size-only needs nothing of the source: the check runs (the old source hashes anyway).
  const sizeOnly = await checkFolder(env, config.folders[0]!, { ...options, sizeOnly: true });
  assert.equal(sizeOnly.error, null);
  // Every backup file is extra against the empty source: listed, and (docs/check.md) never failing.
  assert.equal(sizeOnly.exitCode, CHECK_EXIT.complete);
  assert.ok(sizeOnly.differences.length > 0 && sizeOnly.differences.every((d) => d.category === 'extra' && !d.failing));
  assert.equal(requests.length, 2);
});
