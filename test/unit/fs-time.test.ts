/**
 * Landed modification times read back as the millisecond sent, on the Node
 * (and libuv) running the test: CI runs this on Node 20, 22 and 24, whose
 * libuv cuts utimes() to microseconds (20, 22) or keeps nanoseconds (24).
 */
import { closeSync, futimesSync, openSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fsTime } from '../../src/sync/fs-time.js';
import { assertLandedAt } from '../harness/landed-time.js';
import { prng } from '../harness/prng.js';
import { tempDir } from '../harness/tmp.js';

test(`every millisecond lands in its own millisecond with utimes and futimes (libuv ${process.versions.uv})`, async (t) => {
  const file = path.join(await tempDir(t), 'f');
  writeFileSync(file, 'x');
  const random = prng(7);
  for (let i = 0; i < 3000; i++) {
    // A run of consecutive milliseconds, then any between 1970 and 2100.
    const ms = i < 1000 ? 1_704_110_400_000 + i : Math.floor(random() * 4_102_444_800_000);
    const fd = openSync(file, 'r+');
    try {
      if (i % 2 === 0) utimesSync(file, fsTime(ms), fsTime(ms));
      else futimesSync(fd, fsTime(ms), fsTime(ms));
    } finally {
      closeSync(fd);
    }
    assertLandedAt(file, ms);
    if (Math.floor(statSync(file).mtimeMs) !== ms) throw new Error(`${ms} reads back as ${statSync(file).mtimeMs}`);
  }
});

test('a time before 1970 lands as itself, not as now', async (t) => {
  const file = path.join(await tempDir(t), 'moon');
  writeFileSync(file, 'x');
  for (const ms of [-14_182_940_000, -1, -86_400_000 * 365 * 60 + 123]) {
    utimesSync(file, fsTime(ms), fsTime(ms));
    if (Math.floor(statSync(file).mtimeMs) !== ms) throw new Error(`${ms} reads back as ${statSync(file).mtimeMs}`);
  }
});
