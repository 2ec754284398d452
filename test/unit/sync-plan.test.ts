import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planSync } from '../../src/sync/plan.js';
import { deleteLimit, parseMaxDelete } from '../../src/sync/plan-guards.js';
import type { PlanDifference, PlanEntry } from '../../src/sync/plan-types.js';

const file = (hash: string, extra: Partial<PlanEntry> = {}): PlanEntry => ({
  type: 'file',
  size: 10,
  mtime: 1000,
  mode: 0o644,
  hash: hash.padEnd(64, '0'),
  ...extra,
});
const base = { sourceFiles: 100, backupFiles: 100 };

test('each category becomes the right action', () => {
  const diffs: PlanDifference[] = [
    { category: 'missing', path: 'b/new.txt', source: file('a') },
    { category: 'missing', path: 'b', source: { type: 'dir', size: 0, mtime: 1, mode: 0o755 } },
    { category: 'content', path: 'c.txt', source: file('b'), backup: file('c'), changedOn: 'source' },
    { category: 'moved', path: 'to.txt', newPath: 'from.txt', source: file('d'), backup: file('d') },
    { category: 'extra', path: 'x.txt', backup: file('e') },
    { category: 'metadata', path: 'm.txt', source: file('f', { mode: 0o600 }), backup: file('f') },
    { category: 'unreadable', path: 'locked', side: 'source' },
    { category: 'missing', path: 'unhashed', source: { type: 'file', size: 3, mtime: 1, mode: 0o644 } },
  ];
  const plan = planSync(diffs, base);
  assert.deepEqual(
    plan.actions.map((a) => `${a.op} ${'at' in a ? a.at.path : `${a.from.path} -> ${a.to.path}`}`),
    ['move from.txt -> to.txt', 'mkdir b', 'pull b/new.txt', 'pull c.txt', 'metadata m.txt'],
  );
  assert.deepEqual(
    plan.skipped.map((s) => `${s.reason} ${s.path}`),
    ['extra-kept x.txt', 'unreadable locked', 'no-hash unhashed'],
  );
  assert.equal(plan.totals.pullBytes, 20);
  assert.deepEqual(plan.stops, []);
});

test('a suspicious source change is not pulled without --force', () => {
  const d: PlanDifference = {
    category: 'content',
    path: 'photo.jpg',
    source: file('bad'),
    backup: file('good'),
    changedOn: 'source-suspicious',
  };
  const plan = planSync([d], base);
  assert.deepEqual(plan.actions, []);
  assert.equal(plan.skipped[0]?.reason, 'suspicious');
  assert.match(plan.skipped[0]!.detail, /corruption or tampering/);
  assert.equal(planSync([d], { ...base, force: true }).actions[0]?.op, 'pull');
});

test('a file renamed and silently changed in the same run (in a renamed folder, or in case) is not pulled without --force', () => {
  const diffs: PlanDifference[] = [
    { category: 'moved', path: 'e', newPath: 'd', source: { type: 'dir', size: 0, mtime: 1, mode: 0o755 }, fileCount: 2 },
    { category: 'missing', path: 'e/a.txt', source: file('b'), changedOn: 'source-suspicious' },
    { category: 'missing', path: 'e/new.txt', source: file('c'), changedOn: 'source' },
    {
      category: 'name-clash',
      clash: 'case',
      path: 'CASED.txt',
      otherPath: 'Cased.txt',
      source: file('d'),
      backup: file('e'),
      changedOn: 'source-suspicious',
    },
  ];
  const plan = planSync(diffs, base);
  const brief = (p: ReturnType<typeof planSync>) =>
    p.actions.map((a) => `${a.op} ${'at' in a ? a.at.path : `${a.from.path} -> ${a.to.path}`}`);
  assert.deepEqual(brief(plan), ['move d -> e', 'pull e/new.txt']);
  assert.deepEqual(
    plan.skipped.map((s) => `${s.reason} ${s.path}`),
    ['suspicious e/a.txt', 'suspicious CASED.txt'],
  );
  assert.deepEqual(brief(planSync(diffs, { ...base, force: true })), [
    'move d -> e',
    'set-aside Cased.txt',
    'pull CASED.txt',
    'pull e/a.txt',
    'pull e/new.txt',
  ]);
});

test('a mass change on the source stops the run (ransomware-like)', () => {
  const diffs: PlanDifference[] = [];
  for (let i = 0; i < 30; i++)
    diffs.push({ category: 'content', path: `f${i}`, source: file(`n${i}`), backup: file(`o${i}`), changedOn: 'source' });
  const plan = planSync(diffs, base);
  assert.equal(plan.stops.length, 1);
  assert.equal(plan.stops[0]!.guard, 'mass-change');
  assert.match(plan.stops[0]!.message, /30 of 100 files changed/);
  assert.deepEqual(planSync(diffs.slice(0, 10), base).stops, [], 'a few edits are normal');
  assert.deepEqual(planSync(diffs, { ...base, force: true }).stops, []);
});

test('a source listing far fewer files than last time stops the run', () => {
  const plan = planSync([], { sourceFiles: 400, backupFiles: 1000, lastSourceFiles: 1000 });
  assert.equal(plan.stops[0]?.guard, 'source-shrank');
  assert.deepEqual(planSync([], { sourceFiles: 900, backupFiles: 1000, lastSourceFiles: 1000 }).stops, []);
});

test('--max-delete limits deletions; extras are only removed with --delete', () => {
  const extras: PlanDifference[] = [];
  for (let i = 0; i < 15; i++) extras.push({ category: 'extra', path: `d/x${i}`, backup: file(`x${i}`) });
  extras.push({ category: 'extra', path: 'd', backup: { type: 'dir', size: 0, mtime: 0, mode: 0o755 } });
  assert.deepEqual(planSync(extras, base).actions, []);
  const plan = planSync(extras, { ...base, delete: true });
  assert.equal(plan.stops[0]?.guard, 'max-delete', 'default: 10% of 100 files, at least 10');
  assert.equal(plan.totals.deletes, 15);
  assert.deepEqual(planSync(extras, { ...base, delete: true, maxDelete: { count: 15 } }).stops, []);
  const ok = planSync(extras, { ...base, delete: true, maxDelete: { percent: 20 } });
  assert.deepEqual(ok.stops, []);
  const last = ok.actions.at(-1)!;
  assert.equal(last.op === 'delete' ? last.at.path : '', 'd', 'the folder after its files');
  assert.deepEqual(parseMaxDelete('5%'), { percent: 5 });
  assert.deepEqual(parseMaxDelete('250'), { count: 250 });
  assert.deepEqual(parseMaxDelete('100%'), { percent: 100 });
  assert.throws(() => parseMaxDelete('-1'), { code: 'E_USAGE', message: '--max-delete -1 is not a number of files or a percentage' });
  // A percentage over 100 is a number and a percentage: what is wrong is its size, and the message says so.
  assert.throws(() => parseMaxDelete('200%'), {
    code: 'E_USAGE',
    message: "--max-delete 200%: a percentage of the backup's files must be at most 100%",
  });
  assert.throws(() => parseMaxDelete('2.5'), { code: 'E_USAGE', message: '--max-delete 2.5: a number of files must be a whole number' });
  assert.equal(deleteLimit(undefined, 1000), 100);
  assert.equal(deleteLimit(undefined, 20), 10);
});

test('names that collide on a case-insensitive backup are reported, neither is written over the other', () => {
  const diffs: PlanDifference[] = [
    { category: 'missing', path: 'Readme.md', source: file('a') },
    { category: 'missing', path: 'README.md', source: file('b') },
    { category: 'missing', path: 'other.md', source: file('c') },
  ];
  assert.equal(planSync(diffs, base).actions.length, 3, 'no collision on a case-sensitive backup');
  const plan = planSync(diffs, { ...base, folding: { case: true, normalization: false } });
  assert.deepEqual(
    plan.actions.map((a) => ('at' in a ? a.at.path : '')),
    ['README.md', 'other.md'],
  );
  assert.deepEqual(
    plan.skipped.map((s) => [s.reason, s.path]),
    [['collision', 'Readme.md']],
  );
  assert.match(plan.skipped[0]!.detail, /collides with README\.md/);
});

test('a case-only rename on the backup is a local rename when the content is the same', () => {
  const d: PlanDifference = {
    category: 'name-clash',
    clash: 'case',
    path: 'Photo.JPG',
    otherPath: 'photo.jpg',
    source: file('a'),
    backup: file('a'),
  };
  const plan = planSync([d], base);
  assert.deepEqual(
    plan.actions.map((a) => a.op),
    ['move'],
  );
  const changed = planSync([{ ...d, backup: file('b') }], base);
  assert.deepEqual(
    changed.actions.map((a) => a.op),
    ['set-aside', 'pull'],
  );
});

test("a case-only rename is never made of a folder holding the backup's own synker folder (the check marked it): skipped with the reason", () => {
  const dir = { type: 'dir' as const, size: 0, mtime: 1, mode: 0o755 };
  const plan = planSync(
    [
      {
        category: 'name-clash',
        clash: 'case',
        path: '.CONFIG',
        otherPath: '.config',
        source: dir,
        backup: dir,
        unstorable: "synker's own folder",
      },
    ],
    base,
  );
  assert.deepEqual(plan.actions, []);
  assert.deepEqual(
    plan.skipped.map((s) => [s.reason, s.path, s.detail]),
    [['unstorable', '.CONFIG', "synker's own folder"]],
  );
});

test('an unreadable entry is left with the fix that fits its error: rename for a name that cannot travel, permissions for EACCES', () => {
  const err = (errorCode: string) => ({ type: 'error' as const, size: 0, mtime: 1, mode: 0o644, errorCode });
  const plan = planSync(
    [
      { category: 'unreadable', path: 'caf%E9.jpg', side: 'source', source: err('INVALID_NAME') },
      { category: 'unreadable', path: 'locked', side: 'source', source: err('EACCES') },
      { category: 'unreadable', path: 'bad-disk', side: 'backup', backup: err('EIO') },
    ],
    base,
  );
  const detail = new Map(plan.skipped.map((s) => [s.path, s.detail]));
  assert.match(detail.get('caf%E9.jpg')!, /cannot be sent between machines .*rename it there/);
  assert.doesNotMatch(detail.get('caf%E9.jpg')!, /permissions/);
  assert.match(detail.get('locked')!, /permission denied\); fix its permissions/);
  assert.match(detail.get('bad-disk')!, /unreadable on the backup \(EIO\)/);
});

const dir: PlanEntry = { type: 'dir', size: 0, mtime: 1, mode: 0o755 };
/** The source moved `from` (the backup's name) to `to`, as the check's moved record says. */
const moved = (from: string, to: string, entry: PlanEntry = dir): PlanDifference => ({
  category: 'moved',
  path: to,
  newPath: from,
  source: entry,
  backup: entry,
});
const renames = (diffs: PlanDifference[], options: Partial<Parameters<typeof planSync>[1]> = {}) =>
  planSync(diffs, { ...base, ...options })
    .actions.filter((a) => a.op === 'move')
    .map((a) => (a.op === 'move' ? `${a.foundAt === undefined ? '' : `(${a.foundAt.path}) `}${a.from.path} -> ${a.to.path}` : ''));

test('a file renamed inside a folder renamed too is renamed from where the folder went, in either order', () => {
  const folder = moved('Docs', 'Papers');
  const inside = moved('Docs/Report.txt', 'Papers/Notes.txt', file('a'));
  const expected = ['Docs -> Papers', '(Docs/Report.txt) Papers/Report.txt -> Papers/Notes.txt'];
  assert.deepEqual(renames([folder, inside]), expected);
  assert.deepEqual(renames([inside, folder]), expected, 'the file waits for the folder it lands in');
  // Moved out of the renamed folder: from where the folder went, or before it goes.
  assert.deepEqual(renames([folder, moved('Docs/out.txt', 'out.txt', file('b'))]), [
    'Docs -> Papers',
    '(Docs/out.txt) Papers/out.txt -> out.txt',
  ]);
  assert.deepEqual(renames([moved('Docs/out.txt', 'out.txt', file('b')), folder]), ['Docs/out.txt -> out.txt', 'Docs -> Papers']);
});

test('a folder and a file in it renamed in case only: the file is renamed inside the folder under its new spelling', () => {
  const clash = (from: string, to: string, entry: PlanEntry): PlanDifference => ({
    category: 'name-clash',
    clash: 'case',
    path: to,
    otherPath: from,
    source: entry,
    backup: entry,
  });
  const diffs = [clash('Docs/Report.txt', 'docs/report.txt', file('a')), clash('Docs', 'docs', dir)];
  const expected = ['Docs -> docs', '(Docs/Report.txt) docs/Report.txt -> docs/report.txt'];
  assert.deepEqual(renames(diffs), expected);
  assert.deepEqual(renames(diffs, { folding: { case: true, normalization: true } }), expected, 'on a disk that ignores case too');
  // The file changed as well: the old copy is set aside from where the folder's rename put it.
  const plan = planSync(
    [clash('Docs', 'docs', dir), { ...clash('Docs/Report.txt', 'docs/report.txt', file('a')), backup: file('b') }],
    base,
  );
  assert.deepEqual(
    plan.actions.map((a) => `${a.op} ${'at' in a ? a.at.path : `${a.from.path} -> ${a.to.path}`}`),
    ['move Docs -> docs', 'set-aside docs/Report.txt', 'pull docs/report.txt'],
  );
});

test('nested folder renames, and files and folders moved into renamed folders, run parents first from where they are', () => {
  assert.deepEqual(
    renames([
      moved('A/C/E', 'B/D/F'),
      moved('X/f.txt', 'B/D/f.txt', file('a')),
      moved('P', 'B/D/P2'),
      moved('A/C', 'B/D'),
      moved('A', 'B'),
    ]),
    ['A -> B', '(A/C) B/C -> B/D', '(A/C/E) B/D/E -> B/D/F', 'X/f.txt -> B/D/f.txt', 'P -> B/D/P2'],
  );
});

test('a rename into a place another rename empties waits for it, or it would be carried off with it', () => {
  // A -> B, then B's old sub-folder (A/C, at B/C once A moved) goes deep, and a new B/C gets a file.
  const diffs = [moved('A', 'B'), moved('X/f.txt', 'B/C/f.txt', file('a')), moved('A/C', 'B/x/y/D')];
  assert.deepEqual(renames(diffs), ['A -> B', '(A/C) B/C -> B/x/y/D', 'X/f.txt -> B/C/f.txt']);
  // On a disk that ignores case, a new folder `a` is the folder `A` until A is renamed away.
  const intoA = [moved('X/g.txt', 'a/g.txt', file('b')), moved('A', 'B')];
  assert.deepEqual(renames(intoA), ['X/g.txt -> a/g.txt', 'A -> B'], 'two names on a case-sensitive disk: the check order');
  assert.deepEqual(renames(intoA, { folding: { case: true, normalization: false } }), ['A -> B', 'X/g.txt -> a/g.txt']);
});

test('what was left over in nested renamed folders is kept or deleted under the names it ends up with', () => {
  const diffs: PlanDifference[] = [
    moved('A', 'B'),
    moved('A/C', 'B/D'),
    { category: 'extra', path: 'A/C/old.txt', backup: file('c') },
    { category: 'extra', path: 'A/left.txt', backup: file('d') },
  ];
  assert.deepEqual(
    planSync(diffs, base).skipped.map((s) => [s.reason, s.path]),
    [
      ['extra-kept', 'B/D/old.txt'],
      ['extra-kept', 'B/left.txt'],
    ],
  );
  assert.deepEqual(
    planSync(diffs, { ...base, delete: true })
      .actions.filter((a) => a.op === 'delete')
      .map((a) => ('at' in a ? a.at.path : '')),
    ['B/D/old.txt', 'B/left.txt'],
  );
});
