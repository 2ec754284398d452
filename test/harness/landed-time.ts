/**
 * Whether a landed modification time is the millisecond sent: within a
 * microsecond above it (src/sync/fs-time.ts says why not always exactly on
 * it: libuv 1.52, in Node 24, keeps nanoseconds of a float-seconds time).
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';

export function assertLandedAt(file: string, ms: number): void {
  const ns = statSync(file, { bigint: true }).mtimeNs - BigInt(ms) * 1_000_000n;
  assert.ok(ns >= 0n && ns < 1_000n, `${file}: mtime ${statSync(file).mtimeMs} landed ${ns} ns from the millisecond ${ms}`);
}
