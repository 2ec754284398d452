/**
 * What bin/synker.js sets up before the CLI loads. The GC tuning is checked
 * through V8's own trace of the limit it sets after a full collection (forced
 * at exit). A Node release whose V8 no longer knows the flag fails here
 * rather than slowing sync silently.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { SYNKER_BIN } from '../harness/synker-cli.js';
import { tempDir } from '../harness/tmp.js';

/** Runs `node [nodeArgs] bin/synker.js --version` with a full GC at exit; returns the growing factors V8 used. */
async function growingFactors(t: TestContext, nodeArgs: string[]): Promise<string[]> {
  const gcAtExit = path.join(await tempDir(t), 'gc-at-exit.cjs');
  await writeFile(gcAtExit, 'process.on("exit", () => globalThis.gc());\n');
  const args = [...nodeArgs, '--expose-gc', '--trace-gc-verbose', '--require', gcAtExit, SYNKER_BIN, '--version'];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }, (err, out) => (err ? reject(err) : resolve(out)));
  });
  // V8 11 (Node 20) prints the factor in use on its "Limit:" line (its "factor ... based on" line shows
  // the value before the flag applies); later versions print it on the "factor" line only.
  const limits = [...stdout.matchAll(/\[HeapController\] Limit: .*\((\d+\.\d)\)/g)].map((m) => m[1]!);
  return limits.length > 0 ? limits : [...stdout.matchAll(/\[HeapController\] factor (\d+\.\d) based on/g)].map((m) => m[1]!);
}

test('the launcher fixes the heap growing factor at 5, so streamed file data does not trigger a full GC every few MiB', async (t) => {
  const factors = await growingFactors(t, []);
  assert.ok(factors.length > 0, 'V8 printed no heap limit: the forced GC did not run');
  assert.equal(factors.at(-1), '5.0');
});

test('a --heap-growing-percent given to node wins over the launcher', async (t) => {
  const factors = await growingFactors(t, ['--heap-growing-percent=100']);
  assert.equal(factors.at(-1), '2.0');
});
