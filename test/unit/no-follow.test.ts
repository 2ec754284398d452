/**
 * No symlink is followed as the last component of an open, with the kernel's
 * O_NOFOLLOW (Linux, macOS) or, where there is none (Windows), by lstat and
 * the opened file's identity (src/base/no-follow.ts). Both paths run here:
 * `emulate` is how every open works on Windows.
 */
import assert from 'node:assert/strict';
import { closeSync, constants, readFileSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { openHandleNoFollow, openNoFollow, openNoFollowSync } from '../../src/base/no-follow.js';
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
