/**
 * Damaged LMDB files, with the real backend (docs/store.md, "Damage"): a truncated, zeroed,
 * garbage or bit-flipped state.lmdb or hash cache is a clear error or a rebuilt cache, never a
 * crash of this process (before, each of these ended the test runner with SIGSEGV or an abort)
 * and never a wrong answer.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { open as openLmdb } from 'lmdb';
import { HashCache, hashCachePath } from '../../src/scan/hash-cache.js';
import { AgentState, SQLITE_STATE_FILE, STATE_FILE } from '../../src/state/agent-state.js';
import { StoreDamagedError } from '../../src/state/kv.js';
import { unavailable } from '../harness/stores.js';
import { CHECKED_SUFFIX } from '../../src/state/lmdb-check.js';
import { runCli } from '../harness/scan.js';
import { tempDir } from '../harness/tmp.js';

const RECORDS = 2000;
const hashOf = (i: number): string => (i % 16).toString(16).repeat(64);

/** A deterministic generator, so a failing damage can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

type Damage = [label: string, damage: (file: string) => void];

const DAMAGES: Damage[] = [
  ['truncated to one page', (file) => truncateSync(file, 4096)],
  ['truncated to half', (file) => truncateSync(file, Math.floor(statSync(file).size / 2))],
  [
    'its first two pages zeroed',
    (file) => {
      const bytes = readFileSync(file);
      bytes.fill(0, 0, 8192);
      writeFileSync(file, bytes);
    },
  ],
  ['all zeroes', (file) => writeFileSync(file, Buffer.alloc(statSync(file).size))],
  [
    'garbage',
    (file) => {
      const next = prng(7);
      writeFileSync(file, Buffer.from(Array.from({ length: statSync(file).size }, () => Math.floor(next() * 256))));
    },
  ],
];

/** `flips` random bits of the file flipped (seeded). */
function flipBits(file: string, seed: number, flips: number): void {
  const next = prng(seed);
  const bytes = readFileSync(file);
  for (let i = 0; i < flips; i++) bytes[Math.floor(next() * bytes.length)]! ^= 1 << Math.floor(next() * 8);
  writeFileSync(file, bytes);
}

async function makeState(dir: string): Promise<string> {
  const state = await AgentState.open(dir, { backend: 'lmdb' });
  await state
    .store<[string, number, number]>('photos', 'verified.a')
    .replaceAll(Array.from({ length: RECORDS }, (_, i) => [`file-${i}`, [hashOf(i), i, i * 1000]] as [string, [string, number, number]]));
  await state.close();
  return path.join(dir, STATE_FILE);
}

test('a truncated, zeroed or garbage state.lmdb is E_STATE_DAMAGED naming the file and its lock file, not a crash', async (t) => {
  for (const [label, damage] of DAMAGES) {
    const dir = await tempDir(t);
    const file = await makeState(dir);
    damage(file);
    await assert.rejects(
      AgentState.open(dir, { backend: 'lmdb' }),
      (err: unknown) => {
        assert.ok(err instanceof StoreDamagedError, `${label}: ${String(err)}`);
        assert.equal(err.code, 'E_STATE_DAMAGED');
        assert.equal(err.file, file);
        assert.ok(err.message.startsWith(`${file} is damaged: `), err.message);
        assert.match(err.hint ?? '', /Move the file away \(and .*state\.lmdb-lock\)/);
        return true;
      },
      label,
    );
    assert.ok(!existsSync(file + CHECKED_SUFFIX), `${label}: a damaged file is never recorded as checked`);
  }
});

test('a state.lmdb cut to nothing after it held records is E_STATE_DAMAGED, not a new empty state without the verified hashes', async (t) => {
  const dir = await tempDir(t);
  const file = await makeState(dir);
  // Opened again: checked, and the check recorded.
  await (await AgentState.open(dir, { backend: 'lmdb' })).close();
  assert.ok(existsSync(file + CHECKED_SUFFIX));
  truncateSync(file, 0);
  await assert.rejects(AgentState.open(dir, { backend: 'lmdb' }), (err: unknown) => {
    assert.ok(err instanceof StoreDamagedError, String(err));
    assert.equal(err.code, 'E_STATE_DAMAGED');
    assert.match(err.message, /is empty, though it held records/);
    return true;
  });
  // Never checked (a first open cut short): an empty file is a new state, as LMDB makes it.
  const fresh = await tempDir(t);
  writeFileSync(path.join(fresh, STATE_FILE), '');
  await (await AgentState.open(fresh, { backend: 'lmdb' })).close();
});

test('bit flips in state.lmdb: the state is E_STATE_DAMAGED or reads back every record and takes writes, never a crash', async (t) => {
  let damaged = 0;
  for (let seed = 1; seed <= 24; seed++) {
    const dir = await tempDir(t);
    const file = await makeState(dir);
    flipBits(file, seed, 8);
    let state: AgentState | undefined;
    try {
      state = await AgentState.open(dir, { backend: 'lmdb' });
      const store = state.store<[string, number, number]>('photos', 'verified.a');
      let n = 0;
      for (const _ of store.entries()) n++;
      // A walk that silently lost records would weaken the tamper guard: the check counts them.
      assert.equal(n, RECORDS, `seed ${seed}: every record is read back`);
      await store.put('new', [hashOf(1), 1, 1]);
      await store.removeAll(['file-1', 'file-2']);
      assert.equal(store.count(), RECORDS - 1, `seed ${seed}`);
    } catch (err) {
      assert.ok(err instanceof StoreDamagedError, `seed ${seed}: ${String(err)}`);
      damaged++;
    } finally {
      await state?.close();
    }
  }
  assert.ok(damaged > 0, 'some of the flips hit pages LMDB reads');
});

test('a state.lmdb whose value does not decode is E_STATE_DAMAGED on read, not "internal error"', async (t) => {
  const dir = await tempDir(t);
  const file = await makeState(dir);
  // A record lmdb-js reads, with a msgpack extension type no decoder knows (the reported "Unknown extension type 146").
  const raw = openLmdb({ path: file, maxDbs: 8 });
  const folders = raw.openDB('folders', { encoding: 'binary' });
  folders.putSync(['photos', 'verified.a', 'file-5'], Buffer.from([0xd4, 0x92, 0x00]));
  await raw.close();
  const state = await AgentState.open(dir, { backend: 'lmdb' });
  t.after(() => state.close());
  assert.throws(() => state.store('photos', 'verified.a').get('file-5'), { code: 'E_STATE_DAMAGED' });
  assert.throws(() => [...state.store('photos', 'verified.a').entries()], { code: 'E_STATE_DAMAGED' });
});

test('state.lmdb damaged under a running process: the next job is E_STATE_DAMAGED, and the file is checked only when it changed', async (t) => {
  const dir = await tempDir(t);
  const file = await makeState(dir);
  const state = await AgentState.open(dir, { backend: 'lmdb' });
  t.after(() => state.close());
  assert.ok(existsSync(file + CHECKED_SUFFIX), 'the good check is recorded');
  const marker = readFileSync(file + CHECKED_SUFFIX, 'utf8');
  const lock = await state.acquireFolderLock('photos');
  await lock.release();
  assert.equal(readFileSync(file + CHECKED_SUFFIX, 'utf8'), marker, 'unchanged file: no new check');

  // Damage the pages after the meta pages, as a disk tool or another program might.
  const bytes = readFileSync(file);
  bytes.fill(0xff, 8192, Math.min(bytes.length, 8192 * 3));
  writeFileSync(file, bytes);
  await assert.rejects(state.acquireFolderLock('photos'), { code: 'E_STATE_DAMAGED' });
  // The lock was let go: it is not held by a job that never ran.
  const again = AgentState.open(dir, { backend: 'lmdb' });
  await assert.rejects(again, { code: 'E_STATE_DAMAGED' });
});

test('migrating a damaged or empty state.lmdb to SQLite is E_STATE_MIGRATE and creates no state.sqlite', {
  skip: unavailable('sqlite') ?? false,
}, async (t) => {
  for (const [label, damage] of [...DAMAGES, ['empty', (file: string) => writeFileSync(file, '')] as Damage]) {
    const dir = await tempDir(t);
    const file = await makeState(dir);
    damage(file);
    await assert.rejects(AgentState.open(dir, { backend: 'sqlite' }), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'E_STATE_MIGRATE', `${label}: ${String(err)}`);
      assert.match((err as Error).message, /state\.lmdb is damaged/);
      return true;
    });
    assert.ok(!existsSync(path.join(dir, SQLITE_STATE_FILE)), `${label}: no state.sqlite that would skip the migration next time`);
    assert.ok(existsSync(file), `${label}: state.lmdb is left where it is`);
  }
});

test('the real CLI with a damaged state.lmdb: the agent stops at start and check exits 2, naming the file and what to do', async (t) => {
  const home = await tempDir(t);
  const folder = await tempDir(t);
  const env = { SYNKER_HOME: home, SYNKER_STORE: 'lmdb' };
  const init = await runCli(['init', '--yes', '--name', 'nas', '--role', 'backup', '--folder', `f=${folder}`, '--no-email'], { env });
  assert.equal(init.code, 0, init.stderr);
  const file = await makeState(path.join(home, 'data'));
  truncateSync(file, 4096);
  for (const args of [
    ['agent', '--listen', '127.0.0.1', '--port', '0', '--no-discovery', '--no-schedule'],
    ['check', 'f', '--peer', '127.0.0.1:1', '--no-discovery', '--no-agent'],
  ]) {
    const run = await runCli(args, { env });
    assert.equal(run.signal, null, `${args[0]}: no crash`);
    assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
    assert.ok(run.stderr.includes(`error: ${file} is damaged: `), run.stderr);
    assert.ok(run.stderr.includes(`hint: Move the file away (and ${file}-lock)`), run.stderr);
  }
});

async function fillCache(cacheDir: string, root: string): Promise<string> {
  const cache = await HashCache.open(cacheDir, root, { backend: 'lmdb' });
  for (let i = 0; i < RECORDS; i++) cache.store(`f${i}`, stateOf(i), hashOf(i));
  await cache.close();
  return path.join(hashCachePath(cacheDir, root), 'data.mdb');
}

const stateOf = (i: number) => ({ size: i, mtimeMs: 1_700_000_000_000.5 + i, ctimeMs: 1_700_000_000_000.25 + i, ino: 1000 + i });

/** Run `fn` with stderr captured (the cache warns there). */
async function capturingStderr<T>(fn: () => Promise<T>): Promise<[T, string]> {
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    return [await fn(), lines.join('')];
  } finally {
    process.stderr.write = write;
  }
}

test('a truncated, zeroed or garbage LMDB hash cache is moved aside and rebuilt, with a warning', async (t) => {
  for (const [label, damage] of DAMAGES) {
    const cacheDir = await tempDir(t);
    const root = await tempDir(t);
    const file = await fillCache(cacheDir, root);
    damage(file);
    const [cache, warnings] = await capturingStderr(() => HashCache.open(cacheDir, root, { backend: 'lmdb' }));
    assert.match(warnings, /warn .*hash cache .*data\.mdb is damaged \(.+\): moved aside, rebuilding/, label);
    assert.ok(existsSync(`${file}.damaged`), `${label}: the damaged file is kept aside`);
    assert.equal(cache.count(), 0, `${label}: a new, empty cache`);
    assert.equal(cache.lookup('f1', stateOf(1)), undefined);
    cache.store('f1', stateOf(1), 'b'.repeat(64));
    await cache.close();
    const reopened = await HashCache.open(cacheDir, root, { backend: 'lmdb' });
    assert.equal(reopened.lookup('f1', stateOf(1)), 'b'.repeat(64), `${label}: the rebuilt cache works`);
    await reopened.close();
  }
});

test('bit flips in an LMDB hash cache: every look-up is the stored hash or a miss, never another hash, and never a crash', async (t) => {
  let rebuilt = 0;
  let missed = 0;
  for (let seed = 1; seed <= 24; seed++) {
    const cacheDir = await tempDir(t);
    const root = await tempDir(t);
    const file = await fillCache(cacheDir, root);
    flipBits(file, 100 + seed, 8);
    const [cache, warnings] = await capturingStderr(() => HashCache.open(cacheDir, root, { backend: 'lmdb' }));
    if (/moved aside/.test(warnings)) rebuilt++;
    for (let i = 0; i < RECORDS; i++) {
      const found = cache.lookup(`f${i}`, stateOf(i));
      if (found === undefined) missed++;
      else assert.equal(found, hashOf(i), `seed ${seed}: f${i}`);
    }
    await cache.close();
  }
  assert.ok(rebuilt > 0, 'some flips hit pages LMDB reads');
  assert.ok(missed > 0);
});

test('a hash cache entry that does not decode, or fails its checksum, is a miss; the cache is rebuilt at close', async (t) => {
  for (const [label, bytes] of [
    ['an unknown msgpack extension', Buffer.from([0xd4, 0x92, 0x00])],
    ['a hash changed in place', undefined],
  ] as const) {
    const cacheDir = await tempDir(t);
    const root = await tempDir(t);
    const file = await fillCache(cacheDir, root);
    const raw = openLmdb({ path: path.dirname(file), maxDbs: 4 });
    const files = raw.openDB<unknown[]>('files', {});
    if (bytes === undefined) {
      const value = files.get('f3')!;
      value[4] = hashOf(4); // another valid hash: only the checksum tells
      files.putSync('f3', value);
    } else {
      raw.openDB('files', { encoding: 'binary' }).putSync('f3', bytes);
    }
    await raw.close();
    const [outcome, warnings] = await capturingStderr(async () => {
      const cache = await HashCache.open(cacheDir, root, { backend: 'lmdb' });
      assert.equal(cache.lookup('f2', stateOf(2)), hashOf(2), `${label}: entries before it are served`);
      assert.equal(cache.lookup('f3', stateOf(3)), undefined, `${label}: a miss, so the file is read again`);
      assert.equal(cache.lookup('f4', stateOf(4)), undefined, `${label}: the cache is off for the rest of the scan`);
      await cache.close();
    });
    assert.equal(outcome, undefined);
    assert.match(warnings, /hash cache .* is damaged: this scan reads every file/, label);
    assert.ok(existsSync(`${file}.damaged`), `${label}: moved aside at close`);
    const rebuilt = await HashCache.open(cacheDir, root, { backend: 'lmdb' });
    assert.equal(rebuilt.count(), 0, label);
    await rebuilt.close();
  }
});
