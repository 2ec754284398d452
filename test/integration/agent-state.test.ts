import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentState, MAX_PAIRING_ATTEMPTS } from '../../src/state/agent-state.js';
import { LockBusyError } from '../../src/state/lock.js';
import { deviceIdFromCertificate } from '../../src/identity/device-id.js';
import { killAndWait, spawnHelper, waitForLine } from '../harness/child-script.js';
import { tempDir } from '../harness/tmp.js';

test('pairing attempts are deduplicated by device and capped, least recent dropped first', async (t) => {
  const dir = await tempDir(t);
  const state = await AgentState.open(dir);
  t.after(() => state.close());
  const first = deviceIdFromCertificate(Buffer.from('pairing 0'));
  await state.recordPairingAttempt({ deviceId: first, name: 'laptop', address: '127.0.0.1:5000', at: 1000 });
  await state.recordPairingAttempt({ deviceId: first, address: '127.0.0.1:5001', at: 3000 });
  let [only] = state.pairingAttempts();
  assert.equal(state.pairingAttempts().length, 1);
  assert.deepEqual(only, {
    deviceId: first,
    name: 'laptop',
    address: '127.0.0.1:5001',
    firstSeen: new Date(1000),
    lastSeen: new Date(3000),
    count: 2,
  });

  for (let i = 1; i <= MAX_PAIRING_ATTEMPTS + 20; i++) {
    await state.recordPairingAttempt({
      deviceId: deviceIdFromCertificate(Buffer.from(`pairing ${i}`)),
      name: `n${i}\u0007${'x'.repeat(500)}`,
      at: 3000 + i,
    });
  }
  const attempts = state.pairingAttempts();
  assert.equal(attempts.length, MAX_PAIRING_ATTEMPTS);
  assert.equal(attempts[0]!.lastSeen.getTime(), 3000 + MAX_PAIRING_ATTEMPTS + 20, 'most recent first');
  assert.ok(!attempts.some((a) => a.deviceId === first), 'the least recently seen device was dropped');
  assert.ok(
    attempts.every((a) => a.name!.length <= 128 && !a.name!.includes('\u0007')),
    'peer-supplied names are cut and cleaned',
  );

  // Another process (a fresh open) sees the same attempts; forgetting one removes it.
  const other = await AgentState.open(dir);
  t.after(() => other.close());
  assert.equal(other.pairingAttempts().length, MAX_PAIRING_ATTEMPTS);
  assert.equal(await other.forgetPairingAttempt(attempts[0]!.deviceId), true);
  assert.equal(state.pairingAttempts().length, MAX_PAIRING_ATTEMPTS - 1);
  only = state.pairingAttempts()[0]!;
  assert.notEqual(only.deviceId, attempts[0]!.deviceId);
});

test('per-folder stores are separate, ordered, replaceable at once and dropped with the folder', async (t) => {
  const dir = await tempDir(t);
  const state = await AgentState.open(dir);
  t.after(() => state.close());
  const verified = state.store<string>('photos', 'verified');
  const outbox = state.store<{ subject: string }>('photos', 'outbox');
  const otherFolder = state.store<string>('photos2', 'verified');
  await verified.put('b.jpg', 'hash-b');
  await verified.put('a.jpg', 'hash-a');
  await outbox.put(1, { subject: 'report' });
  await otherFolder.put('a.jpg', 'other');
  assert.equal(verified.get('a.jpg'), 'hash-a');
  assert.deepEqual(
    [...verified.entries()],
    [
      ['a.jpg', 'hash-a'],
      ['b.jpg', 'hash-b'],
    ],
  );
  assert.deepEqual([...outbox.entries()], [[1, { subject: 'report' }]]);

  await verified.replaceAll(Array.from({ length: 5000 }, (_, i) => [`f${String(i).padStart(5, '0')}`, `h${i}`] as [string, string]));
  assert.equal(verified.count(), 5000);
  assert.equal(verified.get('a.jpg'), undefined);
  assert.equal(otherFolder.get('a.jpg'), 'other', 'a folder whose ID is a prefix of another is kept apart');
  assert.equal(await verified.remove('f00000'), true);
  assert.equal(verified.count(), 4999);

  await state.dropFolder('photos');
  assert.equal(verified.count(), 0);
  assert.equal(outbox.count(), 0);
  assert.equal(otherFolder.count(), 1);
  assert.throws(() => verified.get('bad\0key'), TypeError);
});

test('the folder lock excludes a second process and is freed when its holder is SIGKILLed', async (t) => {
  const dir = await tempDir(t);
  const state = await AgentState.open(dir);
  t.after(() => state.close());

  const holder = spawnHelper('hold-folder-lock', [dir, 'photos']);
  t.after(() => killAndWait(holder));
  await waitForLine(holder, /^locked$/);

  // This process is a second one: refused at once, naming the holder.
  await assert.rejects(state.acquireFolderLock('photos', { purpose: 'sync' }), (err: unknown) => {
    assert.ok(err instanceof LockBusyError);
    assert.equal(err.code, 'E_LOCKED');
    assert.equal(err.holder?.pid, holder.pid);
    assert.match(err.message, new RegExp(`folder "photos" is busy: check by process ${holder.pid} since `));
    return true;
  });
  // A third process too.
  const third = spawnHelper('hold-folder-lock', [dir, 'photos']);
  t.after(() => killAndWait(third));
  assert.match(await waitForLine(third, /^busy /), /folder "photos" is busy/);
  // Another folder is not blocked.
  const other = await state.acquireFolderLock('documents');
  await other.release();

  await killAndWait(holder, 'SIGKILL');
  const lock = await state.acquireFolderLock('photos', { waitMs: 5000 });
  // Held by us now: another process is refused, and after release it can take it.
  const fourth = spawnHelper('hold-folder-lock', [dir, 'photos']);
  t.after(() => killAndWait(fourth));
  assert.match(await waitForLine(fourth, /^busy /), new RegExp(`process ${process.pid}`));
  await lock.release();
  await lock.release();
  const fifth = spawnHelper('hold-folder-lock', [dir, 'photos']);
  t.after(() => killAndWait(fifth));
  await waitForLine(fifth, /^locked$/);
});

test('a busy lock can be waited for', async (t) => {
  const dir = await tempDir(t);
  const state = await AgentState.open(dir);
  t.after(() => state.close());
  const first = await state.acquireFolderLock('photos');
  setTimeout(() => void first.release(), 300);
  const started = Date.now();
  const second = await state.acquireFolderLock('photos', { waitMs: 5000 });
  assert.ok(Date.now() - started >= 250);
  await second.release();
  // Locks of two data dirs (two installs) do not collide.
  const otherDir = await tempDir(t);
  const otherState = await AgentState.open(otherDir);
  t.after(() => otherState.close());
  const a = await state.acquireFolderLock('photos');
  const b = await otherState.acquireFolderLock('photos');
  await Promise.all([a.release(), b.release()]);
});
