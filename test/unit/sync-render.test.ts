import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPlan, summarizePlan } from '../../src/sync/plan-render.js';
import { planSync } from '../../src/sync/plan.js';
import type { PlanDifference } from '../../src/sync/plan-types.js';
import { progressLine } from '../../src/sync/progress.js';
import { formatBytes, formatClock } from '../../src/base/units.js';

test('the progress line says files and bytes done and left, the rate and the time left', () => {
  const line = progressLine(
    { filesDone: 10, filesTotal: 40, bytesDone: 50_000_000, bytesTotal: 200_000_000, bytesReceived: 50_000_000, startedAt: 0 },
    5000,
  );
  assert.equal(line, '10/40 files, 48 MiB/191 MiB (143 MiB left), 9.5 MiB/s, ETA 0:15');
  assert.equal(formatClock(3725), '1:02:05');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1_500_000_000), '1.4 GiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
});

test('a dry-run plan lists actions and skipped files, cut at the limit unless --all', () => {
  const diffs: PlanDifference[] = [];
  for (let i = 0; i < 60; i++)
    diffs.push({
      category: 'missing',
      path: `f${String(i).padStart(2, '0')}`,
      source: { type: 'file', size: 1000, mtime: 0, mode: 0o644, hash: 'a'.repeat(64) },
    });
  diffs.push({
    category: 'content',
    path: 'x',
    source: { type: 'file', size: 1, mtime: 0, mode: 0o644, hash: 'b'.repeat(64) },
    backup: { type: 'file', size: 1, mtime: 0, mode: 0o644, hash: 'c'.repeat(64) },
    changedOn: 'source-suspicious',
  });
  const plan = planSync(diffs, { sourceFiles: 61, backupFiles: 1 });
  assert.equal(summarizePlan(plan), '60 files to copy (59 KiB), 1 skipped');
  const text = renderPlan(plan);
  assert.match(text, /copy +f00 \(1000 B, missing\)/);
  assert.match(text, /… and 10 more \(--all lists them\)/);
  assert.match(text, /suspicious +x: content changed on the source/);
  assert.doesNotMatch(renderPlan(plan, { all: true }), /more \(--all/);
});

test('the cut dry-run list counts what it leaves out with a thousands separator ("… and 1,950 more")', () => {
  const diffs: PlanDifference[] = [];
  for (let i = 0; i < 2000; i++)
    diffs.push({
      category: 'missing',
      path: `f${String(i).padStart(4, '0')}`,
      source: { type: 'file', size: 0, mtime: 0, mode: 0o644, hash: 'a'.repeat(64) },
    });
  const plan = planSync(diffs, { sourceFiles: 2000, backupFiles: 0 });
  assert.match(renderPlan(plan), /… and 1,950 more \(--all lists them\)/);
});
