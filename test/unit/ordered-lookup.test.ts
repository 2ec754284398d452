import assert from 'node:assert/strict';
import { test } from 'node:test';
import { open } from 'lmdb';
import { comparePaths } from '../../src/manifest/order.js';
import { OrderedLookup, type KeyedRecord } from '../../src/state/ordered-lookup.js';
import { tempDir } from '../harness/tmp.js';
import { prng } from '../harness/prng.js';

// Characters below and above '/', a combining accent, an astral character and one at U+E000 and up,
// where UTF-16 order and UTF-8 byte order disagree.
const ALPHABET = ['a', 'b', '-', '.', ' ', '/', '\u00e9', 'e\u0301', '\u{1f600}', '\ue000', '\uffee', '\u0001'];

function randomPath(next: () => number): string {
  let out = '';
  const length = 1 + Math.floor(next() * 6);
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(next() * ALPHABET.length)]!;
  return out;
}

test('reads through the cursor give exactly what point reads give, in any order, for present and absent keys', async (t) => {
  const dir = await tempDir(t);
  const env = open({ path: dir });
  t.after(() => env.close());
  const db = env.openDB<number, string>('records', {});
  const next = prng(7);
  const stored = new Map<string, number>();
  for (let i = 0; i < 400; i++) stored.set(randomPath(next), i);
  await db.transaction(() => {
    for (const [key, value] of stored) db.putSync(key, value);
  });
  const asked = [...new Set([...stored.keys(), ...Array.from({ length: 200 }, () => randomPath(next))])];
  const orders: Array<[string, string[]]> = [
    ['manifest order', [...asked].sort(comparePaths)],
    ['UTF-16 order', [...asked].sort()],
    ['reverse order', [...asked].sort().reverse()],
    ['random order', [...asked].sort(() => next() - 0.5)],
  ];
  for (const [label, keys] of orders) {
    const lookup = new OrderedLookup<number>(db.getRange({ snapshot: false })[Symbol.iterator]() as Iterator<KeyedRecord<number>>, (key) =>
      db.get(key),
    );
    for (const key of keys) assert.equal(lookup.get(key), stored.get(key), `${label}: ${JSON.stringify(key)}`);
    lookup.close();
    assert.equal(lookup.get(keys[0]!), stored.get(keys[0]!), 'after close: a point read');
  }
});

test('a key asked for twice is answered both times', async (t) => {
  const dir = await tempDir(t);
  const env = open({ path: dir });
  t.after(() => env.close());
  const db = env.openDB<string, string>('records', {});
  await db.put('a', 'A');
  await db.put('b', 'B');
  const lookup = new OrderedLookup<string>(db.getRange({ snapshot: false })[Symbol.iterator]() as Iterator<KeyedRecord<string>>, (key) =>
    db.get(key),
  );
  assert.equal(lookup.get('a'), 'A');
  assert.equal(lookup.get('a'), 'A');
  assert.equal(lookup.get('b'), 'B');
  assert.equal(lookup.get('a'), 'A');
  assert.equal(lookup.get('c'), undefined);
  assert.equal(lookup.get('b'), 'B');
});

test('where manifest order and key order agree, every stored key comes from the cursor', async (t) => {
  const dir = await tempDir(t);
  const env = open({ path: dir });
  t.after(() => env.close());
  const db = env.openDB<number, string>('records', {});
  const keys: string[] = [];
  for (let d = 0; d < 10; d++) for (let f = 0; f < 50; f++) keys.push(`d${d}/s${f % 3}/f${String(f).padStart(3, '0')}.txt`);
  await db.transaction(() => {
    keys.forEach((key, i) => {
      if (i % 5 !== 0) db.putSync(key, i);
    });
  });
  const lookup = new OrderedLookup<number>(db.getRange({ snapshot: false })[Symbol.iterator]() as Iterator<KeyedRecord<number>>, (key) =>
    db.get(key),
  );
  for (const key of [...keys].sort(comparePaths)) lookup.get(key);
  assert.deepEqual(lookup.counts, { cursor: 400, point: 100 });
});
