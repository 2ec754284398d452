import assert from 'node:assert/strict';
import { test } from 'node:test';
import { comparePaths } from '../../src/manifest/order.js';
import type { KvTable } from '../../src/state/kv.js';
import { OrderedLookup, type KeyedRecord } from '../../src/state/ordered-lookup.js';
import { prng } from '../harness/prng.js';
import { BACKENDS, tempStore, unavailable } from '../harness/stores.js';

// Characters below and above '/', a combining accent, an astral character and one at U+E000 and up,
// where UTF-16 order and UTF-8 byte order disagree.
const ALPHABET = ['a', 'b', '-', '.', ' ', '/', '\u00e9', 'e\u0301', '\u{1f600}', '\ue000', '\uffee', '\u0001'];

function randomPath(next: () => number): string {
  let out = '';
  const length = 1 + Math.floor(next() * 6);
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(next() * ALPHABET.length)]!;
  return out;
}

function lookupOf<V>(db: KvTable<V>): OrderedLookup<V> {
  return new OrderedLookup<V>(db.range({ follow: true })[Symbol.iterator]() as Iterator<KeyedRecord<V>>, (key) => db.get(key));
}

for (const backend of BACKENDS) {
  test(`${backend}: reads through the cursor give exactly what point reads give, in any order, for present and absent keys`, {
    skip: unavailable(backend),
  }, async (t) => {
    const store = await tempStore(t, backend, ['records']);
    const db = store.table<number>('records');
    const next = prng(7);
    const stored = new Map<string, number>();
    for (let i = 0; i < 400; i++) stored.set(randomPath(next), i);
    await store.transaction(() => {
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
      const lookup = lookupOf(db);
      for (const key of keys) assert.equal(lookup.get(key), stored.get(key), `${label}: ${JSON.stringify(key)}`);
      lookup.close();
      assert.equal(lookup.get(keys[0]!), stored.get(keys[0]!), 'after close: a point read');
    }
  });

  test(`${backend}: a key asked for twice is answered both times`, { skip: unavailable(backend) }, async (t) => {
    const store = await tempStore(t, backend, ['records']);
    const db = store.table<string>('records');
    await db.put('a', 'A');
    await db.put('b', 'B');
    const lookup = lookupOf(db);
    assert.equal(lookup.get('a'), 'A');
    assert.equal(lookup.get('a'), 'A');
    assert.equal(lookup.get('b'), 'B');
    assert.equal(lookup.get('a'), 'A');
    assert.equal(lookup.get('c'), undefined);
    assert.equal(lookup.get('b'), 'B');
  });

  test(`${backend}: where manifest order and key order agree, every stored key comes from the cursor`, {
    skip: unavailable(backend),
  }, async (t) => {
    const store = await tempStore(t, backend, ['records']);
    const db = store.table<number>('records');
    const keys: string[] = [];
    for (let d = 0; d < 10; d++) for (let f = 0; f < 50; f++) keys.push(`d${d}/s${f % 3}/f${String(f).padStart(3, '0')}.txt`);
    await store.transaction(() => {
      for (const [i, key] of keys.entries()) if (i % 5 !== 0) db.putSync(key, i);
    });
    const lookup = lookupOf(db);
    for (const key of [...keys].sort(comparePaths)) lookup.get(key);
    assert.deepEqual(lookup.counts, { cursor: 400, point: 100 });
  });
}
