import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { HashCache, hashCachePath, HASH_CACHE_SCHEMA, HASH_CACHE_SQLITE_FILE } from '../../src/scan/hash-cache.js';
import { storeBackend, type KvStore } from '../../src/state/kv.js';
import { LmdbStore } from '../../src/state/kv-lmdb.js';
import { SqliteStore } from '../../src/state/kv-sqlite.js';
import { collect, finished, isRoot, parseNdjson, runCli, sha256sum, sha256sumAll, startCli } from '../harness/scan.js';
import { tempDir } from '../harness/tmp.js';

const NEEDS_ROOT = "needs root: the proof drops root's read override with setpriv";

/** The cache's store as the CLI (same environment, so the same backend) opens it. */
function openCacheStore(location: string): KvStore {
  return storeBackend() === 'sqlite'
    ? SqliteStore.open({ file: path.join(location, HASH_CACHE_SQLITE_FILE), tables: ['files', 'meta'], durability: 'normal' })
    : LmdbStore.openUnchecked({ path: location, maxDbs: 4 });
}

/** Rewrite a file's content keeping its size and exact (nanosecond) mtime: only ctime changes. */
async function editKeepingSizeAndMtime(file: string, content: string): Promise<void> {
  const before = await stat(file, { bigint: true });
  assert.equal(Buffer.byteLength(content), Number(before.size));
  await writeFile(file, content);
  const ns = before.mtimeNs;
  execFileSync('touch', ['-m', '-d', `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`, file]);
  const after = await stat(file, { bigint: true });
  assert.equal(after.mtimeNs, before.mtimeNs, 'mtime restored to the nanosecond');
  assert.notEqual(after.ctimeNs, before.ctimeNs);
}

async function expectSha256sum(root: string, entries: ManifestEntry[]): Promise<void> {
  const files = entries.filter((x) => x.type === 'file');
  const digests = await sha256sumAll(files.map((e) => path.join(root, e.raw ?? e.path)));
  assert.deepEqual(
    files.map((e) => e.hash),
    digests,
  );
}

function hashes(entries: ManifestEntry[]): Record<string, string | undefined> {
  return Object.fromEntries(entries.map((e) => [e.path, e.hash ?? e.errorCode]));
}

test('the hash cache serves unchanged files without reading them; touched or edited files are re-read', async (t) => {
  if (!isRoot()) return t.skip(NEEDS_ROOT);
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  await mkdir(path.join(root, 'sub'));
  const names = ['one', 'two', 'sub/three', 'touched', 'chmodded', 'edited'];
  for (const name of names) await writeFile(path.join(root, name), `content of ${name}\n`);
  // Mode 000 before the first scan: a chmod changes ctime, which the cache checks.
  for (const name of names) if (name !== 'edited') await chmod(path.join(root, name), 0o000);
  const args = ['scan', root, '--json', '--cache-dir', cacheDir];

  const first = await runCli(args);
  assert.equal(first.code, 0, first.stderr);
  const firstEntries = parseNdjson(first.stdout);
  await expectSha256sum(root, firstEntries);

  // Control: without the cache, these files really cannot be read here.
  const control = await runCli(['scan', root, '--json', '--no-cache'], { unprivileged: true });
  assert.equal(control.code, 0, control.stderr);
  assert.equal(parseNdjson(control.stdout).find((e) => e.path === 'one')!.errorCode, 'EACCES');

  const second = await runCli(args, { unprivileged: true });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(parseNdjson(second.stdout), firstEntries, 'same manifest without reading a single file');

  await editKeepingSizeAndMtime(path.join(root, 'edited'), 'CONTENT OF edited\n');
  execFileSync('touch', [path.join(root, 'touched')]);
  await chmod(path.join(root, 'chmodded'), 0o000); // same mode, new ctime
  const third = await runCli(args, { unprivileged: true });
  assert.equal(third.code, 0, third.stderr);
  const thirdEntries = parseNdjson(third.stdout);
  const expected = hashes(firstEntries);
  expected.edited = await sha256sum(path.join(root, 'edited'));
  expected.touched = 'EACCES'; // it had to be read again, and cannot be
  expected.chmodded = 'EACCES';
  assert.deepEqual(hashes(thirdEntries), expected);
  assert.match(third.stderr, /hashed 1, from cache 3; 2 errors/);
});

test('the cache serves files whose manifest order differs from the byte order of their paths', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  // Manifest order puts the folder `a` and all it holds before `a-b`, `a.txt` and `a b`; byte order does not.
  const names = ['a/x', 'a/y/z', 'a-b', 'a.txt', 'a b', 'a!', 'b/\u00e9t\u00e9', 'b/e\u0301t\u0301e', 'b/\u{1f600}', 'b/\ue000', 'c'];
  await mkdir(path.join(root, 'a', 'y'), { recursive: true });
  await mkdir(path.join(root, 'b'));
  for (const name of names) await writeFile(path.join(root, name), `content of ${name}\n`);
  const first = await collect(root, { cacheDir });
  assert.equal(first.stats.hashedFiles, names.length);
  const second = await collect(root, { cacheDir });
  assert.equal(second.stats.cachedFiles, names.length);
  assert.equal(second.stats.hashedFiles, 0);
  assert.deepEqual(second.entries, first.entries);
  await expectSha256sum(root, second.entries);
});

test('a scan killed after its first cache commit leaves a usable cache', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  for (let i = 0; i < 2000; i++) await writeFile(path.join(root, `f${String(i).padStart(4, '0')}`), `small file ${i}\n`);
  const big = Buffer.alloc(32 * 1024 * 1024, 7);
  for (let i = 0; i < 6; i++) {
    big.writeUInt32LE(i, 0);
    await writeFile(path.join(root, `zz-big-${i}`), big);
  }
  const child = startCli(['scan', root, '--json', '--cache-dir', cacheDir, '--jobs', '1', '--io', '1'], { env: { SYNKER_LOG: 'debug' } });
  const done = finished(child);
  await new Promise<void>((resolve) => {
    let seen = '';
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/first commit/.test(seen)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('close', () => resolve());
  });
  const killed = await done;
  assert.equal(killed.signal, 'SIGKILL', `the scan was still running when killed: ${killed.stderr}`);

  const cache = await HashCache.open(cacheDir, realpathSync(root));
  const committed = cache.count();
  await cache.close();
  assert.ok(committed > 0, 'the committed part of the cache survived');

  await editKeepingSizeAndMtime(path.join(root, 'f0000'), 'SMALL FILE 0\n');
  await writeFile(path.join(root, 'f0001'), 'grew after the crash\n');
  const rescan = await runCli(['scan', root, '--json', '--cache-dir', cacheDir]);
  assert.equal(rescan.code, 0, rescan.stderr);
  const entries = parseNdjson(rescan.stdout);
  assert.equal(entries.length, 2006);
  await expectSha256sum(root, entries);
});

test('two scans of one folder at once share the cache safely', async (t) => {
  if (!isRoot()) return t.skip(NEEDS_ROOT);
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  for (let i = 0; i < 300; i++) {
    const file = path.join(root, `file-${i}`);
    await writeFile(file, `file ${i} `.repeat(i));
    await chmod(file, 0o000);
  }
  const args = ['scan', root, '--json', '--cache-dir', cacheDir, '--jobs', '1'];
  const [a, b] = await Promise.all([runCli(args), runCli(args)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(parseNdjson(a.stdout), parseNdjson(b.stdout));
  await expectSha256sum(root, parseNdjson(a.stdout));
  const after = await runCli(args, { unprivileged: true });
  assert.equal(after.code, 0, after.stderr);
  assert.deepEqual(parseNdjson(after.stdout), parseNdjson(a.stdout), 'every file served from the cache');
});

test('verify ignores cached hashes and refreshes the cache', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  await writeFile(path.join(root, 'doc'), 'the real content');
  await collect(root, { cacheDir });
  // Plant a wrong hash for the file's current state, as a corrupted cache would hold.
  const info = await stat(path.join(root, 'doc'));
  const cache = await HashCache.open(cacheDir, realpathSync(root));
  cache.store('doc', info, 'f'.repeat(64));
  await cache.close();

  const trusting = await collect(root, { cacheDir });
  assert.equal(trusting.entries[0]!.hash, 'f'.repeat(64), 'an unchanged file is not read again');
  const verified = await collect(root, { cacheDir, verify: true });
  assert.equal(verified.entries[0]!.hash, await sha256sum(path.join(root, 'doc')));
  const after = await collect(root, { cacheDir });
  assert.equal(after.entries[0]!.hash, await sha256sum(path.join(root, 'doc')), 'verify refreshed the cache');
  assert.equal(after.stats.cachedFiles, 1);
});

test('a cache written with another schema version is rebuilt, not misread', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  await writeFile(path.join(root, 'doc'), 'content');
  await collect(root, { cacheDir });
  const info = await stat(path.join(root, 'doc'));
  const location = hashCachePath(cacheDir, realpathSync(root));
  const env = openCacheStore(location);
  env.transactionSync(() => {
    env.table('meta').putSync('schema', HASH_CACHE_SCHEMA + 1);
    env.table('files').putSync('doc', [info.size, info.mtimeMs, info.ctimeMs, info.ino, '0'.repeat(64)]);
  });
  await env.close();

  const { entries } = await collect(root, { cacheDir });
  assert.equal(entries[0]!.hash, await sha256sum(path.join(root, 'doc')));
  const reopened = openCacheStore(location);
  assert.equal(reopened.table('meta').get('schema'), HASH_CACHE_SCHEMA);
  await reopened.close();
});

test('the cache lives outside the folder, under the cache directory', async (t) => {
  const root = await tempDir(t);
  const home = await tempDir(t);
  await writeFile(path.join(root, 'doc'), 'content');
  const scan = await runCli(['scan', root, '--json'], { env: { SYNKER_HOME: home } });
  assert.equal(scan.code, 0, scan.stderr);
  const location = hashCachePath(path.join(home, 'cache'), realpathSync(root));
  assert.ok((await stat(path.join(location, storeBackend() === 'sqlite' ? HASH_CACHE_SQLITE_FILE : 'data.mdb'))).size > 0);
  assert.deepEqual(await readFile(path.join(root, 'doc'), 'utf8'), 'content');
  assert.equal(parseNdjson(scan.stdout).length, 1, 'nothing was added to the folder');
});

test('entries of deleted files are pruned once the cache has clearly outgrown the folder', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  for (let i = 0; i < 1500; i++) await writeFile(path.join(root, `f${i}`), `file ${i}`);
  await collect(root, { cacheDir });
  for (let i = 100; i < 1500; i++) await rm(path.join(root, `f${i}`));
  const { entries } = await collect(root, { cacheDir });
  assert.equal(entries.length, 100);
  const cache = await HashCache.open(cacheDir, realpathSync(root));
  const remaining = cache.count();
  await cache.close();
  assert.equal(remaining, 100);
});

test('a cached hash changed in place (a flipped bit that still decodes) is re-read, never served', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  for (const name of ['a', 'b', 'c']) await writeFile(path.join(root, name), `content of ${name}`);
  const first = await collect(root, { cacheDir });
  const location = hashCachePath(cacheDir, realpathSync(root));
  const env = openCacheStore(location);
  env.transactionSync(() => {
    const files = env.table<unknown[]>('files');
    const value = files.get('b')!;
    value[4] = first.entries.find((e) => e.path === 'a')!.hash; // another valid hash: only the checksum tells
    files.putSync('b', value);
  });
  await env.close();
  const second = await collect(root, { cacheDir });
  assert.deepEqual(
    second.entries.map((e) => [e.path, e.hash]),
    first.entries.map((e) => [e.path, e.hash]),
    'every hash is the file content’s',
  );
  assert.equal(second.entries.find((e) => e.path === 'b')!.hash, await sha256sum(path.join(root, 'b')));
});

test('the cache keeps each hash as its 32 bytes; a record of an earlier version (hex) is served and rewritten in bytes', async (t) => {
  const root = await tempDir(t);
  const cacheDir = await tempDir(t);
  await writeFile(path.join(root, 'doc'), 'content');
  const info = await stat(path.join(root, 'doc'));
  const state = { size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino };
  const hash = await sha256sum(path.join(root, 'doc'));
  const cache = await HashCache.open(cacheDir, realpathSync(root));
  cache.store('doc', state, hash);
  await cache.close();

  const location = hashCachePath(cacheDir, realpathSync(root));
  const storedHash = async (): Promise<unknown> => {
    const env = openCacheStore(location);
    const value = env.table<unknown[]>('files').get('doc')!;
    await env.close();
    return value[4];
  };
  const bytes = await storedHash();
  assert.ok(bytes instanceof Uint8Array && Buffer.from(bytes).equals(Buffer.from(hash, 'hex')), 'stored as 32 bytes');

  // What an earlier version wrote: the same record with the hash as hex (its checksum covers the hex either way).
  const env = openCacheStore(location);
  const files = env.table<unknown[]>('files');
  const record = files.get('doc')!;
  env.transactionSync(() => files.putSync('doc', [...record.slice(0, 4), hash, ...record.slice(5)]));
  await env.close();
  assert.equal(await storedHash(), hash);

  const again = await HashCache.open(cacheDir, realpathSync(root));
  assert.equal(again.lookup('doc', state), hash, 'the old record is served');
  await again.close();
  const rewritten = await storedHash();
  assert.ok(rewritten instanceof Uint8Array && Buffer.from(rewritten).equals(Buffer.from(hash, 'hex')), 'and rewritten in bytes');
});
