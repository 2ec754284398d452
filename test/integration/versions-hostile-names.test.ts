/**
 * Names from disk reach the terminal escaped in `versions list` and `versions
 * restore` too (they were printed raw: ESC, BEL and newline could forge lines).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { VersionKeeper } from '../../src/sync/versions.js';
import { isolatedEnv, runSynker } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

const HOSTILE = 'evil\u001b[31mRED\u0007\nMissing on backup (999).txt';

test('versions list and versions restore escape the names they print', async (t) => {
  const dir = await tempDir(t);
  const env = isolatedEnv(path.join(dir, 'home'));
  const root = path.join(dir, 'backup');
  mkdirSync(root);
  const add = await runSynker(['folder', 'add', 'photos', root, '--role', 'backup'], { env });
  assert.equal(add.code, 0, add.stderr);
  writeFileSync(path.join(root, HOSTILE), 'old');
  await new VersionKeeper(root).keepBeforeReplace(HOSTILE);
  const list = await runSynker(['versions', 'list', 'photos'], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /evil\\u\{1b\}\[31mRED\\u\{7\}\\u\{a\}Missing on backup \(999\)\.txt/);
  assert.doesNotMatch(list.stdout, /[\u0000-\u0009\u000b-\u001f\u007f]/, 'no raw control character');
  assert.equal(list.stdout.trim().split('\n').length, 1, 'one version, one line');
  const back = await runSynker(['versions', 'restore', 'photos', HOSTILE, '--to', path.join(dir, 'out')], { env });
  assert.equal(back.code, 0, back.stderr);
  assert.doesNotMatch(back.stdout, /[\u0000-\u0009\u000b-\u001f\u007f]/);
});
