/**
 * Takers of one lock within one process (src/state/lock.ts) queue in
 * memory: they hold it one after another, a taker that gives up leaves no
 * trace, and the lock is free again for another process once released.
 * (Under Wine, where named pipes do not exclude, the Windows lane proves the
 * same with node.exe.)
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { acquireLock, LockBusyError } from '../../src/state/lock.js';

const key = (): string => `lock-turns-test:${randomBytes(8).toString('hex')}`;

test('takers of one lock in one process hold it one at a time, each after the last released it', async () => {
  const k = key();
  let holding = 0;
  let most = 0;
  const order: number[] = [];
  await Promise.all(
    [1, 2, 3, 4, 5].map(async (n) => {
      const lock = await acquireLock(k, { waitMs: 10_000 });
      holding++;
      most = Math.max(most, holding);
      await new Promise((resolve) => setTimeout(resolve, 5));
      order.push(n);
      holding--;
      await lock.release();
    }),
  );
  assert.equal(most, 1, 'never two holders at once');
  assert.deepEqual([...order].sort(), [1, 2, 3, 4, 5]);
});

test('a taker that cannot wait is told who holds the lock; one that waits too long gives up and leaves no trace', async () => {
  const k = key();
  const first = await acquireLock(k, { purpose: 'the first' });
  const busy = await acquireLock(k).then(
    () => assert.fail('taken twice'),
    (err: unknown) => err,
  );
  assert.ok(busy instanceof LockBusyError);
  assert.equal(busy.code, 'E_LOCKED');
  assert.deepEqual([busy.holder?.pid, busy.holder?.purpose], [process.pid, 'the first']);
  await assert.rejects(acquireLock(k, { waitMs: 30 }), { code: 'E_LOCKED' });
  await first.release();
  await first.release(); // twice is harmless
  const again = await acquireLock(k);
  await again.release();
});
