/**
 * Where a lock lives on each platform (src/state/lock.ts). macOS binds Unix
 * socket paths of at most 104 bytes with the NUL; its per-user TMPDIR is
 * long, so the socket moves to /tmp rather than failing to bind. The agent's
 * control socket is a named pipe on Windows.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { lockAddress, MAX_SOCKET_PATH_BYTES, prepareLockDir } from '../../src/state/lock.js';
import { tempDir } from '../harness/tmp.js';

const KEY = 'folder:/Users/someone/Library/Application Support/synker:photos';

test('Linux and Windows locks need no file: an abstract socket and a named pipe', () => {
  assert.match(lockAddress(KEY, 'linux'), /^\0synker-lock-[0-9a-f]{32}$/);
  assert.match(lockAddress(KEY, 'win32'), /^\\\\\.\\pipe\\synker-lock-[0-9a-f]{32}$/);
});

test('a macOS lock socket fits 104 bytes for any TMPDIR and uid: a long TMPDIR moves it to /tmp', () => {
  const typical = '/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T/';
  const address = lockAddress(KEY, 'darwin', typical, 501);
  assert.ok(address.startsWith(typical), address);
  assert.ok(Buffer.byteLength(address) <= MAX_SOCKET_PATH_BYTES);
  for (const uid of [501, 4_294_967_294]) {
    for (const tmpdir of [`${typical}deeper/and/deeper/still`, `/Volumes/Ä long external disk name/tmp/${'x'.repeat(80)}`]) {
      const moved = lockAddress(KEY, 'darwin', tmpdir, uid);
      assert.equal(moved, `/tmp/synker-locks-${uid}/${path.basename(address)}`);
      assert.ok(Buffer.byteLength(moved) <= MAX_SOCKET_PATH_BYTES);
    }
  }
  assert.notEqual(lockAddress(KEY, 'darwin', typical, 501), lockAddress(`${KEY}2`, 'darwin', typical, 501), 'each key its own socket');
});

test('the folder of lock sockets must be a private folder of this user', async (t) => {
  const root = await tempDir(t);
  const ok = path.join(root, 'own', 'x.sock');
  prepareLockDir(ok);
  prepareLockDir(ok); // again: it exists and is ours
  const open = path.join(root, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  assert.throws(() => prepareLockDir(path.join(open, 'x.sock')), { code: 'E_LOCK_DIR' });
  symlinkSync(path.join(root, 'own'), path.join(root, 'link'));
  assert.throws(() => prepareLockDir(path.join(root, 'link', 'x.sock')), { code: 'E_LOCK_DIR' });
});

test('the control socket is a named pipe on Windows, one per data folder, and a file elsewhere', async () => {
  const { controlSocketPath, isNamedPipe } = await import('../../src/control/protocol.js');
  const pipe = controlSocketPath('C:\\Users\\Ann\\AppData\\Local\\synker', 'win32');
  assert.match(pipe ?? '', /^\\\\\.\\pipe\\synker-control-[0-9a-f]{32}$/);
  assert.equal(controlSocketPath('c:\\users\\ann\\appdata\\local\\synker', 'win32'), pipe, 'Windows paths ignore case');
  assert.notEqual(controlSocketPath('C:\\Users\\Bob\\AppData\\Local\\synker', 'win32'), pipe);
  assert.ok(isNamedPipe(pipe ?? ''));
  assert.equal(controlSocketPath('/home/ann/.local/share/synker', 'linux'), '/home/ann/.local/share/synker/agent.sock');
  assert.equal(isNamedPipe('/home/ann/.local/share/synker/agent.sock'), false);
  assert.equal(controlSocketPath(`/home/${'a'.repeat(100)}`, 'linux'), undefined, 'too long for a Unix socket: none');
});
