/**
 * A login service starts node by a path that survives the package manager's
 * upgrades (src/service/spec.ts stableNodePath): Homebrew's versioned Cellar
 * path disappears on `brew upgrade`, its /opt/homebrew/bin/node link does not.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { stableNodePath } from '../../src/service/spec.js';
import { tempDir } from '../harness/tmp.js';

test('the node link on PATH is preferred to the versioned binary it points at', async (t) => {
  const root = await tempDir(t);
  const cellar = path.join(root, 'Cellar', 'node', '24.1.0', 'bin');
  const brewBin = path.join(root, 'bin');
  const other = path.join(root, 'other');
  for (const dir of [cellar, brewBin, other]) mkdirSync(dir, { recursive: true });
  const real = path.join(cellar, 'node');
  writeFileSync(real, '');
  symlinkSync(real, path.join(brewBin, 'node'));
  writeFileSync(path.join(other, 'node'), ''); // another node: never chosen for this one
  assert.equal(stableNodePath(real, [other, 'relative/bin', brewBin].join(':'), 'darwin'), path.join(brewBin, 'node'));
  assert.equal(stableNodePath(real, [other].join(':'), 'darwin'), real, 'no link to it on PATH: its own path');
  assert.equal(stableNodePath(real, undefined, 'linux'), real);
  assert.equal(stableNodePath(path.join(root, 'gone'), brewBin, 'linux'), path.join(root, 'gone'));
});
