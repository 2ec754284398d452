/**
 * No symlink is followed as the last component of an open, with the kernel's
 * O_NOFOLLOW (Linux, macOS) or, where there is none (Windows), by lstat and
 * the opened file's identity (src/base/no-follow.ts). Both paths run here:
 * `emulate` is how every open works on Windows.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  closeSync,
  constants,
  lstatSync,
  readFileSync,
  readSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { openHandleNoFollow, openNoFollow, openNoFollowSync, setModeAndTimesNoFollow } from '../../src/base/no-follow.js';
import { tempDir } from '../harness/tmp.js';

for (const emulate of [false, true]) {
  const how = emulate ? 'by lstat and file identity (Windows)' : "by the kernel's O_NOFOLLOW";
  test(`a symlink as the last component is refused with ELOOP, ${how}`, async (t) => {
    const dir = await tempDir(t);
    const outside = path.join(await tempDir(t), 'secret');
    writeFileSync(outside, 'outside the folder');
    writeFileSync(path.join(dir, 'file'), 'inside');
    symlinkSync(outside, path.join(dir, 'link'));
    symlinkSync(path.join(dir, 'nowhere'), path.join(dir, 'dangling'));
    const opts = { emulate };
    assert.throws(() => openNoFollowSync(path.join(dir, 'link'), constants.O_RDONLY, undefined, opts), { code: 'ELOOP' });
    await assert.rejects(openNoFollow(path.join(dir, 'link'), constants.O_RDONLY, undefined, opts), { code: 'ELOOP' });
    await assert.rejects(openHandleNoFollow(path.join(dir, 'link'), constants.O_RDONLY, undefined, opts), { code: 'ELOOP' });
    // An open that creates must not create through a dangling link either.
    await assert.rejects(openNoFollow(path.join(dir, 'dangling'), constants.O_RDWR | constants.O_CREAT, 0o600, opts), { code: 'ELOOP' });
    assert.throws(() => readFileSync(path.join(dir, 'nowhere')), { code: 'ENOENT' }, 'nothing was created behind the link');
    // Real files open as usual, existing or new.
    const fd = openNoFollowSync(path.join(dir, 'file'), constants.O_RDONLY, undefined, opts);
    const buf = Buffer.alloc(6);
    readSync(fd, buf, 0, 6, 0);
    closeSync(fd);
    assert.equal(buf.toString(), 'inside');
    closeSync(await openNoFollow(path.join(dir, 'new'), constants.O_RDWR | constants.O_CREAT, 0o600, opts));
    await (await openHandleNoFollow(path.join(dir, 'new'), constants.O_RDONLY, undefined, opts)).close();
    await assert.rejects(openNoFollow(path.join(dir, 'missing'), constants.O_RDONLY, undefined, opts), { code: 'ENOENT' });
  });
}

test('mode and times are set on the name itself, never on what a symlink there points to', async (t) => {
  const dir = await tempDir(t);
  const target = path.join(dir, 'outside.txt');
  writeFileSync(target, 'x');
  chmodSync(target, 0o600);
  utimesSync(target, 1_000_000, 1_000_000);
  const link = path.join(dir, 'link');
  symlinkSync(target, link);
  const st = await setModeAndTimesNoFollow(link, 0o777, 2_000_000);
  assert.equal(st.isSymbolicLink(), true);
  assert.equal(statSync(target).mode & 0o777, 0o600, "the target's mode is unchanged");
  assert.equal(statSync(target).mtimeMs, 1_000_000_000, 'and its time');
  assert.equal(lstatSync(link).mtimeMs, 2_000_000_000, "the link's own time is set");
  // A plain file gets both.
  const file = path.join(dir, 'file.txt');
  writeFileSync(file, 'y');
  await setModeAndTimesNoFollow(file, 0o640, 3_000_000);
  assert.equal(statSync(file).mode & 0o777, 0o640);
  assert.equal(statSync(file).mtimeMs, 3_000_000_000);
});
