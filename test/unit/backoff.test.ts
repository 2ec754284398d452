import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, retryWithBackoff, sleep } from '../../src/peer/index.js';

test('backoff doubles up to the cap, with jitter in [delay/2, delay], and resets', () => {
  const low = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map(() => low.next()),
    [50, 100, 200, 400, 500, 500],
  );
  const high = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  assert.deepEqual(
    [1, 2, 3, 4, 5].map(() => high.next()),
    [100, 200, 400, 800, 1000],
  );
  high.reset();
  assert.equal(high.next(), 100);
  const real = new Backoff({ initialMs: 1000 });
  for (let i = 0; i < 20; i++) {
    const d = real.next();
    assert.ok(d >= 500 && d <= 300_000, String(d));
  }
  assert.throws(() => new Backoff({ initialMs: 0 }), TypeError);
});

test('retryWithBackoff retries until success, stops on a non-retryable error, and honours an abort', async () => {
  let calls = 0;
  const delays: number[] = [];
  const value = await retryWithBackoff(
    async () => {
      if (++calls < 4) throw new Error('unreachable');
      return 'ok';
    },
    { initialMs: 5, maxMs: 20, onRetry: (_e, delay) => delays.push(delay) },
  );
  assert.equal(value, 'ok');
  assert.equal(calls, 4);
  assert.equal(delays.length, 3);

  const fatal = Object.assign(new Error('untrusted'), { code: 'E_UNTRUSTED' });
  await assert.rejects(
    retryWithBackoff(async () => Promise.reject(fatal), {
      initialMs: 5,
      shouldRetry: (e) => (e as { code?: string }).code !== 'E_UNTRUSTED',
    }),
    fatal,
  );

  await assert.rejects(
    retryWithBackoff(async () => Promise.reject(new Error('x')), { initialMs: 5, maxAttempts: 3 }),
    /x/,
  );

  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(new Error('stop')), 30);
  await assert.rejects(
    retryWithBackoff(async () => Promise.reject(new Error('down')), { initialMs: 10_000, signal: controller.signal }),
    /stop/,
  );
  assert.ok(Date.now() - started < 2000);
  await assert.rejects(sleep(10, AbortSignal.abort(new Error('already'))), /already/);
});
