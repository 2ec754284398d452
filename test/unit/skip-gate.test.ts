/**
 * The test command fails on a skip whose reason test/skips.json does not list, and in CI on one it
 * allows only outside CI (test/harness/run-tests.ts): a green run means every test ran but for the
 * documented reasons.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadAllowedSkips } from '../harness/run-tests.js';

const RUNNER = fileURLToPath(new URL('../harness/run-tests.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../programs/skip-fixture.js', import.meta.url));

function run(env: Record<string, string>): { code: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base.CI;
  delete base.SKIP_REASON;
  delete base.SKIP_INSIDE;
  delete base.FAIL;
  const r = spawnSync(process.execPath, [RUNNER, FIXTURE], { env: { ...base, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('no skip: the run passes and TAP goes to stdout as before', () => {
  const r = run({});
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^ok 1 - runs$/m);
  assert.match(r.stdout, /^# skipped 0$/m);
});

test('a skip for a reason not in test/skips.json fails the run, naming the test and the reason', () => {
  for (const env of [{ SKIP_REASON: 'the temporary folder is on tmpfs' }, { SKIP_INSIDE: 'the temporary folder is on tmpfs' }]) {
    const r = run(env);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /not allowed to skip: skips (by option|from inside)/);
    assert.match(r.stderr, /reason given: the temporary folder is on tmpfs; this reason is not in test\/skips\.json/);
  }
});

test('a bare skip, with no reason, fails the run', () => {
  const r = run({ SKIP_REASON: '' });
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /reason given: \(none\); skipped without a reason/);
});

test('a listed reason passes; one listed for outside CI only fails when CI is set', () => {
  assert.equal(run({ SKIP_REASON: 'node:sqlite needs Node.js >= 22.13 (this is v20.20.2)' }).code, 0);
  assert.equal(run({ SKIP_REASON: 'node:sqlite needs Node.js >= 22.13 (this is v20.20.2)', CI: 'true' }).code, 0);
  assert.equal(run({ SKIP_INSIDE: 'needs root (mount); CI runs as root' }).code, 0);
  const inCi = run({ SKIP_INSIDE: 'needs root (mount); CI runs as root', CI: 'true' });
  assert.equal(inCi.code, 1, inCi.stdout);
  assert.match(inCi.stderr, /allowed outside CI only/);
});

test('a failing test still fails the run whatever its skips', () => {
  const r = run({ FAIL: '1', SKIP_REASON: 'node:sqlite needs Node.js >= 22.13 (this is v20.20.2)' });
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^not ok 1 - runs$/m);
});

test('test/skips.json: every entry is a valid pattern with its reason, and CI allows very few', () => {
  const allowed = loadAllowedSkips();
  for (const entry of allowed) {
    assert.doesNotThrow(() => new RegExp(entry.reason));
    assert.ok(entry.why.length > 20, `${entry.reason} says why it is allowed`);
  }
  assert.ok(allowed.filter((a) => a.ci).length <= 2, 'a short list of reasons a CI run may skip for');
});
