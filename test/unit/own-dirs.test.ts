import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { markOwnDirs } from '../../src/check/unstorable.js';
import type { Difference } from '../../src/diff/index.js';
import { ownDirs, OwnDirKeys, ownDirsInside, ownDirsNotice } from '../../src/dirs/own-dirs.js';
import { buildIgnoreMatcher } from '../../src/scan/ignore-rules.js';
import { TreeWalker } from '../../src/scan/walk.js';
import type { PlanDifference, PlanEntry } from '../../src/sync/plan-types.js';
import { planRestore, planRestoreInto } from '../../src/sync/restore-plan.js';
import { collect } from '../harness/scan.js';
import { tempDir } from '../harness/tmp.js';

const noReal = { realPaths: false };

test("this machine's synker folders: the platform's config, data and cache dirs and the runtime dir; SYNKER_HOME as a whole", () => {
  assert.deepEqual(ownDirs({ HOME: '/home/me', XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux'), [
    '/home/me/.config/synker',
    '/home/me/.local/share/synker',
    '/home/me/.cache/synker',
    '/run/user/1000/synker',
  ]);
  assert.deepEqual(ownDirs({ HOME: '/home/me', XDG_CONFIG_HOME: '/cfg', XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux'), [
    '/cfg/synker',
    '/home/me/.local/share/synker',
    '/home/me/.cache/synker',
    '/run/user/1000/synker',
  ]);
  assert.deepEqual(ownDirs({ SYNKER_HOME: '/portable/s', XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux', ['/elsewhere/cache']), [
    '/portable/s',
    '/run/user/1000/synker',
    '/elsewhere/cache',
  ]);
  const win = ownDirs(
    {
      USERPROFILE: 'C:\\Users\\Me',
      APPDATA: 'C:\\Users\\Me\\AppData\\Roaming',
      LOCALAPPDATA: 'C:\\Users\\Me\\AppData\\Local',
      XDG_RUNTIME_DIR: 'C:\\rt',
    },
    'win32',
  );
  assert.deepEqual(win, [
    'C:\\Users\\Me\\AppData\\Roaming\\synker',
    'C:\\Users\\Me\\AppData\\Local\\synker',
    'C:\\Users\\Me\\AppData\\Local\\synker\\cache',
    'C:\\rt\\synker',
  ]);
});

test('a whole home as the folder holds them: keys relative to the root, the outermost of nested ones, none outside or at the root', () => {
  const dirs = ownDirs({ HOME: '/home/me', XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux');
  assert.deepEqual(ownDirsInside('/home/me', dirs, { platform: 'linux', ...noReal }), [
    '.config/synker',
    '.local/share/synker',
    '.cache/synker',
  ]);
  assert.deepEqual(ownDirsInside('/home/me/.local', dirs, { platform: 'linux', ...noReal }), ['share/synker']);
  assert.deepEqual(ownDirsInside('/home/me/Pictures', dirs, { platform: 'linux', ...noReal }), []);
  // A name that only starts like the root is not inside it.
  assert.deepEqual(ownDirsInside('/home/m', dirs, { platform: 'linux', ...noReal }), []);
  // The synker folder itself, or a folder inside it, is not "inside" (nothing of the root would be left).
  assert.deepEqual(ownDirsInside('/home/me/.config/synker', dirs, { platform: 'linux', ...noReal }), []);
  assert.deepEqual(ownDirsInside('/', dirs, { platform: 'linux', ...noReal }), [
    'home/me/.config/synker',
    'home/me/.local/share/synker',
    'home/me/.cache/synker',
    'run/user/1000/synker',
  ]);
  // The Windows cache lies inside the data dir: the data dir alone is named.
  const win = ownDirs(
    {
      USERPROFILE: 'C:\\Users\\Me',
      APPDATA: 'C:\\Users\\Me\\AppData\\Roaming',
      LOCALAPPDATA: 'C:\\Users\\Me\\AppData\\Local',
      XDG_RUNTIME_DIR: 'D:\\rt',
    },
    'win32',
  );
  assert.deepEqual(ownDirsInside('C:\\Users\\Me', win, { platform: 'win32', ...noReal }), [
    'AppData/Roaming/synker',
    'AppData/Local/synker',
  ]);
});

test('Windows and macOS compare without case; Linux with it', () => {
  const win = ownDirs(
    { APPDATA: 'c:\\users\\me\\appdata\\roaming', LOCALAPPDATA: 'c:\\users\\me\\appdata\\local', XDG_RUNTIME_DIR: 'D:\\rt' },
    'win32',
  );
  assert.deepEqual(ownDirsInside('C:\\Users\\Me', win, { platform: 'win32', ...noReal }), [
    'appdata/roaming/synker',
    'appdata/local/synker',
  ]);
  const mac = ownDirs({ HOME: '/Users/me', XDG_RUNTIME_DIR: '/tmp/rt' }, 'darwin');
  assert.deepEqual(ownDirsInside('/USERS/Me', mac, { platform: 'darwin', ...noReal }), [
    'Library/Application Support/synker',
    'Library/Caches/synker',
  ]);
  const linux = ownDirs({ HOME: '/home/me', XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux');
  assert.deepEqual(ownDirsInside('/HOME/me', linux, { platform: 'linux', ...noReal }), []);

  const keys = ['AppData/Roaming/synker'];
  assert.equal(new OwnDirKeys(keys, 'win32').has('appdata/ROAMING/Synker'), true);
  assert.equal(new OwnDirKeys(keys, 'darwin').has('appdata/roaming/synker'), true);
  assert.equal(new OwnDirKeys(keys, 'linux').has('appdata/roaming/synker'), false);
  assert.equal(new OwnDirKeys(keys, 'linux').has('AppData/Roaming/synker'), true);
  // holds: the folder and what lies inside it, never a neighbour that only starts alike.
  assert.equal(new OwnDirKeys(keys, 'win32').holds('APPDATA/Roaming/synker/key.pem'), true);
  assert.equal(new OwnDirKeys(keys, 'linux').holds('AppData/Roaming/synker/key.pem'), true);
  assert.equal(new OwnDirKeys(keys, 'linux').holds('AppData/Roaming/synker-old/key.pem'), false);
  assert.equal(new OwnDirKeys(keys, 'linux').holds('AppData/Roaming'), false);
  // The walk asks once per folder whether it can hold one: only the parents of own folders can.
  assert.equal(new OwnDirKeys(keys, 'win32').mayHoldOne('appdata/roaming'), true);
  assert.equal(new OwnDirKeys(keys, 'linux').mayHoldOne('appdata/roaming'), false);
  assert.equal(new OwnDirKeys(keys, 'linux').mayHoldOne('AppData'), false);
  assert.equal(new OwnDirKeys(['.cache'], 'linux').mayHoldOne(''), true);
  // Keys compare in NFC, as the walk makes them (macOS hands out NFD names).
  assert.equal(new OwnDirKeys(['Bibliothe\u0300que/synker'], 'darwin').has('Biblioth\u00e8que/synker'), true);
});

test('the walk leaves the own folders out, by the platform case rule, and nothing else', async (t) => {
  const root = await tempDir(t);
  for (const dir of ['.Config/Synker', '.config/synker', 'Documents', 'other-user/.config/synker'])
    await mkdir(path.join(root, dir), { recursive: true });
  for (const file of ['.Config/Synker/key.pem', '.config/synker/key.pem', 'Documents/letter.txt', 'other-user/.config/synker/key.pem'])
    await writeFile(path.join(root, file), file);
  const walked = (own: OwnDirKeys): string[] => [...new TreeWalker(root, buildIgnoreMatcher(''), own).walk()].map((i) => i.key);
  // Linux tells `.Config/Synker` from `.config/synker`: only the exact folder is synker's.
  assert.deepEqual(walked(new OwnDirKeys(['.config/synker'], 'linux')), [
    '.Config',
    '.Config/Synker',
    '.Config/Synker/key.pem',
    '.config',
    'Documents',
    'Documents/letter.txt',
    'other-user',
    'other-user/.config',
    'other-user/.config/synker',
    'other-user/.config/synker/key.pem',
  ]);
  // Where the disk ignores case, both spellings are the one folder; another user's synker folder stays.
  assert.deepEqual(walked(new OwnDirKeys(['.config/synker'], 'darwin')), [
    '.Config',
    '.config',
    'Documents',
    'Documents/letter.txt',
    'other-user',
    'other-user/.config',
    'other-user/.config/synker',
    'other-user/.config/synker/key.pem',
  ]);
});

test('a hash cache kept inside the scanned folder (--cache-dir) is never scanned, so it cannot change under its own scan', async (t) => {
  const root = await tempDir(t);
  await writeFile(path.join(root, 'photo.jpg'), 'jpg');
  const { entries } = await collect(root, { cacheDir: path.join(root, 'hash-cache'), jobs: 1 });
  assert.deepEqual(
    entries.map((e) => e.path),
    ['photo.jpg'],
  );
  const again = await collect(root, { cacheDir: path.join(root, 'hash-cache'), jobs: 1 });
  assert.deepEqual(
    again.entries.map((e) => e.path),
    ['photo.jpg'],
  );
  assert.equal(again.stats.cachedFiles, 1);
});

test('a check marks what the source has where this backup keeps its own synker folders: sync never writes, moves or replaces there', () => {
  const entry = (p: string, type: 'file' | 'dir' = 'file') => ({ path: p, type, size: 1, mtimeMs: 0 }) as unknown as Difference['source'];
  const differences = [
    { category: 'missing', path: '.config/synker', source: entry('.config/synker', 'dir') },
    { category: 'missing', path: '.config/synker/key.pem', source: entry('.config/synker/key.pem') },
    { category: 'missing', path: '.config/synker-notes.txt', source: entry('.config/synker-notes.txt') },
    { category: 'extra', path: '.config/synker/extra', backup: entry('.config/synker/extra') },
    // A file on the source where the backup's folder holds its synker folder: replacing it would take them along.
    { category: 'type', path: '.config', source: entry('.config'), backup: entry('.config', 'dir') },
    { category: 'type', path: 'Documents', source: entry('Documents'), backup: entry('Documents', 'dir') },
    // A folder the backup holds under another name, the own folder inside it: not moved.
    { category: 'moved', path: 'settings', newPath: '.config', source: entry('settings', 'dir'), backup: entry('.config', 'dir') },
    {
      category: 'name-clash',
      clash: 'case',
      path: '.CONFIG',
      otherPath: '.config',
      source: entry('.CONFIG', 'dir'),
      backup: entry('.config', 'dir'),
    },
  ] as unknown as Difference[];
  markOwnDirs(differences, new OwnDirKeys(['.config/synker'], 'linux'));
  assert.deepEqual(
    differences.map((d) => d.unstorable !== undefined),
    [true, true, false, false, true, false, true, true],
  );
  assert.match(differences[1]!.unstorable!, /synker's own folder on this machine/);
});

test('the notice names the folders, once, in printable form; none for a folder without them', () => {
  assert.equal(ownDirsNotice('/home/me/Pictures', []), undefined);
  const said = ownDirsNotice('/home/me', ['.config/synker', '.cache/synker'])!;
  assert.match(said, /^\/home\/me holds synker's own files of this machine \(\.config\/synker, \.cache\/synker\): they are left out/);
  assert.match(said, /private key/);
  assert.doesNotMatch(ownDirsNotice('/home/\x1b[31mme', ['.config/synker'])!, /\x1b/);
});

test("a restore never writes into, moves or replaces this machine's own synker folders: left alone, or skipped with the reason", () => {
  const own = new OwnDirKeys(['AppData/Roaming/synker'], 'win32');
  const file = (hash: string): PlanEntry => ({ type: 'file', size: 3, mtime: 1, mode: 0o644, hash: hash.padEnd(64, '0') });
  const dir: PlanEntry = { type: 'dir', size: 0, mtime: 1, mode: 0o755 };
  const differences: PlanDifference[] = [
    // A copy of the key the backup holds from before: not brought back over the live one (any case on Windows).
    { category: 'extra', path: 'appdata/roaming/synker/key.pem', backup: file('k') },
    { category: 'extra', path: 'Documents/letter.txt', backup: file('l') },
    // A file of the backup's where this machine's folder holds its synker folder: that folder is not set aside.
    { category: 'type', path: 'AppData', source: dir, backup: file('a') },
  ];
  const plan = planRestore(differences, { own, force: true });
  assert.deepEqual(
    plan.actions.map((a) => ('at' in a ? a.at.path : '')),
    ['Documents/letter.txt'],
  );
  assert.deepEqual(
    plan.skipped.map((s) => [s.reason, s.path]),
    [['unstorable', 'AppData']],
  );
  assert.match(plan.skipped[0]!.detail, /synker's own folder on this machine/);
  // The backup's old copy of it is not a failure: left alone, said once (not one line per file).
  assert.deepEqual(plan.leftAlone, ['appdata/roaming/synker/key.pem']);

  const into = planRestoreInto(
    [
      { path: 'AppData/Roaming/synker/config.json', ...file('c') },
      { path: 'AppData/Roaming/other.txt', ...file('o') },
    ],
    { own },
  );
  assert.deepEqual(
    into.actions.map((a) => ('at' in a ? a.at.path : '')),
    ['AppData/Roaming/other.txt'],
  );
  assert.deepEqual(into.skipped, []);
  assert.deepEqual(into.leftAlone, ['AppData/Roaming/synker/config.json']);
});

test('through a symlink: a home reached by a link is found in the folder at its real path, also a dir not made yet', async (t) => {
  const dir = await tempDir(t);
  const real = path.join(dir, 'real-home');
  await mkdir(path.join(real, '.config/synker'), { recursive: true });
  await symlink(real, path.join(dir, 'link'));
  const dirs = ownDirs({ HOME: path.join(dir, 'link'), XDG_RUNTIME_DIR: '/run/user/1000' }, 'linux');
  // .cache/synker does not exist yet (the first scan makes it): found by its nearest existing parent.
  assert.deepEqual(ownDirsInside(real, dirs, { platform: 'linux' }), ['.config/synker', '.local/share/synker', '.cache/synker']);
  assert.deepEqual(ownDirsInside(real, dirs, { platform: 'linux', realPaths: false }), []);
});
