/**
 * The diff against a reference so simple it is obviously right (two maps,
 * one path at a time), on random manifests and random mutations of them.
 * Moves and case-only renames are expanded back into the missing and extra
 * paths they stand for, so the comparison also proves that pairing loses and
 * invents nothing. Accented names are stored in NFD on disk at random, on
 * either side: the names that then differ only in normalisation are checked
 * against a reference too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffManifests, type Difference } from '../../src/diff/index.js';
import type { ManifestEntry } from '../../src/manifest/entry.js';
import { compareEntries } from '../../src/manifest/order.js';
import type { ReadyEntries } from '../../src/manifest/ready-entries.js';
import { dir, file, stream, T0 } from '../harness/manifest.js';
import { prng } from '../harness/prng.js';

const NAMES = ['a', 'b', 'A', 'c.txt', 'C.txt', 'é', 'x-y', 'x'];
const CONTENTS = ['', 'one', 'two', 'three', 'four!'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** A consistent tree: every file's folders exist; no path is both a file and a folder. */
function randomTree(random: () => number, size: number): Map<string, ManifestEntry> {
  const tree = new Map<string, ManifestEntry>();
  for (let i = 0; i < size; i++) {
    const depth = 1 + Math.floor(random() * 3);
    const parts = Array.from({ length: depth }, () => pick(random, NAMES));
    addPath(tree, parts, random() < 0.8 ? file(parts.join('/'), pick(random, CONTENTS)) : dir(parts.join('/')));
  }
  return tree;
}

function addPath(tree: Map<string, ManifestEntry>, parts: string[], entry: ManifestEntry): void {
  for (let i = 1; i < parts.length; i++) {
    const p = parts.slice(0, i).join('/');
    const existing = tree.get(p);
    if (existing !== undefined && existing.type !== 'dir') return;
    if (existing === undefined) tree.set(p, dir(p));
  }
  if (!tree.has(entry.path)) tree.set(entry.path, entry);
}

function removeTree(tree: Map<string, ManifestEntry>, path: string): ManifestEntry[] {
  const removed: ManifestEntry[] = [];
  for (const [p, e] of tree) {
    if (p === path || p.startsWith(`${path}/`)) {
      removed.push(e);
      tree.delete(p);
    }
  }
  return removed;
}

/** The kinds of change users make: delete, add, edit, touch, chmod, rename, move a folder, replace a file by a folder. */
function mutate(random: () => number, original: Map<string, ManifestEntry>): Map<string, ManifestEntry> {
  const tree = new Map(original);
  const ops = Math.floor(random() * 5);
  for (let i = 0; i < ops; i++) {
    const paths = [...tree.keys()];
    if (paths.length === 0) break;
    const path = pick(random, paths);
    const entry = tree.get(path)!;
    switch (Math.floor(random() * 8)) {
      case 0:
        removeTree(tree, path);
        break;
      case 1: {
        const parts = [...path.split('/').slice(0, -1), pick(random, NAMES)];
        addPath(tree, parts, file(parts.join('/'), pick(random, CONTENTS)));
        break;
      }
      case 2:
        if (entry.type === 'file') tree.set(path, file(path, pick(random, CONTENTS), { mtime: entry.mtime }));
        break;
      case 3:
        tree.set(path, { ...entry, mtime: entry.mtime + 1 + Math.floor(random() * 5000) });
        break;
      case 4:
        tree.set(path, { ...entry, mode: entry.mode ^ 0o020 });
        break;
      case 5:
      case 6: {
        // Rename or move (a folder moves with everything inside).
        const target = [...path.split('/').slice(0, -1), `${pick(random, NAMES)}${pick(random, ['', '2', '-moved'])}`].join('/');
        if (tree.has(target) || target.startsWith(`${path}/`)) break;
        const moved = removeTree(tree, path);
        for (const e of moved)
          addPath(tree, (target + e.path.slice(path.length)).split('/'), { ...e, path: target + e.path.slice(path.length) });
        break;
      }
      case 7:
        if (entry.type === 'file') {
          tree.set(path, dir(path));
          addPath(tree, [...path.split('/'), 'inner'], file(`${path}/inner`, 'one'));
        }
        break;
    }
  }
  return tree;
}

/**
 * Which accented names a side stores in NFD (as macOS does), at random. A copy (`base`: the tree it
 * was made from) mostly keeps the original's choices, as copy tools do.
 */
function randomNfd(random: () => number, tree: Map<string, ManifestEntry>, base?: Set<string>): Set<string> {
  const nfd = new Set<string>();
  for (const path of tree.keys()) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (name.normalize('NFD') === name) continue;
    const was = base?.has(path) ?? false;
    if (base !== undefined ? (random() < 0.25 ? !was : was) : random() < 0.3) nfd.add(path);
  }
  return nfd;
}

/** The tree as a scan lists it: every path NFC, and `raw`, the path on disk, where a name in it is stored in NFD. */
function encode(tree: Map<string, ManifestEntry>, nfd: Set<string>): Map<string, ManifestEntry> {
  const out = new Map<string, ManifestEntry>();
  for (const [path, entry] of tree) {
    const parts = path.split('/');
    const raw = parts.map((part, i) => (nfd.has(parts.slice(0, i + 1).join('/')) ? part.normalize('NFD') : part)).join('/');
    out.set(path, raw === path ? entry : { ...entry, raw });
  }
  return out;
}

function sorted(tree: Map<string, ManifestEntry>): ManifestEntry[] {
  return [...tree.values()].sort(compareEntries);
}

/** The reference: one path at a time. */
function referenceDiff(a: Map<string, ManifestEntry>, b: Map<string, ManifestEntry>): string[] {
  const out: string[] = [];
  for (const path of new Set([...a.keys(), ...b.keys()])) {
    const s = a.get(path);
    const t = b.get(path);
    if (t === undefined) out.push(`missing ${path}`);
    else if (s === undefined) out.push(`extra ${path}`);
    else if (s.type !== t.type) out.push(`type ${path}`);
    else if (s.type === 'file' && (s.hash !== t.hash || s.size !== t.size)) out.push(`content ${path}`);
    else if (s.mode !== t.mode || (s.type === 'file' && s.mtime !== t.mtime)) out.push(`metadata ${path}`);
  }
  return out.sort();
}

/**
 * The reference for names stored differently on disk: a path on both sides whose own name differs is a
 * record; one whose own name is the same differs only because a folder above it does, and joins the
 * record of the deepest such folder (with the files among them counted: a file on both sides).
 */
function referenceNormalization(a: Map<string, ManifestEntry>, b: Map<string, ManifestEntry>): string[] {
  const rawOf = (e: ManifestEntry): string => e.raw ?? e.path;
  const ownName = (e: ManifestEntry): string => rawOf(e).slice(rawOf(e).lastIndexOf('/') + 1);
  const records = new Map<string, { members: string[]; files: number }>();
  const recordOf = (path: string) => records.get(path) ?? records.set(path, { members: [], files: 0 }).get(path)!;
  for (const [path, s] of a) {
    const t = b.get(path);
    if (t === undefined || rawOf(s) === rawOf(t)) continue;
    let folder = path;
    while (ownName(a.get(folder)!) === ownName(b.get(folder)!)) folder = folder.slice(0, folder.lastIndexOf('/'));
    const record = recordOf(folder);
    if (folder === path) continue;
    record.members.push(path);
    if (s.type === 'file' && t.type === 'file') record.files++;
  }
  return [...records].map(([path, r]) => `${path} [${r.members.sort().join(' ')}] ${r.files}`).sort();
}

/** The diff's normalisation records, as the reference writes them. */
function normalizationRecords(differences: Difference[]): string[] {
  return differences
    .filter((d) => d.category === 'name-clash' && d.clash === 'normalization')
    .map(
      (d) =>
        `${d.path} [${(d.members ?? [])
          .map((m) => (m.newPath === m.path ? m.path : `${m.path}->${m.newPath}`))
          .sort()
          .join(' ')}] ${d.fileCount ?? 0}`,
    )
    .sort();
}

/** The diff's records, moves and case renames expanded into the paths they stand for. */
function expand(differences: Difference[]): string[] {
  const out: string[] = [];
  for (const d of differences) {
    if (d.category === 'moved' || (d.category === 'name-clash' && d.clash === 'case')) {
      const to = d.newPath ?? d.otherPath!;
      out.push(`missing ${d.path}`, `extra ${to}`);
      for (const m of d.members ?? []) out.push(`missing ${m.path}`, `extra ${m.newPath}`);
      if (d.category === 'name-clash' && d.changes !== undefined) continue;
    } else if (d.category !== 'name-clash') {
      out.push(`${d.category} ${d.path}`);
    }
  }
  return out.sort();
}

/** What diff(B, A) should say, given diff(A, B). */
function mirror(d: Difference): string {
  const swap: Record<string, string> = { missing: 'extra', extra: 'missing' };
  const side = d.side === 'source' ? 'backup' : d.side === 'backup' ? 'source' : d.side;
  const to = d.newPath ?? d.otherPath;
  if (d.category === 'moved' || (d.category === 'name-clash' && d.clash === 'case'))
    return `${d.category} ${to} -> ${d.path} ${d.fileCount ?? ''}`;
  if (d.category === 'name-clash' && d.clash === 'within') return `${d.category} ${d.path} -> ${to} ${side}`;
  return `${swap[d.category] ?? d.category} ${d.path} ${side ?? ''} ${d.fileCount ?? ''}`;
}

function describe(d: Difference): string {
  const to = d.newPath ?? d.otherPath;
  if (d.category === 'moved' || (d.category === 'name-clash' && d.clash === 'case'))
    return `${d.category} ${d.path} -> ${to} ${d.fileCount ?? ''}`;
  if (d.category === 'name-clash' && d.clash === 'within') return `${d.category} ${d.path} -> ${to} ${d.side}`;
  return `${d.category} ${d.path} ${d.side ?? ''} ${d.fileCount ?? ''}`;
}

/** Entries handed over partly through takeReady (a few at a time, at random), as the peer stream and the scan thread do. */
function readyStream(entries: ManifestEntry[], random: () => number): AsyncIterable<ManifestEntry> {
  return {
    [Symbol.asyncIterator]() {
      let i = 0;
      let atHand = 0;
      const iterator: AsyncIterator<ManifestEntry> & ReadyEntries = {
        next: async () => {
          if (i >= entries.length) return { done: true, value: undefined };
          atHand = Math.floor(random() * 4);
          return { done: false, value: entries[i++]! };
        },
        takeReady: () => {
          if (atHand === 0 || i >= entries.length) return undefined;
          atHand--;
          return entries[i++];
        },
      };
      return iterator;
    },
  };
}

test('random manifests: the diff agrees with the reference, diff(A, A) is empty and diff(B, A) mirrors diff(A, B)', async () => {
  const random = prng(20260115);
  let foldedFolders = 0;
  for (let round = 0; round < 400; round++) {
    const nfcA = randomTree(random, 1 + Math.floor(random() * 12));
    const copied = round % 4 !== 0;
    const nfcB = copied ? mutate(random, nfcA) : randomTree(random, Math.floor(random() * 12));
    const nfdA = randomNfd(random, nfcA);
    const a = encode(nfcA, nfdA);
    const b = encode(nfcB, randomNfd(random, nfcB, copied ? nfdA : undefined));
    const context = `round ${round}\nA: ${[...a.values()].map((e) => e.raw ?? e.path).join(' ')}\nB: ${[...b.values()].map((e) => e.raw ?? e.path).join(' ')}`;
    const options = { mtimeToleranceMs: 0 };

    const same = await diffManifests(stream(sorted(a)), stream(sorted(a)), options);
    assert.deepEqual(
      same.differences.filter((d) => !(d.category === 'name-clash' && d.clash === 'within' && d.side === 'both')),
      [],
      context,
    );

    const ab = await diffManifests(stream(sorted(a)), stream(sorted(b)), options);
    assert.deepEqual(expand(ab.differences), referenceDiff(a, b), context);
    assert.deepEqual(normalizationRecords(ab.differences), referenceNormalization(a, b), context);
    foldedFolders += ab.differences.filter((d) => d.clash === 'normalization' && d.members !== undefined).length;
    for (const d of ab.differences) {
      if (d.category === 'moved' && d.source!.type === 'file') {
        assert.equal(d.source!.hash, d.backup!.hash, `${context}\na move pairs equal content`);
      }
    }

    const abReady = await diffManifests(readyStream(sorted(a), random), readyStream(sorted(b), random), options);
    assert.deepEqual(abReady.differences, ab.differences, `${context}\nentries at hand read without awaiting`);

    const ba = await diffManifests(stream(sorted(b)), stream(sorted(a)), options);
    assert.deepEqual(ba.differences.map(describe).sort(), ab.differences.map(mirror).sort(), context);
    // Mirrored, what was missing is extra: it fails one way only (an extra never fails); the rest fails alike both ways.
    const failingBothWays = (ds: typeof ab.differences) => ds.filter((d) => d.failing && d.category !== 'missing').length;
    assert.equal(failingBothWays(ab.differences), failingBothWays(ba.differences), context);
    for (const d of [...ab.differences, ...ba.differences])
      if (d.category === 'missing' || d.category === 'extra') assert.equal(d.failing, d.category === 'missing', `${context}\n${d.path}`);
  }
  assert.ok(foldedFolders >= 10, `the rounds reach folders stored in NFD with entries below (${foldedFolders})`);
});

test('a large pair: a handful of differences among 200,000 entries', async () => {
  const n = 200_000;
  async function* tree(mutated: boolean): AsyncGenerator<ManifestEntry> {
    const entries: ManifestEntry[] = [];
    for (let i = 0; i < n; i++) {
      const path = `d${String(Math.floor(i / 1000)).padStart(4, '0')}/f${String(i % 1000).padStart(4, '0')}`;
      if (mutated && i % 50_000 === 7) continue;
      entries.push({ path, type: 'file', size: i, mtime: T0, mode: 0o644, hash: mutated && i % 50_000 === 9 ? 'ff' : String(i) });
    }
    // Folders first within their own subtree: dNNNN sorts before dNNNN/...
    const dirs = Array.from({ length: n / 1000 }, (_, k) => dir(`d${String(k).padStart(4, '0')}`));
    yield* [...dirs, ...entries].sort(compareEntries);
  }
  const result = await diffManifests(tree(false), tree(true));
  assert.equal(result.byCategory.missing.count, 4);
  assert.equal(result.byCategory.content.count, 4);
  assert.equal(result.matchedFiles, n - 8);
});

test('an out-of-order entry is refused also when it was at hand', async () => {
  const entries = [file('a', 'a'), file('c', 'c'), file('b', 'b'), file('d', 'd')];
  const always = (): number => 0.99; // three entries at hand after each awaited one
  await assert.rejects(
    diffManifests(stream(entries.slice().sort(compareEntries)), readyStream(entries, always)),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'E_DIFF_ORDER');
      assert.match(err.message, /backup's manifest is not in manifest order: "b" came after "c"/);
      return true;
    },
  );
});
