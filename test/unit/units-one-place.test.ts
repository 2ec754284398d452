/**
 * Sizes, counts, durations and plurals are written by src/base/units.ts
 * alone: no other file formats them its own way (docs/architecture.md,
 * "Rules kept in one place"). A local `toFixed`, `/ 1024`, "file(s)" or
 * `${n} files` is how "kB" next to "KiB" and "1 files" came about.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { SRC, sources } from '../harness/source-files.js';

const RULES: Array<[string, RegExp]> = [
  ['a number rounded on the spot (toFixed): formatBytes, formatDuration', /\.toFixed\(/],
  ['a size computed on the spot (/ 1024): formatBytes', /\/ ?1024\b/],
  ['a plural written "(s)": plural()', /\$\{[^}]+\}\s?[a-z-]+\(s\)/],
  // Exact byte counts (a limit, what a transfer sent) stay "N bytes": they are exact on purpose, not a size rounded for people.
  ['a raw count before a plural noun: plural()', /\$\{[a-zA-Z_.!?]+\} (files|folders|errors|differences|entries|e-mails)\b/],
  [
    'a duration converted on the spot: formatDuration, formatAge',
    /\/ ?(1000|60_000|3_600_000|86_400_000)\)\)?\}\s?(s|ms|min|h|hours?|minutes?|days?)\b/,
  ],
  ['kB (decimal) sizes: formatBytes is IEC (KiB)', /\d ?kB\b|['"`]kB['"`]/],
];

test('only base/units.ts formats sizes, counts, durations and plurals', () => {
  const found: string[] = [];
  for (const file of sources(SRC)) {
    const rel = path.relative(SRC, file).split(path.sep).join('/');
    if (rel === 'base/units.ts') continue;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        // Comments may show what the output looks like.
        if (/^\s*(\*|\/\/)/.test(line)) return;
        for (const [what, pattern] of RULES) if (pattern.test(line)) found.push(`src/${rel}:${i + 1}: ${what}\n    ${line.trim()}`);
      });
  }
  assert.deepEqual(found, []);
});
