import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckProcessError, runCheckProcess } from '../../src/schedule/check-process.js';
import { isolatedEnv } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

test('a scheduled check that cannot produce a report is an error saying what the check said', async (t) => {
  const home = await tempDir(t);
  await assert.rejects(runCheckProcess('no-such-folder', { env: isolatedEnv(home) }), (err: unknown) => {
    assert.ok(err instanceof CheckProcessError);
    assert.equal(err.code, 'E_CHECK_PROCESS');
    assert.match(err.message, /^the check of no-such-folder ended without a report \(exit code 2\): \S/);
    return true;
  });
});
