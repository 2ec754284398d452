import assert from 'node:assert/strict';
import { test } from 'node:test';
import { idleShare, parseCpuTimes, readCpuTimes } from '../../src/scan/cpu-idle.js';

test('the idle share counts idle and I/O wait against all CPU time between two readings', () => {
  const before = parseCpuTimes('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n');
  const after = parseCpuTimes('cpu  400 0 150 850 100 0 0 0 0 0\n');
  assert.deepEqual(before, { idle: 850, total: 1000 });
  // 500 ticks passed: 400 busy, 50 idle, 50 waiting on I/O.
  assert.equal(idleShare(before, after), 0.2);
  assert.equal(idleShare(after, after), undefined, 'no time between the readings');
  assert.equal(idleShare(undefined, after), undefined);
});

test('text that is not /proc/stat gives no reading', () => {
  assert.equal(parseCpuTimes(''), undefined);
  assert.equal(parseCpuTimes('intr 1 2 3\n'), undefined);
  assert.equal(parseCpuTimes('cpu  1 2 x 4 5\n'), undefined);
});

test("this machine's own counters read, and move forward", {
  skip: process.platform !== 'linux' && 'only Linux has /proc/stat',
}, async () => {
  const first = readCpuTimes();
  assert.ok(first !== undefined && first.total > 0 && first.idle <= first.total);
  const until = Date.now() + 50;
  while (Date.now() < until); // spend some CPU time so the counters move
  await new Promise((resolve) => setTimeout(resolve, 30));
  const second = readCpuTimes()!;
  assert.ok(second.total > first.total);
  const share = idleShare(first, second)!;
  assert.ok(share >= 0 && share <= 1);
});
