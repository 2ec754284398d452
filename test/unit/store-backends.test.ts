/**
 * The two store backends (docs/store.md): the same keys come back in the
 * same order from both; the first sqlite open carries an LMDB state over;
 * a damaged SQLite file is a typed error (state) or a rebuilt cache. The
 * tests needing node:sqlite skip on Node.js 20.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { toBufferKey } from 'ordered-binary';
import { HashCache, HASH_CACHE_SQLITE_FILE, hashCachePath } from '../../src/scan/hash-cache.js';
import { AgentState, MIGRATED_SUFFIX, SQLITE_STATE_FILE, STATE_FILE } from '../../src/state/agent-state.js';
import { defaultBackend, StoreDamagedError, type KvKey } from '../../src/state/kv.js';
import { prng } from '../harness/prng.js';
import { BACKENDS, tempStore, unavailable } from '../harness/stores.js';
import { tempDir } from '../harness/tmp.js';

const BOTH = unavailable('sqlite') ?? unavailable('lmdb');

// Path-like characters on both sides of '/', control characters (ordered-binary escapes those up to 4
// and prefixes a string that starts below 28), accents, astral and private-use characters.
const ALPHABET = [
  'a',
  'b',
  'Z',
  '0',
  '-',
  '.',
  ' ',
  '/',
  '\u0001',
  '\u0004',
  '\u0005',
  '\u001b',
  '\u001f',
  '\u00e9',
  'e\u0301',
  '\u{1f600}',
  '\ue000',
  '\uffee',
];

function randomString(next: () => number, max = 8): string {
  let out = '';
  // Now and then longer than 64 characters: ordered-binary writes those another way.
  const length = next() < 0.05 ? 60 + Math.floor(next() * 20) : Math.floor(next() * max);
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(next() * ALPHABET.length)]!;
  return out;
}

function randomNumber(next: () => number): number {
  const r = next();
  if (r < 0.3) return Math.floor(next() * 1000);
  if (r < 0.5) return -Math.floor(next() * 1000);
  if (r < 0.7) return next() * 1e6 - 5e5;
  if (r < 0.8) return Date.now() + Math.floor(next() * 1e6);
  return [0, -0.5, 0.5, 1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER][Math.floor(next() * 7)]!;
}

/** The key shapes synker stores: folder-store keys [folder, namespace, ...parts] and plain strings. */
function randomKey(next: () => number): KvKey {
  const r = next();
  if (r < 0.3) return randomString(next, 12);
  const folder = ['photos', 'photos2', 'p', randomString(next, 3)][Math.floor(next() * 4)]!;
  const namespace = ['verified', 'verified.a', 'outbox', 'sync'][Math.floor(next() * 4)]!;
  if (r < 0.4) return [folder];
  if (r < 0.45) return [folder, namespace];
  const parts: Array<string | number> = [];
  const n = 1 + Math.floor(next() * 2);
  for (let i = 0; i < n; i++) parts.push(next() < 0.7 ? randomString(next) : randomNumber(next));
  return [folder, namespace, ...parts];
}

test('both backends return the same keys in the same order: the byte order of their ordered-binary encoding', { skip: BOTH }, async (t) => {
  const next = prng(42);
  // One key per encoding (a one-element list and its element encode alike: [x] reads back as x).
  const byEncoding = new Map<string, KvKey>();
  for (let i = 0; i < 3000; i++) {
    const key = randomKey(next);
    byEncoding.set(toBufferKey(key).toString('hex'), key);
  }
  const keys = [...byEncoding.values()];
  // Records are told apart by their value (the key's index): ordered-binary does not read every
  // key back exactly (a string of 64+ characters with one of U+0001..U+0004), on either backend.
  const orders: Record<string, number[]> = {};
  const fromStart: Record<string, number[]> = {};
  for (const backend of BACKENDS) {
    const store = await tempStore(t, backend, ['keys']);
    const table = store.table<number>('keys');
    await store.transaction(() => {
      for (const [i, key] of keys.entries()) table.putSync(key, i);
    });
    const entries = [...table.range()];
    orders[backend] = entries.map((e) => e.value);
    const hex = (key: KvKey): string => toBufferKey(key).toString('hex');
    assert.deepEqual(
      [...table.keys()].map(hex),
      entries.map((e) => hex(e.key)),
      `${backend}: keys() and range() agree`,
    );
    fromStart[backend] = [...table.range({ start: ['photos', 'verified'] })].map((e) => e.value);
    assert.ok(fromStart[backend].length > 0 && fromStart[backend].length < keys.length);
    assert.equal(table.count(), keys.length);
  }
  const expected = keys
    .map((key, i) => [toBufferKey(key), i] as const)
    .sort((a, b) => Buffer.compare(a[0], b[0]))
    .map(([, i]) => i);
  assert.deepEqual(orders.lmdb, expected, 'lmdb: memcmp order of the encoded keys');
  assert.deepEqual(orders.sqlite, orders.lmdb, 'sqlite: the same order as lmdb');
  assert.deepEqual(fromStart.sqlite, fromStart.lmdb, 'a range from a start key: the same records');
  assert.deepEqual(fromStart.lmdb, expected.slice(expected.length - fromStart.lmdb!.length), 'from the start key to the end');
  // Strings that start at or above U+001C sort by UTF-8 bytes (code points), as synker's paths need.
  const plain = expected
    .map((i) => keys[i]!)
    .filter((k): k is string => typeof k === 'string' && k.length > 0 && k.charCodeAt(0) >= 28 && !/[\u0000-\u0004]/.test(k));
  assert.deepEqual(
    plain,
    [...plain].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
  );
});

for (const backend of BACKENDS) {
  test(`${backend}: queued writes commit together, remove() says whether the key was there, a failed transaction leaves nothing`, {
    skip: unavailable(backend),
  }, async (t) => {
    const store = await tempStore(t, backend, ['t']);
    const table = store.table<{ n: number; at: Date; list: number[] }>('t');
    const at = new Date(1_700_000_000_123);
    await Promise.all(Array.from({ length: 1000 }, (_, n) => table.put(['f', 'ns', n], { n, at, list: [n, n + 0.5] })));
    assert.deepEqual(table.get(['f', 'ns', 7]), { n: 7, at, list: [7, 7.5] });
    assert.equal(await table.remove(['f', 'ns', 7]), true);
    // lmdb-js answers true for an absent key too; sqlite knows.
    if (backend === 'sqlite') assert.equal(await table.remove(['f', 'ns', 7]), false);
    await assert.rejects(
      store.transaction(() => {
        table.putSync(['f', 'ns', 'partial'], { n: -1, at, list: [] });
        throw new Error('boom');
      }),
      /boom/,
    );
    store.renewReads();
    assert.equal(table.get(['f', 'ns', 'partial']), undefined);
    assert.equal(table.count(), 999);
  });
}

test('the first sqlite open moves every record of state.lmdb across and renames it', { skip: BOTH }, async (t) => {
  const dir = await tempDir(t);
  const old = await AgentState.open(dir, { backend: 'lmdb' });
  await old.recordPairingAttempt({ deviceId: 'DEVICE-A', name: 'laptop', address: '10.0.0.2:4000', at: 1000 });
  const verified = old.store<[string, number, number]>('photos', 'verified.a');
  await verified.replaceAll(
    Array.from(
      { length: 3000 },
      (_, i) => [`dir/file-${i}.jpg`, [`hash${i}`, i, 1_700_000_000_000 + i + 0.25]] as [string, [string, number, number]],
    ),
  );
  await old.store('photos', 'verified').put('count', 3000);
  await old.store<{ subject: string }>('photos', 'outbox').put([1700000000, 'x'], { subject: 'report' });
  const before = {
    attempts: old.pairingAttempts(),
    verified: [...verified.entries()],
    outbox: [...old.store('photos', 'outbox').entries()],
  };
  await old.close();

  const state = await AgentState.open(dir, { backend: 'sqlite' });
  assert.equal(state.backend, 'sqlite');
  assert.deepEqual(state.pairingAttempts(), before.attempts);
  assert.deepEqual([...state.store('photos', 'verified.a').entries()], before.verified);
  assert.equal(state.store('photos', 'verified').get('count'), 3000);
  assert.deepEqual([...state.store('photos', 'outbox').entries()], before.outbox);
  const files = readdirSync(dir);
  assert.ok(files.includes(SQLITE_STATE_FILE));
  assert.ok(files.includes(STATE_FILE + MIGRATED_SUFFIX), `state.lmdb renamed: ${files.join(', ')}`);
  assert.ok(!files.includes(STATE_FILE));
  await state.close();

  // Later opens find the records there and move nothing again.
  const again = await AgentState.open(dir, { backend: 'sqlite' });
  assert.equal(again.store('photos', 'verified.a').count(), 3000);
  await again.close();
});

test('a damaged or truncated state.sqlite is E_STATE_DAMAGED, not a crash', { skip: unavailable('sqlite') }, async (t) => {
  const garbage = await tempDir(t);
  writeFileSync(path.join(garbage, SQLITE_STATE_FILE), Buffer.from(Array.from({ length: 16384 }, (_, i) => (i * 7919) % 251)));
  await assert.rejects(AgentState.open(garbage, { backend: 'sqlite' }), (err: unknown) => {
    assert.ok(err instanceof StoreDamagedError);
    assert.equal(err.code, 'E_STATE_DAMAGED');
    assert.match(err.message, /state\.sqlite is damaged/);
    assert.ok(err.hint);
    return true;
  });

  const truncated = await tempDir(t);
  const state = await AgentState.open(truncated, { backend: 'sqlite' });
  await state
    .store<string>('photos', 'verified.a')
    .replaceAll(Array.from({ length: 5000 }, (_, i) => [`file-${i}`, 'x'.repeat(64)] as [string, string]));
  await state.close();
  const file = path.join(truncated, SQLITE_STATE_FILE);
  assert.ok(!existsSync(`${file}-wal`), 'closing checkpointed the WAL into the file');
  truncateSync(file, Math.floor(statSync(file).size / 2));
  await assert.rejects(AgentState.open(truncated, { backend: 'sqlite' }), { code: 'E_STATE_DAMAGED' });
});

test('a damaged sqlite hash cache is moved aside and rebuilt, with a warning', { skip: unavailable('sqlite') }, async (t) => {
  const cacheDir = await tempDir(t);
  const root = await tempDir(t);
  const state = { size: 1, mtimeMs: 2.5, ctimeMs: 3.5, ino: 4 };
  const fill = async (): Promise<string> => {
    const cache = await HashCache.open(cacheDir, root, { backend: 'sqlite' });
    for (let i = 0; i < 3000; i++) cache.store(`f${i}`, state, 'a'.repeat(64));
    await cache.close();
    return path.join(hashCachePath(cacheDir, root), HASH_CACHE_SQLITE_FILE);
  };
  const damages: Array<[string, (file: string) => void]> = [
    ['garbage', (file) => writeFileSync(file, Buffer.alloc(8192, 0x5a))],
    ['truncated', (file) => truncateSync(file, Math.floor(statSync(file).size / 2))],
  ];
  for (const [label, damage] of damages) {
    const file = await fill();
    damage(file);
    const warnings: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => (warnings.push(String(chunk)), true)) as typeof process.stderr.write;
    let cache: HashCache;
    try {
      cache = await HashCache.open(cacheDir, root, { backend: 'sqlite' });
    } finally {
      process.stderr.write = write;
    }
    assert.equal(cache.count(), 0, `${label}: a new, empty cache`);
    assert.equal(cache.lookup('f1', state), undefined);
    assert.match(warnings.join(''), /warn .*hash cache .* is damaged.*moved aside, rebuilding/, label);
    assert.ok(existsSync(`${file}.damaged`), `${label}: the damaged file is kept aside`);
    cache.store('f1', state, 'b'.repeat(64));
    await cache.close();
    const reopened = await HashCache.open(cacheDir, root, { backend: 'sqlite' });
    assert.equal(reopened.lookup('f1', state), 'b'.repeat(64), `${label}: the rebuilt cache works`);
    await reopened.close();
  }
});

test('by default Windows keeps its stores in SQLite where Node has it, every other platform in LMDB', () => {
  assert.equal(defaultBackend('win32', true), 'sqlite');
  assert.equal(defaultBackend('win32', false), 'lmdb', 'Node 20 on Windows: no node:sqlite');
  for (const platform of ['linux', 'darwin'] as const) {
    assert.equal(defaultBackend(platform, true), 'lmdb');
    assert.equal(defaultBackend(platform, false), 'lmdb');
  }
});

test('back on LMDB after SQLite took the records, the state refuses to start empty and says where they are', async (t) => {
  const dir = await tempDir(t);
  writeFileSync(path.join(dir, SQLITE_STATE_FILE), '');
  await assert.rejects(AgentState.open(dir, { backend: 'lmdb' }), { code: 'E_STATE_ELSEWHERE' });
  assert.ok(!existsSync(path.join(dir, STATE_FILE)), 'no empty state.lmdb was made');
});
