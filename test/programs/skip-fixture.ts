/**
 * A test file for test/unit/skip-gate.test.ts: one test that passes, one that skips with the
 * reason in SKIP_REASON (a bare skip when it is empty), one that skips from inside itself
 * (SKIP_INSIDE); the first fails when FAIL is set.
 */
import { test } from 'node:test';

const reason = process.env.SKIP_REASON;
test('runs', () => {
  if (process.env.FAIL) throw new Error('failed as asked');
});
test('skips by option', { skip: reason === '' ? true : (reason ?? false) }, () => {});
test('skips from inside', (t) => {
  if (process.env.SKIP_INSIDE) t.skip(process.env.SKIP_INSIDE);
});
