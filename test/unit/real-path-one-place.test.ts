/**
 * Every real path in src/ comes from src/base/real-path.ts, which falls back
 * to Node's own resolution where the operating system's call fails without a
 * reason (Wine, paths over 260 characters). A direct `realpath` elsewhere is
 * how a long folder root failed `folder add`, `sync` and `restore` under Wine
 * ("internal error … UNKNOWN: realpath") while its check worked.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SRC, sources } from '../harness/source-files.js';

test("only base/real-path.ts calls Node's realpath: the rest call realPath / realPathSync", () => {
  const offenders: string[] = [];
  for (const file of sources(SRC)) {
    const rel = path.relative(SRC, file).split(path.sep).join('/');
    if (rel === 'base/real-path.ts') continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (/\brealpath(Sync)?\b/.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, []);
});
