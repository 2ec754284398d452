/**
 * Repeated events are logged once per interval and key; the ones left out
 * are counted in a line of their own when the interval ends, even when no
 * further event comes (a flood that stopped).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuietLog } from '../../src/peer/quiet-log.js';
import { MemoryLogger } from '../harness/peers.js';

test('a flood is logged once, then counted when the interval ends, in the words given', (t) => {
  // The interval passes on a mocked clock (timers and Date together): no real waiting, no race with it.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_800_000_000_000 });
  const log = new MemoryLogger();
  const quiet = new QuietLog(log, 200);
  const more = (n: number, s: number) => `refused ${n} more connections from 192.0.2.7 in the last ${s} s`;
  for (let i = 0; i < 58; i++) quiet.warn('refused:192.0.2.7', 'refused a connection from 192.0.2.7: limit', more);
  quiet.warn('refused:192.0.2.8', 'refused a connection from 192.0.2.8: limit');
  assert.deepEqual(log.lines, ['warn refused a connection from 192.0.2.7: limit', 'warn refused a connection from 192.0.2.8: limit']);
  // The flood stopped: its count still comes, once.
  t.mock.timers.tick(199);
  assert.equal(log.lines.length, 2, 'nothing before the interval ends');
  t.mock.timers.tick(1);
  assert.match(log.lines[2]!, /^warn refused 57 more connections from 192\.0\.2\.7 in the last \d+ s$/);
  assert.equal(log.lines.length, 3);
  // Later events start over: logged in full.
  t.mock.timers.tick(250);
  quiet.warn('refused:192.0.2.7', 'refused a connection from 192.0.2.7: limit', more);
  assert.equal(log.lines[3], 'warn refused a connection from 192.0.2.7: limit');
  assert.equal(log.lines.length, 4);
});

test('a key without words of its own is counted with its message; close() logs what is pending', () => {
  const log = new MemoryLogger();
  const quiet = new QuietLog(log, 60_000);
  for (let i = 0; i < 3; i++) quiet.warn('untrusted:X', 'refused laptop at 192.0.2.9: device X is not trusted');
  quiet.close();
  assert.deepEqual(log.lines, [
    'warn refused laptop at 192.0.2.9: device X is not trusted',
    'warn 2 more in the last 1 s like: refused laptop at 192.0.2.9: device X is not trusted',
  ]);
});
