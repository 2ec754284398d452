/**
 * The test command: `node --test` with the given arguments (options and files), reporting TAP on
 * stdout as before, and besides it recording every skip (skip-recorder.ts). When the tests end,
 * each skip's reason is held against test/skips.json: a reason no entry matches fails the run, and
 * so does, when CI is set, one whose entry is allowed only outside CI. So a green CI run means every
 * test ran, except for the few reasons that list documents.
 *
 *   node dist/test/harness/run-tests.js --test-concurrency=2 dist/test/unit/*.test.js
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AllowedSkip {
  reason: string;
  ci: boolean;
  why: string;
}

export interface RecordedSkip {
  file: string | null;
  name: string;
  reason: string | null;
}

const SKIPS_FILE = fileURLToPath(new URL('../../../test/skips.json', import.meta.url));
const RECORDER = fileURLToPath(new URL('./skip-recorder.js', import.meta.url));

export function loadAllowedSkips(file = SKIPS_FILE): AllowedSkip[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { allowed: AllowedSkip[] };
  return parsed.allowed;
}

/** The skips this run may not have: no reason, a reason no entry matches, or (in CI) one allowed outside CI only. */
export function refusedSkips(skips: RecordedSkip[], allowed: AllowedSkip[], inCi: boolean): Array<RecordedSkip & { why: string }> {
  const refused: Array<RecordedSkip & { why: string }> = [];
  for (const skip of skips) {
    if (skip.reason === null) {
      refused.push({ ...skip, why: 'skipped without a reason' });
      continue;
    }
    const entry = allowed.find((a) => new RegExp(a.reason).test(skip.reason!));
    if (entry === undefined) refused.push({ ...skip, why: 'this reason is not in test/skips.json' });
    else if (inCi && !entry.ci) refused.push({ ...skip, why: `allowed outside CI only (${entry.why})` });
  }
  return refused;
}

function readRecorded(file: string): RecordedSkip[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as RecordedSkip);
}

async function main(args: string[]): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'synker-skips-'));
  const recorded = path.join(dir, 'skips.jsonl');
  try {
    const child = spawn(
      process.execPath,
      [
        '--test',
        '--test-reporter=tap',
        '--test-reporter-destination=stdout',
        `--test-reporter=${RECORDER}`,
        `--test-reporter-destination=${recorded}`,
        ...args,
      ],
      // Always the top-level runner, even when started from inside a test (skip-gate.test.ts).
      { stdio: 'inherit', env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
    );
    const code = await new Promise<number>((resolve) => {
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
    const skips = readRecorded(recorded);
    const inCi = Boolean(process.env.CI);
    const refused = refusedSkips(skips, loadAllowedSkips(), inCi);
    if (skips.length > 0)
      console.error(`${skips.length} skipped test${skips.length === 1 ? '' : 's'}, ${refused.length} not allowed${inCi ? ' in CI' : ''}`);
    for (const r of refused) {
      console.error(`not allowed to skip: ${r.name}${r.file ? ` (${path.relative(process.cwd(), r.file)})` : ''}`);
      console.error(`  reason given: ${r.reason ?? '(none)'}; ${r.why}`);
    }
    if (refused.length > 0 && code === 0) return 1;
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
