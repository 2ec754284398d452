import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { compareEntries } from '../../src/manifest/order.js';
import { unescapeName } from '../../src/scan/index.js';
import { collect, sha256sumAll } from '../harness/scan.js';
import { tempDir } from '../harness/tmp.js';

const NFC_E = '\u00e9';
const NFD_E = 'e\u0301';
const DEEP = Array.from({ length: 30 }, (_, i) => `n${String(i + 1).padStart(2, '0')}`);

async function trickyTree(root: string): Promise<void> {
  for (const dir of ['A', 'a', 'a-b', 'a.b']) await mkdir(path.join(root, dir));
  await writeFile(path.join(root, 'A/x'), 'upper');
  await writeFile(path.join(root, 'a/b'), 'lower');
  await writeFile(path.join(root, 'a-b/c'), 'dash');
  await writeFile(path.join(root, 'a.b/d'), 'dot');
  await writeFile(path.join(root, 'ab'), 'ab');
  await writeFile(path.join(root, ' lead'), 'leading space');
  await writeFile(path.join(root, 'with space'), 'space');
  await writeFile(path.join(root, 'new\nline'), 'newline');
  await writeFile(path.join(root, NFC_E), 'nfc');
  await writeFile(path.join(root, NFD_E), 'nfd');
  await writeFile(path.join(root, '\uff01'), 'fullwidth exclamation');
  await writeFile(path.join(root, '😀'), 'emoji');
  await writeFile(path.join(root, 'empty'), '');
  // 64 MiB, not all zeros: a hash that reads only part of it would differ.
  const big = Buffer.alloc(64 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  await writeFile(path.join(root, 'big.bin'), big);
  const deepDir = path.join(root, 'deep', ...DEEP);
  await mkdir(deepDir, { recursive: true });
  await writeFile(path.join(deepDir, 'leaf.txt'), 'deep down');
  await symlink('ab', path.join(root, 'link-file'));
  await symlink('a', path.join(root, 'link-dir'));
  await symlink('nowhere', path.join(root, 'dangling'));
  await symlink('loop', path.join(root, 'loop'));
  execFileSync('mkfifo', [path.join(root, 'fifo')]);
}

test('entries come out in manifest order: a hand-written list for a tricky tree', async (t) => {
  const root = await tempDir(t);
  await trickyTree(root);
  // A writer blocks on the FIFO until someone opens it for reading: if the
  // scan ever opened the FIFO, this writer would finish.
  const writer = spawn('sh', ['-c', 'printf x > fifo'], { cwd: root, stdio: 'ignore' });
  t.after(() => writer.kill('SIGKILL'));

  const { entries, stats } = await collect(root, { cache: false });

  const deepPaths = DEEP.map((_, i) => ['deep', ...DEEP.slice(0, i + 1)].join('/'));
  const expected = [
    ' lead',
    'A',
    'A/x',
    'a',
    'a/b',
    'a-b',
    'a-b/c',
    'a.b',
    'a.b/d',
    'ab',
    'big.bin',
    'dangling',
    'deep',
    ...deepPaths,
    `deep/${DEEP.join('/')}/leaf.txt`,
    'empty',
    'link-dir',
    'link-file',
    'loop',
    'new\nline',
    'with space',
    NFC_E, // raw NFD first: its bytes 65 CC 81 sort below C3 A9
    NFC_E,
    '\uff01', // EF BC 81: below the emoji's F0 ..., although UTF-16 order says otherwise
    '😀',
  ];
  assert.deepEqual(
    entries.map((e) => e.path),
    expected,
  );
  for (let i = 1; i < entries.length; i++) assert.ok(compareEntries(entries[i - 1]!, entries[i]!) < 0, `order at ${i}`);

  const byPath = (p: string) => entries.find((e) => e.path === p)!;
  const [nfd, nfc] = entries.filter((e) => e.path === NFC_E);
  assert.equal(nfd!.raw, NFD_E);
  assert.equal(nfc!.raw, undefined);
  assert.deepEqual(nfd!.flags, ['nfc-clash']);
  assert.deepEqual(nfc!.flags, ['nfc-clash']);
  assert.equal(byPath('A').type, 'dir');
  assert.deepEqual(
    ['link-file', 'link-dir', 'dangling', 'loop'].map((p) => [byPath(p).type, byPath(p).target]),
    [
      ['symlink', 'ab'],
      ['symlink', 'a'],
      ['symlink', 'nowhere'],
      ['symlink', 'loop'],
    ],
  );
  assert.equal(byPath('empty').size, 0);
  assert.equal(byPath('big.bin').size, 64 * 1024 * 1024);

  // Every file's hash is sha256sum's.
  const files = entries.filter((e) => e.type === 'file');
  assert.deepEqual(
    files.map((e) => e.hash),
    await sha256sumAll(files.map((e) => path.join(root, e.raw ?? e.path))),
  );
  assert.equal(entries.filter((e) => e.type === 'error').length, 0);
  assert.ok(!entries.some((e) => e.path === 'fifo'), 'the FIFO is not listed');
  assert.equal(writer.exitCode, null, 'nobody opened the FIFO for reading');
  assert.equal(stats.skippedSpecial, 1);
});

test('children of folders whose names clash under NFC are merged in order', async (t) => {
  const root = await tempDir(t);
  const nfc = '\u00fc';
  const nfd = 'u\u0308';
  for (const dir of [nfc, nfd]) {
    await mkdir(path.join(root, dir));
    await writeFile(path.join(root, dir, 'x'), dir);
    await writeFile(path.join(root, dir, 'y'), dir);
  }
  await writeFile(path.join(root, `${nfd}/only-nfd`), '');
  const { entries } = await collect(root, { cache: false });
  assert.deepEqual(
    entries.map((e) => [e.path, e.raw ?? null, e.flags ?? []]),
    [
      [nfc, nfd, ['nfc-clash']],
      [nfc, null, ['nfc-clash']],
      [`${nfc}/only-nfd`, `${nfd}/only-nfd`, []],
      [`${nfc}/x`, `${nfd}/x`, ['nfc-clash']],
      [`${nfc}/x`, null, ['nfc-clash']],
      [`${nfc}/y`, `${nfd}/y`, ['nfc-clash']],
      [`${nfc}/y`, null, ['nfc-clash']],
    ],
  );
});

test('names that are not UTF-8 or contain a backslash become error entries with a lossless escaped form', async (t) => {
  const root = await tempDir(t);
  const latin1 = Buffer.from('caf\xe9', 'latin1');
  const percentAndBad = Buffer.concat([Buffer.from('100%'), Buffer.from([0xff])]);
  const badDir = Buffer.from([0x64, 0x69, 0x72, 0x80]); // "dir" + a lone continuation byte
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), latin1]), 'x');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), percentAndBad]), 'x');
  mkdirSync(Buffer.concat([Buffer.from(`${root}/`), badDir]));
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), badDir, Buffer.from('/inside')]), 'x');
  await writeFile(path.join(root, 'back\\slash'), 'x');
  await writeFile(path.join(root, '100%'), 'a valid name keeps its percent sign');
  const { entries } = await collect(root, { cache: false });
  assert.deepEqual(
    entries.map((e) => [e.path, e.type, e.errorCode ?? null]),
    [
      ['100%', 'file', null],
      ['100%25%FF', 'error', 'INVALID_NAME'],
      ['back%5Cslash', 'error', 'INVALID_NAME'],
      ['caf%E9', 'error', 'INVALID_NAME'],
      ['dir%80', 'error', 'INVALID_NAME'],
    ],
  );
  assert.deepEqual(unescapeName('caf%E9'), latin1);
  assert.deepEqual(unescapeName('100%25%FF'), percentAndBad);
  assert.deepEqual(unescapeName('back%5Cslash'), Buffer.from('back\\slash'));
  assert.deepEqual(unescapeName('dir%80'), badDir);
  assert.match(entries.find((e) => e.path === 'dir%80')!.error!, /folder not scanned/);
});

test('a valid name holding U+FFFD is a normal entry, next to one that is not UTF-8', async (t) => {
  const root = await tempDir(t);
  await writeFile(path.join(root, 'replacement \ufffd.txt'), 'x');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from('bad '), Buffer.from([0xff])]), 'x');
  await writeFile(path.join(root, 'plain.txt'), 'x');
  const { entries } = await collect(root, { cache: false });
  assert.deepEqual(
    entries.map((e) => [e.path, e.type, e.errorCode ?? null]),
    [
      ['bad %FF', 'error', 'INVALID_NAME'],
      ['plain.txt', 'file', null],
      ['replacement \ufffd.txt', 'file', null],
    ],
  );
});

test('names that would break on Windows are flagged', async (t) => {
  const root = await tempDir(t);
  for (const name of ['aux.txt', 'a:b', 'trail.', 'trail ', 'CON', 'fine.txt', 'auxiliary', 'q?']) {
    await writeFile(path.join(root, name), '');
  }
  const { entries } = await collect(root, { cache: false });
  const flagged = entries.filter((e) => e.flags?.includes('windows-name')).map((e) => e.path);
  assert.deepEqual(flagged, ['CON', 'a:b', 'aux.txt', 'q?', 'trail ', 'trail.']);
});
